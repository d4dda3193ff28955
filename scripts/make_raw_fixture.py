#!/usr/bin/python3
"""Writes tests/reference/scaled_with_raw.h5ad: an .h5ad as scanpy leaves it after pp.scale,
X scaled (negative values), the log-normalised data in .raw, as the --use-raw tests read it.
72 cells (types A/B/C x control/stim, 12 each) x 20 genes, values as the predict_perturbation
tests' synthetic data. Run with Debian's python (anndata): /usr/bin/python3 scripts/make_raw_fixture.py
"""
import anndata as ad
import numpy as np
import pandas as pd

types, conds, genes = [], [], 20
for t in "ABC":
    for c in ("control", "stim"):
        types += [t] * 12
        conds += [c] * 12
n = len(types)
x = np.zeros((n, genes), dtype=np.float32)
for i in range(n):
    for j in range(genes):
        base = 0.1 + ((i * 7 + j * 5) % 15) / 7.0 + 0.1 * (ord(types[i]) - ord("A"))
        x[i, j] = base + (0.5 if conds[i] != "control" and j < 5 else 0.0)
obs = pd.DataFrame({"condition": pd.Categorical(conds), "cell_type": pd.Categorical(types)},
                   index=[f"c{i}" for i in range(n)])
var = pd.DataFrame(index=[f"g{j}" for j in range(genes)])
a = ad.AnnData(X=x.copy(), obs=obs, var=var)
a.raw = a
scaled = (x - x.mean(0)) / x.std(0, ddof=1)
a.X = scaled.astype(np.float32)
a.write_h5ad("tests/reference/scaled_with_raw.h5ad")
print("wrote tests/reference/scaled_with_raw.h5ad", a)
