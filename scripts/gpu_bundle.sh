#!/usr/bin/env bash
# Second half of `make gpu-bundle` (the Makefile builds GPU_BUILD first): packs, into
# GPU_BUILD/bundle/, what scripts/gpu_check.sh needs on a GPU machine that has CUDA, PyTorch and
# h5py but no HDF5, OpenBLAS or ../shared:
#   payload.tar.xz   bin/ (apps, cellgrad_tests, bench_*; RPATH $ORIGIN/../lib) and lib/ (their
#                    shared-library closure, scripts/gpu_libs.sh), xz-compressed to fit the
#                    64 MiB that travels (OpenBLAS alone is 36 MB unpacked)
#   data/            Kang's scGen validation split; Patch-seq RNA and electrophysiology
#   cuda_tests.txt   the CUDA test cases of the sources the test binary was built from
#   MANIFEST.txt     commit, flags, sizes
# Usage: scripts/gpu_bundle.sh [GPU_BUILD] [DATA_DIR]      (defaults: build-gpu ../shared/data)
set -euo pipefail
build=${1:-build-gpu}
data=${2:-../shared/data}
bundle=$build/bundle
stage=$build/stage
limit_mib=64

die() { echo "gpu_bundle: $*" >&2; exit 1; }
[ -x "$build/bin/cellgrad_tests" ] || die "$build/bin/cellgrad_tests is not built (run make gpu-bundle)"
files=(perturbation/kang_scgen_valid_lognorm.h5ad
       crossmodal/unitednet_patchseq_RNA_TEM.h5ad crossmodal/unitednet_patchseq_Ephys_TEM.h5ad)
for f in "${files[@]}"; do [ -f "$data/$f" ] || die "data file $data/$f not found (make GPU_DATA=DIR)"; done

rm -rf "$bundle" "$stage"
mkdir -p "$stage/bin" "$stage/lib" "$bundle/data/perturbation" "$bundle/data/crossmodal"
for b in "$build"/bin/*; do [ -f "$b" ] && [ -x "$b" ] && cp -p "$b" "$stage/bin/"; done

# RPATH first: every binary must look in ../lib, for its libraries' dependencies too (DT_RPATH).
for b in "$stage"/bin/*; do
  rpath=$(readelf -d "$b" | sed -n 's/.*(RPATH).*\[\(.*\)\]/\1/p')
  case "$rpath" in *'$ORIGIN/../lib'*) ;; *) die "$b has RPATH '$rpath', not \$ORIGIN/../lib (was it built by make gpu-bundle?)";; esac
done
bash scripts/gpu_libs.sh copy "$stage/lib" "$stage"/bin/* || die "a library of the binaries is not found here"
problems=$(bash scripts/gpu_libs.sh check "$stage/lib" "$stage"/bin/* | grep -v '^cuda-missing' || true)
[ -z "$problems" ] || die "library closure incomplete:"$'\n'"$problems"

echo "gpu_bundle: packing $(ls "$stage/bin" | wc -l) binaries and $(ls "$stage/lib" | wc -l) libraries"
tar -C "$stage" -cf - bin lib | xz -T2 -6 > "$bundle/payload.tar.xz"
for f in "${files[@]}"; do cp "$data/$f" "$bundle/data/$f"; done
python3 scripts/gpu_cuda_tests.py tests > "$bundle/cuda_tests.txt"

{
  echo "cellgrad GPU bundle, made $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "built: make gpu-bundle (OPT as GPU_OPT, CUDA_ARCH as GPU_CUDA_ARCH, nvcc -lineinfo, RPATH \$ORIGIN/../lib)"
  echo "nvcc: $("${NVCC:-/usr/local/cuda/bin/nvcc}" --version 2>/dev/null | tail -1)"
  echo "CUDA test cases: $(wc -l < "$bundle/cuda_tests.txt")"
  echo "binaries:"; (cd "$stage/bin" && ls -l | awk 'NR>1 {printf "  %-28s %10d\n", $9, $5}')
  echo "libraries:"; (cd "$stage/lib" && ls -l | awk 'NR>1 {printf "  %-28s %10d\n", $9, $5}')
  echo "files:"; (cd "$bundle" && find . -type f ! -name MANIFEST.txt -printf '  %-58p %10s\n' | sort)
} > "$bundle/MANIFEST.txt"
rm -rf "$stage"

# What travels: the working tree (tracked + untracked, not ignored) plus this folder.
tree_bytes=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r stat -c %s 2>/dev/null \
              | awk '{s += $1} END {print s + 0}')
bundle_bytes=$(du -sb "$bundle" | cut -f1)
total=$((tree_bytes + bundle_bytes))
printf 'gpu_bundle: %s: %.1f MiB; with the working tree (%.1f MiB) %.1f MiB of the %d MiB that travel\n' \
  "$bundle" "$(echo "$bundle_bytes / 1048576" | bc -l)" "$(echo "$tree_bytes / 1048576" | bc -l)" \
  "$(echo "$total / 1048576" | bc -l)" "$limit_mib"
[ "$total" -le $((limit_mib * 1048576)) ] || die "over the ${limit_mib} MiB carry limit"
echo "gpu_bundle: carry [\"$bundle\"] and run: scripts/gpu_check.sh --bundle $bundle"
