#!/usr/bin/env bash
# Every GPU check of cellgrad in one call (GPU time is rare and brief): made for a lent GPU machine
# that has CUDA, PyTorch, h5py and compute-sanitizer but no HDF5, no OpenBLAS and no ../shared, fed
# by `make gpu-bundle` (the README's "Checking on a GPU machine" says what to carry).
#
# Stages, each under its own time limit and inside a total budget, each ending in exactly one line
#   STAGE <name> PASS|FAIL|SKIP <seconds>s <reason>
#   bundle            unpack the bundle's binaries; every library they need is in it or is a system one
#   probe             nvidia-smi, compute-sanitizer, python's torch/h5py, ldd of every binary
#   cuda_tests        every CUDA test case with CELLGRAD_REQUIRE_CUDA=1 (a skip is a failure)
#   racecheck         compute-sanitizer racecheck on the reduction and softmax kernel tests
#   memcheck_train    compute-sanitizer memcheck on short scGen and train_multitask runs on CUDA,
#                     CELLGRAD_CUDA_EXACT_ALLOC=1 (exact-size, uncached blocks: overruns show)
#   parity_predict    predict_perturbation (scGen, Kang, CD4T held out, 20 epochs) on CUDA vs the
#                     same run on the CPU: R^2 within 0.005
#   parity_multitask  train_multitask (Patch-seq RNA + Ephys) on CUDA vs CPU: R^2 within 0.005
#   bench             bench_scgen's training step vs PyTorch eager, CUDA graph and torch.compile, at
#                     batch 32, 512 and 4096 (Kang repeated to 8192 cells), both engines gathering
#                     batches from the matrix kept on the GPU; then both fed from the host (cellgrad
#                     vs eager); table in bench.txt
#   profile           bench_scgen's forward/backward/optimizer phases and bench_kernels (not a bar)
#   speed_bars        issue 16's bars: batch 32 >= 10x eager and >= 1.5x graph, batch 512 >= 2x
#                     eager, batch 4096 >= torch.compile (step time)
#   memcheck_tests    memcheck on every CUDA test case (exact allocation), 4 processes at once
# --dry-run runs every part that needs no GPU (the probe, the test-list check, the CPU halves of
# the parity runs, the PyTorch peer on a tiny CPU shape, the bundle's closure check) and reports
# the GPU stages as SKIP with the reason. Exit status: 1 when any stage failed, else 0.
#
# Usage: scripts/gpu_check.sh [--dry-run] [--bundle DIR] [--bin DIR] [--data DIR] [--out DIR]
#                             [--budget SECONDS] [--time-scale K] [--only A,B] [--keep]
#   --bundle DIR  a `make gpu-bundle` folder (build-gpu/bundle): binaries, libraries and data from it
#   --bin DIR     binaries of an ordinary build instead (default $CELLGRAD_BIN_DIR or build/bin)
#   --data DIR    the data folder (default: the bundle's, else $CELLGRAD_DATA or ../shared/data)
#   --out DIR     where summary.txt, bench.txt and gpu_check_logs.tar.gz go (default $OUT, else a
#                 temporary folder that is printed)
#   --budget S    total seconds for all stages (default 510: the whole call stays under 9 minutes)
#   --only A,B    run only these stages (bundle and probe always run): a short second call that
#                 rechecks what a fix touched
#   --time-scale K  multiplies every stage's limit and the budget (default 1; a dry run defaults to
#                 10: it has no device minutes to save, and sanitized or loaded-machine binaries
#                 run its CPU halves many times slower than a GPU machine's 16 cores)
# Run from the repository root.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
self="$here/gpu_check.sh"

