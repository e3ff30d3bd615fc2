#!/usr/bin/env bash
# Generates the Python stubs of clients/python/gen/ from proto/ (and the
# third-party protos they import) with Debian's protoc and gRPC Python plugin
# (apt packages protobuf-compiler and protobuf-compiler-grpc).
#   bash scripts/gen-python.sh [outdir]   (default clients/python/gen)
# The output depends only on the .proto files and the protoc version, so it
# is reproducible: `make check-generated` regenerates into a scratch folder and
# diffs. Files are passed in C-locale order; generated packages have no
# __init__.py (PEP 420 namespace packages, so google.api sits beside the
# installed google.protobuf).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-clients/python/gen}"
PLUGIN="${GRPC_PYTHON_PLUGIN:-$(command -v grpc_python_plugin || true)}"
command -v protoc >/dev/null || { echo "gen-python: protoc is required (apt-get install protobuf-compiler)" >&2; exit 1; }
[[ -n $PLUGIN ]] || { echo "gen-python: grpc_python_plugin is required (apt-get install protobuf-compiler-grpc)" >&2; exit 1; }
files=$( { (cd proto && find . -name '*.proto'); (cd third_party/proto && find . -name '*.proto'); } | sed 's#^\./##' | LC_ALL=C sort)
rm -rf "$OUT" && mkdir -p "$OUT"
# shellcheck disable=SC2086 # one argument per file
protoc -Iproto -Ithird_party/proto --python_out="$OUT" --grpc_python_out="$OUT" \
	--plugin=protoc-gen-grpc_python="$PLUGIN" $files
# Only files with services need a _grpc module.
find "$OUT" -name '*_pb2_grpc.py' | while read -r f; do
	grep -q 'Stub(object)' "$f" || rm "$f"
done
echo "$(protoc --version)" > "$OUT/PROTOC_VERSION"
