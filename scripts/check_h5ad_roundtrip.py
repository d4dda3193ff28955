#!/usr/bin/python3
"""Checks that an .h5ad written by cellgrad's write_h5ad reads in Python anndata with the same
values as the file it came from. Used by tests/test_omics_io.cpp.

  /usr/bin/python3 scripts/check_h5ad_roundtrip.py ORIGINAL WRITTEN [ORIGINAL WRITTEN ...]

Compared: X and layers (as float32, since cellgrad keeps values in float32), obs and var (index,
index name, every column: dtype, categories and codes, values), obsm (as float32), and every uns
entry the written file holds against the original. Elements cellgrad does not model (raw, obsp,
varm, record arrays) are not compared.
Exit status: 0 equal, 1 different (each difference printed), 3 anndata cannot be imported.
"""
import sys

try:
    import anndata as ad
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp
except Exception as e:  # noqa: BLE001 - any import failure means "cannot check here"
    print(f"cannot import anndata: {e}")
    sys.exit(3)

problems = []
current = ""


def bad(msg):
    problems.append(f"{current}: {msg}")


def same_matrix(name, a, b):
    if a.shape != b.shape:
        return bad(f"{name}: shape {a.shape} != {b.shape}")
    if sp.issparse(a) != sp.issparse(b):
        return bad(f"{name}: sparse {sp.issparse(a)} != {sp.issparse(b)}")
    if sp.issparse(a):
        a = sp.csr_matrix(a, dtype=np.float32)
        b = sp.csr_matrix(b, dtype=np.float32)
        if a.nnz != b.nnz:
            return bad(f"{name}: nnz {a.nnz} != {b.nnz}")
        diff = abs(a - b)
        if diff.nnz and diff.max() != 0:
            bad(f"{name}: values differ (max abs diff {diff.max()})")
    else:
        a = np.asarray(a, dtype=np.float32)
        b = np.asarray(b)
        if b.dtype != np.float32:
            bad(f"{name}: written dtype {b.dtype}, expected float32")
        if not np.array_equal(a, b.astype(np.float32), equal_nan=True):
            bad(f"{name}: values differ")


def same_frame(name, a, b):
    if list(a.index) != list(b.index):
        bad(f"{name}: index differs")
    if a.index.name != b.index.name:
        bad(f"{name}: index name {a.index.name!r} != {b.index.name!r}")
    if list(a.columns) != list(b.columns):
        bad(f"{name}: columns {list(a.columns)} != {list(b.columns)}")
    for c in a.columns:
        if c not in b.columns:
            continue
        x, y = a[c], b[c]
        if str(x.dtype) == "category":
            if str(y.dtype) != "category":
                bad(f"{name}/{c}: categorical became {y.dtype}")
                continue
            if list(x.cat.categories) != list(y.cat.categories):
                bad(f"{name}/{c}: categories differ")
            if not np.array_equal(x.cat.codes.values, y.cat.codes.values):
                bad(f"{name}/{c}: codes differ")
            if x.cat.ordered != y.cat.ordered:
                bad(f"{name}/{c}: ordered flag differs")
        elif x.dtype == object:
            if list(x) != list(y):
                bad(f"{name}/{c}: strings differ")
        else:
            if x.dtype != y.dtype:
                bad(f"{name}/{c}: dtype {x.dtype} != {y.dtype}")
            if not np.array_equal(x.values, y.values, equal_nan=(x.dtype.kind == "f")):
                bad(f"{name}/{c}: values differ")


def flatten(d, prefix=""):
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "/"))
        else:
            out[key] = v
    return out


def compare(orig_path, new_path):
    global current
    current = new_path
    a = ad.read_h5ad(orig_path)
    b = ad.read_h5ad(new_path)
    if a.shape != b.shape:
        bad(f"shape {a.shape} != {b.shape}")
    same_matrix("X", a.X, b.X)
    same_frame("obs", a.obs, b.obs)
    same_frame("var", a.var, b.var)
    for k in a.obsm.keys():
        if k not in b.obsm:
            bad(f"obsm/{k}: missing")
        elif not np.array_equal(np.asarray(a.obsm[k], dtype=np.float32), np.asarray(b.obsm[k]), equal_nan=True):
            bad(f"obsm/{k}: values differ")
    if set(a.layers.keys()) != set(b.layers.keys()):
        bad(f"layers {sorted(a.layers.keys())} != {sorted(b.layers.keys())}")
    for k in a.layers.keys():
        if k in b.layers:
            same_matrix(f"layers/{k}", a.layers[k], b.layers[k])
    ua, ub = flatten(a.uns), flatten(b.uns)
    for k, v in ub.items():
        if k not in ua:
            bad(f"uns/{k}: not in the original")
            continue
        x, y = np.asarray(ua[k]), np.asarray(v)
        if x.dtype.kind in "OSU":
            if [str(s) for s in x.ravel()] != [str(s) for s in y.ravel()] or x.shape != y.shape:
                bad(f"uns/{k}: {x!r} != {y!r}")
        elif x.shape != y.shape or not np.array_equal(x, y, equal_nan=(x.dtype.kind == "f")):
            bad(f"uns/{k}: {x!r} != {y!r}")


def main(paths):
    for orig, new in zip(paths[0::2], paths[1::2]):
        compare(orig, new)
    for p in problems:
        print(p)
    if not problems:
        print(f"OK ({len(paths) // 2} files)")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) < 3 or len(sys.argv) % 2 == 0:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
