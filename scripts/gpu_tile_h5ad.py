#!/usr/bin/env python3
"""Writes an .h5ad whose cells are the input's cells repeated (or cut) to exactly --cells rows,
optionally keeping only the first --genes genes: a bench input of a chosen size made from the
real Kang data, with h5py alone (the GPU machine has no anndata).

scripts/gpu_check.sh makes 8192 cells from the 1,975 of Kang's validation split, so that batch
32, 512 and 4096 all run whole batches, and a tiny file (64 cells x 300 genes) for its dry run.
X is written as CSR; obs keeps every column (categorical codes and plain arrays repeated, the
index made unique with a -copyN suffix); var keeps its columns for the kept genes; obsm, obsp,
layers, varm, varp and uns are written empty.
Usage: gpu_tile_h5ad.py IN.h5ad OUT.h5ad --cells N [--genes G]
"""
import argparse
import sys

import h5py
import numpy as np


def read_csr(X):
    """(data, indices, indptr, shape) of X, a CSR group, a CSC group or a dense dataset."""
    if isinstance(X, h5py.Dataset):
        return read_csr_dense(np.asarray(X[()], dtype=np.float32))
    enc = X.attrs.get("encoding-type", b"")
    enc = enc.decode() if isinstance(enc, bytes) else str(enc)
    shape = tuple(int(s) for s in X.attrs["shape"])
    data, indices, indptr = X["data"][()], X["indices"][()].astype(np.int64), X["indptr"][()].astype(np.int64)
    if enc == "csc_matrix":  # transpose to CSR through a dense copy (small files only)
        dense = np.zeros(shape, dtype=np.float32)
        for c in range(shape[1]):
            dense[indices[indptr[c]:indptr[c + 1]], c] = data[indptr[c]:indptr[c + 1]]
        return read_csr_dense(dense)
    return data.astype(np.float32), indices, indptr, shape


def read_csr_dense(dense):
    rows, cols = np.nonzero(dense)
    indptr = np.zeros(dense.shape[0] + 1, dtype=np.int64)
    np.add.at(indptr, rows + 1, 1)
    return dense[rows, cols], cols.astype(np.int64), np.cumsum(indptr), dense.shape


def set_attrs(obj, attrs):
    for k, v in attrs.items():
        obj.attrs[k] = v


def empty_dict(out, name):
    g = out.create_group(name)
    set_attrs(g, {"encoding-type": "dict", "encoding-version": "0.1.0"})


def strings(values):
    return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in values], dtype=object)


def write_strings(group, name, values, attrs):
    ds = group.create_dataset(name, data=strings(values), dtype=h5py.string_dtype())
    set_attrs(ds, attrs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--cells", type=int, required=True)
    ap.add_argument("--genes", type=int, default=0, help="keep the first G genes (0: all)")
    a = ap.parse_args()

    with h5py.File(a.input, "r") as f, h5py.File(a.output, "w") as out:
        data, indices, indptr, (n, g) = read_csr(f["X"])
        genes = g if a.genes <= 0 else min(a.genes, g)
        src = np.arange(a.cells) % n  # row i of the output is input row i mod n
        copy = np.arange(a.cells) // n
        pieces_d, pieces_i = [], []
        for r in src:
            lo, hi = indptr[r], indptr[r + 1]
            idx = indices[lo:hi]
            keep = idx < genes
            pieces_d.append(data[lo:hi][keep])
            pieces_i.append(idx[keep])
        counts = np.array([len(p) for p in pieces_i], dtype=np.int64)
        new_indptr = np.concatenate([[0], np.cumsum(counts)])
        set_attrs(out, {"encoding-type": "anndata", "encoding-version": "0.1.0"})
        X = out.create_group("X")
        set_attrs(X, {"encoding-type": "csr_matrix", "encoding-version": "0.1.0",
                      "shape": np.array([a.cells, genes], dtype=np.int64)})
        X.create_dataset("data", data=np.concatenate(pieces_d).astype(np.float32) if pieces_d else np.zeros(0, np.float32))
        X.create_dataset("indices", data=np.concatenate(pieces_i).astype(np.int32) if pieces_i else np.zeros(0, np.int32))
        X.create_dataset("indptr", data=new_indptr.astype(np.int64))

        # obs: every column repeated like the rows; the index made unique.
        obs_in, obs = f["obs"], out.create_group("obs")
        set_attrs(obs, dict(obs_in.attrs))
        index_name = obs_in.attrs.get("_index", "_index")
        index_name = index_name.decode() if isinstance(index_name, bytes) else str(index_name)
        for name, item in obs_in.items():
            if isinstance(item, h5py.Group) and "codes" in item:
                grp = obs.create_group(name)
                set_attrs(grp, dict(item.attrs))
                write_strings(grp, "categories", item["categories"][()], dict(item["categories"].attrs)) \
                    if item["categories"].dtype.kind in "OSU" else grp.create_dataset("categories", data=item["categories"][()])
                codes = grp.create_dataset("codes", data=item["codes"][()][src])
                set_attrs(codes, dict(item["codes"].attrs))
            elif isinstance(item, h5py.Dataset) and item.shape and item.shape[0] == n:
                values = item[()][src]
                if name == index_name:
                    values = np.array(["%s-copy%d" % (v.decode() if isinstance(v, bytes) else v, c) if c else
                                       (v.decode() if isinstance(v, bytes) else str(v))
                                       for v, c in zip(values, copy)], dtype=object)
                if item.dtype.kind in "OSU":
                    write_strings(obs, name, values, dict(item.attrs))
                else:
                    ds = obs.create_dataset(name, data=values)
                    set_attrs(ds, dict(item.attrs))

        # var: the kept genes.
        var_in, var = f["var"], out.create_group("var")
        set_attrs(var, dict(var_in.attrs))
        for name, item in var_in.items():
            if isinstance(item, h5py.Dataset) and item.shape and item.shape[0] == g:
                values = item[()][:genes]
                if item.dtype.kind in "OSU":
                    write_strings(var, name, values, dict(item.attrs))
                else:
                    ds = var.create_dataset(name, data=values)
                    set_attrs(ds, dict(item.attrs))
            elif isinstance(item, h5py.Group) and "codes" in item:
                grp = var.create_group(name)
                set_attrs(grp, dict(item.attrs))
                grp.create_dataset("categories", data=item["categories"][()])
                grp.create_dataset("codes", data=item["codes"][()][:genes])
        for name in ("obsm", "obsp", "layers", "varm", "varp", "uns"):
            empty_dict(out, name)
    print("gpu_tile_h5ad: %s: %d x %d (from %d x %d)" % (a.output, a.cells, genes, n, g))
    return 0


if __name__ == "__main__":
    sys.exit(main())
