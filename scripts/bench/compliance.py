#!/usr/bin/python3
"""Compliance kernels against their references (make bench-compliance).

    /usr/bin/python3 scripts/bench/compliance.py [--bin bin/benchkernels] [--reps 3] [--only NAME]

- compliance/circular-flow over 1,000,000 transactions among 100,000
  accounts against python-igraph's strongly connected components on the
  same aggregated graph (graph construction excluded on igraph's side; ours
  includes the duplicate-id check, interning the account ids, the arcs
  (in input order: the amounts are summed exactly, so no ts sort), Tarjan
  and the sums and output). Target: ratio <= 1.
- compliance/sanctions-screening: 1,000 queries (BENCH_SANCTIONS_QUERIES)
  against 100,000 entries with aliases (~150,000 names), against a
  python3-jellyfish brute force over the same pairs (the comparator of
  kernels/finance/names: max of JW and token-sorted JW on normalised
  names). The brute force over all 150M pairs would take about an hour of
  CPU here, so it is timed on BENCH_SANCTIONS_TIMED (default 10) queries
  drawn with a fixed seed, over the whole list, and its time is scaled by
  queries / timed (per-pair throughput; ref_scale). Ours runs all 1,000.
  Agreement covers every query: (1) the timed queries' brute-force results
  equal ours exactly; (2) for every query, a NumPy lossless bound (the one
  names.CompareMin uses: shared code points by bucket and each form's
  common prefix) selects every name that could score at least the lowest
  score we report (0.7 when we report fewer than 10), jellyfish scores
  those, and the top 10 must equal ours; (3) the bound is checked against
  jellyfish on 20,000 random pairs (100 names for each of 200 queries). Target: >= 20x faster, identical.
"""
import json
import os
import random
import sys
import unicodedata
import warnings

import igraph as ig
import jellyfish

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)
SEED = 20261203
QUERIES = int(os.environ.get("BENCH_SANCTIONS_QUERIES", "1000"))
TIMED = int(os.environ.get("BENCH_SANCTIONS_TIMED", "10"))


def circular_input(path):
    rng = random.Random(SEED)
    n_acc, n_tx = 100_000, 1_000_000
    txs = []
    for i in range(n_tx):
        s = rng.randrange(n_acc)
        d = rng.randrange(n_acc) if rng.random() < 0.7 else (s + rng.randrange(1, 50)) % n_acc
        txs.append({"id": "t%07d" % i, "source_id": "A%06d" % s, "dest_id": "A%06d" % d,
                    "amount": round(rng.uniform(1, 10_000), 2), "ts": 1_700_000_000 + rng.randrange(0, 86_400 * 30)})
    benchlib.write_json(path, {"transactions": txs})


def circular_prepare(path):
    with open(path) as f:
        txs = json.load(f)["transactions"]
    ids = {}
    edges = set()
    for t in txs:
        s = ids.setdefault(t["source_id"], len(ids))
        d = ids.setdefault(t["dest_id"], len(ids))
        edges.add((s, d))
    return ig.Graph(n=len(ids), edges=sorted(edges), directed=True)


def circular_check(out, ref, g):
    nontrivial = sorted((len(c) for c in ref if len(c) > 1), reverse=True)
    ours = sorted((len(s["members"]) for s in out["sccs"]), reverse=True)
    return f"{len(ours)} non-trivial SCCs, sizes {'equal' if ours == nontrivial else 'DIFFER'} (igraph)"


FIRST = ["Muhammad", "Mohammed", "José", "Łukasz", "Jürgen", "Zoë", "Søren", "Dmitri", "Aleksandr", "Wei", "Yusuf",
         "Ana-María", "François", "Hélène", "Ivan", "Sergei", "Nguyễn", "Björn", "Omar", "Ahmad", "Ioannis", "Kateřina"]
LAST = ["Al-Hassan", "O'Brien", "Müller", "Straße", "Ivanov", "Kovačević", "Nowak", "Smith", "Schmidt", "López",
        "Dubois", "Petrov", "Chen", "Haddad", "Jensen", "Khan", "Wójcik", "Tanaka", "Gutierrez", "Jackson"]