# ---------------------------------------------------------------------------------------------
# Helpers shared by the stages (each stage runs as `gpu_check.sh --run-stage NAME` in its own
# process under `timeout`, reading the configuration from the environment and $GC_W/state).
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $* }"; }  # arithmetic on fractions: the GPU image has no bc
result() {  # result STATUS REASON: the stage's verdict, then its process ends
  printf '%s|%s\n' "$1" "$2" > "$GC_W/result"
  exit 0
}
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
gpu_skip() {  # the reason a GPU stage does not run, or nothing when it does
  if [ "$GC_DRY" = 1 ]; then echo "dry run: needs a GPU${1:+ ($1)}"
  elif [ "${HAVE_GPU:-0}" != 1 ]; then echo "no GPU (see the probe)"
  fi
}
doctest_summary() {  # the "test cases: ..." line of a doctest log
  grep -a '^\[doctest\] test cases:' "$1" | tail -1 | sed 's/^\[doctest\] //; s/  */ /g'
}
cuda_filter() {  # [LIST]: the doctest -tc filter naming those test cases (',' in names -> '?')
  local out="" name
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    out+="${out:+,}${name//,/?}"
  done < "${1:-$GC_CUDA_LIST}"
  printf '%s' "$out"
}
sanitizer_errors() {  # "N" from compute-sanitizer's summary line in a log, or "none" without one
  local line
  line=$(grep -aE '(ERROR|RACECHECK) SUMMARY:' "$1" | tail -1)
  [ -n "$line" ] || { echo none; return; }
  if [[ $line =~ ERROR\ SUMMARY:\ ([0-9]+)\ error ]]; then echo "${BASH_REMATCH[1]}"
  elif [[ $line =~ \(([0-9]+)\ error ]]; then echo "${BASH_REMATCH[1]}"
  else echo "?"; fi
}
py() { env LD_LIBRARY_PATH="${GC_ORIG_LD_LIBRARY_PATH:-}" "${PEER_PY:-python3}" "$@"; }

# ---------------------------------------------------------------------------------------------
# The stages.
stage_bundle() {
  if [ -z "$GC_BUNDLE" ]; then
    result SKIP "no --bundle: binaries from $GC_BIN (make gpu-bundle makes one)"
  fi
  [ -f "$GC_BUNDLE/payload.tar.xz" ] || result FAIL "$GC_BUNDLE/payload.tar.xz not found (make gpu-bundle)"
  log "unpacking $GC_BUNDLE/payload.tar.xz into $GC_UNPACK"
  mkdir -p "$GC_UNPACK"
  if command -v xz >/dev/null; then
    xz -dc "$GC_BUNDLE/payload.tar.xz" | tar -C "$GC_UNPACK" -xf - || result FAIL "could not unpack the payload"
  else  # python's tarfile reads xz where the xz tool is missing
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
      "$GC_BUNDLE/payload.tar.xz" "$GC_UNPACK" || result FAIL "could not unpack the payload (no xz; python failed)"
  fi
  local n_bin n_lib problems
  n_bin=$(ls "$GC_UNPACK/bin" | wc -l)
  n_lib=$(ls "$GC_UNPACK/lib" | wc -l)
  problems=$(bash "$repo/scripts/gpu_libs.sh" check "$GC_UNPACK/lib" "$GC_UNPACK"/bin/*)
  echo "$problems"
  local bad cuda
  bad=$(grep -v '^cuda-missing' <<<"$problems" | grep -c . || true)
  cuda=$(grep '^cuda-missing' <<<"$problems" | awk '{print $3}' | sort -u | paste -sd' ')
  [ "$bad" = 0 ] || result FAIL "library closure incomplete: $(grep -v '^cuda-missing' <<<"$problems" | head -3 | paste -sd';')"
  for f in perturbation/kang_scgen_valid_lognorm.h5ad crossmodal/unitednet_patchseq_RNA_TEM.h5ad \
           crossmodal/unitednet_patchseq_Ephys_TEM.h5ad; do
    [ -f "$GC_DATA/$f" ] || result FAIL "data file $GC_DATA/$f missing"
  done
  result PASS "$n_bin binaries, $n_lib libraries; every non-system library resolves in the bundle${cuda:+; CUDA libraries not on the default path: $cuda (the probe looks for them)}"
}

stage_probe() {
  local reason="" gpu="" fail=""
  if command -v nvidia-smi >/dev/null && nvidia-smi -L > "$GC_W/nvsmi_l.txt" 2>&1 && grep -q '^GPU' "$GC_W/nvsmi_l.txt"; then
    nvidia-smi || true
    gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv,noheader | head -1)
    echo "HAVE_GPU=1" >> "$GC_W/state"
    reason="GPU: $gpu"
  else
    cat "$GC_W/nvsmi_l.txt" 2>/dev/null
    reason="no GPU (nvidia-smi $(command -v nvidia-smi >/dev/null && echo 'lists none' || echo 'not found'))"
    [ "$GC_DRY" = 1 ] || fail="no GPU"
  fi
  # compute-sanitizer
  local san=""
  for c in "$(command -v compute-sanitizer 2>/dev/null)" /usr/local/cuda/bin/compute-sanitizer \
           /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
    [ -n "$c" ] && [ -x "$c" ] && { san=$c; break; }
  done
  if [ -n "$san" ]; then
    echo "SANITIZER='$san'" >> "$GC_W/state"
    log "compute-sanitizer: $san ($("$san" --version 2>/dev/null | tail -1))"
  else
    reason+="; compute-sanitizer not found"
    [ "$GC_DRY" = 1 ] || fail+="${fail:+, }no compute-sanitizer"
  fi
  # python with torch and h5py (the peer, the data tiler)
  local pyc="" v
  for c in "${CELLGRAD_PEER_PYTHON:-}" /usr/bin/python3 "$(command -v python3 2>/dev/null)"; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    if v=$(env LD_LIBRARY_PATH="${GC_ORIG_LD_LIBRARY_PATH:-}" "$c" -c \
        'import torch, h5py; print("torch %s (CUDA %s) h5py %s" % (torch.__version__, torch.cuda.is_available(), h5py.__version__))' 2>&1); then
      pyc=$c; break
    fi
    log "$c: $v"
  done
  if [ -n "$pyc" ]; then
    echo "PEER_PY='$pyc'" >> "$GC_W/state"
    reason+="; $v"
  elif [ "$GC_DRY" = 1 ]; then  # here only the bench's peer part needs it (make deps-bench installs torch)
    reason+="; no python3 with torch and h5py here (the bench stage skips the peer)"
  else
    reason+="; no python3 with torch and h5py"
    fail+="${fail:+, }no python3 with torch and h5py"
  fi
  # every binary's libraries; CUDA's are looked for where toolkits and pip wheels keep them
  local bins=("$GC_BIN"/*) problems missing
  problems=$(bash "$repo/scripts/gpu_libs.sh" check /nonexistent "${bins[@]}" 2>/dev/null | grep -E '^(missing|cuda-missing)')
  if grep -q '^cuda-missing' <<<"$problems"; then
    local libs dirs="" d
    libs=$(grep '^cuda-missing' <<<"$problems" | awk '{print $3}' | sort -u)
    for l in $libs; do
      d=$(timeout 20 find /usr/local /opt /usr/lib /usr/lib64 -name "$l" -print -quit 2>/dev/null | head -1)
      [ -n "$d" ] && dirs+="${dirs:+:}$(dirname "$d")"
    done
    if [ -n "$dirs" ]; then
      log "CUDA libraries found in $dirs: added to LD_LIBRARY_PATH"
      echo "export LD_LIBRARY_PATH='$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}'" >> "$GC_W/state"
      export LD_LIBRARY_PATH="$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      problems=$(bash "$repo/scripts/gpu_libs.sh" check /nonexistent "${bins[@]}" 2>/dev/null | grep -E '^(missing|cuda-missing)')
    fi
  fi
  echo "${problems:-no missing libraries}"
  missing=$(awk '{print $3}' <<<"$problems" | sort -u | paste -sd' ')
  if [ -n "$missing" ]; then
    fail+="${fail:+, }missing libraries: $missing"
  else
    reason+="; libraries of ${#bins[@]} binaries all found"
  fi
  [ "$GC_DRY" = 1 ] && reason="dry run: $reason"
  [ -z "$fail" ] || result FAIL "$fail; $reason"
  result PASS "$reason"
}

stage_cuda_tests() {
  local n filter listed
  n=$(grep -c . "$GC_CUDA_LIST")
  filter=$(cuda_filter)
  "$GC_BIN/cellgrad_tests" --list-test-cases -tc="$filter" > "$GC_W/cuda_list.txt" 2>&1
  listed=$(sed -n 's/.*passing the current filters: \([0-9]*\).*/\1/p' "$GC_W/cuda_list.txt" | tail -1)
  log "CUDA test cases named in $GC_CUDA_LIST: $n; in the test binary: ${listed:-?}"
  [ "${listed:-0}" = "$n" ] || result FAIL "$n CUDA test cases named, ${listed:-no} found in $GC_BIN/cellgrad_tests (list and binary out of step)"
  local why; why=$(gpu_skip)
  [ -z "$why" ] || result SKIP "$why; the $n CUDA test cases resolve in the test binary"
  local tlog="$GC_W/logs/cuda_tests_doctest.txt"
  CELLGRAD_REQUIRE_CUDA=1 CELLGRAD_DATA="$GC_DATA" CELLGRAD_BIN_DIR="$GC_BIN" OMP_NUM_THREADS=4 \
    "$GC_BIN/cellgrad_tests" -tc="$filter" --duration=true > "$tlog" 2>&1
  local rc=$? summary skips
  tail -40 "$tlog"
  summary=$(doctest_summary "$tlog")
  skips=$(grep -ac 'skipped CUDA check' "$tlog")
  [ "$rc" = 0 ] || result FAIL "exit $rc: ${summary:-no doctest summary}; first failure: $(grep -am1 -E 'ERROR|FATAL' "$tlog" | cut -c1-160)"
  [ "$skips" = 0 ] || result FAIL "$skips CUDA checks skipped"
  result PASS "${summary}; 0 skipped (CELLGRAD_REQUIRE_CUDA=1)"
}

stage_racecheck() {
  local why; why=$(gpu_skip "${SANITIZER:+compute-sanitizer at $SANITIZER}")
  [ -z "$why" ] || result SKIP "$why"
  [ -n "${SANITIZER:-}" ] || result FAIL "compute-sanitizer not found"
  local tlog="$GC_W/logs/racecheck_out.txt"
  CELLGRAD_REQUIRE_CUDA=1 "$SANITIZER" --tool racecheck --racecheck-report all --error-exitcode 3 \
    "$GC_BIN/cellgrad_tests" -tc="reductions: CUDA matches the CPU,softmax and norm ops: CUDA matches the CPU" \
    > "$tlog" 2>&1
  local rc=$? errs summary
  tail -30 "$tlog"
  errs=$(sanitizer_errors "$tlog")
  summary=$(doctest_summary "$tlog")
  [ "$rc" = 0 ] && [ "$errs" = 0 ] && result PASS "0 hazards; reductions + softmax/norm tests: $summary"
  result FAIL "exit $rc, sanitizer errors: $errs; $summary; first report: $(grep -am1 -E 'Race reported|Error|ERROR' "$tlog" | cut -c1-160)"
}

stage_memcheck_train() {
  local why; why=$(gpu_skip "${SANITIZER:+compute-sanitizer at $SANITIZER}")
  [ -z "$why" ] || result SKIP "$why"
  [ -n "${SANITIZER:-}" ] || result FAIL "compute-sanitizer not found"
  local a="$GC_W/logs/memcheck_scgen.txt" b="$GC_W/logs/memcheck_multitask.txt" d="$GC_DATA/crossmodal/unitednet_patchseq"
  [ -x "$GC_BIN/bench_scgen" ] || result FAIL "$GC_BIN/bench_scgen is not built (make gpu-bundle builds it)"
  export CELLGRAD_CUDA_EXACT_ALLOC=1 OMP_NUM_THREADS=2
  "$SANITIZER" --tool memcheck --error-exitcode 3 "$GC_BIN/bench_scgen" \
    --data "$GC_DATA/perturbation/kang_scgen_valid_lognorm.h5ad" --device cuda --no-peer --batches 32,512 \
    --epochs 1 --warmup 0 --max-steps 3 > "$a" 2>&1 &
  local pa=$!
  "$SANITIZER" --tool memcheck --error-exitcode 3 "$GC_BIN/train_multitask" \
    --modality RNA=${d}_RNA_TEM.h5ad --modality Ephys=${d}_Ephys_TEM.h5ad --preprocess RNA=standardize \
    --label-key cell_type_TEM --no-discriminator --seed 0 --epochs 2 --device cuda \
    --out "$GC_W/runs/memcheck_multitask" --overwrite > "$b" 2>&1 &
  local pb=$!
  wait $pa; local ra=$?
  wait $pb; local rb=$?
  tail -15 "$a"; tail -15 "$b"
  local ea eb
  ea=$(sanitizer_errors "$a"); eb=$(sanitizer_errors "$b")
  [ "$ra" = 0 ] && [ "$rb" = 0 ] && [ "$ea" = 0 ] && [ "$eb" = 0 ] &&
    result PASS "0 errors: bench_scgen (3 steps at batch 32 and 512) and train_multitask (2 epochs), exact allocation"
  result FAIL "bench_scgen exit $ra, $ea errors; train_multitask exit $rb, $eb errors; first report: $(grep -ahE 'Invalid|Error|error' "$a" "$b" | grep -v 'ERROR SUMMARY' | head -1 | cut -c1-160)"
}

# One app run on one device into $GC_W/runs/NAME; returns the app's status.
parity_run() {  # parity_run NAME DEVICE THREADS ARGS...
  local name=$1 dev=$2 threads=$3; shift 3
  OMP_NUM_THREADS=$threads "$@" --device "$dev" --out "$GC_W/runs/$name" --overwrite > "$GC_W/logs/$name.txt" 2>&1
}

# The parity runs: sets ARGS (the app and its flags, without --device and --out), REL (its
# metrics.json inside the run folder), KEYS (compared within 0.005) and INFO (shown only).
app_args() {  # app_args pp|mt
  local d="$GC_DATA/crossmodal/unitednet_patchseq"
  case $1 in
    pp)  # scGen on Kang with CD4T held out: 20 epochs (1 at batch 128 in a dry run). Not 3: on
         # the first H200 run (2026-12-04) 3 epochs left scGen far from converged (R^2 0.44), where
         # its barely weighted KL term swings freely and float-level CPU/GPU differences grew to
         # 0.014 R^2 while the reconstruction losses agreed to 0.1%.
      # Seeds 0, 1 and 2 on each device, compared by their means within the seeds' spread
      # (scripts/gpu_compare_metrics.py says why one seed per side is not enough).
      ARGS=("$GC_BIN/predict_perturbation" --data "$GC_DATA/perturbation/kang_scgen_valid_lognorm.h5ad"
            --held-out CD4T --models scgen --patience 0)
      if [ "$GC_DRY" = 1 ]; then
        ARGS+=(--epochs 1 --batch-size 128 --seed 0); REL=CD4T/scgen/seed0/metrics.json
      else
        ARGS+=(--epochs 20 --seeds 0,1,2); REL=CD4T/scgen/seed0/metrics.json,CD4T/scgen/seed1/metrics.json,CD4T/scgen/seed2/metrics.json
      fi
      KEYS="r2_all,r2_top,r2_top20" INFO="logfc_pearson_all,e_distance_ratio";;
    mt)  # Patch-seq RNA + Ephys, translation + classification: 30 epochs (5 in a dry run)
      ARGS=("$GC_BIN/train_multitask" --modality "RNA=${d}_RNA_TEM.h5ad" --modality "Ephys=${d}_Ephys_TEM.h5ad"
            --preprocess RNA=standardize --label-key cell_type_TEM --no-discriminator --seed 0
            --epochs "$( [ "$GC_DRY" = 1 ] && echo 5 || echo 30)")
      # RNA -> Ephys's per-feature mean R^2 is shown, not compared: near-constant Ephys features in
      # the test cells make it ill-conditioned (-1.84 vs -1.88 on the first H200 run while every
      # epoch's losses agreed to 3-4 digits); its per-cell R^2 is compared.
      REL=metrics.json KEYS="translation/*/r2_per_cell,translation/Ephys_to_RNA/r2"
      INFO="translation/RNA_to_Ephys/r2,classification/accuracy,best_epoch";;
  esac
}

