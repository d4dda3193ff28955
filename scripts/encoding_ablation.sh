#!/usr/bin/env bash
# The encoding ablation (issue 17): 5-fold cell-type classification of the shared Patch-seq
# neurons (27 t-types, cell_type_TEM) in train_multitask, with the RNA given as
#   log1p        the file's values as they are (they are log1p already: --preprocess RNA=none)
#   rank         Geneformer: gene medians of each fold's training cells, top 2048 (all ~600 here)
#   rank-top100  cell2sentence: the 100 highest genes
#   bins         scGPT: 51 per-cell quantile bins
# (how a rank becomes a number: omics/input_encoding.h). train_multitask needs two modalities:
# electrophysiology (standardized in the file) is the second, the same in every run, and the model
# is trained for classification only (--ablation classification_only), so the rows differ only in
# the RNA input. Same folds (stratified by type), seed and settings otherwise; baselines are off
# (they score translation, which is not trained here).
# Writes OUT/<encoding>/ (each a train_multitask run folder) and OUT/table.md + OUT/table.csv: held-out
# accuracy, macro F1 and ARI, mean ± sd over the 5 folds.
# Usage: scripts/encoding_ablation.sh [BUILD_DIR] [OUT_DIR] [extra train_multitask flags...]
set -euo pipefail
build=${1:-build}
out=${2:-runs/encoding_ablation}
shift $(( $# > 2 ? 2 : $# ))
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
d=../shared/data/crossmodal/unitednet_patchseq
encodings="log1p rank rank-top100 bins"
mkdir -p "$out"
for enc in $encodings; do
  pre=$enc
  [ "$enc" = log1p ] && pre=none
  echo "encoding_ablation: $enc" >&2
  "$build/bin/train_multitask" \
    --modality RNA=${d}_RNA_TEM.h5ad --modality Ephys=${d}_Ephys_TEM.h5ad --preprocess RNA=$pre \
    --label-key cell_type_TEM --no-discriminator --folds 5 --ablation classification_only --baselines none \
    --seed 0 --quiet --out "$out/$enc" --overwrite "$@" > /dev/null
done

# One row per encoding from each run's table.csv (columns found by name), written whole or not at all.
{
  echo "Patch-seq, 448 cells, 27 types; 5-fold held-out classification from RNA (as below) + Ephys; mean ± sd over folds."
  echo
  echo "| RNA input | folds | accuracy | macro F1 | ARI | train s |"
  echo "|---|---|---|---|---|---|"
  for enc in $encodings; do
    awk -F, -v enc="$enc" '
      NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i; next }
      $1 == "classification_only" {
        printf "| %s | %s | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f | %.1f |\n", enc, $2,
          $col["classification.accuracy_mean"], $col["classification.accuracy_sd"],
          $col["classification.macro_f1_mean"], $col["classification.macro_f1_sd"],
          $col["classification.ari_mean"], $col["classification.ari_sd"], $col["train_seconds_mean"]
      }' "$out/$enc/table.csv"
  done
} > "$out/table.md.tmp"
{
  echo "encoding,folds,accuracy_mean,accuracy_sd,macro_f1_mean,macro_f1_sd,ari_mean,ari_sd"
  for enc in $encodings; do
    awk -F, -v enc="$enc" '
      NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i; next }
      $1 == "classification_only" {
        print enc "," $2 "," $col["classification.accuracy_mean"] "," $col["classification.accuracy_sd"] "," \
          $col["classification.macro_f1_mean"] "," $col["classification.macro_f1_sd"] "," \
          $col["classification.ari_mean"] "," $col["classification.ari_sd"]
      }' "$out/$enc/table.csv"
  done
} > "$out/table.csv.tmp"
mv "$out/table.md.tmp" "$out/table.md"
mv "$out/table.csv.tmp" "$out/table.csv"
cat "$out/table.md"
