#!/usr/bin/env bash
# The translator ablation (issue 15): 5-fold held-out translation of the shared Patch-seq neurons
# (UnitedNet's TEM files: RNA standardized on each fold's training cells, electrophysiology as in the
# file) in both directions, RNA -> Ephys and Ephys -> RNA, by each --model of train_multitask:
#   unitednet    UnitedNet (its own defaults, --no-discriminator as recommended for Patch-seq; with
#                --label-key it also trains its classifier, as in the main job)
#   scbutterfly  scButterfly (VAE pretraining, then cross translation with a latent discriminator)
#   mlp          one MLP per direction
# and the baseline rows every run scores beside the model on the same folds (mean, ridge_pca,
# knn_pca; taken from the first model's run: the folds depend only on the seed and the labels).
# Same folds (stratified by cell_type_TEM), seed and preprocessing in every run.
# Writes OUT/<model>/ (each a train_multitask run folder), OUT/<model>.log (its stderr) and
# OUT/table.md + OUT/table.csv: R^2 averaged over features and R^2 per cell averaged over cells,
# each direction, mean ± sd over the folds, and the model's training seconds per fold. The tables
# are written whole at the end or not at all (an earlier run's tables are removed first).
# Usage: scripts/translator_ablation.sh [BUILD_DIR] [OUT_DIR] [extra train_multitask flags...]
# (BUILD_DIR: a build folder with bin/train_multitask, or the folder of the binary itself.)
# Environment: MODELS (default "unitednet scbutterfly mlp"), SEED (default 0), EPOCHS (passes
# --epochs; for quick checks), CELLGRAD_DATA (the data folder, default ../shared/data),
# OMP_NUM_THREADS (default 1).
set -euo pipefail
build=${1:-build}
out=${2:-runs/translator_ablation}
shift $(( $# > 2 ? 2 : $# ))
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
models=${MODELS:-unitednet scbutterfly mlp}
seed=${SEED:-0}
epochs=()
[ -n "${EPOCHS:-}" ] && epochs=(--epochs "$EPOCHS")
for model in $models; do
  case $model in
    unitednet|scbutterfly|mlp) ;;
    *) echo "translator_ablation: unknown model '$model' in MODELS (unitednet, scbutterfly, mlp)" >&2; exit 2 ;;
  esac
done
[ -n "${models// /}" ] || { echo "translator_ablation: MODELS is empty" >&2; exit 2; }
d=${CELLGRAD_DATA:-../shared/data}/crossmodal/unitednet_patchseq
for f in "${d}_RNA_TEM.h5ad" "${d}_Ephys_TEM.h5ad"; do
  [ -f "$f" ] || { echo "translator_ablation: data file not found: $f (run from the repository root)" >&2; exit 1; }
done
bin=$build/bin/train_multitask
[ -x "$bin" ] || bin=$build/train_multitask
[ -x "$bin" ] || { echo "translator_ablation: no train_multitask in $build/bin or $build (build it first)" >&2; exit 1; }

mkdir -p "$out"
rm -f "$out/table.md" "$out/table.csv" "$out/table.md.tmp" "$out/table.csv.tmp"
trap 'rm -f "$out/table.md.tmp" "$out/table.csv.tmp"' EXIT
declare -A wall
for model in $models; do
  extra=()
  [ "$model" = unitednet ] && extra=(--no-discriminator)
  echo "translator_ablation: $model" >&2
  start=$(date +%s)
  if ! "$bin" \
      --modality RNA=${d}_RNA_TEM.h5ad --modality Ephys=${d}_Ephys_TEM.h5ad --preprocess RNA=standardize \
      --label-key cell_type_TEM --model "$model" "${extra[@]}" --folds 5 --seed "$seed" "${epochs[@]}" \
      --quiet --out "$out/$model" --overwrite "$@" > /dev/null 2> "$out/$model.log"; then
    cat "$out/$model.log" >&2
    echo "translator_ablation: train_multitask --model $model failed (log: $out/$model.log)" >&2
    exit 1
  fi
  wall[$model]=$(( $(date +%s) - start ))
done

read -r first _ <<< "$models"
# The data's size, from the first run's summary line ("448 cells; RNA 1252 Ephys 68 features").
size=$(sed -n 's/^train_multitask: \([0-9]*\) cells; RNA \([0-9]*\) Ephys \([0-9]*\) features.*/\1 cells, RNA \2 genes + Ephys \3 features/p' \
  "$out/$first.log" | head -1)
[ -n "$size" ] || { echo "translator_ablation: no data summary line in $out/$first.log" >&2; exit 1; }

