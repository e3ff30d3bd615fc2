#!/usr/bin/env bash
# device-check.sh — the CUDA backend's checks on a GPU machine, in one command.
#
#   here:  make cuda-check-bin              # builds bin/cuda-check/ (no GPU needed)
#   there: bin/cuda-check/device-check.sh   # copy bin/cuda-check/ over; no Go needed
#
# Steps: (1) backend logic tests (selection, budget, fallbacks, health);
# (2) every CUDA kernel on the device against the CPU path (1e-6 relative,
# integers exact), repeatability, cancellation; (3) the timing table —
# kernel, input size, CPU time (all host cores), GPU time including
# transfers, speedup, max relative error, end-to-end request latency through
# a server on each backend — printed and written to --out.
#
# Options:
#   --quick        moderate inputs (the "check" scale) instead of the issue's targets
#   --only a,b     only these cases (pagerank, betweenness, kmeans, monte-carlo-var, …)
#   --no-e2e       leave out the end-to-end request columns (halves the CPU time)
#   --bench        also run the Go benchmarks (BenchmarkGPU / BenchmarkCPU)
#   --sweep        also time both backends at 1/3000 … 1/10 of the target sizes
#                  (TestDeviceSweep: the SWEEP lines the AUTO thresholds come from)
#   --out FILE     table file (default device-check-<UTC time>.md in the current directory)
# Exit status: 0 all passed; 1 a check failed; 3 no usable GPU (nothing ran).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bindir=$here
[[ -x $bindir/gpu.test ]] || bindir=$(cd "$here/.." && pwd)/bin/cuda-check
scale=target e2e=1 bench=0 sweep=0 only="" out="device-check-$(date -u +%Y%m%dT%H%M%SZ).md"
while (($#)); do
	case $1 in
	--quick) scale=check ;;
	--only) only=$2; shift ;;
	--no-e2e) e2e=0 ;;
	--bench) bench=1 ;;
	--sweep) sweep=1 ;;
	--out) out=$2; shift ;;
	-h | --help) sed -n '2,25p' "$0"; exit 0 ;;
	*) echo "device-check: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
for b in gpu.test cuda.test; do
	[[ -x $bindir/$b ]] || { echo "device-check: $bindir/$b missing: run 'make cuda-check-bin' and copy bin/cuda-check/" >&2; exit 2; }
done

# The driver library: containers often mount it under /usr/local/nvidia.
export LD_LIBRARY_PATH="/usr/local/nvidia/lib64:/usr/local/nvidia/lib:${LD_LIBRARY_PATH:-}"
if ! { ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1'; } && ! compgen -G '/usr/local/nvidia/lib*/libcuda.so.1' >/dev/null; then
	echo "SKIPPED: no NVIDIA driver (libcuda.so.1) on this host: the GPU checks did not run."
	exit 3
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader
echo "host: $(nproc) cores; inputs: $scale scale"

status=0
echo
echo "== 1/3 backend logic (emulated device)"
"$bindir/cuda.test" -test.count=1 || status=1

echo
echo "== 2/3 device results against the CPU path"
log=$(mktemp)
GOKERNELS_CHECK_ONLY=$only "$bindir/gpu.test" -test.count=1 -test.v -test.timeout 30m \
	-test.run '^TestDevice(MatchesCPU|Repeatable|Cancel)$' 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if grep -q '^SKIP: ' "$log"; then
	echo "SKIPPED: $(grep '^SKIP: ' "$log" | head -1 | cut -c7-)"
	rm -f "$log"
	exit 3
fi
rm -f "$log"
((rc == 0)) || status=1

echo
echo "== 3/3 timing table ($scale inputs)"
GOKERNELS_DEVICE_CHECK=1 GOKERNELS_CHECK_SCALE=$scale GOKERNELS_CHECK_E2E=$e2e GOKERNELS_CHECK_ONLY=$only \
	GOKERNELS_CHECK_OUT=$out "$bindir/gpu.test" -test.count=1 -test.v -test.timeout 90m -test.run '^TestDeviceCheck$' || status=1
[[ -f $out ]] && echo "table written to $out"

if ((sweep)); then
	echo
	echo "== sweep: CPU and GPU times from 1/3000 to 1/10 of the target sizes"
	GOKERNELS_DEVICE_SWEEP=1 GOKERNELS_CHECK_ONLY=$only "$bindir/gpu.test" -test.count=1 -test.timeout 60m \
		-test.run '^TestDeviceSweep$' | tee -a "$out" || status=1
fi

if ((bench)); then
	echo
	echo "== benchmarks (check scale)"
	GOKERNELS_CHECK_ONLY=$only "$bindir/gpu.test" -test.run '^$' -test.bench . -test.benchtime 3x || status=1
fi
exit $status