def rand_name(rng):
    base = rng.choice(FIRST) + " " + rng.choice(LAST)
    # Random letters make the list diverse (not 440 distinct names).
    return base + " " + "".join(rng.choice("abcdefghijklmnoprstuvy") for _ in range(rng.randint(3, 8))).capitalize()


def sanctions_input(path):
    rng = random.Random(SEED + 1)
    entries = []
    for i in range(100_000):
        e = {"id": "E%06d" % i, "name": rand_name(rng), "source": "OFAC", "program": "SDGT"}
        if rng.random() < 0.5:
            e["aliases"] = [rand_name(rng)]
        entries.append(e)
    queries = []
    for _ in range(QUERIES):
        e = rng.choice(entries)
        n = e["name"]
        i = rng.randrange(len(n) - 1)
        queries.append({"name": n[:i] + n[i + 1] + n[i] + n[i + 2:]})
    benchlib.write_json(path, {"entries": entries, "queries": queries})


def normalise(s):
    s = unicodedata.normalize("NFKC", s).casefold()
    s = "".join(" " if unicodedata.category(c).startswith("P") else c for c in s)
    return " ".join(s.split())


def sanctions_prepare(path):
    with open(path) as f:
        obj = json.load(f)
    names = []
    for e in obj["entries"]:
        for n in [e["name"]] + e.get("aliases", []):
            nn = normalise(n)
            names.append((e["id"], nn, " ".join(sorted(nn.split()))))
    qs = []
    for q in obj["queries"]:
        nq = normalise(q["name"])
        qs.append((nq, " ".join(sorted(nq.split()))))
    return names, qs


def timed_queries():
    """The queries the brute force is timed on: a fixed-seed sample."""
    return sorted(random.Random(SEED + 2).sample(range(QUERIES), min(TIMED, QUERIES)))


def best_matches(names, q, qs_, idx=None):
    """Top 10 (entry, score) with score >= 0.7 of the brute force over
    names (or names[idx] for idx in idx)."""
    jw = jellyfish.jaro_winkler_similarity
    best = {}
    for k in (range(len(names)) if idx is None else idx):
        eid, n, ns = names[k]
        s = max(jw(q, n), jw(qs_, ns))
        if s > best.get(eid, -1.0):
            best[eid] = s
    return sorted(((eid, s) for eid, s in best.items() if s >= 0.7), key=lambda x: (-x[1], x[0]))[:10]


def sanctions_ref(prep):
    names, qs = prep
    return {i: best_matches(names, *qs[i]) for i in timed_queries()}


class Bound:
    """The lossless upper bound of names.CompareMin, vectorised over the
    list: Jaro <= J* = (m/l1 + m/l2 + 1)/3 with m the code points shared by
    bucket (code point mod 64), and JW <= J* + p*0.1*(1 - J*) with p the
    common prefix (up to 4) of the plain or the token-sorted forms. Names
    with a bucket over 127 get no bound (2)."""

    def __init__(self, names):
        import numpy as np
        self.np = np
        n = len(names)
        self.L = np.array([len(x[1]) for x in names], dtype=np.float64)
        codes = [ord(c) % 64 for x in names for c in x[1]]
        rows = np.repeat(np.arange(n), self.L.astype(np.int64))
        self.H = np.zeros((n, 64), dtype=np.int16)
        np.add.at(self.H, (rows, np.array(codes, dtype=np.int64)), 1)
        self.ok = self.H.max(axis=1) <= 127
        self.P = self._first4([x[1] for x in names], -1)
        self.PS = self._first4([x[2] for x in names], -1)

    def _first4(self, strs, pad):
        return self.np.array([[ord(c) for c in s[:4]] + [pad] * (4 - len(s[:4])) for s in strs], dtype=self.np.int64)

    def __call__(self, q, qs_):
        np = self.np
        hq = np.zeros(64, dtype=np.int16)
        for c in q:
            hq[ord(c) % 64] += 1
        lq = float(len(q))
        m = np.minimum(self.H, hq).sum(axis=1).astype(np.float64)
        mm = np.minimum(np.minimum(m, self.L), lq)
        j = (mm / self.L + mm / lq + 1) / 3
        pp = np.cumprod(self.P == self._first4([q], -2)[0], axis=1).sum(axis=1)
        ps = np.cumprod(self.PS == self._first4([qs_], -2)[0], axis=1).sum(axis=1)
        b = j + np.maximum(pp, ps) * 0.1 * (1 - j)
        b = np.where(m == 0, 0.0, b)
        if hq.max() > 127:
            return np.full(len(b), 2.0)
        return np.where(self.ok, b, 2.0)


