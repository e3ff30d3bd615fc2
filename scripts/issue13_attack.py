# Usage: python3 scripts/issue13_attack.py BINARY [degree-ratio|embedding|all-pairs|k-clique|all ...]
# Starts `BINARY serve` (2 workers, ports 18180/18151) once per scenario and prints its peak RSS
# (VmHWM) and each answer (HTTP status, seconds, bytes) for the issue 13 §1 requests: each alone,
# then all four at once. Used for the before/after numbers; the Go test
# cmd/gokernels TestSmallRequestsStaySmall asserts the bounds.
import json, os, subprocess, sys, threading, time, urllib.request, urllib.error
BIN = sys.argv[1]
PORT = 18180
def reqs():
    k200 = [[i, j] for i in range(200) for j in range(i+1, 200)]
    return {
     "degree-ratio": {"kernel_id": "graph/degree-ratio", "input": {"num_nodes": 5000000, "edges": [[0, 1]]}},
     "embedding": {"kernel_id": "ml/embedding-generation", "input": {"documents": ["a b c"], "vectorizer": {"n_features": 20000000}}},
     "all-pairs": {"kernel_id": "graph/shortest-path", "input": {"num_nodes": 5000, "edges": [[i, i+1] for i in range(4999)], "all_pairs": True}},
     "k-clique": {"kernel_id": "graph/k-clique", "input": {"num_nodes": 200, "edges": k200, "max_cliques": 1000000}, "metadata": {"timeout_ms": 1000}},
    }
def hwm(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmHWM"): return int(l.split()[1]) // 1024
def one(name, body, res):
    t = time.time()
    try:
        r = urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{PORT}/execute", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}), timeout=120)
        b = r.read(); code = r.status
    except urllib.error.HTTPError as e:
        b = e.read(); code = e.code
    except Exception as e:
        b = str(e).encode(); code = -1
    res[name] = (code, round(time.time() - t, 2), len(b), b[:160].decode(errors="replace") if code != 200 else "")
def scenario(names):
    env = dict(os.environ, GOKERNELS_HTTP_ADDR=f"127.0.0.1:{PORT}", GOKERNELS_GRPC_ADDR="127.0.0.1:18151", GOKERNELS_MAX_CONCURRENCY="2", GOKERNELS_LOG_LEVEL="warn")
    p = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try: urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health/ready", timeout=1); break
        except Exception: time.sleep(0.1)
    R = reqs(); res = {}
    ts = [threading.Thread(target=one, args=(n, R[n], res)) for n in names]
    [t.start() for t in ts]; [t.join() for t in ts]
    peak = hwm(p.pid); p.terminate(); p.wait()
    print(f"{'+'.join(names)}: peak RSS {peak} MiB"); [print("   ", n, res[n]) for n in names]; sys.stdout.flush()
names = list(reqs())
only = sys.argv[2:] or names + ["all"]
for n in names:
    if n in only: scenario([n])
if "all" in only: scenario(names)