# The CPU half of a parity run, once: a dry run starts both early, beside the probe
# (gpu_check.sh --cpu-half LABEL), and the stage then waits for it.
cpu_half_run() {  # cpu_half_run LABEL THREADS
  app_args "$1"
  parity_run "$1_cpu" cpu "$2" "${ARGS[@]}"
  echo $? > "$GC_W/runs/$1_cpu.rc"
}
cpu_half() {
  [ -f "$GC_W/runs/$1_cpu.started" ] || cpu_half_run "$@"
  while [ ! -f "$GC_W/runs/$1_cpu.rc" ]; do sleep 0.2; done
  return "$(cat "$GC_W/runs/$1_cpu.rc")"
}

in_run() {  # in_run NAME: $REL's comma-separated paths inside the run folder NAME
  local out="" p
  IFS=, read -ra parts <<<"$REL"
  for p in "${parts[@]}"; do out+="${out:+,}$GC_W/runs/$1/$p"; done
  printf '%s' "$out"
}

parity_stage() {  # parity_stage pp|mt
  local label=$1
  app_args "$label"
  local why; why=$(gpu_skip)
  if [ -n "$why" ] && [ "$GC_DRY" = 1 ]; then
    cpu_half "$label" 2
    local rc=$?
    tail -5 "$GC_W/logs/${label}_cpu.txt"
    [ "$rc" = 0 ] || result FAIL "the CPU run failed (exit $rc): $(tail -1 "$GC_W/logs/${label}_cpu.txt" | cut -c1-160)"
    local shown; shown=$(python3 "$repo/scripts/gpu_compare_metrics.py" --show "$(in_run "${label}_cpu")" --keys "$KEYS")
    [ $? = 0 ] || result FAIL "the CPU run wrote no usable $REL: $shown"
    result SKIP "$why; the CPU half ran: $shown"
  fi
  [ -z "$why" ] || result SKIP "$why"
  cpu_half "$label" 12 &
  local pc=$!
  parity_run "${label}_cuda" cuda 2 "${ARGS[@]}" &
  local pg=$!
  wait $pc; local rc=$?
  wait $pg; local rg=$?
  tail -5 "$GC_W/logs/${label}_cpu.txt" "$GC_W/logs/${label}_cuda.txt"
  [ "$rc" = 0 ] || result FAIL "the CPU run failed (exit $rc): $(tail -1 "$GC_W/logs/${label}_cpu.txt" | cut -c1-160)"
  [ "$rg" = 0 ] || result FAIL "the CUDA run failed (exit $rg): $(tail -1 "$GC_W/logs/${label}_cuda.txt" | cut -c1-160)"
  local verdict
  verdict=$(python3 "$repo/scripts/gpu_compare_metrics.py" "$(in_run "${label}_cpu")" "$(in_run "${label}_cuda")" \
            --keys "$KEYS" --info "$INFO" --tol 0.005)
  local rv=$?
  echo "$verdict"
  if [ "$label" = pp ]; then
    # The end metrics compare whole trainings, within the seeds' spread (loose: scGen's R^2 moves
    # by 0.01-0.05 between seeds). The first epoch is where the two devices should still agree
    # closely: every seed's epoch-1 training loss within 0.5%.
    local early
    early=$(python3 - "$GC_W/runs/pp_cpu" "$GC_W/runs/pp_cuda" <<'PY'
import csv, glob, os, sys
cpu, gpu = sys.argv[1], sys.argv[2]
worst, n = 0.0, 0
for f in sorted(glob.glob(os.path.join(cpu, "*", "*", "seed*", "history.csv"))):
    g = os.path.join(gpu, os.path.relpath(f, cpu))
    if not os.path.exists(g):
        continue
    a = float(next(csv.DictReader(open(f)))["train_loss"])
    b = float(next(csv.DictReader(open(g)))["train_loss"])
    worst = max(worst, abs(a - b) / max(abs(a), 1e-12))
    n += 1
print("%d %.5f" % (n, worst))
PY
)
    local n_early=${early%% *} worst_early=${early##* }
    verdict+="; epoch-1 train loss of $n_early seeds within $(awk -v w="$worst_early" 'BEGIN { printf "%.3f%%", 100 * w }')"
    if [ "${n_early:-0}" = 0 ] || awk -v w="$worst_early" 'BEGIN { exit !(w > 0.005) }'; then
      result FAIL "$verdict (expected within 0.5%)"
    fi
  fi
  [ "$rv" = 0 ] && result PASS "$verdict"
  result FAIL "$verdict"
}

stage_parity_predict() { parity_stage pp; }
stage_parity_multitask() { parity_stage mt; }

stage_bench() {
  local kang="$GC_DATA/perturbation/kang_scgen_valid_lognorm.h5ad" peer="$repo/bench/peers/scgen_torch.py"
  local res="$GC_W/bench_results.txt"
  : > "$res"
  local why; why=$(gpu_skip)
  if [ -z "${PEER_PY:-}" ]; then
    [ "$GC_DRY" = 1 ] && result SKIP "$why; no python3 with torch and h5py here to run the peer (make deps-bench)"
    result FAIL "no python3 with torch and h5py (see the probe)"
  fi
  if [ -n "$why" ] && [ "$GC_DRY" = 1 ]; then
    local tiny="$GC_W/runs/kang_tiny.h5ad" note=""
    py "$repo/scripts/gpu_tile_h5ad.py" "$kang" "$tiny" --cells 64 --genes 300 || result FAIL "the data tiler failed"
    py "$peer" --data "$tiny" --batches 16 --epochs 1 --warmup 1 --max-steps 2 --device cpu --threads 1 \
      > "$GC_W/logs/bench_peer_cpu.txt" 2>&1
    cat "$GC_W/logs/bench_peer_cpu.txt"
    local line; line=$(grep '^SCGEN_TORCH ' "$GC_W/logs/bench_peer_cpu.txt" | head -1)
    [ -n "$line" ] || result FAIL "the PyTorch peer printed no result: $(tail -1 "$GC_W/logs/bench_peer_cpu.txt" | cut -c1-160)"
    if [ -x "$GC_BIN/bench_scgen" ]; then
      OMP_NUM_THREADS=1 "$GC_BIN/bench_scgen" --data "$tiny" --batches 16 --epochs 1 --warmup 1 --max-steps 2 \
        --device cpu --threads 1 --no-peer > "$GC_W/logs/bench_cellgrad_cpu.txt" 2>&1 \
        && note="; bench_scgen CPU ok: $(grep -m1 '^cellgrad cpu' "$GC_W/logs/bench_cellgrad_cpu.txt" | sed 's/  */ /g' | cut -c1-80)" \
        || result FAIL "bench_scgen failed on the tiny file: $(tail -1 "$GC_W/logs/bench_cellgrad_cpu.txt" | cut -c1-160)"
    else
      note="; bench_scgen not built in $GC_BIN (make bench)"
    fi
    result SKIP "$why; the peer's CPU path ran on 64 cells x 300 genes: $(sed 's/.*\(step_ms=[^ ]*\).*/\1/' <<<"$line") eager$note"
  fi
  [ -z "$why" ] || result SKIP "$why"
  [ -x "$GC_BIN/bench_scgen" ] || result FAIL "$GC_BIN/bench_scgen is not built (make gpu-bundle builds it)"
  local tiled="$GC_W/runs/kang_8192.h5ad"
  py "$repo/scripts/gpu_tile_h5ad.py" "$kang" "$tiled" --cells 8192 || result FAIL "the data tiler failed"
  local common=(--data "$tiled" --epochs 3 --warmup 1 --max-steps 100)
  log "cellgrad"
  # Both feeds: the matrix kept on the GPU (the compared rows) and host batches uploaded per step.
  local feed key
  for feed in device host; do
    key=cellgrad; [ "$feed" = host ] && key=cellgrad-host
    OMP_NUM_THREADS=4 timeout --foreground 90 "$GC_BIN/bench_scgen" "${common[@]}" --batches 32,512,4096 --device cuda \
      --no-peer --feed $feed > "$GC_W/logs/bench_$key.txt" 2>&1
    cat "$GC_W/logs/bench_$key.txt"
    awk -v k=$key '/^cellgrad cuda batch/ { b = $4; sub(":", "", b); for (i = 1; i < NF; i++) if ($(i+1) == "ms/step") print k, b, $i }' \
      "$GC_W/logs/bench_$key.txt" >> "$res"
  done
  local run limit batches mode flags
  # PyTorch fed like cellgrad (--resident: the matrix on the GPU) in each mode, and eager fed from
  # the host as a DataLoader over host tensors would be ("eager-host").
  for run in eager graph compile eager-host; do
    mode=${run%-host}; flags=--resident; [ "$run" = eager-host ] && flags=""
    # torch.compile compiles once per batch size: the 4096 bar is its, so that one goes first.
    case $mode in eager) limit=45 batches=32,512,4096;; graph) limit=60 batches=32,512,4096;;
                  compile) limit=130 batches=4096,512,32;; esac
    log "torch $run"
    timeout --foreground $limit env LD_LIBRARY_PATH="${GC_ORIG_LD_LIBRARY_PATH:-}" PYTHONUNBUFFERED=1 \
      "$PEER_PY" "$peer" "${common[@]}" --batches $batches --device cuda --threads 4 --mode $mode $flags \
      > "$GC_W/logs/bench_torch_$run.txt" 2>&1
    echo "exit $?" >> "$GC_W/logs/bench_torch_$run.txt"
    tail -6 "$GC_W/logs/bench_torch_$run.txt"
    sed -n 's/^SCGEN_TORCH .*batch=\([0-9]*\) .*step_ms=\([0-9.]*\).*/\1 \2/p' "$GC_W/logs/bench_torch_$run.txt" |
      while read -r b ms; do echo "$run $b $ms"; done >> "$res"
  done
  # The table, kept as bench.txt
  {
    echo "scGen training step on $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1): ms per step (8192 Kang cells, 6998 genes; 3 timed epochs of at most 100 steps)"
    echo "Batches gathered on the GPU from the resident matrix (both engines), then both fed from the host:"
    printf '%6s %10s %10s %10s %10s %9s %9s %9s | %10s %10s %9s\n' batch cellgrad eager graph compile "x eager" "x graph" \
      "x compile" cg-host eager-host "x e-host"
    for b in 32 512 4096; do
      awk -v b=$b '$2 == b { v[$1] = $3 } function f(x) { return x ? x : "-" }
        function r(p, c) { return (p && c) ? sprintf("%.2fx", p / c) : "-" } END {
        cg = v["cellgrad"]; printf "%6d %10s %10s %10s %10s", b, f(cg), f(v["eager"]), f(v["graph"]), f(v["compile"]);
        printf " %9s %9s %9s", r(v["eager"], cg), r(v["graph"], cg), r(v["compile"], cg);
        printf " | %10s %10s %9s\n", f(v["cellgrad-host"]), f(v["eager-host"]), r(v["eager-host"], v["cellgrad-host"]) }' "$res"
    done
    echo "(x = PyTorch step time / cellgrad step time; above 1: cellgrad faster)"
  } > "$GC_W/logs/bench_table.txt"
  cat "$GC_W/logs/bench_table.txt"
  [ -n "$GC_OUT" ] && cp "$GC_W/logs/bench_table.txt" "$GC_OUT/bench.txt"
  local missing=""
  for k in cellgrad eager graph compile; do
    for b in 32 512 4096; do grep -q "^$k $b " "$res" || missing+=" $k@$b"; done
  done
  [ -z "$missing" ] || result FAIL "not measured:$missing (logs: bench_*.txt)"
  result PASS "$(awk '$2 == 32 || $2 == 4096 {printf "%s@%s %.3f ms; ", $1, $2, $3}' "$res" | sed 's/; $//')"
}

