#!/usr/bin/env python3
"""Compares two runs' metrics.json (a CPU run and the same run on CUDA) for scripts/gpu_check.sh.

Keys are paths through the JSON with '/' and may hold shell-style wildcards
('translation/*/r2'). Every --keys value must agree within --tol (absolute); --info keys are
shown beside them but decide nothing. Prints one line (the reason gpu_check.sh shows) and exits 0
when every compared value agrees, 1 when one does not or a key matches nothing, 2 on a bad file.
With one file (--show), prints the values of the keys in it instead.
Usage: gpu_compare_metrics.py CPU.json CUDA.json --keys K1,K2 [--info K3] [--tol 0.005]
       gpu_compare_metrics.py --show RUN.json --keys K1,K2
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*")
    ap.add_argument("--show")
    ap.add_argument("--keys", required=True)
    ap.add_argument("--info", default="")
    ap.add_argument("--tol", type=float, default=0.005)
    a = ap.parse_args()
    patterns = [k for k in a.keys.split(",") if k]
    info = [k for k in a.info.split(",") if k]
    if a.show:
        flat = load(a.show)
        keys = pick(flat, patterns + info)
        if not keys:
            print("none of %s in %s" % (a.keys, a.show))
            return 1
        print(", ".join("%s %.4f" % (k, flat[k]) for k in keys))
        return 0
    if len(a.files) != 2:
        ap.error("two metrics.json files (CPU, CUDA) or --show FILE")
    cpu, gpu = load(a.files[0]), load(a.files[1])
    keys = pick(cpu, patterns)
    missing = [p for p in patterns if not pick(cpu, [p]) or not pick(gpu, [p])]
    if missing:
        print("no value for %s in one of the runs" % ", ".join(missing))
        return 1
    worst_key, worst = None, -1.0
    bad = []
    for k in keys:
        c, g = cpu[k], gpu.get(k, float("nan"))
        d = abs(c - g) if math.isfinite(c) and math.isfinite(g) else float("inf")
        if not (d <= a.tol):
            bad.append("%s cpu %.4f cuda %.4f" % (k, c, g))
        if d > worst:
            worst_key, worst = k, d
    shown = ", ".join("%s cpu %.4f cuda %.4f" % (k, cpu[k], gpu.get(k, float("nan"))) for k in keys[:3])
    extra = ["%s cpu %.4f cuda %.4f" % (k, cpu[k], gpu.get(k, float("nan"))) for k in pick(cpu, info)]
    head = "%d values within %g: max |diff| %.4f (%s); %s" % (len(keys), a.tol, worst, worst_key, shown)
    if bad:
        head = "%d of %d values differ by more than %g: %s" % (len(bad), len(keys), a.tol, "; ".join(bad[:3]))
    print(head + ("; info: " + ", ".join(extra) if extra else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
