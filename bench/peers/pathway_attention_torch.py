#!/usr/bin/python3
"""Dense masked gene-to-pathway attention in PyTorch: the peer of bench/pathway_attention.cpp
(not a test). The same layer as cellgrad's nn::PathwayAttention with the hard mask: gene tokens
E * x, keys/values E W^T scaled by x, pathway queries, per-head logits [N, H, P, G] masked to
each pathway's genes, softmax over genes, weighted sum of values -> [N, P, d]. One step is
forward, loss = mean(activities^2), backward (no optimizer), timed after one warm-up step.

Memory: peak resident set growth of this process (ru_maxrss after the steps minus the RSS just
before the first one, parameters and input already allocated); PyTorch's CPU allocator keeps no statistics.

Prints one line:  PWATT_TORCH batch=32 pathways=64 step_ms=... peak_mb=...
Usage: pathway_attention_torch.py --members FILE --genes G --batch N [--dim 128] [--heads 8]
                                  [--reps 3] [--threads 2]
FILE: one line per pathway, its gene indices separated by spaces (an empty line: no genes).
"""
import argparse
import math
import resource
import time


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", required=True)
    ap.add_argument("--genes", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    with open(a.members) as f:
        rows = [[int(t) for t in line.split()] for line in f.read().split("\n")[:-1]]
    G, P, d, H, N = a.genes, len(rows), a.dim, a.heads, a.batch
    dh = d // H
    mask = torch.zeros(P, G, dtype=torch.bool)
    for p, r in enumerate(rows):
        mask[p, r] = True
    E = torch.randn(G, d, requires_grad=True)
    Qp = torch.randn(P, d, requires_grad=True)
    Wq, Wk, Wv = (torch.nn.Linear(d, d, bias=False) for _ in range(3))
    x = torch.rand(N, G)
    outside = ~mask
    empty = ~mask.any(1)

    def step():
        q = Wq(Qp) / math.sqrt(dh)                                   # [P, d]
        ke, ve = Wk(E), Wv(E)                                        # [G, d]
        k = x[:, :, None] * ke[None]                                 # [N, G, d]
        v = x[:, :, None] * ve[None]
        qh = q.view(P, H, dh).permute(1, 0, 2)                       # [H, P, dh]
        kh = k.view(N, G, H, dh).permute(0, 2, 3, 1)                 # [N, H, dh, G]
        vh = v.view(N, G, H, dh).permute(0, 2, 1, 3)                 # [N, H, G, dh]
        logits = torch.matmul(qh[None], kh)                          # [N, H, P, G]
        logits = logits.masked_fill(outside, -1e30)
        attn = torch.softmax(logits, -1).masked_fill(empty[:, None], 0.0)
        out = torch.matmul(attn, vh).permute(0, 2, 1, 3).reshape(N, P, d)
        loss = out.pow(2).mean()
        loss.backward()
        return loss.item()

    base = rss_mb()
    step()
    t0 = time.perf_counter()
    for _ in range(a.reps):
        step()
    ms = (time.perf_counter() - t0) * 1e3 / a.reps
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB -> MB
    print("PWATT_TORCH batch=%d pathways=%d step_ms=%.1f peak_mb=%.0f" % (N, P, ms, max(0.0, peak - base)),
          flush=True)


if __name__ == "__main__":
    main()
