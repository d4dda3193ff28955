#!/usr/bin/python3
"""Reference facts about the shared data files, computed with Python anndata / h5py / scipy,
for tests/test_omics_io.cpp to check the C++ readers against.

Run from the repository root:
  /usr/bin/python3 scripts/reference_io.py > tests/reference/h5ad_facts.tsv
  /usr/bin/python3 scripts/reference_io.py --genesets > tests/reference/geneset_facts.tsv

Each line: <file relative to the data root> TAB <fact> TAB <value>. Facts:
  shape            "<n_obs> <n_vars>"
  nnz              stored entries of X (sparse files only)
  x_sum            sum of X as float64 over the float32 values
  x_at:R:C         X[R, C] as float32 widened to double (exact repr)
  obs_index:I      obs_names[I]            var_index:I   var_names[I]
  obs:COL:I        str(obs[COL][I])        var:COL:I     str(var[COL][I])
  count:obs:COL:V  number of cells whose obs[COL] is V
  obsm_at:K:R:C    obsm[K][R, C] as float32
With --genesets, for each pathway file against the Kang genes (symbols matched upper-cased):
  sets             number of gene sets (GMT) or pathways (PROGENy)
  genes_matched    Kang genes in at least one set
  sets_min10       sets with at least 10 Kang genes
  first_set        "<id> <number of genes>" of the first set
"""
import os
import sys

import h5py
import numpy as np
import scipy.sparse as sp

DATA = os.environ.get("CELLGRAD_DATA", "../shared/data")
H5AD = [
    "perturbation/kang_scgen_valid_lognorm.h5ad",
    "crossmodal/eccite_citefuse_rna.h5ad",
    "crossmodal/eccite_citefuse_adt.h5ad",
    "crossmodal/unitednet_patchseq_RNA_TEM.h5ad",
    "crossmodal/unitednet_patchseq_Ephys_TEM.h5ad",
    "crossmodal/unitednet_patchseq_Morph_TEM.h5ad",
    "crossmodal/scicar_a549_dex_rna.h5ad",
    "crossmodal/scicar_a549_dex_atac.h5ad",
    "classification/scanpy_pbmc68k_reduced.h5ad",
]
TENX = ["perturbation/liger_ctrl.h5", "perturbation/liger_stim.h5"]


def f32(v):
    # The float32 value widened to double and printed exactly, so C++ can compare with ==.
    return repr(float(np.float32(v)))


def emit(rel, fact, value):
    print(f"{rel}\t{fact}\t{value}")


def matrix_facts(rel, X):
    n, m = X.shape
    emit(rel, "shape", f"{n} {m}")
    if sp.issparse(X):
        X = X.tocsr()
        emit(rel, "nnz", X.nnz)
        emit(rel, "x_sum", repr(float(X.data.astype(np.float32).astype(np.float64).sum())))
        # First, middle and last stored entries, and the largest one.
        coo = X.tocoo()
        picks = {0, coo.nnz // 2, coo.nnz - 1, int(np.argmax(coo.data))}
        pos = [(int(coo.row[k]), int(coo.col[k])) for k in sorted(picks)]
        pos.append((n - 1, m - 1))
        for r, c in pos:
            emit(rel, f"x_at:{r}:{c}", f32(X[r, c]))
    else:
        X = np.asarray(X)
        emit(rel, "x_sum", repr(float(X.astype(np.float32).astype(np.float64).sum())))
        pos = [(0, 0), (n // 2, m // 2), (n - 1, m - 1), np.unravel_index(int(np.argmax(X)), X.shape)]
        for r, c in pos:
            emit(rel, f"x_at:{int(r)}:{int(c)}", f32(X[r, c]))


def frame_facts(rel, side, df, index):
    n = len(index)
    for i in sorted({0, n // 2, n - 1}):
        emit(rel, f"{side}_index:{i}", index[i])
    for col in df.columns:
        s = df[col]
        for i in sorted({0, n - 1}):
            v = s.iloc[i]
            if isinstance(v, (float, np.floating)) and float(v).is_integer():
                v = int(v)
            if isinstance(v, (bool, np.bool_)):
                v = int(v)
            emit(rel, f"{side}:{col}:{i}", v)
        if side == "obs" and str(s.dtype) == "category":
            for cat, cnt in s.value_counts(sort=False).items():
                emit(rel, f"count:obs:{col}:{cat}", int(cnt))


def main():
    import anndata as ad

    for rel in H5AD:
        a = ad.read_h5ad(os.path.join(DATA, rel))
        matrix_facts(rel, a.X)
        frame_facts(rel, "obs", a.obs, list(a.obs_names))
        frame_facts(rel, "var", a.var, list(a.var_names))
        for k in sorted(a.obsm.keys()):
            M = np.asarray(a.obsm[k])
            emit(rel, f"obsm_at:{k}:{M.shape[0] - 1}:{M.shape[1] - 1}", f32(M[-1, -1]))
    for rel in TENX:
        with h5py.File(os.path.join(DATA, rel), "r") as h:
            g = h["matrix"]
            genes, cells = (int(x) for x in g["shape"][:])
            X = sp.csc_matrix((g["data"][:], g["indices"][:], g["indptr"][:]), shape=(genes, cells)).T.tocsr()
            matrix_facts(rel, X)
            bc = [b.decode() for b in g["barcodes"][:]]
            names = [b.decode() for b in g["features/name"][:]]
            for i in sorted({0, len(bc) - 1}):
                emit(rel, f"obs_index:{i}", bc[i])
            for i in sorted({0, len(names) - 1}):
                emit(rel, f"var_index:{i}", names[i])


def read_gmt(path):
    sets = []
    with open(path, newline="") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            fields = line.split("\t")
            sets.append((fields[0], [g for g in fields[2:] if g]))
    return sets


def geneset_facts():
    import anndata as ad

    kang = ad.read_h5ad(os.path.join(DATA, "perturbation/kang_scgen_valid_lognorm.h5ad"), backed="r")
    genes = {g.upper() for g in kang.var_names}
    files = ["pathways/GO_BP_propagated_size15-500_symbols.gmt", "pathways/GO_BP_direct_orgHsEgDb3.16_symbols.gmt",
             "pathways/msigdb_h.all.v7.0.symbols.gmt", "pathways/ReactomePathways_PathwayScore.gmt",
             "pathways/progeny_model_human_top100.tsv"]
    for rel in files:
        path = os.path.join(DATA, rel)
        if rel.endswith(".tsv"):
            import csv
            by = {}
            with open(path) as f:
                for row in csv.DictReader(f, delimiter="\t"):
                    by.setdefault(row["pathway"], []).append(row["gene"])
            sets = list(by.items())
        else:
            sets = read_gmt(path)
        matched = set()
        min10 = 0
        for _, gs in sets:
            m = {g.upper() for g in gs} & genes
            matched |= m
            min10 += len(m) >= 10
        emit(rel, "sets", len(sets))
        emit(rel, "genes_matched", len(matched))
        emit(rel, "sets_min10", min10)
        emit(rel, "first_set", f"{sets[0][0]} {len(sets[0][1])}")


if __name__ == "__main__":
    if "--genesets" in sys.argv:
        sys.exit(geneset_facts())
    sys.exit(main())
