#!/usr/bin/python3
"""PyTorch reference for tests/test_scgen_vs_torch.cpp (the whole scGen VAE, llm.c test_gpt2 style).

Run from the repository root, after building the test binary, with Debian's python3-torch:
    /usr/bin/python3 scripts/scgen_torch_reference.py [--bin build/bin/cellgrad_tests]
It runs the test binary's skipped case "scGen vs PyTorch: write the reference script's inputs",
which writes cellgrad's initial ScGenVAE weights, the batches (real Kang cells) and the
reparameterisation noise to a temporary HDF5 checkpoint; loads the weights into the PyTorch peer
model of bench/peers/scgen_torch.py (dropout 0); runs the same Adam steps in float32 on the CPU;
and writes tests/reference/scgen_vs_torch.txt (format: see the test file).

Each step's loss tolerance is measured here, not guessed: Adam's update is close to
lr * sign(gradient), so an entry whose gradient is near 0 moves by +-lr on a rounding
difference, and the losses of later steps drift apart at a rate that float32 rounding alone sets.
The script reruns the same steps in float64 and in float32 from initial weights moved by one
ulp at random (PERTURBED_RUNS seeds); the largest relative deviation of any loss term from the
float32 run, up to and including each step, times TOL_FACTOR (at least TOL_FLOOR), is that
step's tolerance. The gradients of the first step are compared at fixed tolerances (see the test).
"""
import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

OUT = "tests/reference/scgen_vs_torch.txt"
ENTRIES_PER_PARAM = 8
PERTURBED_RUNS = 8
TOL_FACTOR = 3.0
TOL_FLOOR = 2e-5
CONFIG_KEYS = ["genes", "latent", "batch", "steps", "seed", "alpha", "lr", "cell_stride", "gene_stride"]


def load_peer():
    spec = importlib.util.spec_from_file_location("scgen_torch", "bench/peers/scgen_torch.py")
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    return peer


def write_inputs(binary, path):
    env = dict(os.environ, CELLGRAD_SCGEN_TORCH_INPUTS=path)
    cmd = [binary, "--no-skip", "-tc=scGen vs PyTorch: write the reference script's inputs"]
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0 or not os.path.exists(path):
        sys.exit("%s failed (exit %d):\n%s" % (" ".join(cmd), r.returncode, r.stdout))


def read_inputs(path):
    with h5py.File(path, "r") as f:
        params = f["modules/model/parameters"]
        # Checkpoints store parameters in the model's own order (h5py lists them sorted by name),
        # so the order comes from cellgrad's naming: module path, then weight before bias.
        names = list(params.keys())
        weights = {n: np.asarray(params[n]) for n in names}
        x = np.asarray(f["modules/inputs/buffers/x"])
        eps = np.asarray(f["modules/inputs/buffers/eps"])
        config = {k: float(f["scalars/" + k][0]) for k in CONFIG_KEYS}
    return weights, x, eps, config


def cellgrad_order(names):
    """cellgrad's named_parameters() order: encoder (body, mu, logvar), then decoder; within a
    Sequential by layer index; weight before bias."""
    def key(n):
        parts = n.split(".")
        top = {"encoder": 0, "decoder": 1}[parts[0]]
        mid = parts[1:-1]
        if parts[0] == "encoder":
            sub = {"body": 0, "mu": 1, "logvar": 2}[mid[0]]
            idx = int(mid[1]) if len(mid) > 1 else 0
        else:
            sub, idx = 0, int(mid[0])
        return (top, sub, idx, {"weight": 0, "bias": 1}[parts[-1]])
    return sorted(names, key=key)


def build_model(peer, weights, config, dtype):
    model = peer.make_model(torch, int(config["genes"]), latent=int(config["latent"]), dropout=0.0)
    model = model.to(dtype)
    mine = cellgrad_order(list(weights.keys()))
    theirs = list(model.named_parameters())
    assert len(mine) == len(theirs), (len(mine), len(theirs))
    mapping = []
    with torch.no_grad():
        for cg_name, (t_name, p) in zip(mine, theirs):
            w = torch.from_numpy(weights[cg_name])
            assert tuple(w.shape) == tuple(p.shape), (cg_name, t_name, w.shape, p.shape)
            p.copy_(w.to(dtype))
            mapping.append((cg_name, t_name, p))
    model.train()
    return model, mapping


def pre_norm_biases(model, mapping):
    """cellgrad names of the biases of Linear layers that feed a BatchNorm (their gradient is 0
    in exact arithmetic)."""
    feeding = set()
    for seq in (model.body, model.decoder):
        mods = list(seq.named_modules())[1:]
        for (name, m), (_, nxt) in zip(mods, mods[1:]):
            if isinstance(m, torch.nn.Linear) and isinstance(nxt, torch.nn.BatchNorm1d):
                feeding.add(id(m.bias))
    return {cg for cg, _, p in mapping if id(p) in feeding}


