"""Shared machinery of the reference benchmarks (scripts/bench/*.py).

Run the domain scripts with Debian's interpreter, which has the reference
libraries (python3-igraph, -numpy, -scipy, -sklearn, -statsmodels):

    /usr/bin/python3 scripts/bench/graph.py --bin bin/benchkernels

Method. Inputs are generated once per run with a fixed seed and written to a
temporary directory as the JSON input object of an Execute request; both
sides read those files. Our side is cmd/benchkernels in "-serve" mode: one
long-lived process that performs one repetition per "run" command, so that
our repetitions and the reference's alternate (ours, reference, ours,
reference, ...) in the same run and see the same machine load. A case runs
an untimed warm-up round (unless it is long), then its first e2e_reps rounds
time the whole request path on both sides and the remaining rounds only the
computation on the input already decoded / prepared. Tables report medians
(and minima in the detail table); a ratio is ours / reference of the medians.
"""
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOC = os.path.join(ROOT, "docs", "benchmarks.md")

DOMAINS = [
    ("graph", "Graph"),
    ("ml", "Machine learning"),
    ("temporal", "Time series"),
    ("risk", "Risk"),
    ("eventlogs", "Event logs"),
]

DOC_HEADER = """# Benchmarks

Kernel timings against the reference libraries the kernels reproduce
(python-igraph, scikit-learn, statsmodels, NumPy). Each section is written by
its `make bench-<domain>` target (`make bench` runs all four), which runs
`scripts/bench/<domain>.py` with Debian's `/usr/bin/python3` and
`cmd/benchkernels`; rerunning a target replaces only its own section.

How the numbers are taken:

- Inputs are generated once per run with a fixed seed and written to a
  temporary directory as the JSON `input` object of an Execute request. Both
  sides read the same files.
- Our side is `cmd/benchkernels -serve`: one process that runs the kernel
  through the registry (`kernels/catalog.New()`) once per command. The driver
  alternates our repetitions with the reference's in the same run (ours,
  reference, ours, ...), so both see the same machine load. An untimed
  warm-up round comes first (skipped for the long betweenness case). The
  first one or two timed rounds run the whole request path on both sides
  (the e2e columns); the remaining rounds rerun only the computation on the
  input already decoded (ours) or prepared (reference), which keeps a run
  within a few minutes.
- **ours** is the kernel on its decoded, typed input (`Kernel.RunCPU`, what the
  server spends after decoding the request; for graph kernels this includes
  building the CSR graph from the edge list). **reference** is the library
  call on data already in memory in the form the library wants (for igraph:
  graph construction excluded). **e2e** adds input handling on both sides:
  ours reads the file, decodes the JSON into the typed message
  (`jsoninput.Decode`), validates it (protovalidate) and runs; the reference
  reads the file with `json.load` and builds its input (an `igraph.Graph`, a
  NumPy array) before the call.
- Times are medians in milliseconds; ratio = ours / reference (below 1 means
  we are faster). The machine is shared: the load average is given with each
  table, and single timings can be off by tens of percent, so the ratios of
  interleaved medians are the numbers to read.
"""


def section_markers(domain):
    return f"<!-- bench:{domain}:start -->", f"<!-- bench:{domain}:end -->"


def update_doc(domain, body):
    """Replaces (or adds) the section of docs/benchmarks.md for domain."""
    if os.path.exists(DOC):
        with open(DOC) as f:
            text = f.read()
    else:
        text = DOC_HEADER
        for d, title in DOMAINS:
            start, end = section_markers(d)
            text += f"\n## {title}\n\n{start}\n_Not run yet: `make bench-{d}`._\n{end}\n"
    start, end = section_markers(domain)
    block = f"{start}\n{body.rstrip()}\n{end}"
    pat = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pat.search(text):
        text = pat.sub(lambda _: block, text)
    else:
        title = dict(DOMAINS)[domain]
        text = text.rstrip() + f"\n\n## {title}\n\n{block}\n"
    with open(DOC, "w") as f:
        f.write(text)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def mem_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


