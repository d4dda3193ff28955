#!/usr/bin/python3
"""scGen VAE training speed in PyTorch: the peer of bench/scgen.cpp (not a test).

The same model as cellgrad's ScGenVAE (apps/common/perturbation_models.cpp): encoder
G -> 800 -> 800 -> (mu, logvar) 100 and decoder 100 -> 800 -> 800 -> G, each hidden block
Linear, BatchNorm1d, LeakyReLU(0.2), Dropout(0.2); Xavier-uniform weights, zero biases;
loss 0.5 * sum((x - x_hat)^2) / N + 0.5 * alpha * KL / N with alpha 5e-5; Adam lr 1e-3.
One step is what cellgrad's trainer does: gather the batch rows, zero_grad, forward, backward,
Adam step, and read the loss back (loss.item(), which also waits for the GPU).

--mode chooses how PyTorch runs the step (scripts/gpu_check.sh compares cellgrad with each):
  eager    the plain step above (the default, and what bench_scgen starts);
  graph    the whole step (forward, backward, Adam with capturable=True) captured once per batch
           shape as a CUDA graph and replayed; the batch is copied into the graph's input first
           (CUDA only);
  compile  the model's forward and the loss under torch.compile (default mode), one compile per
           batch size (torch._dynamo.reset() between them), Adam eager; the warm-up epoch pays
           for compiling (torch 2.x).
--resident keeps the whole matrix on the GPU (uploaded once) and gathers each batch there, as
bench_scgen --feed device does; without it each batch is gathered on the host and uploaded.
The data is read with h5py (dense or CSR/CSC X), or with anndata where h5py is missing.

Prints one machine-readable line per batch size:
  SCGEN_TORCH device=cpu batch=32 threads=2 steps_per_epoch=62 epochs=2 epoch_ms=... step_ms=... loss=... mode=eager
and one line naming the BLAS torch uses:  SCGEN_TORCH_INFO torch=1.13.0 blas=...
Usage: scgen_torch.py --data FILE.h5ad [--batches 32,512] [--epochs 2] [--warmup 1]
                      [--max-steps 0] [--device cpu|cuda] [--threads 2] [--seed 0]
                      [--mode eager|graph|compile] [--resident]
"""
import argparse
import os
import re
import sys
import time


def blas_description(torch):
    """What BLAS torch's CPU GEMM goes through: its build config, and for a generic build, the
    library the Debian alternatives system points libblas.so.3 at."""
    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    info = found.group(1) if found else "unknown"
    if info == "generic":
        link = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu"
        target = os.path.realpath(link) if os.path.exists(link) else "?"
        if "openblas" in target:
            kind = "openblas"
        elif "blis" in target:
            kind = "blis"
        elif "atlas" in target:
            kind = "atlas"
        elif "blas/libblas" in target:
            kind = "reference(slow)"
        else:
            kind = "?"
        return "generic->%s(%s)" % (kind, target)
    return info


def make_model(torch, genes, latent=100, hidden=800, dropout=0.2):
    nn = torch.nn

    def block(i, o):
        return [nn.Linear(i, o), nn.BatchNorm1d(o), nn.LeakyReLU(0.2), nn.Dropout(dropout)]

    class ScGenVAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(*block(genes, hidden), *block(hidden, hidden))
            self.mu = nn.Linear(hidden, latent)
            self.logvar = nn.Linear(hidden, latent)
            self.decoder = nn.Sequential(*block(latent, hidden), *block(hidden, hidden), nn.Linear(hidden, genes))
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.zeros_(m.bias)

        def forward(self, x):
            h = self.body(x)
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            return self.decoder(z), mu, logvar

    return ScGenVAE()


def scgen_loss(torch, x, x_hat, mu, logvar, alpha=5e-5):
    n = x.shape[0]
    rec = 0.5 * torch.sum((x_hat - x) ** 2) / n
    kl = 0.5 * torch.sum(torch.exp(logvar) + mu ** 2 - logvar - 1.0) / n
    return rec + 0.5 * alpha * kl


def read_X(path, np):
    """X of an .h5ad as a dense float32 array: with h5py (dense, CSR or CSC), else anndata."""
    try:
        import h5py
    except ImportError:
        import anndata
        ad = anndata.read_h5ad(path)
        X = ad.X.toarray() if hasattr(ad.X, "toarray") else np.asarray(ad.X)
        return np.ascontiguousarray(X, dtype=np.float32)
    with h5py.File(path, "r") as f:
        X = f["X"]
        if isinstance(X, h5py.Dataset):
            return np.ascontiguousarray(X[()], dtype=np.float32)
        enc = X.attrs.get("encoding-type", b"")
        enc = enc.decode() if isinstance(enc, bytes) else str(enc)
        rows, cols = (int(v) for v in X.attrs["shape"])
        data, indices, indptr = X["data"][()], X["indices"][()], X["indptr"][()]
        out = np.zeros((rows, cols), dtype=np.float32)
        outer = rows if enc == "csr_matrix" else cols
        for i in range(outer):
            lo, hi = indptr[i], indptr[i + 1]
            if enc == "csr_matrix":
                out[i, indices[lo:hi]] = data[lo:hi]
            else:
                out[indices[lo:hi], i] = data[lo:hi]
        return out


