#!/usr/bin/python3
"""Reference for MinMulticlassCllr and Reliability in tests/test_metrics.cc: numpy + scipy, written from
the definitions in include/slid/metrics.h, independently of slid's Newton solver (calibration.cc).

Run from the repository root:  /usr/bin/python3 tests/data/cllr/make_min_cllr_fixtures.py
Reads tests/data/metrics/trials_5lang.tsv (truth, then 5 scores per line), writes
tests/data/cllr/expected_min_cllr.json with
  all5:     multiclass Cllr and min-Cllr of every trial, min over (a, b) of
            mean_c mean_{trials of c} -log2 softmax(a s + b)_c  (no ridge), by scipy's BFGS;
  without4: the same with the trials of language 4 removed but all 5 score columns kept, so the
            optimiser must drive b_4 towards -inf by itself (slid drops the column instead);
  reliability: 10 equal-width bins (b/10, (b+1)/10] of the top posterior max softmax(s): count,
            mean confidence, accuracy of argmax (numpy).
"""
import json
import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

rows = np.loadtxt("tests/data/metrics/trials_5lang.tsv")
truth_all = rows[:, 0].astype(int)
scores_all = rows[:, 1:]


def mc_cllr(s, y):
    logp = s - logsumexp(s, axis=1, keepdims=True)
    return np.mean([-(logp[y == c, c]).mean() / np.log(2) for c in np.unique(y)])


def min_mc_cllr(s, y):
    L = s.shape[1]
    f = lambda p: mc_cllr(p[0] * s + p[1:], y)
    best = None
    for start in (np.r_[1.0, np.zeros(L)], np.r_[0.5, np.zeros(L)], np.r_[2.0, np.zeros(L)]):
        r = minimize(f, start, method="BFGS", options=dict(gtol=1e-12, maxiter=10000))
        if best is None or r.fun < best.fun:
            best = r
    return float(best.fun), best.x.tolist()


out = {}
for name, keep in [("all5", np.ones(len(truth_all), bool)), ("without4", truth_all != 4)]:
    s, y = scores_all[keep], truth_all[keep]
    m, params = min_mc_cllr(s, y)
    out[name] = dict(cllr=float(mc_cllr(s, y)), min_cllr=m, a_b=params, num_trials=int(keep.sum()))

p = np.exp(scores_all - logsumexp(scores_all, axis=1, keepdims=True))
conf = p.max(axis=1)
correct = scores_all.argmax(axis=1) == truth_all
bins = []
for b in range(10):
    lo, hi = b / 10, (b + 1) / 10
    sel = (conf > lo) & (conf <= hi) if b > 0 else (conf <= hi)
    bins.append(dict(lo=lo, hi=hi, count=int(sel.sum()),
                     mean_confidence=float(conf[sel].mean()) if sel.any() else 0.0,
                     accuracy=float(correct[sel].mean()) if sel.any() else 0.0))
out["reliability"] = bins

with open("tests/data/cllr/expected_min_cllr.json", "w") as f:
    json.dump(out, f, indent=1)
