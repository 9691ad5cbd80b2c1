#!/usr/bin/python3
"""Swap VAD decision and GMM trainer between slid and the Python peer on cached features (feats.py).
usage: swap_eval.py TRAIN.npz TEST.npz[,TEST2.npz...] --vad slid|peer|... --trainer slid|sk [--tag T]
Prints accuracy (all; >3 s mean over languages) and writes scores and models under --out (exp/swap)"""
import argparse, os, sys, time, pickle
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("SLID_PYTHONPATH", os.path.join(HERE, "../../../build/python")))
import numpy as np, slid
from sklearn.mixture import GaussianMixture

ap = argparse.ArgumentParser()
ap.add_argument("train"); ap.add_argument("tests")
ap.add_argument("--vad", default="slid"); ap.add_argument("--trainer", default="slid")
ap.add_argument("--num-gauss", type=int, default=256); ap.add_argument("--iters", type=int, default=20)
ap.add_argument("--seed", type=int, default=0); ap.add_argument("--tag", default=None); ap.add_argument("--out", default="exp/swap")
ap.add_argument("--var-floor", type=float, default=None); ap.add_argument("--reg-covar", type=float, default=1e-3)
ap.add_argument("--langs", default=None, help="comma list: train and score only these languages")
ap.add_argument("--cap-frames", type=int, default=0, help="random subset of at most this many training frames per language")
ap.add_argument("--models", default=None, help="score with these pickled models instead of training")
ap.add_argument("--norm", default="none", help="none | uttcmvn (per-utterance mean/var over voiced frames, all 56 dims)")
a = ap.parse_args()
tag = a.tag or f"{a.vad}-{a.trainer}"

def mask(z, i, kind):
    c0, en = z["c0"][i], z["en"][i]
    if len(c0) == 0: return np.zeros(0, bool)
    if kind == "slid": return c0 > 5.0 + 0.5 * c0.mean()  # slid before 2026-12: C0, threshold 5
    if kind == "peer": return en > 5.5 + 0.5 * en.mean()
    if kind == "none": return np.ones(len(c0), bool)
    if kind.startswith("peerc"):  # peer rule with another constant
        return en > float(kind[5:]) + 0.5 * en.mean()
    if kind.startswith("slidc"):
        return c0 > float(kind[5:]) + 0.5 * c0.mean()
    raise SystemExit("vad?")

def feats(z, kind):
    out = []
    for i in range(len(z["utts"])):
        f = z["sdc"][i][mask(z, i, kind)]
        if a.norm == "uttcmvn" and len(f) > 1:
            f = (f - f.mean(0)) / np.sqrt(f.var(0) + 1e-6)
        out.append(f.astype(np.float32))
    return out

def loglik(g, x):  # average frame log-likelihood of a diag GMM (w, mu, var)
    w, mu, var = g
    x = x.astype(np.float64)
    iv = 1.0 / var
    c = np.log(w) - 0.5 * (np.log(2 * np.pi * var).sum(1) + (mu * mu * iv).sum(1))
    l = c[None, :] - 0.5 * (x * x) @ iv.T + x @ (mu * iv).T
    m = l.max(1, keepdims=True)
    return float(np.mean(m[:, 0] + np.log(np.exp(l - m).sum(1))))

z = dict(np.load(a.train, allow_pickle=True))
if a.train.endswith(".pkl"): pass
F = feats(z, a.vad)
langs = sorted(set(z["langs"])) if not a.langs else sorted(a.langs.split(","))
t0 = time.time(); models = {}
if a.models:
    models = pickle.load(open(a.models, "rb")); langs = sorted(models)
for lang in ([] if a.models else langs):
    X = np.concatenate([f for f, l in zip(F, z["langs"]) if l == lang])
    if a.cap_frames and len(X) > a.cap_frames:
        X = X[np.sort(np.random.default_rng(1).choice(len(X), a.cap_frames, replace=False))]
    if a.trainer == "slid":
        em = slid.EmOptions(num_gauss=a.num_gauss, max_iters=a.iters, seed=a.seed, threads=1)
        if a.var_floor is not None: em.var_floor_rel = a.var_floor
        g, _ = slid.train_gmm(np.ascontiguousarray(X), em)
        models[lang] = (np.array(g.weights, np.float64), np.array(g.means, np.float64), np.array(g.variances, np.float64))
    else:
        gm = GaussianMixture(a.num_gauss, covariance_type="diag", reg_covar=a.reg_covar, init_params="k-means++",
                             max_iter=a.iters, random_state=a.seed).fit(X)
        models[lang] = (gm.weights_, gm.means_, gm.covariances_)
    print(f"{tag}: {lang} {len(X)} frames {time.time()-t0:.0f} s", file=sys.stderr, flush=True)
os.makedirs(a.out, exist_ok=True)
if not a.models:
    with open(f"{a.out}/{tag}.models.pkl", "wb") as f: pickle.dump(models, f)
G = {l: slid.DiagGmm(np.asarray(w, np.float32), np.asarray(mu, np.float32), np.asarray(v, np.float32)) for l, (w, mu, v) in models.items()}
for test in a.tests.split(","):
    zt = dict(np.load(test, allow_pickle=True))
    Ft = feats(zt, a.vad)
    name = os.path.basename(test)[2:-4]
    per = {}; rows = []
    for i, (utt, lang, dur) in enumerate(zip(zt["utts"], zt["langs"], zt["durs"])):
        if lang not in langs: continue
        if len(Ft[i]) == 0: dec = "-"; sc = []
        else:
            sc = [G[l].average_log_likelihood(np.ascontiguousarray(Ft[i])) for l in langs]
            dec = langs[int(np.argmax(sc))]
        rows.append(f"{utt}\t{lang}\t{dec}\t{dur:.2f}\t{len(Ft[i])}\t" + "\t".join(f"{s:.4f}" for s in sc))
        if dur > 3: per.setdefault(lang, []).append(dec == lang)
    ok = [r.split("\t")[1] == r.split("\t")[2] for r in rows]
    ok = ok or [False]
    mean_lang = np.mean([np.mean(v) for v in per.values()])
    worst = min(per, key=lambda k: np.mean(per[k]))
    with open(f"{a.out}/{tag}_{name}.tsv", "w") as f: f.write("\n".join(rows) + "\n")
    print(f"RESULT {tag} {name}: acc {100*np.mean(ok):.1f}% (n={len(ok)}), >3s mean over langs {100*mean_lang:.1f}%, worst {worst} {100*np.mean(per[worst]):.1f}%, train {time.time()-t0:.0f} s")
