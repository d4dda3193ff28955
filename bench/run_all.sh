#!/usr/bin/env bash
# Runs every benchmark binary built under BUILD_DIR/bin (bench_*), one after another, on 2 CPU
# threads. Benches that compare with peers start their own bench/peers/*.py scripts.
# Usage: bench/run_all.sh BUILD_DIR     Exit status: non-zero when any bench failed.
set -u
build="${1:?usage: bench/run_all.sh BUILD_DIR}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
shopt -s nullglob
benches=("$build"/bin/bench_*)
if [ ${#benches[@]} -eq 0 ]; then
  echo "run_all: no bench_* binaries in $build/bin (build them with 'make bench')" >&2
  exit 1
fi
failed=()
for b in "${benches[@]}"; do
  [ -x "$b" ] || continue
  echo "==== $(basename "$b") ===="
  if ! "$b"; then
    failed+=("$(basename "$b")")
    echo "run_all: $(basename "$b") failed" >&2
  fi
  echo
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "run_all: failed: ${failed[*]}" >&2
  exit 1
fi
