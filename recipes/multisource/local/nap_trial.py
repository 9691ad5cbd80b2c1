#!/usr/bin/python3
"""Cross-source trial, step 2 of 2 (experiment code, not a slid feature): nuisance attribute projection
(NAP) on GMM supervectors.
usage: nap_trial.py STATS.npz (from bw_stats.py) [--pca 400] [--ks 0,2,4,8,16,32,64] [--kind source|within] [--lnorm]
Supervector of an utterance: MAP-adapted UBM means (relevance 16), sqrt(w_c) (m_c - mu_c) / sigma_c,
stacked (Campbell et al. 2006's GSV kernel); PCA to --pca dimensions fitted on the training set.
NAP (Solomonoff/Campbell): remove the span of the k leading nuisance directions, estimated on the
training set from the spread of (language, source) mean vectors around their language's mean
("source" NAP; languages with >= 2 training sources) -- or, "within", from all utterances around their
language mean. Classifier: shared-covariance Gaussian (sklearn LDA, uniform priors, shrinkage).
k is chosen on the TRAINING set by leave-one-source-out (each training source that has >= 2
languages held out in turn, NAP + classifier refitted without it); the test set is scored for every k
so that every trial is reported, the chosen one marked."""
import argparse, time
import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis as LDA
from sklearn.utils.extmath import randomized_svd

from lid_measures import cavg

ap = argparse.ArgumentParser()
ap.add_argument("stats")
ap.add_argument("--pca", type=int, default=400)
ap.add_argument("--ks", default="0,2,4,8,16,32,64")
ap.add_argument("--kind", default="source", choices=["source", "within"])
ap.add_argument("--lnorm", action="store_true")
a = ap.parse_args()
S = np.load(a.stats)
w, mu, var = S["weights"], S["means"], S["vars"]
r = 16.0


def sv(N, F):
    m = (F + r * mu[None]) / (N[..., None] + r)
    return ((m - mu[None]) * np.sqrt(w)[None, :, None] / np.sqrt(var)[None]).reshape(len(N), -1)


Xtr, Xte = sv(S["train_N"], S["train_F"]), sv(S["test_N"], S["test_F"])
ltr, lte, str_ = S["train_langs"], S["test_langs"], S["train_srcs"]
t0 = time.time()
mean = Xtr.mean(0)
Xc = (Xtr - mean).astype(np.float32)
_, _, Vt = randomized_svd(Xc, a.pca, n_iter=4, random_state=0)  # PCA (randomised SVD)
P = Vt.T.astype(np.float32)
Xtr, Xte = (Xc @ P).astype(np.float64), ((Xte - mean).astype(np.float32) @ P).astype(np.float64)
print(f"PCA in {time.time()-t0:.0f} s", flush=True)
if a.lnorm:
    Xtr /= np.linalg.norm(Xtr, axis=1, keepdims=True)
    Xte /= np.linalg.norm(Xte, axis=1, keepdims=True)
ks = [int(k) for k in a.ks.split(",")]


def nuisance(X, l, src, k):
    if k == 0:
        return np.zeros((X.shape[1], 0))
    rows = []
    for L in sorted(set(l)):
        m = l == L
        if a.kind == "within":
            rows.append(X[m] - X[m].mean(0))
            continue
        srcs = sorted(set(src[m]))
        if len(srcs) < 2:
            continue
        means = np.array([X[m & (src == s)].mean(0) for s in srcs])
        rows.append(means - means.mean(0))
    R = np.concatenate(rows)
    _, _, V = np.linalg.svd(R, full_matrices=False)
    return V[:k].T


def fit_score(Xa, la, sa, Xb, k):
    V = nuisance(Xa, la, sa, k)
    Xa2, Xb2 = Xa - (Xa @ V) @ V.T, Xb - (Xb @ V) @ V.T
    classes = sorted(set(la))
    clf = LDA(solver="lsqr", shrinkage="auto", priors=np.full(len(classes), 1 / len(classes))).fit(Xa2, la)
    return clf.classes_, clf.predict_log_proba(Xb2)


def acc(classes, scores, truth):
    dec = np.asarray(classes)[scores.argmax(1)]
    per = [np.mean(dec[truth == L] == L) for L in sorted(set(truth))]
    return np.mean(dec == truth), np.mean(per)


# leave-one-source-out on the training set
dev = {}
held = [s for s in sorted(set(str_)) if len(set(ltr[str_ == s])) >= 2]
for k in ks:
    right = n = 0
    for s in held:
        a_ = str_ != s
        known = np.isin(ltr, sorted(set(ltr[a_])))
        b_ = (str_ == s) & known
        if b_.sum() == 0:
            continue
        cl, sc = fit_score(Xtr[a_], ltr[a_], str_[a_], Xtr[b_], k)
        right += (np.asarray(cl)[sc.argmax(1)] == ltr[b_]).sum()
        n += b_.sum()
    dev[k] = right / n
    print(f"  dev k={k} {100*dev[k]:.1f} % ({time.time()-t0:.0f} s)", flush=True)
best = max(ks, key=lambda k: (dev[k], -k))
print(f"{a.stats} kind={a.kind} pca={a.pca} lnorm={a.lnorm}: dev = leave-one-source-out over "
      f"{len(held)} training sources ({n} utterances)")
for k in ks:
    cl, sc = fit_score(Xtr, ltr, str_, Xte, k)
    ac, per = acc(cl, sc, lte)
    print(f"  k={k:3d} dev acc {100*dev[k]:5.1f} %   test acc {100*ac:5.1f} %  mean/lang {100*per:5.1f} %  "
          f"Cavg {cavg(cl, sc, lte):.3f}{'   <- chosen on dev' if k == best else ''}", flush=True)