def run(peer, weights, x, eps, config, dtype):
    model, mapping = build_model(peer, weights, config, dtype)
    opt = torch.optim.Adam(model.parameters(), lr=config["lr"])
    alpha = config["alpha"]
    losses, grads = [], {}
    for step in range(int(config["steps"])):
        xb = torch.from_numpy(x[step]).to(dtype)
        e = torch.from_numpy(eps[step]).to(dtype)
        opt.zero_grad(set_to_none=False)
        # The peer's forward with the recorded noise in place of torch.randn_like.
        h = model.body(xb)
        mu, logvar = model.mu(h), model.logvar(h)
        z = mu + e * torch.exp(0.5 * logvar)
        x_hat = model.decoder(z)
        loss = peer.scgen_loss(torch, xb, x_hat, mu, logvar, alpha=alpha)
        n = xb.shape[0]
        rec = 0.5 * torch.sum((x_hat - xb) ** 2) / n
        kl = 0.5 * torch.sum(torch.exp(logvar) + mu ** 2 - logvar - 1.0) / n
        loss.backward()
        losses.append((loss.item(), rec.item(), kl.item()))
        if step == 0:
            grads = {cg: p.grad.detach().double().numpy().ravel().copy() for cg, _, p in mapping}
        opt.step()
    return losses, grads, pre_norm_biases(model, mapping)


def one_ulp_perturbed(weights, seed):
    rng = np.random.RandomState(seed)
    out = {}
    for n, w in weights.items():
        d = rng.randint(-1, 2, size=w.shape)
        up, down = np.nextafter(w, np.float32(np.inf)), np.nextafter(w, np.float32(-np.inf))
        out[n] = np.where(d > 0, up, np.where(d < 0, down, w)).astype(np.float32)
    return out


def loss_tolerances(peer, weights, x, eps, config, losses):
    """Per step: TOL_FACTOR x the largest relative deviation of the losses, over float64 and
    one-ulp-perturbed float32 runs, up to that step (floor TOL_FLOOR)."""
    base = np.array(losses)
    runs = [run(peer, weights, x, eps, config, torch.float64)[0]]
    runs += [run(peer, one_ulp_perturbed(weights, 100 + s), x, eps, config, torch.float32)[0]
             for s in range(PERTURBED_RUNS)]
    dev = np.zeros(len(losses))
    for r in runs:
        dev = np.maximum(dev, (np.abs(np.array(r) - base) / np.abs(base)).max(axis=1))
    envelope = np.maximum.accumulate(dev)
    return np.maximum(TOL_FLOOR, TOL_FACTOR * envelope), dev, runs[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin/cellgrad_tests", help="the cellgrad test binary")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args()
    torch.set_num_threads(1)
    peer = load_peer()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scgen_inputs.h5")
        write_inputs(a.bin, path)
        weights, x, eps, config = read_inputs(path)

    losses, grads, zero_in_exact = run(peer, weights, x, eps, config, torch.float32)
    _, grads64, _ = run(peer, weights, x, eps, config, torch.float64)
    tolerances, deviations, losses64 = loss_tolerances(peer, weights, x, eps, config, losses)

    rng = np.random.RandomState(0)
    lines = [
        "# scGen VAE, PyTorch %s float32 CPU: reference for tests/test_scgen_vs_torch.cpp." % torch.__version__,
        "# Generated by: /usr/bin/python3 scripts/scgen_torch_reference.py (do not edit by hand).",
        "# Lines: config KEY VALUE | init PARAM NUMEL SUM NORM | loss STEP TOTAL RECONSTRUCTION KL RTOL |",
        "#        gradnorm PARAM NUMEL NORM ZERO_IN_EXACT_ARITHMETIC | grad PARAM FLAT_INDEX VALUE",
    ]
    for k in CONFIG_KEYS:
        lines.append("config %s %.17g" % (k, config[k]))
    names = cellgrad_order(list(weights.keys()))
    for n in names:
        w = weights[n].astype(np.float64).ravel()
        lines.append("init %s %d %.17g %.17g" % (n, w.size, w.sum(), np.sqrt(np.dot(w, w))))
    for step, (t, r, k) in enumerate(losses):
        lines.append("loss %d %.9g %.9g %.9g %.3g" % (step, t, r, k, tolerances[step]))
    for n in names:
        g = grads[n]
        lines.append("gradnorm %s %d %.9g %d" % (n, g.size, np.sqrt(np.dot(g, g)), int(n in zero_in_exact)))
    for n in names:
        if n in zero_in_exact:
            continue
        g = grads[n]
        picks = sorted(set(rng.choice(g.size, size=min(ENTRIES_PER_PARAM, g.size), replace=False).tolist()))
        for i in picks:
            lines.append("grad %s %d %.9g" % (n, i, g[i]))
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")

    # How far float32 alone moves PyTorch (float64 as the truth): the scale for the test's tolerances.
    loss_dev = max(abs(a32 - a64) / abs(a64) for l32, l64 in zip(losses, losses64) for a32, a64 in zip(l32, l64))
    norm_dev, entry_dev = 0.0, 0.0
    for n in names:
        if n in zero_in_exact:
            continue
        g, g64 = grads[n], grads64[n]
        n64 = np.sqrt(np.dot(g64, g64))
        norm_dev = max(norm_dev, abs(np.sqrt(np.dot(g, g)) - n64) / n64)
        rms = n64 / np.sqrt(g.size)
        entry_dev = max(entry_dev, float(np.max(np.abs(g - g64) / (1e-3 * np.abs(g64) + 1e-4 * rms))))
    print("wrote %s (%d lines)" % (a.out, len(lines)))
    print("PyTorch float32 vs float64: losses %.3g relative; gradient norms %.3g relative; "
          "gradient entries %.3g of the test's bound" % (loss_dev, norm_dev, entry_dev))
    print("loss deviations under rounding-level perturbations, per step: %s" % " ".join("%.2g" % d for d in deviations))
    print("loss tolerances per step (relative): %s" % " ".join("%.2g" % t for t in tolerances))
    return 0


if __name__ == "__main__":
    sys.exit(main())
