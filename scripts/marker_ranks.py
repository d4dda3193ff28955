#!/usr/bin/python3
"""Ranks of known marker genes in a train_multitask RNA -> protein attribution table.

For each protein, the best (lowest) 1-based rank among its own genes in the attribution
table written by `train_multitask --attributions N` (attributions_RNA_to_ADT.h5ad: obs =
proteins, var = genes, layers/rank). Gene names are matched case-insensitively after
dropping a genome prefix such as 'hg19_'. Usage:
  scripts/marker_ranks.py RUN/attributions_RNA_to_ADT.h5ad
Prints one line per protein and exits non-zero when a protein or every one of its genes is
missing from the table (so a renamed file is not silently reported as 'not found').
"""
import re
import sys

import anndata

MARKERS = {
    "CD3": ["CD3E", "CD3D", "CD3G"],
    "CD4": ["CD4"],
    "CD8": ["CD8A", "CD8B"],
    "CD14": ["CD14"],
    "CD19": ["CD19", "MS4A1", "CD79A"],
    "CD56": ["NCAM1"],
}


def main(path):
    t = anndata.read_h5ad(path)
    genes = [re.sub(r"^[A-Za-z0-9]+_", "", g).upper() for g in t.var_names]
    ranks = t.layers["rank"]
    proteins = list(t.obs_names)
    ok = True
    print("protein  genes                 best rank  (of %d genes)  per gene" % len(genes))
    for protein, markers in MARKERS.items():
        if protein not in proteins:
            print("%-8s missing from the table" % protein)
            ok = False
            continue
        row = ranks[proteins.index(protein)]
        per_gene = {m: int(row[genes.index(m)]) for m in markers if m in genes}
        if not per_gene:
            print("%-8s none of %s is among the attributed genes" % (protein, "/".join(markers)))
            ok = False
            continue
        best = min(per_gene.values())
        print("%-8s %-21s %9d  %s" % (protein, "/".join(markers), best,
                                      ", ".join("%s %d" % kv for kv in per_gene.items())))
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
