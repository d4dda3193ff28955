#!/usr/bin/python3
"""Reference values for the train_multitask baseline tests (tests/test_omics_baselines.cpp).

Run from the repository root with the system Python (numpy, scipy, anndata):
    /usr/bin/python3 scripts/reference_baselines.py
Writes tests/reference/baselines_reference.txt: named matrices, each as a line
"name rows cols" followed by `rows` lines of whitespace-separated numbers.

sklearn is not installed here, so each reference is a numpy re-implementation of the documented
definition:
  PCA: sklearn's full SVD of the centered training cells with svd_flip on V (>= 1.5: the loading
    of largest absolute value positive in every component);
  Ridge(alpha, fit_intercept=True): w = (Xc^T Xc + alpha I)^-1 Xc^T (y - mean y), solved with
    numpy.linalg.solve; b = mean y - mean x . w;
  KNeighborsRegressor(n_neighbors=k, weights='uniform', algorithm='brute'): the mean target of
    the k reference cells at the smallest Euclidean distance (full sort, stable on ties);
  roc_auc_score: the Mann-Whitney U from average ranks (scipy.stats.rankdata), over P * N;
  average_precision_score: sum over distinct thresholds (descending) of
    (recall_i - recall_{i-1}) * precision_i.
Data: the first 100 Patch-seq neurons (RNA: 1252 log-scale genes; Ephys: 68 features);
cells 0..79 are the training cells, 80..99 the queries.
"""
import os
import numpy as np
import scipy.stats as st
import anndata as ad

DATA = os.environ.get("CELLGRAD_DATA", "../shared/data")
OUT = "tests/reference/baselines_reference.txt"


def pca_scores(train, query, k):
    mu = train.mean(axis=0)
    u, s, vt = np.linalg.svd(train - mu, full_matrices=False)
    v = vt[:k]
    signs = np.sign(v[np.arange(k), np.argmax(np.abs(v), axis=1)])
    v = v * signs[:, None]
    return (train - mu) @ v.T, (query - mu) @ v.T


def ridge(x, y, alpha, q):
    xm, ym = x.mean(axis=0), y.mean(axis=0)
    xc = x - xm
    w = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y - ym))
    b = ym - xm @ w
    return q @ w + b


def knn(x, y, q, k):
    out = []
    for row in q:
        d = np.sqrt(((x - row) ** 2).sum(axis=1))
        idx = np.argsort(d, kind="stable")[:k]
        out.append(y[idx].mean(axis=0))
    return np.array(out)


def auroc(t, s):
    t = t > 0.5
    p, n = t.sum(), (~t).sum()
    r = st.rankdata(s)
    return (r[t].sum() - p * (p + 1) / 2) / (p * n)


def average_precision(t, s):
    t = t > 0.5
    order = np.argsort(-s, kind="stable")
    s, t = s[order], t[order]
    distinct = np.where(np.diff(s))[0]
    ends = np.r_[distinct, len(s) - 1]
    tp = np.cumsum(t)[ends]
    fp = (ends + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / t.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def means(truth, scores, axis):
    a, p = [], []
    rows = truth if axis == 0 else truth.T
    srows = scores if axis == 0 else scores.T
    for t, s in zip(rows, srows):
        if 0 < (t > 0.5).sum() < len(t):
            a.append(auroc(t, s))
            p.append(average_precision(t, s))
    return [np.mean(a), np.mean(p), len(a)]


def main():
    rna = ad.read_h5ad(DATA + "/crossmodal/unitednet_patchseq_RNA_TEM.h5ad")
    eph = ad.read_h5ad(DATA + "/crossmodal/unitednet_patchseq_Ephys_TEM.h5ad")
    assert (rna.obs_names[:100] == eph.obs_names[:100]).all()
    x = np.asarray(rna.X[:100], dtype=np.float32).astype(np.float64)
    y = np.asarray(eph.X[:100], dtype=np.float32).astype(np.float64)
    ptrain, pquery = pca_scores(x[:80], x[80:], 10)
    blocks = {
        "pcs_query": pquery,
        "ridge_k10_alpha3": ridge(ptrain, y[:80], 3.0, pquery),
        "ridge_k5_alpha0.5": ridge(ptrain[:, :5], y[:80], 0.5, pquery[:, :5]),
        "knn_k10_n5": knn(ptrain, y[:80], pquery, 5),
    }
    rng = np.random.default_rng(15)
    # Rankings with ties (scores rounded to one decimal), as sklearn would score them.
    truth = (rng.random((6, 25)) < 0.35).astype(np.float64)
    truth[2] = 0  # a row with a single class: skipped by the per-row means
    scores = np.round(0.5 * truth + rng.random((6, 25)), 1)
    blocks["rank_truth"] = truth
    blocks["rank_scores"] = scores
    single = [[auroc(t, s), average_precision(t, s)] if 0 < t.sum() < len(t) else [np.nan, np.nan]
              for t, s in zip(truth, scores)]
    blocks["rank_per_row_scores"] = np.array(single)
    blocks["rank_row_means"] = np.array([means(truth, scores, 0)])
    blocks["rank_column_means"] = np.array([means(truth, scores, 1)])
    with open(OUT, "w") as f:
        for name, m in blocks.items():
            m = np.atleast_2d(m)
            f.write(f"{name} {m.shape[0]} {m.shape[1]}\n")
            for row in m:
                f.write(" ".join(repr(float(v)) for v in row) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
