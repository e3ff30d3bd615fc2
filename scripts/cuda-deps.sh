#!/usr/bin/env bash
# cuda-deps.sh DIR — fetch the CUDA driver-API header and link stub that
# `go build -tags cuda` needs (gorgonia.org/cu is cgo over cuda.h/libcuda.so)
# into DIR (default .cuda), from Debian's non-free nvidia-cuda-dev package.
#
# Nothing on the system changes: apt runs with a private configuration and
# state under DIR/apt, so neither root nor a non-free entry in
# /etc/apt/sources.list.d is needed. Only the files the build uses are kept:
#   DIR/usr/include/cuda.h (+ the headers it includes)
#   DIR/usr/lib/x86_64-linux-gnu/stubs/libcuda.so   (soname libcuda.so.1)
# The binary links against the stub and loads the real libcuda.so.1 of the
# NVIDIA driver at run time. Re-running is a no-op once both files exist.
set -euo pipefail

dir=${1:-.cuda}
suite=${CUDA_DEPS_SUITE:-bookworm}
mirror=${CUDA_DEPS_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
inc=$dir/usr/include
stub=$dir/usr/lib/x86_64-linux-gnu/stubs/libcuda.so

if [[ -f $inc/cuda.h && -f $stub ]]; then
	exit 0
fi
command -v apt-get >/dev/null || { echo "cuda-deps: apt-get is required (Debian/Ubuntu)" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "cuda-deps: dpkg-deb is required" >&2; exit 1; }

apt_dir=$dir/apt
mkdir -p "$apt_dir"/{lists/partial,archives/partial,etc/preferences.d,etc/apt.conf.d} "$dir/deb"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[[ -f $keyring ]] && signed=" [signed-by=$keyring]"
echo "deb$signed $mirror $suite main contrib non-free" > "$apt_dir/etc/sources.list"
apt_opts=(
	-o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::Etc::Preferences=$apt_dir/etc/preferences"
	-o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d"
	-o "Dir::State=$apt_dir"
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::State::status=/dev/null"
	-o "Dir::Cache=$apt_dir"
	-o "Dir::Cache::Archives=$apt_dir/archives"
	-o "Debug::NoLocking=1"
	-o "APT::Sandbox::User=$(id -un)"
)
echo "cuda-deps: apt-get update (private state in $apt_dir)"
apt-get "${apt_opts[@]}" -qq update
echo "cuda-deps: downloading nvidia-cuda-dev (about 800 MB)"
(cd "$dir/deb" && apt-get "${apt_opts[@]}" -qq download nvidia-cuda-dev)
deb=$(ls "$dir"/deb/nvidia-cuda-dev_*.deb | head -1)

# cuda.h includes only <stdlib.h> and <stdint.h> (system headers), but keep
# the small headers next to it that other driver-API users reach for.
echo "cuda-deps: extracting cuda.h and the libcuda stub from $(basename "$deb")"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" --wildcards \
	'./usr/include/cuda.h' './usr/include/cudaTypedefs.h' './usr/include/cudaProfilerTypedefs.h' \
	'./usr/include/cuda_stdint.h' './usr/lib/x86_64-linux-gnu/stubs/libcuda.so' 2>/dev/null ||
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" './usr/include/cuda.h' './usr/lib/x86_64-linux-gnu/stubs/libcuda.so'
[[ -f $inc/cuda.h && -f $stub ]] || { echo "cuda-deps: cuda.h or libcuda.so missing from $deb" >&2; exit 1; }
rm -rf "$dir/deb" "$apt_dir"
echo "cuda-deps: ready: CGO_CFLAGS=-I$inc CGO_LDFLAGS=-L$(dirname "$stub")"
