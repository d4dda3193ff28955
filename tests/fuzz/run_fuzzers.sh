#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for SECONDS (default 60):
#   h5ad, gmt                the omics readers, built from the omics sources alone;
#   perturbation_input,      the apps' own loaders (predict_perturbation --data; a train_multitask
#   multitask_input          modality), read guard included, built against the whole library and
#                            the app's objects, compiled with clang through the Makefile into
#                            fuzz-out/build (the first build takes a while; later ones are incremental).
# APPS=0 skips the app targets; TARGETS="perturbation_input multitask_input" runs only those. Work goes to fuzz-out/ (git-ignored): objects, corpora, and crash
# artifacts (fuzz-out/artifacts/).
# The fuzzers run in fork mode, so a crash is recorded and fuzzing goes on; afterwards
# triage.sh replays every artifact and sorts it into "hdf5" (a crash inside the system libhdf5,
# which mis-handles some malformed files) or "ours". Exit status is non-zero when any is ours.
#   ./tests/fuzz/run_fuzzers.sh [SECONDS]
#   STRICT=1 ./tests/fuzz/run_fuzzers.sh 60   # stop at the first crash instead
set -euo pipefail
SECONDS_EACH=${1:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${FUZZ_OUT:-$ROOT/fuzz-out}
CXX=${FUZZ_CXX:-clang++}
JOBS=${FUZZ_JOBS:-2}
APPS=${APPS:-1}
mkdir -p "$OUT/obj" "$OUT/corpus/h5ad" "$OUT/corpus/gmt" "$OUT/seeds/h5ad" "$OUT/seeds/gmt" "$OUT/seeds/app" \
  "$OUT/corpus/perturbation_input" "$OUT/corpus/multitask_input" "$OUT/artifacts"

INC="-I$ROOT -isystem /usr/include/eigen3 -isystem /usr/include/hdf5/serial"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CXXFLAGS="-std=c++17 -g -O1 $INC $SAN"
LIBS="-L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5"
# The data-layer sources the fuzzed readers use (omics/ is self-contained; nothing from nn/).
SRCS="matrix hdf5_util dataframe anndata h5ad_matrix_io h5ad_frame_io h5ad_read h5ad_write tenx_h5 genesets"

objs=()
for s in $SRCS; do
  src="$ROOT/omics/$s.cpp"; obj="$OUT/obj/$s.o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$ROOT/omics/$s.h" -nt "$obj" ] 2>/dev/null; then
    echo "compiling omics/$s.cpp"
    $CXX $CXXFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj" &
    while [ "$(jobs -r | wc -l)" -ge "$JOBS" ]; do sleep 0.2; done
  fi
  objs+=("$obj")
done
wait

$CXX $CXXFLAGS "$ROOT/tests/fuzz/make_seeds.cpp" "${objs[@]}" $LIBS -o "$OUT/make_seeds"
for t in h5ad gmt; do
  $CXX $CXXFLAGS -fsanitize=fuzzer "$ROOT/tests/fuzz/fuzz_$t.cpp" "${objs[@]}" $LIBS -o "$OUT/fuzz_$t"
done
"$OUT/make_seeds" "$OUT/seeds/h5ad" "$OUT/seeds/gmt" "$OUT/seeds/app"

targets="h5ad gmt"
if [ "$APPS" = 1 ]; then
  # The library and the two apps' objects (not their mains), with the fuzzer's instrumentation.
  build_rel=$(realpath --relative-to="$ROOT" "$OUT")/build
  app_objs() { for f in "$ROOT"/apps/$1/*.cpp; do b=$(basename "$f" .cpp); [ "$b" = main ] || echo "$build_rel/obj/apps/$1/$b.o"; done; }
  echo "building the library and the app objects with $CXX into $build_rel (incremental)"
  make -C "$ROOT" --no-print-directory -j"$JOBS" BUILD="$build_rel" CXX="$CXX" CUDA=0 \
    OPT="-O1 -g $SAN -fsanitize=fuzzer-no-link" "$build_rel/libcellgrad.a" \
    $(app_objs predict_perturbation) $(app_objs train_multitask) > "$OUT/app_build.log" 2>&1 ||
    { tail -20 "$OUT/app_build.log"; echo "the app build failed (log: $OUT/app_build.log)"; exit 1; }
  APP_LIBS="$LIBS -lcrypto -fopenmp -lpthread"
  [ -f /usr/lib/x86_64-linux-gnu/libopenblas.so ] && APP_LIBS+=" -lopenblas"
  for app in predict_perturbation:perturbation_input train_multitask:multitask_input; do
    dir=${app%%:*} t=${app##*:}
    objs=(); while read -r o; do objs+=("$ROOT/$o"); done < <(app_objs "$dir")
    $CXX $CXXFLAGS -fopenmp -fsanitize=fuzzer "$ROOT/tests/fuzz/fuzz_$t.cpp" "${objs[@]}" \
      "$ROOT/$build_rel/libcellgrad.a" $APP_LIBS -o "$OUT/fuzz_$t"
  done
  targets+=" perturbation_input multitask_input"
fi

targets=${TARGETS:-$targets}  # TARGETS="multitask_input" runs only those (all are built)
status=0
for t in $targets; do
  echo "== fuzz_$t for ${SECONDS_EACH}s"
  args=(-max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1
        -artifact_prefix="$OUT/artifacts/$t-")
  [ "$t" = gmt ] || args+=(-max_len=65536)
  [ "${STRICT:-0}" = 1 ] || args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  rc=0
  seeds=("$OUT/seeds/$t")
  case $t in perturbation_input|multitask_input) seeds=("$OUT/seeds/app" "$OUT/seeds/h5ad");; esac
  "$OUT/fuzz_$t" "${args[@]}" "$OUT/corpus/$t" "${seeds[@]}" || rc=$?
  [ "${STRICT:-0}" = 1 ] && [ $rc -ne 0 ] && status=1
  shopt -s nullglob
  found=("$OUT/artifacts/$t-"*)
  shopt -u nullglob
  if [ ${#found[@]} -gt 0 ]; then
    echo "== triage of ${#found[@]} artifact(s) of fuzz_$t (hdf5: inside libhdf5; ours: a bug here)"
    "$ROOT/tests/fuzz/triage.sh" "$OUT/fuzz_$t" "${found[@]}" || status=1
  fi
done
exit $status
