#!/usr/bin/python3
"""make bench-markets: orderbook/matching in-process against the Python
reference engine, in one run (ratios, not absolute times).

Runs the Go benchmark BenchmarkMatching (1,000,000 messages of the 70 %
limit / 20 % cancel / 10 % market mix; per-message latency) and the Python
SortedDict engine of scripts/fixtures/markets_orderbook.py on the same mix
shape (N messages), then prints msgs/s, p50/p99 and the speed ratio.
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def main():
    n_py = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    go = subprocess.run(["go", "test", "./kernels/orderbook/book", "-run", "^$", "-bench", "^BenchmarkMatching$",
                         "-benchtime", "3x"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    m = re.search(r"([\d.]+) msgs/s\s+([\d.]+) p50-ns\s+([\d.]+) p99-ns", go)
    go_rate, p50, p99 = float(m.group(1)), float(m.group(2)), float(m.group(3))
    py = subprocess.run([sys.executable, os.path.join(ROOT, "scripts/fixtures/markets_orderbook.py"), "--bench",
                         str(n_py)], capture_output=True, text=True, check=True).stdout
    py_rate = json.loads(py)["msgs_per_s"]
    print(f"orderbook/matching  Go {go_rate:,.0f} msgs/s (p50 {p50:.0f} ns, p99 {p99:.0f} ns)  "
          f"Python {py_rate:,.0f} msgs/s  ratio {go_rate / py_rate:.1f}x")
    print(f"floors: >= 1,000,000 msgs/s: {'ok' if go_rate >= 1e6 else 'MISSED'}; p99 <= 10 us: "
          f"{'ok' if p99 <= 10_000 else 'MISSED'}; >= 50x Python: {'ok' if go_rate / py_rate >= 50 else 'MISSED'}")


if __name__ == "__main__":
    main()
