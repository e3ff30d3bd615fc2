#!/usr/bin/python3
"""make bench-markets: orderbook/matching in-process against the Python
reference engine, in one run (ratios, not absolute times).

Runs the Go benchmark BenchmarkMatching (1,000,000 messages of the 70 %
limit / 20 % cancel / 10 % market mix, 50 traders, STP off: msgs/s from a
pass without per-message clock reads, p50/p99 from a second pass that reads
the clock around every Apply) and the Python SortedDict engine of
scripts/fixtures/markets_orderbook.py on the same mix shape (N messages,
its loop timed as a whole, like the Go msgs/s pass), then prints msgs/s,
p50/p99 and the speed ratio (and the ratio of the timed Go pass).

Then clearing/netting: the Go benchmark BenchmarkNetting (1,000,000 trades
among 1,000 parties, 100 isins, 3 currencies, 3 settlement dates) against
the pandas groupby implementation of scripts/fixtures/markets_clearing.py on
the same shape (the DataFrame is built before the clock starts). Both wall
and process CPU seconds are printed; the floor (Go <= 0.5x pandas) is
judged on CPU seconds, which a shared, loaded machine distorts least.

Then treasury/collateral-opt on the fixture's 200 assets x 50 requirements
cases (testdata/fixtures/treasury/collateral-opt.json, random_200x50_*):
the Go benchmark BenchmarkCollateral200x50 times CollateralOpt.CPU (LP
built from the validated job, both phases; wall and process CPU) and
python3-pulp times only its two solver calls, prob.solve(COIN_CMD) (wall:
pulp writing the MPS file, cbc running, pulp reading the solution; CPU: the
cbc child processes), not the pulp model building. Floor: Go <= 5x CBC,
judged on CPU seconds (wall printed too).
"""
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def main():
    n_py = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    go = subprocess.run(["go", "test", "./kernels/orderbook/book", "-run", "^$", "-bench", "^BenchmarkMatching$",
                         "-benchtime", "3x"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    go_rate = float(re.search(r"([\d.]+) msgs/s", go).group(1))
    timed_rate = float(re.search(r"([\d.]+) timed-msgs/s", go).group(1))
    p50 = float(re.search(r"([\d.]+) p50-ns", go).group(1))
    p99 = float(re.search(r"([\d.]+) p99-ns", go).group(1))
    thr = subprocess.run(["go", "test", "./kernels/orderbook/book", "-run", "^$", "-bench", "^BenchmarkThroughput$",
                          "-benchtime", "3000000x"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    cpu_rate = float(re.search(r"([\d.]+) cpu-msgs/s", thr).group(1))
    py = subprocess.run([sys.executable, os.path.join(ROOT, "scripts/fixtures/markets_orderbook.py"), "--bench",
                         str(n_py)], capture_output=True, text=True, check=True).stdout
    py_rate, py_cpu_rate = json.loads(py)["msgs_per_s"], json.loads(py)["cpu_msgs_per_s"]
    print(f"orderbook/matching  Go {go_rate:,.0f} msgs/s (p50 {p50:.0f} ns, p99 {p99:.0f} ns)  "
          f"Python {py_rate:,.0f} msgs/s  ratio {go_rate / py_rate:.1f}x (with a clock read around every Go "
          f"Apply: {timed_rate:,.0f} msgs/s, {timed_rate / py_rate:.1f}x); "
          f"BenchmarkThroughput {cpu_rate:,.0f} msgs per CPU-second, Python {py_cpu_rate:,.0f}: ratio (CPU) "
          f"{cpu_rate / py_cpu_rate:.1f}x (wall rates wait for a core under load)")
    print(f"floors: >= 1,000,000 msgs/s: {'ok' if go_rate >= 1e6 else 'MISSED'}; p99 <= 10 us: "
          f"{'ok' if p99 <= 10_000 else 'MISSED'}; >= 50x Python: {'ok' if go_rate / py_rate >= 50 else 'MISSED'}")


def pandas_netting():
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(22)
    n, parties = 1_000_000, 1000
    names = np.array([f"P{i:04d}" for i in range(parties)], dtype=object)
    isins = np.array([f"US{i:09d}X" for i in range(100)], dtype=object)
    b = rng.integers(0, parties, n)
    s = (b + 1 + rng.integers(0, parties - 1, n)) % parties
    df = pd.DataFrame({"isin": isins[rng.integers(0, 100, n)], "buyer": names[b], "seller": names[s],
                       "currency": np.array(["EUR", "USD", "GBP"], dtype=object)[rng.integers(0, 3, n)],
                       "settlement_date": np.array(["2026-12-04", "2026-12-07", "2026-12-08"], dtype=object)[
                           rng.integers(0, 3, n)],
                       "quantity": rng.integers(1, 1001, n), "amount_minor": rng.integers(1, 10_000_001, n)})
    t0, c0 = time.perf_counter(), time.process_time()
    # The netting of scripts/fixtures/markets_clearing.py (securities, cash,
    # per-party summaries, per-currency metrics), without the bilateral view.
    buy = df.rename(columns={"buyer": "party"}).assign(q=df.quantity, c=-df.amount_minor, gin=0, gout=df.amount_minor)
    sell = df.rename(columns={"seller": "party"}).assign(q=-df.quantity, c=df.amount_minor, gin=df.amount_minor, gout=0)
    legs = pd.concat([buy, sell], ignore_index=True)
    sec = legs.groupby(["party", "isin", "settlement_date"], sort=True)["q"].sum()
    cash = legs.groupby(["party", "currency", "settlement_date"], sort=True)["c"].sum()
    legs.groupby(["party", "currency"], sort=True)[["gin", "gout"]].sum(numeric_only=True)
    df.groupby("currency")["amount_minor"].sum()
    cash.clip(lower=0).groupby(level="currency").sum()
    int((sec != 0).sum() + (cash != 0).sum())
    return time.perf_counter() - t0, time.process_time() - c0


def netting():
    go = subprocess.run(["go", "test", "./kernels/clearing/netting", "-run", "^$", "-bench", "^BenchmarkNetting$",
                         "-benchtime", "3x"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    m = re.search(r"([\d.]+) cpu-s/run\s+([\d.]+) s/run", go)
    go_cpu, go_wall = float(m.group(1)), float(m.group(2))
    pd_wall, pd_cpu = pandas_netting()
    print(f"clearing/netting 1M trades / 1,000 parties  Go {go_wall:.2f} s wall, {go_cpu:.2f} s CPU  "
          f"pandas {pd_wall:.2f} s wall, {pd_cpu:.2f} s CPU  ratio (CPU) {go_cpu / pd_cpu:.2f}x, "
          f"(wall) {go_wall / pd_wall:.2f}x")
    print(f"floor: <= 0.5x pandas: {'ok' if go_cpu / pd_cpu <= 0.5 else 'MISSED'}")


def collateral():
    sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
    import markets_collateral
    go = subprocess.run(["go", "test", "./kernels/treasury", "-run", "^$", "-bench", "^BenchmarkCollateral200x50$",
                         "-benchtime", "5x"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    goes = {m.group(1): (float(m.group(2)) / 1e9, float(m.group(3)))
            for m in re.finditer(r"/(random_200x50_\d+)\S*\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) cpu-s/op", go)}
    with open(os.path.join(ROOT, "testdata", "fixtures", "treasury", "collateral-opt.json")) as f:
        cases = [c for c in json.load(f)["cases"] if c["name"].startswith("random_200x50_")]
    ok = bool(cases)
    for c in cases:
        timing = {}
        ws, cost = markets_collateral.solve(c["input"], timing)
        go_wall, go_cpu = goes[c["name"]]
        agree = all(abs(a - b) <= 1e-6 * max(1, abs(b)) for a, b in
                    [(ws, c["cbc_weighted_shortfall"]), (cost, c["cbc_cost"])])
        r_cpu, r_wall = go_cpu / timing["cbc_cpu_s"], go_wall / timing["solve_wall_s"]
        ok = ok and r_cpu <= 5 and agree
        print(f"treasury/collateral-opt {c['name']} (200 assets x 50 requirements)  Go {go_wall:.3f} s wall, "
              f"{go_cpu:.3f} s CPU  CBC {timing['solve_wall_s']:.3f} s wall (pulp solve calls), "
              f"{timing['cbc_cpu_s']:.3f} s CPU (cbc processes)  ratio (CPU) {r_cpu:.2f}x, (wall) {r_wall:.2f}x; "
              f"CBC optima {'equal the fixture' if agree else 'DIFFER from the fixture'}")
    print(f"floor: <= 5x CBC: {'ok' if ok else 'MISSED'}")


if __name__ == "__main__":
    netting()
    collateral()
    main()
