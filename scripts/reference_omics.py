#!/usr/bin/python3
"""Reference values for the omics preprocessing / splits / metrics tests.

Run from the repository root with the system Python (numpy, scipy, anndata):
    /usr/bin/python3 scripts/reference_omics.py
It reads the shared real data (../shared/data) and writes small tables under tests/reference/.

scanpy, sklearn, statsmodels and skmisc are not installed here, so every reference below is
a plain numpy/scipy re-implementation that follows the *documented definitions* of:
  scanpy.pp.normalize_total / log1p / filter_cells / filter_genes / scale (1.9/1.10),
  scanpy.pp.highly_variable_genes(flavor='seurat' and 'seurat_v3', single batch),
  scanpy.tl.rank_genes_groups(method='wilcoxon' | 't-test', reference=<group>),
  statsmodels multipletests(method='fdr_bh'),
  sklearn r2_score / adjusted_rand_score / normalized_mutual_info_score / f1_score(macro) /
  PCA (full SVD, svd_flip on V), pertpy-style E-distance, muon TF-IDF, Seurat CLR (margin 2).
Where scanpy uses float32 intermediates this script uses float64 (as the C++ code does), and
seurat_v3's loess is the "direct" local quadratic fit (skmisc's default is an interpolated
surface); both choices are documented in the C++ headers.
Genes are ordered by score with ties broken by the lower gene index (np.lexsort), matching
the C++ stable sort.
"""
import os
import numpy as np
import scipy.sparse as sp
import scipy.stats as st
from scipy.optimize import linear_sum_assignment
import anndata as ad

DATA = os.environ.get("CELLGRAD_DATA", "../shared/data")
OUT = "tests/reference"


def fmt(x):
    return repr(float(x))


def write_table(name, header, rows):
    with open(os.path.join(OUT, name), "w") as f:
        f.write("\t".join(header) + "\n")
        for r in rows:
            f.write("\t".join(fmt(v) if isinstance(v, (float, np.floating)) else str(v) for v in r) + "\n")


def write_scalars(name, d):
    with open(os.path.join(OUT, name), "w") as f:
        f.write("key\tvalue\n")
        for k, v in d.items():
            f.write(f"{k}\t{fmt(v)}\n")


def write_ints(name, v):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(" ".join(str(int(i)) for i in v) + "\n")


def dense(m):
    return np.asarray(m.todense()) if sp.issparse(m) else np.asarray(m)


def mean_var(X):  # scanpy _get_mean_var: float64, ddof=1
    X = dense(X).astype(np.float64)
    return X.mean(0), X.var(0, ddof=1)


def order_desc(score):
    return np.lexsort((np.arange(len(score)), -np.nan_to_num(score, nan=0.0)))


# ---------------------------------------------------------------- HVG seurat (Kang, log data)
def hvg_seurat(Xlog, n_top, n_bins=20):
    X = np.expm1(dense(Xlog).astype(np.float64))
    mean, var = mean_var(X)
    mean[mean == 0] = 1e-12
    disp = var / mean
    disp[disp == 0] = np.nan
    disp = np.log(disp)
    mean = np.log1p(mean)
    mn, mx = mean.min(), mean.max()          # pandas.cut(bins=n_bins)
    edges = np.linspace(mn, mx, n_bins + 1)
    edges[0] -= (mx - mn) * 0.001
    b = np.searchsorted(edges, mean, side="left") - 1
    norm = np.full(len(mean), np.nan)
    for k in range(n_bins):
        sel = b == k
        d = disp[sel]
        ok = d[~np.isnan(d)]
        m = ok.mean() if len(ok) else np.nan
        s = ok.std(ddof=1) if len(ok) > 1 else np.nan
        if np.isnan(s):                       # scanpy: single-gene bin -> normalized 1
            s, m = m, 0.0
        norm[sel] = (d - m) / s
    vals = np.sort(norm[~np.isnan(norm)])[::-1]
    cut = vals[n_top - 1]
    hv = np.nan_to_num(norm) >= cut
    return mean, disp, norm, hv


