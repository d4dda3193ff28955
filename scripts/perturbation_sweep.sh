#!/usr/bin/env bash
# Leave-one-cell-type-out sweep on the shared Kang PBMC data (IFN-beta): scGen, MTAe and the
# two baselines, 1 seed, the app's defaults (at most 100 epochs, early stopping with patience
# 20 on the validation split). About 8 minutes per held-out type on 2 CPU cores (~55 minutes for
# all 7); pass e.g. `--epochs 30` for a quick look. This was the main job until train_multitask
# existed (make run now trains that; see scripts/main_job.sh).
# Usage: scripts/perturbation_sweep.sh [BUILD_DIR] [OUT_DIR] [extra flags...]
set -euo pipefail
build=${1:-build}
out=${2:-runs/perturbation_sweep}
shift $(( $# > 2 ? 2 : $# ))
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
exec "$build/bin/predict_perturbation" \
  --data ../shared/data/perturbation/kang_scgen_valid_lognorm.h5ad \
  --condition-key condition --control control --cell-type-key cell_type \
  --held-out all --models scgen,mtae,control,shift --seeds 0 \
  --out "$out" --overwrite "$@"