# Rows from a run's table.csv, columns found by name; a missing column or row is an error.
# kind=model: the run's own (first non-baseline) row, named NAME; kind=baseline: every
# "baseline: X" row, named X. Output: NAME,KIND,SPLITS,8 metric columns,train_seconds_mean.
rows() {
  awk -F, -v name="$2" -v kind="$3" '
    NR == 1 {
      n = split("translation.RNA_to_Ephys.r2_mean translation.RNA_to_Ephys.r2_sd " \
                "translation.RNA_to_Ephys.r2_per_cell_mean translation.RNA_to_Ephys.r2_per_cell_sd " \
                "translation.Ephys_to_RNA.r2_mean translation.Ephys_to_RNA.r2_sd " \
                "translation.Ephys_to_RNA.r2_per_cell_mean translation.Ephys_to_RNA.r2_per_cell_sd " \
                "train_seconds_mean", want, " ")
      for (i = 1; i <= NF; ++i) col[$i] = i
      for (j = 1; j <= n; ++j)
        if (!(want[j] in col)) { print "translator_ablation: no column " want[j] " in " FILENAME > "/dev/stderr"; bad = 1; exit 1 }
      next
    }
    kind == "model" && $1 !~ /^baseline: / && !done {
      line = name "," kind "," $2
      for (j = 1; j <= n; ++j) line = line "," $col[want[j]]
      print line; done = 1; found++
    }
    kind == "baseline" && $1 ~ /^baseline: / {
      b = $1; sub(/^baseline: /, "", b)
      line = b "," kind "," $2
      for (j = 1; j <= n - 1; ++j) line = line "," $col[want[j]]
      print line ","; found++
    }
    END {
      if (bad) exit 1
      if (!found) { print "translator_ablation: no " kind " row in " FILENAME > "/dev/stderr"; exit 1 }
    }' "$1"
}
all=$out/rows.csv.tmp
trap 'rm -f "$out/table.md.tmp" "$out/table.csv.tmp" "$all"' EXIT
: > "$all"
for model in $models; do rows "$out/$model/table.csv" "$model" model >> "$all"; done
rows "$out/$first/table.csv" baseline baseline >> "$all"
# The other runs scored the same baselines on the same folds (their tables' other columns differ:
# classification where the model has a classifier); say so if the numbers shown here differ.
for model in $models; do
  [ "$model" = "$first" ] && continue
  if ! cmp -s <(rows "$out/$first/table.csv" baseline baseline) <(rows "$out/$model/table.csv" baseline baseline); then
    echo "translator_ablation: note: the baseline rows of $model's run differ from $first's (shown: $first's)" >&2
  fi
done
folds=$(awk -F, 'NR == 1 { print $3 }' "$all")

{
  echo "Patch-seq (UnitedNet's TEM neurons), $size; RNA standardized on each fold's training cells." \
       "Held-out translation, mean ± sd over $folds folds (seed $seed); R² averaged over features, R² per cell averaged over cells."
  echo
  echo "| translator | RNA → Ephys R² | RNA → Ephys R² per cell | Ephys → RNA R² | Ephys → RNA R² per cell | train s / fold | wall s |"
  echo "|---|---|---|---|---|---|---|"
  while IFS=, read -r name kind splits a1 a2 a3 a4 b1 b2 b3 b4 secs; do
    if [ "$kind" = model ]; then label=$name; t=$(awk -v s="$secs" 'BEGIN { printf "%.1f", s }'); w=${wall[$name]}
    else label="baseline: $name"; t="–"; w="–"; fi
    awk -v l="$label" -v t="$t" -v w="$w" -v a1="$a1" -v a2="$a2" -v a3="$a3" -v a4="$a4" \
        -v b1="$b1" -v b2="$b2" -v b3="$b3" -v b4="$b4" 'BEGIN {
      printf "| %s | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f | %s | %s |\n", l, a1, a2, a3, a4, b1, b2, b3, b4, t, w
    }'
  done < "$all"
} > "$out/table.md.tmp"
{
  echo "translator,kind,folds,RNA_to_Ephys_r2_mean,RNA_to_Ephys_r2_sd,RNA_to_Ephys_r2_per_cell_mean,RNA_to_Ephys_r2_per_cell_sd,Ephys_to_RNA_r2_mean,Ephys_to_RNA_r2_sd,Ephys_to_RNA_r2_per_cell_mean,Ephys_to_RNA_r2_per_cell_sd,train_seconds_mean,wall_seconds"
  while IFS=, read -r name kind rest; do
    w=""
    [ "$kind" = model ] && w=${wall[$name]}
    echo "$name,$kind,$rest,$w"
  done < "$all"
} > "$out/table.csv.tmp"
mv "$out/table.md.tmp" "$out/table.md"
mv "$out/table.csv.tmp" "$out/table.csv"
cat "$out/table.md"
