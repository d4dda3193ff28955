#!/usr/bin/python3
"""Reference facts about the shared data files, computed with Python anndata / h5py / scipy,
for tests/test_omics_io.cpp to check the C++ readers against.

Run from the repository root:  /usr/bin/python3 scripts/reference_io.py > tests/reference/h5ad_facts.tsv

Each line: <file relative to the data root> TAB <fact> TAB <value>. Facts:
  shape            "<n_obs> <n_vars>"
  nnz              stored entries of X (sparse files only)
  x_sum            sum of X as float64 over the float32 values
  x_at:R:C         X[R, C] as float32 widened to double (exact repr)
  obs_index:I      obs_names[I]            var_index:I   var_names[I]
  obs:COL:I        str(obs[COL][I])        var:COL:I     str(var[COL][I])
  count:obs:COL:V  number of cells whose obs[COL] is V
  obsm_at:K:R:C    obsm[K][R, C] as float32
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


if __name__ == "__main__":
    sys.exit(main())
