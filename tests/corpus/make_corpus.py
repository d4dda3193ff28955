#!/usr/bin/env python3
"""Writes the bad-input corpus (issue 14) into DIR: hostile .h5ad files, configs and command lines
for the three apps, and DIR/cases.tsv, one case per line:
    name <TAB> app <TAB> arguments (with {out} for the output folder) <TAB> expected text in the error
Every case is bad input or a hostile situation: the app must end with exactly one error line
naming the problem, a non-zero exit that is not a signal, and no output or staging debris
(tests/test_bad_input_corpus.cpp runs them). Nothing is committed but this script; files are
made at test time from a small valid dataset built here with h5py (as anndata writes them).
Usage: make_corpus.py DIR
"""
import json
import os
import sys

import h5py
import numpy as np

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
cases = []
STR = h5py.string_dtype("utf-8")
N_CELLS, N_GENES = 24, 12


def path(name):
    return os.path.join(OUT, name)


def case(name, app, args, expect=""):
    cases.append((name, app, args, expect))


# ---- a valid dataset, written as anndata 0.8+ does, with knobs to break it --------------------
def write_h5ad(name, X=None, obs_names=None, var_names=None, obs=None, x_kind="dense", skip=(),
               x_dtype=np.float32, attrs=None, mutate=None):
    rng = np.random.default_rng(0)
    if X is None:
        X = np.log1p(rng.poisson(2.0, (N_CELLS, N_GENES)).astype(np.float64)).astype(x_dtype)
    n, g = (X.shape[0], X.shape[1]) if X.ndim == 2 else (N_CELLS, N_GENES)
    obs_names = obs_names if obs_names is not None else [f"c{i}" for i in range(n)]
    var_names = var_names if var_names is not None else [f"g{j}" for j in range(g)]
    if obs is None:
        obs = {"cell_type": (["A", "B", "C"], np.array([i % 3 for i in range(n)], dtype=np.int8)),
               "condition": (["control", "stim"], np.array([(i // 3) % 2 for i in range(n)], dtype=np.int8))}
    with h5py.File(path(name), "w") as f:
        f.attrs["encoding-type"] = "anndata"
        f.attrs["encoding-version"] = "0.1.0"
        if "X" not in skip:
            if x_kind == "dense":
                f.create_dataset("X", data=X)
            else:
                import scipy.sparse as sp
                m = sp.csr_matrix(X)
                gx = f.create_group("X")
                gx.attrs["encoding-type"] = "csr_matrix"
                gx.attrs["encoding-version"] = "0.1.0"
                gx.attrs["shape"] = np.array(X.shape, dtype=np.int64)
                gx.create_dataset("data", data=m.data.astype(x_dtype))
                gx.create_dataset("indices", data=m.indices.astype(np.int32))
                gx.create_dataset("indptr", data=m.indptr.astype(np.int64))
        for key, names, cols in (("obs", obs_names, obs), ("var", var_names, {})):
            if key in skip:
                continue
            gr = f.create_group(key)
            gr.attrs["encoding-type"] = "dataframe"
            gr.attrs["encoding-version"] = "0.2.0"
            gr.attrs["_index"] = "_index"
            gr.attrs["column-order"] = np.array(list(cols.keys()), dtype=object).astype(STR) if cols else np.array([], dtype=np.float64)
            gr.create_dataset("_index", data=np.array(names, dtype=object), dtype=STR)
            for c, (cats, codes) in cols.items():
                cg = gr.create_group(c)
                cg.attrs["encoding-type"] = "categorical"
                cg.attrs["encoding-version"] = "0.2.0"
                cg.attrs["ordered"] = False
                cg.create_dataset("categories", data=np.array(cats, dtype=object), dtype=STR)
                cg.create_dataset("codes", data=codes)
        for k in ("layers", "obsm", "uns"):
            gg = f.create_group(k)
            gg.attrs["encoding-type"] = "dict"
            gg.attrs["encoding-version"] = "0.1.0"
        if attrs:
            for k, v in attrs.items():
                f[k[0]].attrs[k[1]] = v
        if mutate:
            mutate(f)
    return path(name)


good = write_h5ad("good.h5ad")
good_b = write_h5ad("good_b.h5ad", X=np.random.default_rng(1).normal(size=(N_CELLS, 5)).astype(np.float32),
                    var_names=[f"p{j}" for j in range(5)])
counts = write_h5ad("counts.h5ad", X=np.random.default_rng(2).poisson(3.0, (N_CELLS, N_GENES)).astype(np.float32))

PP_CHEAP = "--seeds 0 --device cpu --bootstrap 2 --pca-components 2 --top-degs 5"


def pp(d, extra=""):
    return f"--data {d} --models control,shift --held-out A {PP_CHEAP} {extra} --out {{out}}"


def tm(a, b=None, extra=""):
    return f"--modality A={a} --modality B={b or good_b} --epochs 2 {extra} --out {{out}}"


def ae(d, extra=""):
    return f"--data {d} --label-key cell_type {extra} --out {{out}}"


def each_app(name, bad_file, expect=""):
    """The same bad file given to all three apps (train_multitask: as its first modality)."""
    case(name + "/pp", "predict_perturbation", pp(bad_file), expect)
    case(name + "/tm", "train_multitask", tm(bad_file), expect)
    case(name + "/ae", "analyze_encoding", ae(bad_file), expect)


# ---- 1. not an HDF5 file at all -----------------------------------------------------------------
raw = open(good, "rb").read()
open(path("empty.h5ad"), "wb").close()
each_app("empty file", path("empty.h5ad"))
open(path("text.h5ad"), "w").write("cell,gene\nc0,1\n")
each_app("text file", path("text.h5ad"))
open(path("random.h5ad"), "wb").write(np.random.default_rng(3).bytes(4096))
each_app("random bytes", path("random.h5ad"))
os.makedirs(path("a_folder.h5ad"), exist_ok=True)
each_app("a folder", path("a_folder.h5ad"))
each_app("missing file", path("absent.h5ad"), "absent.h5ad")
if not os.path.lexists(path("loop.h5ad")):
    os.symlink("loop.h5ad", path("loop.h5ad"))
each_app("symlink loop", path("loop.h5ad"))

# ---- 2. truncated copies of a valid file (HDF5 checks its end-of-file address) -------------------
for frac in (0.02, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.97, 0.995):
    n = f"trunc_{int(frac * 1000):03d}.h5ad"
    open(path(n), "wb").write(raw[: int(len(raw) * frac)])
    each_app(f"truncated at {frac:.1%}", path(n))

# ---- 3. the structure anndata writes, broken one piece at a time --------------------------------
def bad(name, expect="", apps=("pp", "tm", "ae"), **kw):
    p = write_h5ad(name.replace(" ", "_") + ".h5ad", **kw)
    for a in apps:
        if a == "pp":
            case(name + "/pp", "predict_perturbation", pp(p), expect)
        elif a == "tm":
            case(name + "/tm", "train_multitask", tm(p), expect)
        else:
            case(name + "/ae", "analyze_encoding", ae(p), expect)


bad("no X", "X", skip=("X",))
bad("no obs", "obs", skip=("obs",))
bad("no var", "var", skip=("var",))
bad("X 1-D", X=np.zeros(N_CELLS, dtype=np.float32))
bad("X 3-D", X=np.zeros((N_CELLS, N_GENES, 2), dtype=np.float32))
bad("X rows != obs", X=np.ones((N_CELLS - 1, N_GENES), dtype=np.float32), obs_names=[f"c{i}" for i in range(N_CELLS)],
    obs={"cell_type": (["A", "B", "C"], np.array([i % 3 for i in range(N_CELLS)], dtype=np.int8)),
         "condition": (["control", "stim"], np.array([(i // 3) % 2 for i in range(N_CELLS)], dtype=np.int8))})
bad("X cols != var", var_names=[f"g{j}" for j in range(N_GENES + 3)])
bad("X of strings", mutate=lambda f: (f.__delitem__("X"), f.create_dataset("X", data=np.array([["a"] * N_GENES] * N_CELLS, dtype=object), dtype=STR)))
nanX = np.log1p(np.random.default_rng(0).poisson(2.0, (N_CELLS, N_GENES))).astype(np.float32)
nanX[5, 3] = np.nan
bad("NaN in X", "NaN", X=nanX, apps=("pp", "ae"))
infX = nanX.copy(); infX[5, 3] = np.inf
bad("Inf in X", X=infX, apps=("pp", "ae"))
negX = np.abs(nanX.copy()); negX[np.isnan(negX)] = 0; negX[2, 2] = -1.5
bad("negative in X", X=negX, apps=("pp", "ae"))
bad("all-zero X", X=np.zeros((N_CELLS, N_GENES), dtype=np.float32), apps=("pp", "ae"))
bad("0 genes", X=np.zeros((N_CELLS, 0), dtype=np.float32), var_names=[])
bad("0 cells", X=np.zeros((0, N_GENES), dtype=np.float32), obs_names=[],
    obs={"cell_type": (["A"], np.zeros(0, dtype=np.int8)), "condition": (["control"], np.zeros(0, dtype=np.int8))})
bad("duplicate cell names", obs_names=["c0"] * N_CELLS, apps=("tm",))
# CSR X broken in every field
def csr_mut(fn):
    def m(f):
        fn(f["X"])
    return m
bad("csr indptr decreasing", x_kind="csr", mutate=csr_mut(lambda g: g["indptr"].__setitem__(5, 0)))
bad("csr indptr short", x_kind="csr", mutate=csr_mut(lambda g: (g.__delitem__("indptr"), g.create_dataset("indptr", data=np.arange(5, dtype=np.int64)))))
bad("csr index out of range", x_kind="csr", mutate=csr_mut(lambda g: g["indices"].__setitem__(0, 10 ** 6)))
bad("csr negative index", x_kind="csr", mutate=csr_mut(lambda g: g["indices"].__setitem__(0, -3)))
bad("csr data shorter than indices", x_kind="csr", mutate=csr_mut(lambda g: (g.__delitem__("data"), g.create_dataset("data", data=np.ones(3, dtype=np.float32)))))
bad("csr no shape", x_kind="csr", mutate=csr_mut(lambda g: g.attrs.__delitem__("shape")))
bad("csr huge shape", x_kind="csr", mutate=csr_mut(lambda g: g.attrs.__setitem__("shape", np.array([2 ** 40, 2 ** 40], dtype=np.int64))))
bad("csr unknown encoding", x_kind="csr", mutate=csr_mut(lambda g: g.attrs.__setitem__("encoding-type", "bsr_matrix")))
bad("csr no indices", x_kind="csr", mutate=csr_mut(lambda g: g.__delitem__("indices")))
bad("csr float indptr", x_kind="csr", mutate=csr_mut(lambda g: (g.__delitem__("indptr"), g.create_dataset("indptr", data=np.linspace(0, 10, N_CELLS + 1)))))
# obs columns
def obs_mut(fn):
    def m(f):
        fn(f["obs"])
    return m
bad("codes out of range", obs={"cell_type": (["A", "B"], np.array([i % 3 for i in range(N_CELLS)], dtype=np.int8)),
                               "condition": (["control", "stim"], np.array([(i // 3) % 2 for i in range(N_CELLS)], dtype=np.int8))},
    apps=("pp", "ae"))
bad("codes below -1", obs={"cell_type": (["A", "B", "C"], np.array([-5] + [i % 3 for i in range(1, N_CELLS)], dtype=np.int8)),
                           "condition": (["control", "stim"], np.array([(i // 3) % 2 for i in range(N_CELLS)], dtype=np.int8))},
    apps=("pp", "ae"))
bad("codes of floats", mutate=obs_mut(lambda g: (g["cell_type"].__delitem__("codes"), g["cell_type"].create_dataset("codes", data=np.full(N_CELLS, 0.5)))), apps=("pp", "ae"))
bad("codes too short", mutate=obs_mut(lambda g: (g["cell_type"].__delitem__("codes"), g["cell_type"].create_dataset("codes", data=np.zeros(3, dtype=np.int8)))), apps=("pp", "ae"))
bad("categories missing", mutate=obs_mut(lambda g: g["cell_type"].__delitem__("categories")), apps=("pp", "ae"))
bad("column-order names a missing column", mutate=obs_mut(lambda g: g.attrs.__setitem__("column-order", np.array(["cell_type", "condition", "ghost"], dtype=object).astype(STR))))
bad("obs index missing", mutate=obs_mut(lambda g: g.__delitem__("_index")))
bad("obs index of numbers", mutate=obs_mut(lambda g: (g.__delitem__("_index"), g.create_dataset("_index", data=np.arange(N_CELLS)))), apps=("tm",))
bad("obs index too short", mutate=obs_mut(lambda g: (g.__delitem__("_index"), g.create_dataset("_index", data=np.array(["c0"], dtype=object), dtype=STR))))
bad("obs column too long", mutate=obs_mut(lambda g: (
    g.create_dataset("extra", data=np.zeros(N_CELLS + 7)),
    g.attrs.__setitem__("column-order", np.array(["cell_type", "condition", "extra"], dtype=object).astype(STR)))))
bad("obs not a group", mutate=lambda f: (f.__delitem__("obs"), f.create_dataset("obs", data=np.zeros(3))))
bad("var not a group", mutate=lambda f: (f.__delitem__("var"), f.create_dataset("var", data=np.zeros(3))))
bad("X a group without encoding", mutate=lambda f: (f.__delitem__("X"), f.create_group("X")))
bad("non-UTF-8 cell name", mutate=obs_mut(lambda g: (g.__delitem__("_index"), g.create_dataset("_index", data=np.array([b"c\xff\xfe"] + [f"c{i}".encode() for i in range(1, N_CELLS)], dtype=object), dtype=h5py.string_dtype("ascii")))))
bad("non-UTF-8 gene name", mutate=lambda f: (f["var"].__delitem__("_index"), f["var"].create_dataset("_index", data=np.array([b"g\xc3"] + [f"g{i}".encode() for i in range(1, N_GENES)], dtype=object), dtype=h5py.string_dtype("ascii"))))
bad("global heap shrunk", mutate=None)
# the global heap corruption that makes libhdf5 1.10 itself crash (see test_hdf5_crash_inputs.cpp)
b = bytearray(open(path("global_heap_shrunk.h5ad"), "rb").read())
at = b.find(b"GCOL\x01")
if at >= 0:
    b[at + 8: at + 16] = (16).to_bytes(8, "little")
    open(path("global_heap_shrunk.h5ad"), "wb").write(bytes(b))

# ---- 4. keys, labels and values the file does not have -----------------------------------------
case("held-out type absent", "predict_perturbation", f"--data {good} --models control --held-out Z {PP_CHEAP} --out {{out}}", "Z")
case("condition key absent", "predict_perturbation", pp(good, "--condition-key treatment"), "treatment")
case("cell type key absent", "predict_perturbation", pp(good, "--cell-type-key celltype"), "celltype")
case("control value absent", "predict_perturbation", pp(good, "--control ctrl"), "ctrl")
case("stimulated value absent", "predict_perturbation", pp(good, "--stimulated IFN"), "IFN")
case("layer absent/pp", "predict_perturbation", pp(good, "--layer counts"), "counts")
case("use-raw without raw/pp", "predict_perturbation", pp(good, "--use-raw"), "raw")
case("unknown model", "predict_perturbation", f"--data {good} --models scgen,magic --held-out A {PP_CHEAP} --out {{out}}", "magic")
case("counts given as log-normalised", "predict_perturbation", pp(counts), "counts")
case("label key absent/tm", "train_multitask", tm(good, extra="--label-key celltype"), "celltype")
case("label key absent/ae", "analyze_encoding", f"--data {good} --label-key celltype --out {{out}}", "celltype")
case("batch key absent/ae", "analyze_encoding", ae(good, "--batch-key donor"), "donor")
case("batch key with one batch/ae", "analyze_encoding", ae(good, "--batch-key cell_type_single"), "")
case("unknown encoding/ae", "analyze_encoding", ae(good, "--encodings rank,word2vec"), "word2vec")
case("one modality/tm", "train_multitask", f"--modality A={good} --out {{out}}", "")
case("same modality name twice/tm", "train_multitask", f"--modality A={good} --modality A={good_b} --out {{out}}", "A")
case("modality without a file/tm", "train_multitask", f"--modality A= --modality B={good_b} --out {{out}}", "")
case("modality without =/tm", "train_multitask", f"--modality A{good} --modality B={good_b} --out {{out}}", "")
unpaired = write_h5ad("unpaired.h5ad", X=np.ones((N_CELLS, 5), dtype=np.float32), var_names=[f"p{j}" for j in range(5)],
                      obs_names=[f"other{i}" for i in range(N_CELLS)])
case("no shared cells/tm", "train_multitask", tm(good, unpaired), "")
case("unknown preprocess/tm", "train_multitask", tm(good, extra="--preprocess A=zscore"), "zscore")
case("preprocess for an absent modality/tm", "train_multitask", tm(good, extra="--preprocess C=log1p"), "C")
case("nb on non-integers/tm", "train_multitask", tm(good, extra="--distance A=nb --no-discriminator"), "integer")
case("unknown distance/tm", "train_multitask", tm(good, extra="--distance A=cosine"), "cosine")
case("unknown translator/tm", "train_multitask", tm(good, extra="--model transformer"), "transformer")
case("top-features zero/tm", "train_multitask", tm(good, extra="--top-features A=0"), "")
case("layer absent/tm", "train_multitask", tm(good, extra="--layer A=counts"), "counts")
# pathway encoders (--encoder NAME=KIND, --gene-sets NAME=FILE): A's genes are g0..g11, B's p0..p4
with open(path("sets.gmt"), "w") as f:
    f.write("S1\tfirst\tg0\tg1\tg2\tg3\tg4\tg5\nS2\tsecond\tg6\tg7\tg8\tg9\tg10\tg11\n")
with open(path("human.gmt"), "w") as f:
    f.write("HALLMARK_A\tx\tCD3E\tCD4\tCD8A\nHALLMARK_B\tx\tMS4A1\tCD19\n")
sets = path("sets.gmt")
case("unknown encoder kind/tm", "train_multitask", tm(good, extra="--encoder A=transformer"), "transformer")
case("pathway encoder without gene sets/tm", "train_multitask", tm(good, extra="--encoder A=pathway-attention"), "--gene-sets A=FILE")
case("gene sets matching no gene/tm", "train_multitask",
     tm(good, extra=f"--encoder A=masked-linear --gene-sets A={path('human.gmt')}"), "none of the 5 genes in 2 gene sets")
case("mask soft without gene sets/tm", "train_multitask", tm(good, extra="--mask soft"), "--mask soft")
case("embed not divisible by heads/tm", "train_multitask",
     tm(good, extra=f"--encoder A=pathway-attention --gene-sets A={sets} --heads 4 --embed 6"), "not divisible")
case("pathway encoder on a non-gene modality/tm", "train_multitask",
     tm(good, extra=f"--encoder B=pathway-attention --gene-sets B={sets}"), "none of the 12 genes in 2 gene sets")

# ---- 5. numbers out of range or not numbers -----------------------------------------------------
for flag, val in (("--epochs", "-1"), ("--epochs", "0"), ("--epochs", "1e30"), ("--epochs", "ten"),
                  ("--lr", "-0.1"), ("--lr", "nan"), ("--batch-size", "0"), ("--seeds", "x,y"),
                  ("--top-degs", "-5"), ("--bootstrap", "-1"), ("--pca-components", "0"),
                  ("--epochs", "99999999999999999999")):
    base = f"--data {good} --models scgen --held-out A --device cpu"
    extra = "" if flag in ("--epochs", "--lr", "--batch-size") else " --epochs 2"
    case(f"pp {flag} {val}", "predict_perturbation", f"{base}{extra} {flag} {val} --out {{out}}", flag)
for flag, val in (("--epochs", "-3"), ("--test-fraction", "1.5"), ("--test-fraction", "-0.2"), ("--folds", "1"),
                  ("--lr", "0"), ("--top-features", "A=99999999999999999999"), ("--batch-size", "-8"),
                  ("--seed", "-1"), ("--folds", "1000")):
    base = f"--modality A={good} --modality B={good_b}"
    extra = "" if flag == "--epochs" else " --epochs 2"
    case(f"tm {flag} {val}", "train_multitask", f"{base}{extra} {flag} {val} --out {{out}}", flag.lstrip("-").split("-")[0])
for flag, val in (("--neighbors", "0"), ("--neighbors", "-4"), ("--pca-components", "0"), ("--bins", "1"),
                  ("--rank-length", "0"), ("--top-genes", "-1")):
    case(f"ae {flag} {val}", "analyze_encoding", ae(good, f"{flag} {val}"), flag)

# ---- 6. configs --------------------------------------------------------------------------------
def config(name, text):
    with open(path(name), "w") as f:
        f.write(text)
    return path(name)


for app, args in (("predict_perturbation", f"--data {good} --held-out A --device cpu --out {{out}}"),
                  ("train_multitask", f"--modality A={good} --modality B={good_b} --out {{out}}"),
                  ("analyze_encoding", f"--data {good} --label-key cell_type --out {{out}}")):
    short = {"predict_perturbation": "pp", "train_multitask": "tm", "analyze_encoding": "ae"}[app]
    case(f"config missing/{short}", app, f"--config {path('absent.json')} {args}", "absent.json")
    case(f"config not JSON/{short}", app, f"--config {config(short + '_bad.json', '{epochs: 3')} {args}", "")
    case(f"config a list/{short}", app, f"--config {config(short + '_list.json', '[1, 2]')} {args}", "")
    case(f"config unknown key/{short}", app, f"--config {config(short + '_unknown.json', json.dumps({'epochz': 3}))} {args}", "epochz")
    case(f"config wrong type/{short}", app, f"--config {config(short + '_type.json', json.dumps({'seed': 'many'}))} {args}", "seed")
    huge = config(short + "_huge.json", '{"seed": 1e30}')
    case(f"config huge number/{short}", app, f"--config {huge} {args}", "seed")
    neg = config(short + "_negseed.json", '{"seed": -1}')
    case(f"config negative seed/{short}", app, f"--config {neg} {args}", "seed")
    case(f"config empty file/{short}", app, f"--config {config(short + '_empty.json', '')} {args}", "")

# ---- 7. command lines --------------------------------------------------------------------------
for app, short, args in (("predict_perturbation", "pp", pp(good)), ("train_multitask", "tm", tm(good)),
                         ("analyze_encoding", "ae", ae(good))):
    case(f"unknown flag/{short}", app, args + " --frobnicate 3", "frobnicate")
    case(f"flag given twice/{short}", app, args + " --seed 1 --seed 2", "seed")
    case(f"no --out/{short}", app, args.replace(" --out {out}", ""), "out")
    case(f"--out is a file/{short}", app, args.replace("{out}", good), "")
    case(f"negative seed/{short}", app, args + " --seed -1", "seed")
    case(f"non-UTF-8 argument/{short}", app, args + " --label-key \"$(printf '\\377')\"", "UTF-8")
case("no --data/pp", "predict_perturbation", "--models control --out {out}", "data")
case("no --data/ae", "analyze_encoding", "--label-key cell_type --out {out}", "data")
case("no --label-key/ae", "analyze_encoding", f"--data {good} --out {{out}}", "label")
case("unknown subcommand/pp", "predict_perturbation", "evaluate --out {out}", "")
case("predict without a model/pp", "predict_perturbation", f"predict --data {good} --model {path('no_model')} --out {{out}}", "no_model")
case("predict without a model/tm", "train_multitask", f"predict --model {path('no_model')} --modality A={good} --out {{out}}", "no_model")
case("device unknown/pp", "predict_perturbation", pp(good).replace("--device cpu", "--device tpu"), "tpu")
case("device unknown/tm", "train_multitask", tm(good, extra="--device tpu"), "tpu")

with open(path("cases.tsv"), "w") as f:
    for c in cases:
        assert "\t" not in "".join(c) and "\n" not in "".join(c), c
        f.write("\t".join(c) + "\n")
print(len(cases))
