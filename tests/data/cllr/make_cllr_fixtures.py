#!/usr/bin/python3
"""Reference for the Cllr tests in tests/test_metrics.cc: a numpy transcription of BOSARIS's cllr.m and
min_cllr.m, with scikit-learn's IsotonicRegression as the PAV (it pools tied scores, as BOSARIS does by
sorting targets before non-targets among ties).

Run from the repository root:  /usr/bin/python3 tests/data/cllr/make_cllr_fixtures.py
Reads tests/data/metrics/trials_5lang.tsv (truth, then 5 scores per line), writes
tests/data/cllr/expected_cllr.json with
  binary: a few target/non-target score lists (some with ties and +-large scores) and their Cllr, min-Cllr;
  detection: per-language detection-LLR Cllr / min-Cllr averaged over languages for trials_5lang.tsv;
  multiclass: the multiclass Cllr of trials_5lang.tsv.
"""
import json
import numpy as np
from sklearn.isotonic import IsotonicRegression


def cllr(tar, non):
    return (np.logaddexp(0, -tar).mean() + np.logaddexp(0, non).mean()) / (2 * np.log(2))


def min_cllr(tar, non):
    x = np.concatenate([tar, non])
    y = np.concatenate([np.ones(len(tar)), np.zeros(len(non))])
    p = IsotonicRegression(increasing=True).fit(x, y).predict(x)
    with np.errstate(divide='ignore'):
        llr = np.log(p) - np.log1p(-p) - np.log(len(tar) / len(non))
    return cllr(llr[: len(tar)], llr[len(tar):])


rng = np.random.default_rng(20261201)
binary = []
for name, tar, non in [
    ("separated", rng.normal(2, 1, 40), rng.normal(-2, 1, 200)),
    ("miscalibrated", 5 * rng.normal(1, 1, 30) + 3, 5 * rng.normal(-1, 1, 90) + 3),
    ("ties", np.round(rng.normal(0.5, 1, 50), 1), np.round(rng.normal(-0.5, 1, 70), 1)),
    ("perfect", np.array([3.0, 4.0, 5.0]), np.array([-1.0, 0.0, 1.0, 2.0])),
    ("inverted", np.array([-3.0, -2.0]), np.array([2.0, 3.0, 4.0])),
]:
    binary.append(dict(name=name, tar=tar.tolist(), non=non.tolist(), cllr=cllr(tar, non),
                       min_cllr=min_cllr(tar, non)))

rows = np.loadtxt("tests/data/metrics/trials_5lang.tsv")
truth = rows[:, 0].astype(int)
scores = rows[:, 1:]
N, L = scores.shape
llr = np.zeros_like(scores)
for l in range(L):
    others = np.delete(scores, l, axis=1)
    m = others.max(axis=1, keepdims=True)
    llr[:, l] = scores[:, l] - (m[:, 0] + np.log(np.exp(others - m).mean(axis=1)))
c, mc = [], []
for l in range(L):
    tar, non = llr[truth == l, l], llr[truth != l, l]
    c.append(cllr(tar, non))
    mc.append(min_cllr(tar, non))
logp = scores - (scores.max(1, keepdims=True) + np.log(np.exp(scores - scores.max(1, keepdims=True)).sum(1, keepdims=True)))
multi = np.mean([-(logp[truth == l, l] / np.log(2)).mean() for l in range(L)])

with open("tests/data/cllr/expected_cllr.json", "w") as f:
    json.dump(dict(binary=binary, detection_cllr=float(np.mean(c)), detection_min_cllr=float(np.mean(mc)),
                   multiclass_cllr=float(multi)), f, indent=1)
