#!/usr/bin/python3
"""Builds a large CSR .h5ad from the shared Kang cells for the scale bench (issue 18): N cells,
each a copy of a random Kang cell whose counts are resampled (Poisson around the cell's
normalised counts, then normalised to 10,000 and log1p'd again), so rows differ while keeping
Kang's genes and value range; Poisson zeros make it a little sparser (3.1% nonzero against
Kang's 4.7%). obs carries cell_type and condition of the source cell.

Written in chunks with h5py (bounded memory whatever N), as anndata lays a CSR X out
(X/data float32, X/indices int32, X/indptr int64, encoding attributes), into a path OUTSIDE the
repository (the file is GBs: 1,000,000 cells x 6,998 genes is about 2.6 GB).

Usage: make_scale_file.py OUT.h5ad N_CELLS [--seed 0] [--source KANG.h5ad]
"""
import argparse
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("cells", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--source", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                                                     "perturbation", "kang_scgen_valid_lognorm.h5ad"))
    ap.add_argument("--chunk", type=int, default=20000)
    a = ap.parse_args()
    import h5py
    import numpy as np
    repo = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
    if os.path.realpath(a.out).startswith(repo + os.sep):
        sys.exit(f"make_scale_file: {a.out} is inside the repository; write it elsewhere (it is large)")
    if a.cells < 1:
        sys.exit(f"make_scale_file: expected a positive number of cells, found {a.cells}")
    with h5py.File(a.source, "r") as f:
        x = f["X"]
        data, indices, indptr = x["data"][:], x["indices"][:], x["indptr"][:]
        genes = int(x.attrs["shape"][1])
        var_names = f["var"][f["var"].attrs.get("_index", "_index")][:]

        def column(name):
            g = f["obs"][name]
            if isinstance(g, h5py.Group):  # categorical
                return g["categories"][:][g["codes"][:]]
            return g[:]
        cell_type, condition = column("cell_type"), column("condition")
    rng = np.random.default_rng(a.seed)
    tmp = a.out + f".tmp-{os.getpid()}"
    with h5py.File(tmp, "w") as out:
        out.attrs["encoding-type"] = "anndata"
        out.attrs["encoding-version"] = "0.1.0"
        X = out.create_group("X")
        X.attrs["encoding-type"] = "csr_matrix"
        X.attrs["encoding-version"] = "0.1.0"
        X.attrs["shape"] = np.array([a.cells, genes], dtype=np.int64)
        d = X.create_dataset("data", (0,), dtype=np.float32, maxshape=(None,), chunks=(1 << 20,))
        ix = X.create_dataset("indices", (0,), dtype=np.int32, maxshape=(None,), chunks=(1 << 20,))
        ptr = [np.zeros(1, dtype=np.int64)]
        total = 0
        sources = rng.integers(0, len(indptr) - 1, size=a.cells)
        for start in range(0, a.cells, a.chunk):
            src = sources[start:start + a.chunk]
            vals, cols, lens = [], [], []
            for r in src:
                lo, hi = indptr[r], indptr[r + 1]
                counts = rng.poisson(np.expm1(data[lo:hi].astype(np.float64)))
                keep = counts > 0
                c = counts[keep].astype(np.float64)
                v = np.log1p(c / max(c.sum(), 1.0) * 1e4).astype(np.float32)
                vals.append(v); cols.append(indices[lo:hi][keep].astype(np.int32)); lens.append(len(v))
            v, c = np.concatenate(vals), np.concatenate(cols)
            d.resize((total + len(v),)); d[total:] = v
            ix.resize((total + len(c),)); ix[total:] = c
            ptr.append(total + np.cumsum(lens, dtype=np.int64))
            total += len(v)
            print(f"\r{min(start + a.chunk, a.cells)}/{a.cells} cells", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        X.create_dataset("indptr", data=np.concatenate(ptr))
        str_dt = h5py.string_dtype()
        for name, index, cols in (("obs", [f"cell{i}" for i in range(a.cells)],
                                   {"cell_type": cell_type[sources], "condition": condition[sources]}),
                                  ("var", [v.decode() if isinstance(v, bytes) else v for v in var_names], {})):
            g = out.create_group(name)
            g.attrs["encoding-type"] = "dataframe"
            g.attrs["encoding-version"] = "0.2.0"
            g.attrs["_index"] = "_index"
            g.attrs["column-order"] = np.array(list(cols), dtype=object) if cols else np.array([], dtype=np.float64)
            g.create_dataset("_index", data=np.array(index, dtype=object), dtype=str_dt)
            for key, values in cols.items():
                cats, codes = np.unique(values, return_inverse=True)
                cg = g.create_group(key)
                cg.attrs["encoding-type"] = "categorical"
                cg.attrs["encoding-version"] = "0.2.0"
                cg.attrs["ordered"] = False
                cg.create_dataset("categories", data=np.array([s.decode() if isinstance(s, bytes) else s for s in cats],
                                                               dtype=object), dtype=str_dt)
                cg.create_dataset("codes", data=codes.astype(np.int8 if len(cats) < 128 else np.int16))
        for empty in ("obsm", "varm", "obsp", "varp", "layers", "uns"):
            g = out.create_group(empty)
            g.attrs["encoding-type"] = "dict"
            g.attrs["encoding-version"] = "0.1.0"
    os.replace(tmp, a.out)
    print(f"make_scale_file: wrote {a.out}: {a.cells} cells x {genes} genes, {total} stored values "
          f"({100.0 * total / (a.cells * genes):.2f}% nonzero)")


if __name__ == "__main__":
    main()
