#!/usr/bin/env bash
# `make run`: the main job. Until train_multitask exists this is the perturbation sweep.
set -euo pipefail
build=${1:-build}
exec "$(dirname "$0")/perturbation_sweep.sh" "$build" runs/perturbation_sweep