def go_version():
    try:
        return subprocess.run(["go", "version"], capture_output=True, text=True, check=True).stdout.split()[2]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "go (unknown version)"


def loadavg():
    return "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())


def machine_line():
    return (f"{cpu_model()}, {os.cpu_count()} cores (GOMAXPROCS={os.cpu_count()}), "
            f"{mem_gib():.0f} GiB RAM, {platform.system()} {platform.release()}; "
            f"{go_version()}, Python {platform.python_version()}")


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))


def ms_since(t):
    return (time.perf_counter() - t) * 1e3


class Ours:
    """cmd/benchkernels -serve for one kernel and input file."""

    def __init__(self, binary, kernel, path):
        self.kernel = kernel
        self.proc = subprocess.Popen([binary, "-kernel", kernel, "-input", path, "-serve"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def _ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        out = self.proc.stdout.readline()
        if not out:
            raise RuntimeError(f"benchkernels ({self.kernel}) exited with {self.proc.wait()}")
        return json.loads(out)

    def run(self):
        """Times the request path: read, decode, validate, run (e2e)."""
        return self._ask("run")

    def compute(self):
        """Times run (and prep + core) on the input the last run decoded."""
        return self._ask("kernel")

    def output(self, path):
        self._ask("output " + path)
        with open(path) as f:
            return json.load(f)

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait()


class Case:
    """One benchmark row.

    name, kernel, path: the row label, our kernel id and its input file.
    prepare(): the reference's input handling (load the file, build the
      library's input); returns what ref takes.
    ref(prepared): the timed reference call.
    target: (kind, value, text): kind "ratio" (ours/ref <= value),
      "speedup" (ref/ours >= value) or "abs_ms" (ours <= value ms).
    check(ours_output, ref_result, prepared): a short agreement note.
    reps: timed rounds; the first e2e_reps of them time the whole request
      path on both sides (ours: read + decode + validate + run; reference:
      prepare + ref), the others only the computation on the input already
      decoded / prepared (ours: run, plus prep + core for graph kernels).
    warmup: one untimed round first.
    ref_scale: the reference's timings are multiplied by it (ref ran on a
      documented fraction 1/ref_scale of the work; the note must say so).
    """

    def __init__(self, name, kernel, path, prepare, ref, target, check=None, note="",
                 reps=None, e2e_reps=2, warmup=True, ref_scale=1.0):
        self.name, self.kernel, self.path = name, kernel, path
        self.prepare, self.ref, self.target, self.check, self.note = prepare, ref, target, check, note
        self.reps, self.e2e_reps, self.warmup, self.ref_scale = reps, e2e_reps, warmup, ref_scale


def run_case(binary, case, reps, tmp):
    """Runs the interleaved rounds of one case; returns the row dict."""
    reps = case.reps or reps
    e2e_reps = min(case.e2e_reps, reps - 1) if reps > 1 else reps
    ours = Ours(binary, case.kernel, case.path)
    ours_s, ref_s = [], []
    ref_result, prepared = None, None
    try:
        for r in range(0 if case.warmup else 1, reps + 1):
            full = r <= e2e_reps or prepared is None
            o = ours.run() if full else ours.compute()
            t0 = time.perf_counter()
            if full:
                prepared = case.prepare()
            t1, c1 = time.perf_counter(), time.process_time()
            ref_result = case.ref(prepared)
            t2, c2 = time.perf_counter(), time.process_time()
            if r == 0:
                continue  # warm-up
            ours_s.append(o)
            # ref_scale extrapolates a reference timed on a subset of the
            # work (e.g. some of the queries) to the whole of it.
            rs = {"run": (t2 - t1) * 1e3 * case.ref_scale, "run_cpu": (c2 - c1) * 1e3 * case.ref_scale}
            if full:
                rs["prep"] = (t1 - t0) * 1e3
                rs["e2e"] = rs["prep"] + rs["run"]
            ref_s.append(rs)
            extra = f" (e2e {o['e2e']:.1f})" if "e2e" in o else f" (core {o['core']:.1f})" if "core" in o else ""
            extra_r = f" (e2e {rs['e2e']:.1f})" if "e2e" in rs else ""
            print(f"  {case.name} round {r}: ours {o['run']:.1f} ms (cpu {o.get('run_cpu', 0):.0f}){extra}, "
                  f"ref {rs['run']:.1f} ms (cpu {rs['run_cpu']:.0f}){extra_r}; "
                  f"load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
        check = ""
        if case.check is not None:
            out = ours.output(os.path.join(tmp, "out.json"))
            check = case.check(out, ref_result, prepared)
    finally:
        ours.close()
    return summarize(case, ours_s, ref_s, check)


def med(samples, key):
    vals = [s[key] for s in samples if key in s]
    return statistics.median(vals) if vals else None


def mn(samples, key):
    vals = [s[key] for s in samples if key in s]
    return min(vals) if vals else None


def summarize(case, ours_s, ref_s, check):
    ours, ref = med(ours_s, "run"), med(ref_s, "run")
    kind, value, text = case.target
    ratio = ours / ref
    if kind == "ratio":
        met = ratio <= value
    elif kind == "speedup":
        met = ref / ours >= value
    else:
        met = ours <= value
    note = case.note
    if kind == "abs_ms":
        # On a shared machine the wall time mostly measures the load: add
        # what the same CPU time would take on idle cores.
        cpu = med(ours_s, "run_cpu")
        ncpu = os.cpu_count() or 1
        est = cpu / ncpu
        met_text = "yes" if met else f"**no** (CPU {cpu:.0f} ms / {ncpu} cores = {est:.0f} ms idle estimate)"
        note = (note + "; " if note else "") + (
            f"wall median {ours:.0f} ms under load; ours used {cpu:.0f} ms of CPU (median), i.e. "
            f"about {est:.0f} ms on {ncpu} idle cores if the simulation parallelises perfectly "
            f"({'within' if est <= value else 'over'} the {value:.0f} ms bar)")
    else:
        met_text = "yes" if met else "**no**"
    return {
        "case": case.name, "kernel": case.kernel, "ours": ours, "ref": ref, "ratio": ratio,
        "target": text, "met": met, "met_text": met_text, "check": check, "note": note,
        "ours_core": med(ours_s, "core"), "ours_prep": med(ours_s, "prep"),
        "ours_e2e": med(ours_s, "e2e"), "ref_e2e": med(ref_s, "e2e"),
        "ours_decode": med(ours_s, "decode"), "ours_validate": med(ours_s, "validate"),
        "ref_prep": med(ref_s, "prep"),
        "ours_min": mn(ours_s, "run"), "ref_min": mn(ref_s, "run"),
        "ours_cpu": med(ours_s, "run_cpu"), "ref_cpu": med(ref_s, "run_cpu"),
        "ours_core_min": mn(ours_s, "core"),
        "reps": len(ours_s), "e2e_reps": sum(1 for x in ours_s if "e2e" in x),
    }


def fmt(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_ratio(x):
    if x is None:
        return "–"
    return f"{x:.3f}×" if x < 0.1 else f"{x:.2f}×"


def tables(rows, core_label=None):
    """The main table and the detail table, as Markdown."""
    head = "| case | ours (ms) | reference (ms) | ratio | target | met? |"
    if core_label:
        head += f" {core_label} (ms) | ratio {core_label} |"
    head += " e2e ours (ms) | e2e reference (ms) | e2e ratio |"
    cols = head.count("|") - 1
    lines = [head, "|" + "---|" * cols]
    for r in rows:
        line = (f"| {r['case']} | {fmt(r['ours'])} | {fmt(r['ref'])} | {fmt_ratio(r['ratio'])} | {r['target']} | "
                f"{r['met_text']} |")
        if core_label:
            cr = r["ours_core"] / r["ref"] if r["ours_core"] is not None else None
            line += f" {fmt(r['ours_core'])} | {fmt_ratio(cr)} |"
        line += f" {fmt(r['ours_e2e'])} | {fmt(r['ref_e2e'])} | {fmt_ratio(r['ours_e2e'] / r['ref_e2e'])} |"
        lines.append(line)
    detail = ["| case | rounds | ours min / median | reference min / median | CPU ms ours / reference | "
              "ours decode + validate | ours prep (CSR / edges) | reference input handling | agreement |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        detail.append(
            f"| {r['case']} | {r['reps']} ({r['e2e_reps']} e2e) | {fmt(r['ours_min'])} / {fmt(r['ours'])} | {fmt(r['ref_min'])} / {fmt(r['ref'])} | "
            f"{fmt(r['ours_cpu'])} / {fmt(r['ref_cpu'])} | "
            f"{fmt(r['ours_decode'])} + {fmt(r['ours_validate'])} | {fmt(r['ours_prep'])} | {fmt(r['ref_prep'])} | "
            f"{r['check'] or '–'} |")
    return "\n".join(lines), "\n".join(detail)


def print_table(title, rows):
    print(f"\n{title}")
    w = max(len(r["case"]) for r in rows)
    tw = max(len(r["target"]) for r in rows)
    print(f"{'case':<{w}}  {'ours ms':>10}  {'ref ms':>10}  {'ratio':>7}  {'target':<{tw}}  met?")
    for r in rows:
        print(f"{r['case']:<{w}}  {fmt(r['ours']):>10}  {fmt(r['ref']):>10}  {fmt_ratio(r['ratio']):>7}  {r['target']:<{tw}}  "
              f"{'yes' if r['met'] else 'NO'}")
    for r in rows:
        if r["check"]:
            print(f"  {r['case']}: {r['check']}")


def main(domain, title, build_cases, describe, core_label=None, argv=None):
    """Generates the inputs, runs every case, prints the table and refreshes
    the domain's section of docs/benchmarks.md."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin", "benchkernels"))
    ap.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_REPS", "5")))
    ap.add_argument("--only", default="", help="run only cases whose name contains this")
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix=f"bench-{domain}-")
    load_before = loadavg()
    t_start = time.time()
    try:
        cases = build_cases(tmp)
        rows = []
        for c in cases:
            if args.only and args.only not in c.name:
                continue
            print(f"== {c.name} ({c.kernel})", file=sys.stderr, flush=True)
            rows.append(run_case(args.bin, c, args.reps, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = loadavg()
    print_table(title, rows)
    main_t, detail_t = tables(rows, core_label)
    cmd = f"make bench-{domain}" + (f"  # BENCH_REPS={args.reps}" if args.reps != 5 else "")
    body = (f"Command: `{cmd}` (runs `/usr/bin/python3 scripts/bench/{domain}.py`). "
            f"Date: {now_utc()}. Wall time: {time.time() - t_start:.0f} s.\n\n"
            f"Machine: {machine_line()}.\n\n"
            f"Load average (1/5/15 min) before: {load_before}; after: {load_after} "
            f"(the machine is shared; timings are noisy).\n\n"
            f"{describe()}\n\n{main_t}\n\nDetail (ms):\n\n{detail_t}\n")
    notes = [f"- {r['case']}: {r['note']}" for r in rows if r["note"]]
    if notes:
        body += "\nNotes:\n\n" + "\n".join(notes) + "\n"
    if not args.no_doc and not args.only:
        update_doc(domain, body)
        print(f"\nupdated {os.path.relpath(DOC, os.getcwd())} (section {domain})")
    return rows