# Where the step time goes (not a bar): bench_scgen's synchronised forward / backward / optimizer
# phases at each batch, and bench_kernels' GEMM, elementwise, softmax, norm and Adam kernels with
# their achieved GB/s and GFLOP/s against the CPU reference.
stage_profile() {
  local why; why=$(gpu_skip)
  [ -z "$why" ] || result SKIP "$why"
  local tiled="$GC_W/runs/kang_8192.h5ad"
  [ -f "$tiled" ] || py "$repo/scripts/gpu_tile_h5ad.py" "$GC_DATA/perturbation/kang_scgen_valid_lognorm.h5ad" "$tiled" \
    --cells 8192 || result FAIL "the data tiler failed"
  OMP_NUM_THREADS=4 timeout --foreground 60 "$GC_BIN/bench_scgen" --data "$tiled" --epochs 2 --warmup 1 --max-steps 50 \
    --batches 32,512,4096 --device cuda --no-peer --phases > "$GC_W/logs/profile_phases.txt" 2>&1
  local rp=$?
  cat "$GC_W/logs/profile_phases.txt"
  OMP_NUM_THREADS=8 timeout --foreground 80 "$GC_BIN/bench_kernels" > "$GC_W/logs/profile_kernels.txt" 2>&1
  local rk=$?
  cat "$GC_W/logs/profile_kernels.txt"
  [ -n "$GC_OUT" ] && cat "$GC_W/logs/profile_phases.txt" "$GC_W/logs/profile_kernels.txt" > "$GC_OUT/profile.txt"
  [ "$rp" = 0 ] && [ "$rk" = 0 ] && result PASS "phases and kernels in profile.txt"
  result FAIL "bench_scgen --phases exit $rp, bench_kernels exit $rk"
}