def sanctions_check(out, ref, prep):
    names, qs = prep
    res = [[(m["entry_id"], m["score"]) for m in r.get("matches", [])] for r in out["results"]]
    if len(res) != len(qs):
        return f"{len(res)} results for {len(qs)} queries: DIFFER"
    timed_same = all(res[i] == want for i, want in ref.items())
    bound = Bound(names)
    same, scored = 0, 0
    for i, (q, qs_) in enumerate(qs):
        ours = res[i]
        tau = ours[-1][1] if len(ours) == 10 else 0.7
        cand = bound.np.nonzero(bound(q, qs_) >= tau - 1e-12)[0]
        scored += len(cand)
        same += best_matches(names, q, qs_, cand) == ours
    rng = random.Random(SEED + 3)
    jw = jellyfish.jaro_winkler_similarity
    bad = 0
    for i in rng.sample(range(len(qs)), min(200, len(qs))):  # 100 random names for each of 200 queries
        q, qs_ = qs[i]
        b = bound(q, qs_)
        for k in rng.sample(range(len(names)), 100):
            bad += max(jw(q, names[k][1]), jw(qs_, names[k][2])) > b[k] + 1e-12
    pairs = len(names) * len(qs)
    return (f"{pairs:,} name pairs; the {len(ref)} timed queries' brute-force results "
            f"{'identical' if timed_same else 'DIFFER'}; top-10 of all {len(qs):,} queries "
            f"{'identical' if same == len(qs) else f'DIFFER on {len(qs) - same}'} to jellyfish over the "
            f"{scored:,} pairs the lossless bound keeps; bound exceeded by jellyfish on {bad} of {min(200, len(qs)) * 100:,} random pairs")


def build_cases(tmp):
    cpath = os.path.join(tmp, "circular.json")
    circular_input(cpath)
    spath = os.path.join(tmp, "sanctions.json")
    sanctions_input(spath)
    return [
        benchlib.Case("circular-flow 1M txs / 100k accounts", "compliance/circular-flow", cpath,
                      lambda: circular_prepare(cpath), lambda g: g.connected_components(mode="strong"),
                      ("ratio", 1.0, "≤ 1× igraph SCC"), circular_check,
                      "ours is Kernel.RunCPU on the decoded request (JSON decode excluded; it is in the e2e "
                      "column): the duplicate-id check, interning the account ids, the arcs bucketed by source "
                      "(input order: the amounts are summed exactly, so no ts sort), Tarjan (Pearce's variant), "
                      "the exact sums, and the output with one message per account (100k); igraph's is "
                      "connected_components(mode=\"strong\") on the igraph.Graph already built from the "
                      "deduplicated edge list (reading, interning and construction are in its e2e column)",
                      reps=3, e2e_reps=1),
        benchlib.Case(f"sanctions-screening {QUERIES} queries × 100k entries (+aliases)",
                      "compliance/sanctions-screening", spath, lambda: sanctions_prepare(spath), sanctions_ref,
                      ("speedup", 20.0, "≥ 20× jellyfish"), sanctions_check,
                      f"jellyfish's C jaro_winkler_similarity brute force over every (query, name) pair, "
                      f"normalisation excluded on its side; timed on {min(TIMED, QUERIES)} fixed-seed queries "
                      f"× all names and scaled ×{QUERIES / min(TIMED, QUERIES):g} to {QUERIES} queries "
                      f"(per-pair throughput); ours screens all {QUERIES} queries and includes preparing "
                      f"the list", reps=2, e2e_reps=1, warmup=False, ref_scale=QUERIES / min(TIMED, QUERIES)),
    ]


def describe():
    return ("Reference: python-igraph %s `connected_components(mode=\"strong\")` on the aggregated graph; "
            "python3-jellyfish `jaro_winkler_similarity` brute force. Ours: the kernels through the registry "
            "(`Kernel.RunCPU`) on all cores." % ig.__version__)


if __name__ == "__main__":
    benchlib.main("compliance", "compliance kernels vs igraph and jellyfish", build_cases, describe)