# ------------------------------------------------------------- HVG seurat_v3 (scicar counts)
def loess_direct(x, y, span=0.3):
    n = len(x)
    q = int(np.floor(n * span))
    fit = np.empty(n)
    for i in range(n):
        d = np.abs(x - x[i])
        h = np.partition(d, q - 1)[q - 1]
        r = d / h
        w = np.where(r < 1, (1 - r ** 3) ** 3, 0.0)
        u = (x - x[i]) / h
        A = np.stack([np.ones(n), u, u * u], 1)
        sw = np.sqrt(w)
        beta = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)[0]
        fit[i] = beta[0]
    return fit


def hvg_seurat_v3(C, n_top, span=0.3):
    X = dense(C).astype(np.float64)
    N = X.shape[0]
    mean, var = mean_var(X)
    nc = var > 0
    est = np.zeros(X.shape[1])
    fitted = loess_direct(np.log10(mean[nc]), np.log10(var[nc]), span)
    est[nc] = fitted
    reg_std = np.sqrt(10 ** est)
    clip = reg_std * np.sqrt(N) + mean
    Xc = np.minimum(X, clip[None, :])
    norm = (N * mean ** 2 + (Xc ** 2).sum(0) - 2 * Xc.sum(0) * mean) / ((N - 1) * reg_std ** 2)
    top = order_desc(norm)[:n_top]
    return mean, var, norm, top


# ------------------------------------------------------------------ rank_genes_groups
def bh(p):
    n = len(p)
    o = np.argsort(p, kind="stable")
    raw = p[o] * n / np.arange(1, n + 1)
    adj = np.minimum.accumulate(raw[::-1])[::-1]
    out = np.empty(n)
    out[o] = np.minimum(adj, 1)
    return out


def wilcoxon(G, R, tie_correct):
    G = dense(G); R = dense(R)
    n1, n2 = G.shape[0], R.shape[0]
    scores = np.empty(G.shape[1])
    for g in range(G.shape[1]):
        v = np.concatenate([G[:, g], R[:, g]])
        rk = st.rankdata(v)
        T = st.tiecorrect(rk) if tie_correct else 1.0
        std = np.sqrt(T * n1 * n2 * (n1 + n2 + 1) / 12.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores[g] = (rk[:n1].sum() - n1 * (n1 + n2 + 1) / 2.0) / std
    scores[np.isnan(scores)] = 0
    p = 2 * st.norm.sf(np.abs(scores))
    return scores, p


def ttest(G, R):
    m1, v1 = mean_var(G); m2, v2 = mean_var(R)
    with np.errstate(invalid="ignore", divide="ignore"):
        t, p = st.ttest_ind_from_stats(m1, np.sqrt(v1), G.shape[0], m2, np.sqrt(v2), R.shape[0], equal_var=False)
    t[np.isnan(t)] = 0
    p[np.isnan(p)] = 1
    return t, p


def lfc(G, R):
    m1, _ = mean_var(G); m2, _ = mean_var(R)
    return np.log2((np.expm1(m1) + 1e-9) / (np.expm1(m2) + 1e-9))


# ------------------------------------------------------------------ other metrics
def pearson(a, b):
    return st.pearsonr(a, b)[0]


def r2_score(yt, yp):  # sklearn uniform_average
    num = ((yt - yp) ** 2).sum(0)
    den = ((yt - yt.mean(0)) ** 2).sum(0)
    out = np.ones(yt.shape[1])
    valid = (den != 0) & (num != 0)
    out[valid] = 1 - num[valid] / den[valid]
    out[(num != 0) & (den == 0)] = 0.0
    return out.mean()


def pca(X, k):  # sklearn PCA(svd_solver='full'), svd_flip(u_based_decision=False)
    X = X.astype(np.float64)
    mu = X.mean(0)
    U, S, Vt = np.linalg.svd(X - mu, full_matrices=False)
    idx = np.argmax(np.abs(Vt), axis=1)
    signs = np.sign(Vt[np.arange(Vt.shape[0]), idx])
    Vt *= signs[:, None]
    ev = S ** 2 / (X.shape[0] - 1)
    return mu, Vt[:k], ev[:k], ev[:k] / ev.sum()


def pdist2(A, B):
    return ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)


