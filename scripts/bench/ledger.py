#!/usr/bin/python3
"""make bench-ledger: the ledger kernels against pandas, in one run (ratios,
not absolute times).

1. accounting/network-generation over 1,000,000 journal lines: the Go
   benchmark BenchmarkNetworkGeneration (kernels/accounting/flownet: every
   entry solved, then the network aggregated) against a pandas merge /
   groupby of the same definition on the same ledger. The ledger (built by
   the same LCG on both sides) holds entries of one debit and one credit
   (step A) and of two debits and two credits of equal amounts (step B), so
   the pandas form of the definition is a merge of each entry's debits and
   credits on (entry, currency, amount, rank among equal amounts in line
   order), i.e. step B's "first open credit of equal amount", which is also
   step A for a 1×1 entry; then groupby (from, to, currency). Steps C, D and
   E and suspense lines do not occur in this ledger (the script checks that
   every line is matched and that edge count and total agree with Go's).
2. accounting/gl-reconciliation, 100,000 ledger items against 100,000
   statement items: BenchmarkReconcile (kernels/accounting/reconcile)
   against scripts/fixtures/ledger_reconcile.py's pandas merge-based passes
   (pass 1 merge, pass 2 merge + scipy linear_sum_assignment per component,
   duplicate self-merge) on the same items. Pass 3 (MANY_TO_ONE /
   ONE_TO_MANY) is off on both sides: the pandas reference does it with
   itertools in a Python loop. Pass-2 count and cost must agree.
DataFrames are built before the clock starts. Wall and process CPU seconds
are printed; the floors (Go ≤ 0.5× pandas) are judged on CPU seconds, which
a shared, loaded machine distorts least. Prints `uptime` first.
"""
import os
import re
import subprocess
import sys
import time

import numpy as np
import pandas as pd

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
from ledger_reconcile import reconcile  # noqa: E402

MASK = (1 << 64) - 1


class LCG:
    """kernels/accounting/{flownet,reconcile}/bench_test.go's generator."""

    def __init__(self, seed):
        self.x = seed

    def next(self, n):
        self.x = (self.x * 6364136223846793005 + 1442695040888963407) & MASK
        return (self.x >> 33) % n


def go_bench(pkg, name):
    out = subprocess.run(["go", "test", pkg, "-run", "^$", "-bench", f"^{name}$", "-benchtime", "1x"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith(name))
    return {unit: float(v) for v, unit in re.findall(r"([\d.e+]+) ([a-z0-9-]+(?:/run)?)", line.split(None, 2)[2])}


def ledger_lines(lines):
    x = LCG(20)
    rows, n, k = [], 0, 0
    while n < lines:
        eid = f"J{k:07d}"
        cur = ["EUR", "USD"][x.next(2)]
        x.next(2)  # entity (one per entry: no step E)
        pairs = 1 + x.next(2)
        for p in range(pairs):
            amt = 1 + x.next(1_000_000)
            d, c = f"{1000 + x.next(200):04d}", f"{1000 + x.next(200):04d}"
            rows.append((eid, 2 * p + 1, d, cur, amt, 0))
            rows.append((eid, 2 * p + 2, c, cur, 0, amt))
        n += 2 * pairs
        k += 1
    return pd.DataFrame(rows, columns=["entry", "line_no", "account", "currency", "debit", "credit"])


def pandas_network(df):
    t0, c0 = time.perf_counter(), time.process_time()
    deb = df[df.debit > 0].rename(columns={"account": "to", "debit": "amount"})[["entry", "line_no", "to", "currency", "amount"]]
    cre = df[df.credit > 0].rename(columns={"account": "from", "credit": "amount"})[["entry", "line_no", "from", "currency", "amount"]]
    deb = deb.assign(rank=deb.sort_values(["entry", "line_no"]).groupby(["entry", "currency", "amount"]).cumcount())
    cre = cre.assign(rank=cre.sort_values(["entry", "line_no"]).groupby(["entry", "currency", "amount"]).cumcount())
    flows = deb.merge(cre, on=["entry", "currency", "amount", "rank"], suffixes=("_d", "_c"))
    edges = flows.groupby(["from", "to", "currency"], sort=True).amount.agg(["sum", "count"])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(flows) == len(deb) == len(cre), "a line was left for steps C/D: the pandas form does not apply"
    return wall, cpu, len(flows), len(edges), int(edges["sum"].sum())


def recon_items(n):
    x = LCG(21)
    S, T = [], []
    for i in range(n):
        acc = f"A{x.next(1000):03d}"
        amt = 10_000 + x.next(10_000_000)
        day = 20000 + x.next(365)
        kind = x.next(100)
        ref = f"R{i:07d}" if kind < 50 else ""
        S.append((f"S{i:07d}", acc, "EUR", amt, day, ref))
        t = [f"T{i:07d}", acc, "EUR", amt, day - 3 + x.next(7), ref]
        if kind >= 95:
            t[3], t[4] = 10_000 + x.next(10_000_000), 20000 + x.next(365)
        elif kind >= 50:
            t[3] += x.next(101) - 50
            t[4] = day - 2 + x.next(5)
        T.append(tuple(t))
    cols = ["id", "account", "currency", "amount_minor", "day", "reference"]
    return pd.DataFrame(S, columns=cols), pd.DataFrame(T, columns=cols)


def main():
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    go = go_bench("./kernels/accounting/flownet", "BenchmarkNetworkGeneration")
    df = ledger_lines(1_000_000)
    wall, cpu, flows, edges, total = pandas_network(df)
    assert (flows, edges, total) == (go["flows"], go["edges"], go["amount"]), (flows, edges, total, go)
    print(f"network-generation {len(df):,} lines ({flows:,} flows, {edges:,} edges)  Go {go['s/run']:.2f} s wall, "
          f"{go['cpu-s/run']:.2f} s CPU  pandas {wall:.2f} s wall, {cpu:.2f} s CPU  ratio (CPU) {go['cpu-s/run'] / cpu:.2f}x, "
          f"(wall) {go['s/run'] / wall:.2f}x  floor <= 0.5x: {'ok' if go['cpu-s/run'] / cpu <= 0.5 else 'MISSED'}")
    go = go_bench("./kernels/accounting/reconcile", "BenchmarkReconcile")
    S, T = recon_items(100_000)
    inp = {"many_to_one": False, "one_to_many": False}
    t0, c0 = time.perf_counter(), time.process_time()
    out, _ = reconcile(inp, frames=(S, T))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    st = out["stats"]
    assert (st["pass2_count"], st["pass2_cost"], len(out["matches"])) == (go["pass2"], go["pass2-cost"], go["matches"]), (st, go)
    print(f"gl-reconciliation 100,000 x 100,000 ({len(out['matches']):,} matches, pass 2 {st['pass2_count']:,} cost "
          f"{st['pass2_cost']:,})  Go {go['s/run']:.2f} s wall, {go['cpu-s/run']:.2f} s CPU  pandas {wall:.2f} s wall, "
          f"{cpu:.2f} s CPU  ratio (CPU) {go['cpu-s/run'] / cpu:.2f}x, (wall) {go['s/run'] / wall:.2f}x  floor <= 0.5x: "
          f"{'ok' if go['cpu-s/run'] / cpu <= 0.5 else 'MISSED'}")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