stage_speed_bars() {
  local why; why=$(gpu_skip)
  [ -z "$why" ] || result SKIP "$why"
  local res="$GC_W/bench_results.txt"
  [ -s "$res" ] || result SKIP "the bench measured nothing"
  local verdict
  verdict=$(awk '
    { v[$1 "@" $2] = $3 }
    function bar(name, peer, b, need,   cg, p) {
      cg = v["cellgrad@" b]; p = v[peer "@" b]
      if (cg == "" || p == "") { unmeasured = unmeasured " " name; return }
      x = p / cg; line = line sprintf("%s%s %.2fx (>= %g)", line == "" ? "" : ", ", name, x, need)
      if (x >= need) met++; else failed = failed " " name
    }
    END {
      bar("b32/eager", "eager", 32, 10); bar("b32/graph", "graph", 32, 1.5)
      bar("b512/eager", "eager", 512, 2); bar("b4096/compile", "compile", 4096, 1)
      status = (failed == "" && unmeasured == "") ? "PASS" : "FAIL"
      printf "%s|%d of 4 met: %s%s%s\n", status, met, line, failed != "" ? "; missed:" failed : "", unmeasured != "" ? "; unmeasured:" unmeasured : ""
    }' "$res")
  result "${verdict%%|*}" "${verdict#*|}"
}

stage_memcheck_tests() {
  local why; why=$(gpu_skip "${SANITIZER:+compute-sanitizer at $SANITIZER}")
  [ -z "$why" ] || result SKIP "$why"
  [ -n "${SANITIZER:-}" ] || result FAIL "compute-sanitizer not found"
  # The steady-state test counts cudaMallocs, which exact allocation makes on purpose.
  # The double-free test only forks a child that aborts before any CUDA call. The out-of-memory
  # test fails a cudaMalloc on purpose, which the sanitizer counts as an API error.
  local exclude="*steady-state CUDA step makes no cudaMalloc*,*a double free) aborts*,CUDA out-of-memory*" shards=4 i pids=() name
  for ((i = 0; i < shards; i++)); do : > "$GC_W/shard$i.txt"; done
  i=0
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    echo "$name" >> "$GC_W/shard$((i % shards)).txt"
    i=$((i + 1))
  done < "$GC_CUDA_LIST"
  for ((i = 0; i < shards; i++)); do
    local filter; filter=$(cuda_filter "$GC_W/shard$i.txt")
    CELLGRAD_CUDA_EXACT_ALLOC=1 CELLGRAD_REQUIRE_CUDA=1 CELLGRAD_DATA="$GC_DATA" CELLGRAD_BIN_DIR="$GC_BIN" OMP_NUM_THREADS=2 \
      "$SANITIZER" --tool memcheck --error-exitcode 3 "$GC_BIN/cellgrad_tests" -tc="$filter" -tce="$exclude" \
      > "$GC_W/logs/memcheck_tests_$i.txt" 2>&1 &
    pids+=($!)
  done
  local bad="" total=0 rc e
  for ((i = 0; i < shards; i++)); do
    wait "${pids[$i]}"; rc=$?
    e=$(sanitizer_errors "$GC_W/logs/memcheck_tests_$i.txt")
    tail -5 "$GC_W/logs/memcheck_tests_$i.txt"
    [ "$rc" = 0 ] && [ "$e" = 0 ] || bad+=" shard $i: exit $rc, $e errors ($(doctest_summary "$GC_W/logs/memcheck_tests_$i.txt"));"
    total=$((total + $(grep -c . "$GC_W/shard$i.txt")))
  done
  [ -z "$bad" ] && result PASS "0 errors in $total CUDA test cases less 3 (exact allocation; the cudaMalloc-counting, fork-and-abort and deliberate out-of-memory ones left out), $shards processes"
  bad=${bad# }
  result FAIL "${bad%;}"
}

# ---------------------------------------------------------------------------------------------
if [ "${1:-}" = "--run-stage" ]; then  # one stage, in this process (see run_stage below)
  # shellcheck disable=SC1090
  [ -f "$GC_W/state" ] && . "$GC_W/state"
  "stage_$2"
  result FAIL "the stage ended without a verdict"
fi
if [ "${1:-}" = "--cpu-half" ]; then  # a dry run's early CPU half of a parity stage
  cpu_half_run "$2" 1
  exit 0
fi

dry=0 bundle="" bin="" data="" out="${OUT:-}" budget=510 keep=0 scale="" only=""
while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) dry=1;;
    --bundle) bundle=${2:?--bundle needs a folder}; shift;;
    --bin) bin=${2:?--bin needs a folder}; shift;;
    --data) data=${2:?--data needs a folder}; shift;;
    --out) out=${2:?--out needs a folder}; shift;;
    --budget) budget=${2:?--budget needs seconds}; shift;;
    --time-scale) scale=${2:?--time-scale needs a factor}; shift;;
    --keep) keep=1;;
    --only) only=${2:?--only needs a comma-separated list of stages}; shift;;
    -h|--help) sed -n '2,/^set -u/p' "$self" | sed '$d; s/^# \{0,1\}//'; exit 0;;
    *) echo "gpu_check: unknown argument '$1' (see --help)" >&2; exit 2;;
  esac
  shift
