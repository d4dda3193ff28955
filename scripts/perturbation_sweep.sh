#!/bin/bash
# The thesis-style perturbation table on the shared Kang split with one command: every registered
# model, the control and shift baselines and the duplicate ceiling, each cell type held out in
# turn, three seeds, each network on its own recipe (predict_perturbation --help lists them).
#
#   scripts/perturbation_sweep.sh OUT [BUILD] [more predict_perturbation flags]
#
# The whole sweep (7 types x 3 seeds x 8 models) takes hours on 2 cores; run it in parts with
# MODELS, SEEDS and HELD_OUT, e.g. one type and the cheaper models first:
#   HELD_OUT=CD4T MODELS=scgen,vidr,control,shift scripts/perturbation_sweep.sh runs/part1
# Each part writes its own table.md/table.csv; results.jsonl holds every row for merging.
set -euo pipefail
out=${1:?usage: scripts/perturbation_sweep.sh OUT [BUILD] [flags]}
build=${2:-build}
shift $(( $# >= 2 ? 2 : 1 ))
here=$(cd "$(dirname "$0")/.." && pwd)
data=${CELLGRAD_KANG:-$here/../shared/data/perturbation/kang_scgen_valid_lognorm.h5ad}
[ -f "$data" ] || { echo "perturbation_sweep: $data not found (set CELLGRAD_KANG)" >&2; exit 1; }
models=${MODELS:-scgen,vidr,mtae,mtae-adv,mtvae,mtae-fast,control,shift}
start=$(date +%s)
"$build/bin/predict_perturbation" benchmark --data "$data" --condition-key condition --control control \
    --cell-type-key cell_type --held-out "${HELD_OUT:-all}" --models "$models" --seeds "${SEEDS:-0,1,2}" --out "$out" "$@"
echo "perturbation_sweep: $(( $(date +%s) - start )) s wall time; table in $out/table.md"
