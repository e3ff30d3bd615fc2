#!/usr/bin/env bash
# End-to-end test of the Node.js and TypeScript examples against the real
# server: installs both examples from their lock files (npm ci), builds
# bin/gokernels, starts it on free 127.0.0.1 ports, runs `npm test` in
# examples/node (gRPC) and examples/typescript-rest (REST, types generated from
# openapi/gokernels.swagger.json), and stops the server.
#   bash scripts/e2e-node.sh      (GOKERNELS_BIN=path skips the go build)
# Needs Go, node >= 20 and npm; reaches only the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in node npm; do
	command -v "$tool" >/dev/null || { echo "e2e-node: $tool is required (node >= 20)" >&2; exit 1; }
done
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
	{ echo "e2e-node: node >= 20 is required, found $(node --version)" >&2; exit 1; }

BIN="${GOKERNELS_BIN:-}"
if [[ -z $BIN ]]; then
	BIN=bin/gokernels
	echo "e2e-node: go build -o $BIN ./cmd/gokernels"
	go build -o "$BIN" ./cmd/gokernels
fi

for ex in examples/node examples/typescript-rest; do
	echo "e2e-node: npm ci in $ex"
	npm ci --prefix "$ex" --no-audit --no-fund --loglevel=error
done

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
addrs=""
for _ in $(seq 300); do
	addrs="$(node -e '
		for (const line of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) {
			try { const r = JSON.parse(line); if (r.msg === "gokernels serving") { console.log(r.http, r.grpc); break; } } catch {}
		}' "$work/server.log")"
	[[ -n $addrs ]] && break
	kill -0 "$pid" 2>/dev/null || { echo "e2e-node: server exited at start:" >&2; cat "$work/server.log" >&2; exit 1; }
	sleep 0.1
done
[[ -n $addrs ]] || { echo "e2e-node: server did not start in 30s:" >&2; cat "$work/server.log" >&2; exit 1; }
read -r http_addr grpc_addr <<<"$addrs"
echo "e2e-node: server up: REST http://$http_addr, gRPC $grpc_addr"

status=0
echo "e2e-node: examples/node (gRPC)"
GOKERNELS_ADDR="$grpc_addr" npm test --prefix examples/node || status=1
echo "e2e-node: examples/typescript-rest (REST)"
GOKERNELS_URL="http://$http_addr" npm test --prefix examples/typescript-rest || status=1

if [[ $status != 0 ]]; then
	echo "e2e-node: FAILED; server log:" >&2
	cat "$work/server.log" >&2
	exit 1
fi
echo "e2e-node: ok"
