#!/usr/bin/env bash
# device-smoke.sh [BINARY] — the production CUDA binary on a GPU machine, over
# REST with curl: health (the gpu component), a kernel's backends, Monte Carlo
# VaR below and above its AUTO threshold on AUTO, CUDA and CPU (same results,
# the backend in each response's metadata), PageRank on each backend, and the
# GPU metrics. BINARY defaults to bin/gokernels-cuda (make build-cuda), or
# bin/gokernels-cuda.tgz unpacked when only that was carried over. Output goes
# to $OUT/smoke.txt (OUT defaults to /tmp/out) and the server log beside it.
# docs/gpu.md ("The production binary on the H200") has a run's findings.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
exec > >(tee -a "$OUT/smoke.txt") 2>&1
export LD_LIBRARY_PATH="/usr/local/nvidia/lib64:/usr/local/nvidia/lib:${LD_LIBRARY_PATH:-}"
bin=${1:-bin/gokernels-cuda}
if [[ ! -x $bin && -f bin/gokernels-cuda.tgz ]]; then
	mkdir -p /tmp/srv && tar xzf bin/gokernels-cuda.tgz -C /tmp/srv && bin=/tmp/srv/gokernels-cuda
fi
[[ -x $bin ]] || { echo "device-smoke: $bin missing: run make build-cuda" >&2; exit 2; }
GOKERNELS_HTTP_ADDR=127.0.0.1:8080 GOKERNELS_GRPC_ADDR=127.0.0.1:50051 "$bin" serve > "$OUT/server.log" 2>&1 &
pid=$!
for i in $(seq 50); do curl -fs localhost:8080/health >/dev/null 2>&1 && break; sleep 0.2; done
echo "== health"; curl -s localhost:8080/health; echo
echo "== kernel info"; curl -s localhost:8080/kernels/risk/monte-carlo-var | head -c 600; echo
mc() { # $1 backend, $2 paths
  local n=20 pos="" vol="" mu="" rows=""
  for i in $(seq 0 $((n-1))); do
    pos+="${pos:+,}$(( (i*37%11-3)*100000 ))"; vol+="${vol:+,}0.0$((1+i%3))"; mu+="${mu:+,}0.0001"
    r=""; for j in $(seq 0 $((n-1))); do if ((i==j)); then r+="${r:+,}1"; else r+="${r:+,}0.2"; fi; done
    rows+="${rows:+,}{\"values\":[$r]}"
  done
  echo "{\"kernel_id\":\"risk/monte-carlo-var\",\"input\":{\"positions\":[$pos],\"volatilities\":[$vol],\"expected_returns\":[$mu],\"correlation\":[$rows],\"n_simulations\":$2,\"seed\":42,\"confidence_level\":0.99},\"metadata\":{\"backend\":\"$1\"}}"
}
for b in AUTO CUDA CPU; do for p in 10000 2000000; do
  echo "== monte-carlo-var backend=$b paths=$p"
  mc $b $p > /tmp/req.json
  curl -s -w ' [http %{http_code}, %{time_total}s]' -X POST localhost:8080/execute -H 'Content-Type: application/json' --data-binary @/tmp/req.json | sed -E 's/"component_es":\[[^]]*\]/"component_es":[…]/' | head -c 700; echo
done; done
for b in AUTO CUDA CPU; do
  echo "== pagerank backend=$b"
  curl -s -X POST localhost:8080/execute -H 'Content-Type: application/json' -d "{\"kernel_id\":\"graph/pagerank\",\"input\":{\"num_nodes\":4,\"edges\":[[0,1],[1,2],[2,0],[2,3]],\"directed\":true},\"metadata\":{\"backend\":\"$b\"}}"; echo
done
echo "== metrics"; curl -s localhost:8080/metrics | grep -E '^gokernels_(gpu|build_info|requests_total)' | head -30
kill $pid; wait $pid 2>/dev/null; echo "server exit: $?"; tail -5 "$OUT/server.log"