done
cd "$repo" || exit 2
[ -n "$scale" ] || { [ "$dry" = 1 ] && scale=10 || scale=1; }
case $scale in ''|*[!0-9]*|0) echo "gpu_check: --time-scale expects a whole number >= 1, found '$scale'" >&2; exit 2;; esac
budget=$((budget * scale))

W=$(mktemp -d /tmp/cellgrad_gpu_check.XXXXXX)
mkdir -p "$W/logs" "$W/runs"
[ "$keep" = 1 ] || trap 'rm -rf "$W"' EXIT
if [ -z "$out" ]; then out="$W/out"; keep=1; trap - EXIT; fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
: > "$W/state"
export GC_W="$W" GC_DRY="$dry" GC_OUT="$out" GC_ORIG_LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"
if [ -n "$bundle" ]; then
  GC_BUNDLE=$(cd "$bundle" 2>/dev/null && pwd) || { echo "gpu_check: no bundle folder '$bundle'" >&2; exit 2; }
  GC_UNPACK="$W/bundle"
  GC_BIN="${bin:-$GC_UNPACK/bin}"
  GC_DATA="${data:-$GC_BUNDLE/data}"
  GC_CUDA_LIST="$GC_BUNDLE/cuda_tests.txt"
else
  GC_BUNDLE="" GC_UNPACK=""
  GC_BIN="${bin:-${CELLGRAD_BIN_DIR:-build/bin}}"
  GC_DATA="${data:-${CELLGRAD_DATA:-../shared/data}}"
  GC_CUDA_LIST="$W/cuda_tests.txt"
  python3 scripts/gpu_cuda_tests.py tests > "$GC_CUDA_LIST"
