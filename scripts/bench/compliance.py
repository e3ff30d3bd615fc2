#!/usr/bin/python3
"""Compliance kernels against their references (make bench-compliance).

    /usr/bin/python3 scripts/bench/compliance.py [--bin bin/benchkernels] [--reps 3] [--only NAME]

- compliance/circular-flow over 1,000,000 transactions among 100,000
  accounts against python-igraph's strongly connected components on the
  same aggregated graph (graph construction excluded on igraph's side; ours
  includes the duplicate-id check, the ts sort, interning the account ids,
  the aggregation into a CSR graph and Tarjan). Target: ratio <= 1.
- compliance/sanctions-screening against a python3-jellyfish brute force
  over the same pairs (the comparator of kernels/finance/names: max of JW
  and token-sorted JW on normalised names). The issue's size is 1,000
  queries x 100,000 entries; the brute force would take hours on this
  machine, so BENCH_SANCTIONS_QUERIES (default 20) queries run against the
  full 100,000-entry list with aliases: the ratio is per-pair throughput.
  Target: >= 20x faster, with identical matches.
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
QUERIES = int(os.environ.get("BENCH_SANCTIONS_QUERIES", "20"))


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


def sanctions_ref(prep):
    names, qs = prep
    jw = jellyfish.jaro_winkler_similarity
    results = []
    for q, qs_ in qs:
        best = {}
        for eid, n, ns in names:
            s = max(jw(q, n), jw(qs_, ns))
            if s > best.get(eid, -1.0):
                best[eid] = s
        m = sorted(((eid, s) for eid, s in best.items() if s >= 0.7), key=lambda x: (-x[1], x[0]))[:10]
        results.append(m)
    return results


def sanctions_check(out, ref, prep):
    same = all([(m["entry_id"], m["score"]) for m in r["matches"]] == want
               for r, want in zip(out["results"], ref)) and len(out["results"]) == len(ref)
    pairs = len(prep[0]) * len(prep[1])
    return f"{pairs:,} name pairs; matches and scores {'identical' if same else 'DIFFER'} to jellyfish"


def build_cases(tmp):
    cpath = os.path.join(tmp, "circular.json")
    circular_input(cpath)
    spath = os.path.join(tmp, "sanctions.json")
    sanctions_input(spath)
    return [
        benchlib.Case("circular-flow 1M txs / 100k accounts", "compliance/circular-flow", cpath,
                      lambda: circular_prepare(cpath), lambda g: g.connected_components(mode="strong"),
                      ("ratio", 1.0, "≤ 1× igraph SCC"), circular_check,
                      "ours includes validation, ts sort, id interning and aggregation; igraph's graph "
                      "construction is excluded (it is in its e2e column)", reps=3, e2e_reps=1),
        benchlib.Case(f"sanctions-screening {QUERIES} queries × 100k entries (+aliases)",
                      "compliance/sanctions-screening", spath, lambda: sanctions_prepare(spath), sanctions_ref,
                      ("speedup", 20.0, "≥ 20× jellyfish"), sanctions_check,
                      "jellyfish's C jaro_winkler_similarity brute force over every (query, name) pair, "
                      "normalisation excluded on its side", reps=2, e2e_reps=1),
    ]


def describe():
    return ("Reference: python-igraph %s `connected_components(mode=\"strong\")` on the aggregated graph; "
            "python3-jellyfish `jaro_winkler_similarity` brute force. Ours: the kernels through the registry "
            "(`Kernel.RunCPU`) on all cores." % ig.__version__)


if __name__ == "__main__":
    benchlib.main("compliance", "compliance kernels vs igraph and jellyfish", build_cases, describe)
