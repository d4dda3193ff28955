#!/usr/bin/env python3
"""Compares two runs' metrics.json (a CPU run and the same run on CUDA) for scripts/gpu_check.sh.

Keys are paths through the JSON with '/' and may hold shell-style wildcards
('translation/*/r2'). Every --keys value must agree within --tol (absolute); --info keys are
shown beside them but decide nothing. Prints one line (the reason gpu_check.sh shows) and exits 0
when every compared value agrees, 1 when one does not or a key matches nothing, 2 on a bad file.
With one file (--show), prints the values of the keys in it instead.

Each side may be several runs that differ only in their seed (comma-separated files): the sides'
means are compared, within max(--tol, --spread x the larger of the two sides' seed standard
deviations). A trained model's metrics differ between seeds far more than between devices, and
float32 sums in another order make a GPU run a slightly different run: one seed per side can
disagree by the seed spread with nothing wrong (the first H200 run: scGen R^2 0.860 vs 0.881 at
20 epochs while every epoch's losses agreed within 0.5%).
Usage: gpu_compare_metrics.py CPU.json[,CPU2.json...] CUDA.json[,...] --keys K1,K2 [--info K3]
                              [--tol 0.005] [--spread 2]
       gpu_compare_metrics.py --show RUN.json[,RUN2.json...] --keys K1,K2
"""
import argparse
import fnmatch
import json
import math
import sys


def flatten(node, prefix=""):
    out = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(flatten(v, prefix + "/" + k if prefix else k))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        out[prefix] = float(node)
    return out


def pick(flat, patterns):
    keys = []
    for p in patterns:
        keys += sorted(k for k in flat if fnmatch.fnmatchcase(k, p) and k not in keys)
    return keys


def load(path):
    try:
        with open(path) as f:
            return flatten(json.load(f))
    except (OSError, ValueError) as e:
        print("cannot read %s: %s" % (path, e))
        sys.exit(2)


def load_runs(paths):
    """The mean and (with two or more runs) the sample standard deviation of every value."""
    runs = [load(p) for p in paths.split(",") if p]
    mean, sd = {}, {}
    for k in runs[0]:
        vals = [r.get(k, float("nan")) for r in runs]
        mean[k] = sum(vals) / len(vals)
        if len(vals) > 1:
            sd[k] = math.sqrt(sum((v - mean[k]) ** 2 for v in vals) / (len(vals) - 1))
    return mean, sd, len(runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*")
    ap.add_argument("--show")
    ap.add_argument("--keys", required=True)
    ap.add_argument("--info", default="")
    ap.add_argument("--tol", type=float, default=0.005)
    ap.add_argument("--spread", type=float, default=2.0)
    a = ap.parse_args()
    patterns = [k for k in a.keys.split(",") if k]
    info = [k for k in a.info.split(",") if k]
    if a.show:
        flat, _, _ = load_runs(a.show)
        keys = pick(flat, patterns + info)
        if not keys:
            print("none of %s in %s" % (a.keys, a.show))
            return 1
        print(", ".join("%s %.4f" % (k, flat[k]) for k in keys))
        return 0
    if len(a.files) != 2:
        ap.error("two metrics.json files (CPU, CUDA) or --show FILE")
    (cpu, cpu_sd, n_cpu), (gpu, gpu_sd, n_gpu) = load_runs(a.files[0]), load_runs(a.files[1])
    keys = pick(cpu, patterns)
    missing = [p for p in patterns if not pick(cpu, [p]) or not pick(gpu, [p])]
    if missing:
        print("no value for %s in one of the runs" % ", ".join(missing))
        return 1
    worst_key, worst = None, -1.0
    bad = []

    def tol_of(k):
        spread = max(cpu_sd.get(k, 0.0), gpu_sd.get(k, 0.0))
        return max(a.tol, a.spread * spread) if math.isfinite(spread) else a.tol

    def describe(k):
        sd = ""
        if k in cpu_sd and k in gpu_sd:
            sd = " (seed sd %.4f / %.4f)" % (cpu_sd[k], gpu_sd[k])
        return "%s cpu %.4f cuda %.4f%s" % (k, cpu[k], gpu.get(k, float("nan")), sd)

    for k in keys:
        c, g = cpu[k], gpu.get(k, float("nan"))
        d = abs(c - g) if math.isfinite(c) and math.isfinite(g) else float("inf")
        if not (d <= tol_of(k)):
            bad.append("%s > %.4f" % (describe(k), tol_of(k)))
        if d > worst:
            worst_key, worst = k, d
    seeds = " (means of %d / %d seeds; tolerance max(%g, %g x seed sd))" % (n_cpu, n_gpu, a.tol, a.spread) \
        if n_cpu > 1 or n_gpu > 1 else ""
    shown = ", ".join(describe(k) for k in keys[:3])
    extra = [describe(k) for k in pick(cpu, info)]
    head = "%d values agree%s: max |diff| %.4f (%s); %s" % (len(keys), seeds, worst, worst_key, shown)
    if bad:
        head = "%d of %d values differ%s: %s" % (len(bad), len(keys), seeds, "; ".join(bad[:3]))
    print(head + ("; info: " + ", ".join(extra) if extra else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
