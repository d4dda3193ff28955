#!/usr/bin/python3
"""Reference values for the encoding tests (tests/test_omics_encodings.cpp).

Run from the repository root with the system Python (numpy, scipy, anndata):
    /usr/bin/python3 scripts/reference_encoding.py
It reads the Kang file from the shared data (../shared/data, or $CELLGRAD_DATA) and writes
tests/reference/kang_encoding_*.tsv: scipy.stats.rankdata / spearmanr of the rank encodings
(Geneformer: value / nonzero median, top 2048; cell2sentence: value, top 100) and numpy's
quantile bins (scGPT: np.quantile of the nonzero values at linspace(0, 1, 50), np.digitize) of
the first cells, computed the way the documented definitions say, in float64.
The rank encodings rank the normalised values: expm1 of the file's log1p values, rounded to
float32 as the C++ code keeps them; medians over every cell of the file.
"""
import os
import numpy as np
import scipy.sparse as sp
import scipy.stats as st
import anndata as ad

DATA = os.environ.get("CELLGRAD_DATA", "../shared/data")
OUT = "tests/reference"
CELLS = 20       # cells whose pairwise similarities are checked
RANK_CELLS = 3   # cells whose rank vectors and bins are written gene by gene


def ranked(values, length):
    """The values of the top `length` positive entries (ties: lower gene index first), 0 elsewhere."""
    nz = np.where(values > 0)[0]
    order = nz[np.lexsort((nz, -values[nz]))][:length]
    w = np.zeros_like(values)
    w[order] = values[order]
    return w


def bins(row, n_bins=51):
    out = np.zeros(row.shape, dtype=np.int64)
    nz = np.nonzero(row)[0]
    v = row[nz].astype(np.float64)
    edges = np.quantile(v, np.linspace(0, 1, n_bins - 1))
    out[nz] = np.digitize(v, edges)
    return out


def main():
    a = ad.read_h5ad(f"{DATA}/perturbation/kang_scgen_valid_lognorm.h5ad")
    X = sp.csr_matrix(a.X).astype(np.float32)
    norm = X.copy()
    norm.data = np.expm1(norm.data.astype(np.float64)).astype(np.float32)
    csc = norm.tocsc()
    med = np.zeros(X.shape[1])
    for g in range(X.shape[1]):
        col = csc.data[csc.indptr[g]:csc.indptr[g + 1]]
        col = col[col != 0]
        if len(col):
            med[g] = np.median(col.astype(np.float64))
    N = np.asarray(norm[:CELLS].todense()).astype(np.float64)
    L = np.asarray(X[:CELLS].todense())
    safe = np.where(med > 0, med, 1.0)
    gf = np.array([ranked(np.where(med > 0, N[i] / safe, 0.0), 2048) for i in range(CELLS)])
    c2s = np.array([ranked(N[i], 100) for i in range(CELLS)])
    with open(os.path.join(OUT, "kang_encoding_pairs.tsv"), "w") as f:
        f.write("i\tj\tspearman_rank\tspearman_top100\tpearson_log1p\n")
        rho_gf = st.spearmanr(gf, axis=1).correlation
        rho_c2s = st.spearmanr(c2s, axis=1).correlation
        r_log = np.corrcoef(L.astype(np.float64))
        for i in range(CELLS):
            for j in range(i + 1, CELLS):
                f.write(f"{i}\t{j}\t{rho_gf[i, j]!r}\t{rho_c2s[i, j]!r}\t{r_log[i, j]!r}\n")
    with open(os.path.join(OUT, "kang_encoding_ranks.tsv"), "w") as f:
        f.write("cell\tgene\trank_geneformer\trank_top100\tbin\n")
        for i in range(RANK_CELLS):
            r1 = st.rankdata(gf[i])
            r2 = st.rankdata(c2s[i])
            b = bins(L[i])
            # Every gene that is nonzero in the cell, and one gene that is zero (the tied bottom rank).
            genes = list(np.nonzero(L[i])[0]) + [int(np.where(L[i] == 0)[0][0])]
            for g in genes:
                f.write(f"{i}\t{g}\t{r1[g]!r}\t{r2[g]!r}\t{b[g]}\n")


if __name__ == "__main__":
    main()
