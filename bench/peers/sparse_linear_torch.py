#!/usr/bin/python3
"""The first encoder layer on real expression batches in PyTorch: the peer of
bench/sparse_input.cpp (not a test). Reads the Kang cells' CSR X with h5py (no anndata), draws
the same batches as the C++ bench (rows listed in --rows, one batch per line) and times one step
= forward y = x W^T + b, loss = sum(y * w), backward (dW, db), for the dense batch
(torch.nn.functional.linear) and for the sparse CSR batch (torch.sparse.mm; PyTorch's own
sparse path). Median of --reps steps after a warm-up.

Prints one line per batch: SPARSE_TORCH batch=N dense_ms=... sparse_ms=...
Usage: sparse_linear_torch.py --data FILE.h5ad --rows FILE --out-features 800 [--reps 9] [--threads 2]
"""
import argparse
import statistics
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--rows", required=True)
    ap.add_argument("--out-features", type=int, default=800)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import h5py
    import numpy as np
    import torch
    torch.set_num_threads(a.threads)
    with h5py.File(a.data, "r") as f:
        x = f["X"]
        data, indices, indptr = x["data"][:], x["indices"][:], x["indptr"][:]
        genes = int(x.attrs["shape"][1])
    gen = torch.Generator().manual_seed(0)
    weight = (torch.randn(a.out_features, genes, generator=gen) * 0.01).requires_grad_()
    bias = torch.zeros(a.out_features, requires_grad=True)

    def batch(rows):
        ptr, cols, vals = [0], [], []
        for r in rows:
            lo, hi = indptr[r], indptr[r + 1]
            order = np.argsort(indices[lo:hi], kind="stable")  # the file's rows are not sorted; torch needs them so
            cols.append(indices[lo:hi][order]); vals.append(data[lo:hi][order]); ptr.append(ptr[-1] + hi - lo)
        cols, vals = np.concatenate(cols).astype(np.int64), np.concatenate(vals).astype(np.float32)
        csr = torch.sparse_csr_tensor(torch.tensor(ptr), torch.from_numpy(cols), torch.from_numpy(vals),
                                      size=(len(rows), genes))
        return csr, csr.to_dense()

    def step(fn):
        weight.grad = None; bias.grad = None
        y = fn()
        (y * w).sum().backward()

    def median_ms(fn):
        step(fn)
        t = []
        for _ in range(a.reps):
            t0 = time.perf_counter(); step(fn); t.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(t)

    with open(a.rows) as f:
        for line in f:
            rows = [int(v) for v in line.split()]
            csr, dense = batch(rows)
            w = torch.randn(len(rows), a.out_features, generator=gen)
            dense_ms = median_ms(lambda: torch.nn.functional.linear(dense, weight, bias))
            sparse_ms = median_ms(lambda: torch.sparse.mm(csr, weight.t()) + bias)
            print(f"SPARSE_TORCH batch={len(rows)} dense_ms={dense_ms:.3f} sparse_ms={sparse_ms:.3f}", flush=True)


if __name__ == "__main__":
    main()
