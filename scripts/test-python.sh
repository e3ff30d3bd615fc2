#!/usr/bin/env bash
# Runs the Python client's tests (clients/python/tests) against a real server:
# builds bin/gokernels, starts it on free 127.0.0.1 ports, runs unittest with
# Debian's python3 (python3-grpcio, python3-protobuf, python3-networkx as the
# reference), and stops the server.
#   bash scripts/test-python.sh      (GOKERNELS_BIN=path skips the go build)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-/usr/bin/python3}"
"$PY" -c 'import grpc, google.protobuf, networkx' 2>/dev/null ||
	{ echo "test-python: $PY needs grpc, protobuf and networkx (apt-get install python3-grpcio python3-protobuf python3-networkx)" >&2; exit 1; }

BIN="${GOKERNELS_BIN:-}"
if [[ -z $BIN ]]; then
	BIN=bin/gokernels
	echo "test-python: go build -o $BIN ./cmd/gokernels"
	go build -o "$BIN" ./cmd/gokernels
fi

work="$(mktemp -d)"
pid=""
cleanup() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

GOKERNELS_DRAIN_GRACE=0s "$BIN" serve --http-addr 127.0.0.1:0 --grpc-addr 127.0.0.1:0 --log-format json 2>"$work/server.log" &
pid=$!

# The "gokernels serving" log line names the bound addresses.
grpc_addr=""
for _ in $(seq 300); do
	grpc_addr="$("$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("msg") == "gokernels serving":
        print(r["grpc"]); break
' "$work/server.log")"
	[[ -n $grpc_addr ]] && break
	kill -0 "$pid" 2>/dev/null || { echo "test-python: server exited at start:" >&2; cat "$work/server.log" >&2; exit 1; }
	sleep 0.1
done
[[ -n $grpc_addr ]] || { echo "test-python: server did not start in 30s:" >&2; cat "$work/server.log" >&2; exit 1; }
echo "test-python: server up: gRPC $grpc_addr"
GOKERNELS_ADDR="$grpc_addr" "$PY" -m unittest discover -s clients/python/tests -v
