#!/usr/bin/python3
"""Cross-source trial, step 1 of 2 (experiment code, not a slid feature; step 2 is nap_trial.py).
For one fold: a UBM (sklearn GaussianMixture, diagonal, C components, 12000 frames drawn per language;
with BALANCE=source the same total drawn equally per (language, source) pair) on the fold's TRAINING
frames only, then the zeroth- and first-order Baum-Welch statistics of every
training and test utterance against it, saved to OUT.npz.
usage: bw_stats.py FEATS_ARK FEATS_SCP DATA FOLD OUT.npz [C=256] [BALANCE=language|source]
  FEATS_ARK/SCP: `slid features --scp data/all/wav.scp --segments data/all/segments
                  --model exp/xs1_train.slid --ark ark,scp:FEATS_ARK,FEATS_SCP` (binary, uncompressed:
                  the voiced SDC frames the models see)
  DATA: the recipe's data folder; FOLD: xs1..xs6 (sets <FOLD>_train, <FOLD>_test)"""
import sys, time
import numpy as np
from sklearn.mixture import GaussianMixture

ark_path, scp_path, D, fold, out_path = sys.argv[1:6]
D = D.rstrip("/") + "/"
C = int(sys.argv[6]) if len(sys.argv) > 6 else 256
balance = sys.argv[7] if len(sys.argv) > 7 else "language"
assert balance in ("language", "source"), balance

ark = np.memmap(ark_path, dtype=np.uint8, mode="r")
offs = {}
for line in open(scp_path):
    u, spec = line.split()
    offs[u] = int(spec.rsplit(":", 1)[1])


def feats(u):
    o = offs[u]
    assert bytes(ark[o:o + 5]) == b"\0BFM ", u
    rows = int(np.frombuffer(ark[o + 6:o + 10], np.int32)[0])
    cols = int(np.frombuffer(ark[o + 11:o + 15], np.int32)[0])
    return np.frombuffer(ark[o + 15:o + 15 + 4 * rows * cols], np.float32).reshape(rows, cols)


def labels(data_set):
    """utt -> (language, source, speaker) of a data set's utterances that have voiced frames."""
    def table(name):
        return dict(l.split(None, 1) for l in open(D + data_set + "/" + name))
    lang, src, spk = table("utt2lang"), table("utt2source"), table("utt2spk")
    return {u: (lang[u].strip(), src[u].strip(), spk[u].strip()) for u in lang
            if u in offs and len(feats(u)) > 0}


sets = {"train": labels(fold + "_train"), "test": labels(fold + "_test")}
rng = np.random.default_rng(0)
groups = {}
for u, (l, s, _) in sets["train"].items():
    groups.setdefault(l if balance == "language" else (l, s), []).append(u)
num_langs = len({l for l, _, _ in sets["train"].values()})
per_group = 12000 * num_langs // len(groups)  # the same total either way
sample = []
for g, us in sorted(groups.items()):
    x = np.concatenate([feats(u) for u in us])
    sample.append(x[rng.choice(len(x), min(per_group, len(x)), replace=False)])
sample = np.concatenate(sample).astype(np.float64)
t0 = time.time()
ubm = GaussianMixture(C, covariance_type="diag", max_iter=20, init_params="k-means++", reg_covar=1e-3,
                      random_state=0).fit(sample)
print(f"{fold}: UBM {C} on {len(sample)} frames ({num_langs} languages, {len(groups)} {balance} groups) in {time.time()-t0:.0f} s, "
      f"converged {ubm.converged_}", flush=True)

mu = ubm.means_.astype(np.float32)
prec = (1 / ubm.covariances_).astype(np.float32)
logw = np.log(ubm.weights_).astype(np.float32)
const = (logw - 0.5 * (np.log(2 * np.pi) * mu.shape[1] + np.log(ubm.covariances_).sum(1)
                        + (mu * mu * prec).sum(1))).astype(np.float32)


def bw(x):
    lp = const - 0.5 * ((x * x) @ prec.T) + x @ (mu * prec).T
    lp -= lp.max(1, keepdims=True)
    p = np.exp(lp)
    p /= p.sum(1, keepdims=True)
    return p.sum(0), p.T @ x


out = {"weights": ubm.weights_, "means": ubm.means_, "vars": ubm.covariances_}
for key, lab in sets.items():
    utts = list(lab)
    N = np.zeros((len(utts), C), np.float32)
    F = np.zeros((len(utts), C, mu.shape[1]), np.float32)
    t0 = time.time()
    for i, u in enumerate(utts):
        N[i], F[i] = bw(feats(u))
    print(f"{fold}: {fold}_{key}: stats of {len(utts)} utterances in {time.time()-t0:.0f} s", flush=True)
    out[key + "_utts"] = np.array(utts)
    out[key + "_langs"] = np.array([lab[u][0] for u in utts])
    out[key + "_srcs"] = np.array([lab[u][1] for u in utts])
    out[key + "_spks"] = np.array([lab[u][2] for u in utts])
    out[key + "_N"] = N
    out[key + "_F"] = F
np.savez(out_path, **out)