class GraphStep:
    """One training step captured as a CUDA graph per batch shape (PyTorch's whole-network
    capture recipe: warm-up iterations on a side stream, then capture zero_grad, forward,
    backward and Adam's step; Adam needs capturable=True)."""

    def __init__(self, torch, model, opt, genes, dev):
        self.torch, self.model, self.opt, self.genes, self.dev = torch, model, opt, genes, dev
        self.graphs = {}

    def _capture(self, rows):
        torch = self.torch
        static_x = torch.zeros(rows, self.genes, device=self.dev)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                self.opt.zero_grad(set_to_none=False)
                x_hat, mu, logvar = self.model(static_x)
                scgen_loss(torch, static_x, x_hat, mu, logvar).backward()
                self.opt.step()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        self.opt.zero_grad(set_to_none=False)
        with torch.cuda.graph(graph):
            self.opt.zero_grad(set_to_none=False)
            x_hat, mu, logvar = self.model(static_x)
            static_loss = scgen_loss(torch, static_x, x_hat, mu, logvar)
            static_loss.backward()
            self.opt.step()
        self.graphs[rows] = (graph, static_x, static_loss)

    def __call__(self, x):
        if x.shape[0] not in self.graphs:
            self._capture(x.shape[0])
        graph, static_x, static_loss = self.graphs[x.shape[0]]
        static_x.copy_(x)
        graph.replay()
        return static_loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--batches", default="32,512")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--max-steps", type=int, default=0, help="steps per epoch (0: the whole epoch)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mode", default="eager", choices=["eager", "graph", "compile"])
    ap.add_argument("--resident", action="store_true", help="keep X on the device and gather batches there")
    a = ap.parse_args()

    try:
        import torch
    except ImportError as e:
        print("SCGEN_TORCH_ERROR torch is not importable by %s: %s" % (sys.executable, e))
        return 2
    import numpy as np

    torch.set_num_threads(a.threads)
    print("SCGEN_TORCH_INFO torch=%s blas=%s threads=%d cuda_available=%d"
          % (torch.__version__, blas_description(torch), torch.get_num_threads(), int(torch.cuda.is_available())))
    if a.device == "cuda" and not torch.cuda.is_available():
        print("SCGEN_TORCH_ERROR torch.cuda.is_available() is False")
        return 2
    if a.mode == "graph" and a.device != "cuda":
        print("SCGEN_TORCH_ERROR --mode graph needs --device cuda")
        return 2
    if a.mode == "compile" and not hasattr(torch, "compile"):
        print("SCGEN_TORCH_ERROR --mode compile needs torch 2.x (this is %s)" % torch.__version__)
        return 2
    dev = torch.device(a.device)

    X = torch.from_numpy(read_X(a.data, np))
    cells, genes = X.shape
    resident = a.resident and dev.type == "cuda"
    if resident:
        X = X.to(dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    for batch in [int(b) for b in a.batches.split(",") if b]:
        torch.manual_seed(a.seed)
        model = make_model(torch, genes).to(dev)
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, **({"capturable": True} if a.mode == "graph" else {}))
        graph_step = GraphStep(torch, model, opt, genes, dev) if a.mode == "graph" else None
        def forward_loss(x):
            x_hat, mu, logvar = model(x)
            return scgen_loss(torch, x, x_hat, mu, logvar)

        if a.mode == "compile":
            torch._dynamo.reset()
            forward_loss = torch.compile(forward_loss)
        g = torch.Generator().manual_seed(a.seed)
        # Same batching as cellgrad's trainer: a last batch of fewer than 2 cells is dropped.
        starts = [s for s in range(0, cells, batch) if s + 2 <= cells]
        if a.max_steps > 0:
            starts = starts[: a.max_steps]
        times = []
        for epoch in range(a.warmup + a.epochs):
            order = torch.randperm(cells, generator=g)
            loss_sum = 0.0
            sync()
            t0 = time.perf_counter()
            for s in starts:
                rows = order[s : s + batch]
                # gathered on the device from the resident matrix (only the index travels), or
                # gathered on the host and uploaded
                x = X[rows.to(dev)] if resident else X[rows].to(dev)
                if graph_step is not None:
                    loss = graph_step(x)
                else:
                    opt.zero_grad(set_to_none=False)  # cellgrad zero-fills too
                    loss = forward_loss(x)
                    loss.backward()
                    opt.step()
                loss_sum += loss.item()
            sync()
            if epoch >= a.warmup:
                times.append(time.perf_counter() - t0)
                mean_loss = loss_sum / len(starts)
        epoch_ms = 1e3 * sum(times) / len(times)
        print("SCGEN_TORCH device=%s batch=%d threads=%d steps_per_epoch=%d epochs=%d epoch_ms=%.3f step_ms=%.4f loss=%.4f mode=%s feed=%s"
              % (a.device, batch, a.threads, len(starts), a.epochs, epoch_ms, epoch_ms / len(starts), mean_loss, a.mode,
                 "device" if resident else "host"))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