def edist(X, Y, squared=False):
    f = (lambda d: d) if squared else np.sqrt
    return 2 * f(pdist2(X, Y)).mean() - f(pdist2(X, X)).mean() - f(pdist2(Y, Y)).mean()


def mmd_rbf(X, Y, gamma):
    k = lambda A, B: np.exp(-gamma * pdist2(A, B)).mean()
    return k(X, X) + k(Y, Y) - 2 * k(X, Y)


def ari(a, b):  # sklearn adjusted_rand_score via pair confusion
    _, ai = np.unique(a, return_inverse=True); _, bi = np.unique(b, return_inverse=True)
    C = np.zeros((ai.max() + 1, bi.max() + 1)); np.add.at(C, (ai, bi), 1)
    n = len(a); nc = C.sum(1); nk = C.sum(0); ss = (C ** 2).sum()
    fp = (C @ nk).sum() - ss; fn = (C.T @ nc).sum() - ss; tp = ss - n; tn = n * n - fp - fn - ss
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def nmi(a, b):  # sklearn normalized_mutual_info_score, arithmetic
    _, ai = np.unique(a, return_inverse=True); _, bi = np.unique(b, return_inverse=True)
    C = np.zeros((ai.max() + 1, bi.max() + 1)); np.add.at(C, (ai, bi), 1)
    n = C.sum(); pi = C.sum(1); pj = C.sum(0)
    nz = C > 0
    P = C[nz] / n
    outer = np.outer(pi, pj)[nz]
    terms = P * (np.log(C[nz]) - np.log(n)) + P * (-np.log(outer) + np.log(pi.sum()) + np.log(pj.sum()))
    terms = np.where(np.abs(terms) < np.finfo(float).eps, 0.0, terms)
    mi = max(terms.sum(), 0.0)
    H = lambda c: -np.sum((c[c > 0] / n) * (np.log(c[c > 0]) - np.log(n)))
    return mi / ((H(pi) + H(pj)) / 2)


def macro_f1(t, p):
    labels = np.union1d(t, p)
    f = []
    for l in labels:
        tp = np.sum((t == l) & (p == l)); fp = np.sum((t != l) & (p == l)); fn = np.sum((t == l) & (p != l))
        f.append(2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) > 0 else 0.0)
    return np.mean(f)