fi
GC_BIN=$(cd "$GC_BIN" 2>/dev/null && pwd || echo "$GC_BIN")
GC_DATA=$(cd "$GC_DATA" 2>/dev/null && pwd || echo "$GC_DATA")
export GC_BUNDLE GC_UNPACK GC_BIN GC_DATA GC_CUDA_LIST

start=$(now)
deadline=$(calc "$start + $budget")
summary="$out/summary.txt"
{
  echo "gpu_check $( [ "$dry" = 1 ] && echo '--dry-run ')on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "binaries: $GC_BIN; data: $GC_DATA${GC_BUNDLE:+; bundle: $GC_BUNDLE}; budget ${budget}s"
} | tee "$summary"
[ -n "$GC_BUNDLE" ] && [ -f "$GC_BUNDLE/MANIFEST.txt" ] && cp "$GC_BUNDLE/MANIFEST.txt" "$W/logs/bundle_MANIFEST.txt"

n=0 fails=0 passes=0 skips=0
pack_logs() {  # after every stage, so that a run cut short still brings its logs back
  cp "$summary" "$W/logs/summary.txt"
  tar -C "$W" -czf "$out/gpu_check_logs.tar.gz.tmp" logs 2>/dev/null && mv "$out/gpu_check_logs.tar.gz.tmp" "$out/gpu_check_logs.tar.gz"
}
run_stage() {  # run_stage NAME LIMIT_SECONDS
  local name=$1 limit=$(($2 * scale)) t0 left lim rc status reason secs
  n=$((n + 1))
  local logf="$W/logs/$(printf '%02d' $n)_$name.log"
  t0=$(now)
  left=$(calc "$deadline - $t0" | cut -d. -f1)
  if [ -n "$only" ] && [ "$name" != bundle ] && [ "$name" != probe ] && [[ ",$only," != *",$name,"* ]]; then
    status=SKIP reason="not in --only $only"
  elif [ "${left:-0}" -lt 15 ]; then
    status=SKIP reason="out of time: ${left}s of the ${budget}s budget left"
  else
    lim=$(( limit < left - 5 ? limit : left - 5 ))
    rm -f "$W/result"
    timeout -k 10 "$lim" bash "$self" --run-stage "$name" > "$logf" 2>&1
    rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
      status=FAIL reason="timed out after ${lim}s (last log line: $(tail -1 "$logf" | cut -c1-120))"
    elif [ -f "$W/result" ]; then
      status=$(cut -d'|' -f1 "$W/result"); reason=$(cut -d'|' -f2- "$W/result")
    else
      status=FAIL reason="ended without a verdict (exit $rc): $(tail -1 "$logf" | cut -c1-120)"
    fi
  fi
  secs=$(calc "$(now) - $t0")
  reason=$(tr '\n' ' ' <<<"$reason" | sed 's/  */ /g; s/ $//')
  printf 'STAGE %-16s %-4s %6.1fs  %s\n' "$name" "$status" "$secs" "$reason" | tee -a "$summary"
  case $status in PASS) passes=$((passes + 1));; FAIL) fails=$((fails + 1));; *) skips=$((skips + 1));; esac
  pack_logs
}

# Order: the cheap and decisive first; the long memcheck of every test last, where a cut budget
# costs least. Limits are per stage; the budget caps the sum.
run_stage bundle 60
# A dry run starts the parity stages' CPU runs now, beside the probe (one thread each).
if [ "$dry" = 1 ]; then
  for l in pp mt; do
    touch "$W/runs/${l}_cpu.started"
    bash "$self" --cpu-half $l > /dev/null 2>&1 &
  done
fi
run_stage probe 40
run_stage cuda_tests 120
run_stage racecheck 60
run_stage memcheck_train 75
run_stage parity_predict 150
run_stage parity_multitask 45
run_stage bench 300
run_stage speed_bars 10
run_stage profile 150
run_stage memcheck_tests 180

total=$(calc "$(now) - $start")
printf 'gpu_check: %d PASS, %d FAIL, %d SKIP in %.0fs; summary %s, logs %s\n' \
  "$passes" "$fails" "$skips" "$total" "$summary" "$out/gpu_check_logs.tar.gz" | tee -a "$summary"
pack_logs
[ -f "$out/bench.txt" ] && { echo; cat "$out/bench.txt"; }
[ "$fails" = 0 ]
