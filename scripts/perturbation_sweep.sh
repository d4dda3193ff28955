#!/usr/bin/env bash
# Leave-one-cell-type-out sweep on the shared Kang PBMC data (IFN-beta): scGen, MTAe and the
# two baselines, 1 seed, epochs capped so that it finishes in minutes on 2 CPU cores.
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