def main():
    os.makedirs(OUT, exist_ok=True)
    # ================= Kang (log1p data)
    kang = ad.read_h5ad(f"{DATA}/perturbation/kang_scgen_valid_lognorm.h5ad")
    X = kang.X.tocsr()
    ct = kang.obs["cell_type"].astype(str).values; cond = kang.obs["condition"].astype(str).values
    mean, disp, norm, hv = hvg_seurat(X, 2000)
    write_ints("kang_hvg_seurat_top2000.txt", np.where(hv)[0])
    sel = np.arange(0, X.shape[1], 7)
    write_table("kang_hvg_seurat_genes.tsv", ["gene", "mean", "dispersion", "dispersion_norm"],
                [(g, mean[g], disp[g], norm[g]) for g in sel])

    def rows(t, c):
        return np.where((ct == t) & (cond == c))[0]
    stim = dense(X[rows("CD4T", "stimulated")]); ctrl = dense(X[rows("CD4T", "control")])
    bstim = dense(X[rows("B", "stimulated")])
    sc = {}
    for name, (s, p) in {"wilcoxon": wilcoxon(stim, ctrl, False), "wilcoxon_tie": wilcoxon(stim, ctrl, True),
                         "ttest": ttest(stim, ctrl)}.items():
        o = order_desc(s)
        write_ints(f"kang_cd4t_{name}_top100.txt", o[:100])
        l = lfc(stim, ctrl)
        padj = bh(p)
        pick = np.unique(np.concatenate([o[:100], np.arange(0, len(s), 50)]))
        write_table(f"kang_cd4t_{name}_genes.tsv", ["gene", "score", "pval", "pval_adj", "logfoldchange"],
                    [(g, s[g], p[g], padj[g], l[g]) for g in pick])
    top100 = order_desc(wilcoxon(stim, ctrl, False)[0])[:100]
    ms, mc, mb = stim.astype(np.float64).mean(0), ctrl.astype(np.float64).mean(0), bstim.astype(np.float64).mean(0)
    sc["r2_means_stim_ctrl_all"] = pearson(ms, mc) ** 2
    sc["r2_means_stim_ctrl_top100"] = pearson(ms[top100], mc[top100]) ** 2
    sc["r2_means_bstim_stim_all"] = pearson(mb, ms) ** 2
    sc["pearson_delta_bstim_stim_ctrl"] = pearson(mb - mc, ms - mc)
    sc["r2_score_ctrl60_stim60"] = r2_score(stim[:60].astype(np.float64), ctrl[:60].astype(np.float64))
    # PCA fitted on CD4T ctrl + stim (Gram path: cells < genes), distances in that space
    both = np.vstack([ctrl, stim])
    mu, comps, ev, evr = pca(both, 30)
    for j in range(30):
        sc[f"pca_cd4t_ev_{j}"] = ev[j]; sc[f"pca_cd4t_evr_{j}"] = evr[j]
    Zc = (ctrl - mu) @ comps.T; Zs = (stim - mu) @ comps.T; Zb = (bstim - mu) @ comps.T
    for j in range(5):
        sc[f"pca_cd4t_score_stim0_{j}"] = Zs[0, j]
    sc["edist_stim_ctrl"] = edist(Zs, Zc)
    sc["edist_sq_stim_ctrl"] = edist(Zs, Zc, squared=True)
    sc["mmd_linear_stim_ctrl"] = ((Zs.mean(0) - Zc.mean(0)) ** 2).sum()
    sc["mmd_rbf_stim_ctrl_g0.01"] = mmd_rbf(Zs, Zc, 0.01)
    sc["edist_ratio_real_stim_pred_b_ctrl"] = edist(Zs, Zb) / edist(Zc, Zb)
    # PCA covariance path (cells > genes): CD8T cells, first 100 genes
    cd8 = dense(X[np.where(ct == "CD8T")[0]])[:, :100]
    _, _, ev8, evr8 = pca(cd8, 10)
    for j in range(10):
        sc[f"pca_cd8t100_ev_{j}"] = ev8[j]; sc[f"pca_cd8t100_evr_{j}"] = evr8[j]
    # Spearman between the first 5 cells (average ranks over all genes)
    K5 = dense(X[:5]).astype(np.float64)
    rho = st.spearmanr(K5, axis=1)[0]
    for i in range(5):
        for j in range(5):
            sc[f"spearman_kang_{i}_{j}"] = rho[i, j]
    write_scalars("kang_scalars.tsv", sc)

    # ================= sci-CAR RNA counts: filters, normalize_total, log1p, scale, HVG v3
    rna = ad.read_h5ad(f"{DATA}/crossmodal/scicar_a549_dex_rna.h5ad")
    C = rna.layers["counts_recovered"].tocsr().astype(np.float64)
    s2 = {}
    Cd = dense(C)
    totals = Cd.sum(1); ngenes = (Cd > 0).sum(1); cells_per_gene = (Cd > 0).sum(0); gene_tot = Cd.sum(0)
    kc = np.where((totals >= 500) & (ngenes >= 200))[0]
    kg = np.where((cells_per_gene >= 300) & (gene_tot >= 400))[0]
    s2["filter_cells_n"] = len(kc); s2["filter_cells_idxsum"] = kc.sum()
    s2["filter_genes_n"] = len(kg); s2["filter_genes_idxsum"] = kg.sum()
    cpm = Cd / np.where(totals == 0, 1, totals)[:, None] * 1e6
    lg = np.log1p(cpm)
    med = np.median(totals[totals > 0])
    s2["median_total"] = med
    s2["normalized_default_cell0_sum"] = (Cd[0] / totals[0] * med).sum()
    for i in range(5):
        s2[f"log1p_cpm_cell{i}_sum"] = lg[i].sum()
    m, v = lg.mean(0), lg.var(0, ddof=1)
    sd = np.sqrt(v); sd[sd == 0] = 1
    z = (lg - m) / sd
    s2["scale_abs_sum"] = np.abs(z).sum()
    s2["scale_clip3_sum"] = np.clip(z, -3, 3).sum()
    s2["scale_clip3_max"] = np.clip(z, -3, 3).max()
    mean3, var3, norm3, top3 = hvg_seurat_v3(C, 300)
    write_ints("scicar_hvg_v3_top300.txt", top3)
    write_table("scicar_hvg_v3_genes.tsv", ["gene", "mean", "variance", "variance_norm"],
                [(g, mean3[g], var3[g], norm3[g]) for g in range(0, C.shape[1], 5)])
    write_scalars("scicar_scalars.tsv", s2)

    # ================= sci-CAR ATAC: binarize + TF-IDF (muon defaults)
    atac = ad.read_h5ad(f"{DATA}/crossmodal/scicar_a549_dex_atac.h5ad")
    B = (atac.X > 0).astype(np.float64).tocsr()
    rs = np.asarray(B.sum(1)).ravel(); cs = np.asarray(B.sum(0)).ravel()
    idf = np.log1p(B.shape[0] / np.where(cs == 0, np.inf, cs))
    T = sp.diags(1e4 / np.where(rs == 0, 1, rs)) @ B @ sp.diags(idf)
    s3 = {"binary_nnz": B.nnz, "tfidf_total": T.sum()}
    tr = np.asarray(T.sum(1)).ravel()
    for i in range(5):
        s3[f"tfidf_cell{i}_sum"] = tr[i]
    # ================= ECCITE ADT: CLR per cell (Seurat margin 2)
    adt = dense(ad.read_h5ad(f"{DATA}/crossmodal/eccite_citefuse_adt.h5ad").X).astype(np.float64)
    g = np.exp(np.log1p(adt).mean(1))
    clr = np.log1p(adt / g[:, None])
    s3["clr_total"] = clr.sum()
    for i in range(3):
        for j in range(3):
            s3[f"clr_{i}_{j}"] = clr[i, j]
    # ================= ECCITE RNA counts: Geneformer rank-value encoding
    er = ad.read_h5ad(f"{DATA}/crossmodal/eccite_citefuse_rna.h5ad").X.tocsc()
    meds = np.zeros(er.shape[1])
    for gi in range(er.shape[1]):
        col = er.data[er.indptr[gi]:er.indptr[gi + 1]]
        col = col[col != 0]
        if len(col):
            meds[gi] = np.median(col.astype(np.float64))
    Ed = dense(er.tocsr()[:10]).astype(np.float64)
    with open(os.path.join(OUT, "eccite_rank_encoding_first10.txt"), "w") as f:
        for i in range(10):
            nz = np.where((Ed[i] > 0) & (meds > 0))[0]
            val = Ed[i, nz] / meds[nz]
            o = nz[np.lexsort((nz, -val))][:50]
            f.write(" ".join(map(str, o)) + "\n")
    s3["eccite_median_sum"] = meds.sum()
    # ================= pbmc68k: clustering agreement
    pb = ad.read_h5ad(f"{DATA}/classification/scanpy_pbmc68k_reduced.h5ad")
    truth = pb.obs["bulk_labels"].astype(str).values; lou = pb.obs["louvain"].astype(str).values
    s3["ari_bulk_louvain"] = ari(truth, lou)
    s3["nmi_bulk_louvain"] = nmi(truth, lou)
    tn, ti = np.unique(truth, return_inverse=True); ln, li = np.unique(lou, return_inverse=True)
    Cm = np.zeros((len(ln), len(tn))); np.add.at(Cm, (li, ti), 1)
    r, c = linear_sum_assignment(-Cm)
    s3["hungarian_acc_bulk_louvain"] = Cm[r, c].sum() / len(truth)
    majority = np.argmax(Cm, axis=1)[li]          # each cluster -> its most frequent label code
    write_ints("pbmc68k_majority_pred.txt", majority)
    s3["macro_f1_majority"] = macro_f1(ti, majority)
    s3["accuracy_majority"] = np.mean(ti == majority)
    write_scalars("misc_scalars.tsv", s3)


if __name__ == "__main__":
    main()
