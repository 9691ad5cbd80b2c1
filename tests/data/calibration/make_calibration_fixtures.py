#!/usr/bin/python3
"""Reference for slid::TrainCalibration (scalar scale + per-language offsets, prior-weighted multiclass
cross-entropy, tiny ridge), computed independently with scipy.optimize.minimize (BFGS) on the same
objective written in numpy. Writes, for balanced and count-weighted priors:
  scores.txt   one development recording per line: label s_0 ... s_{L-1}
  ref_balanced.txt / ref_counts.txt   a b_0 ... b_{L-1} (the optimum), then the objective value
  ref_absent.txt   the same with the recordings of language ABSENT (2) left out (its scores still in
                   every softmax) and its offset tied to the mean of the others' (slid/calibration.h):
                   the optimum over (a, b_0, b_1, b_3) written as a b_0 ... b_{L-1}, then the objective
                   (balanced priors over the 3 present languages)
Run from this folder: /usr/bin/python3 make_calibration_fixtures.py
"""
import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

rng = np.random.default_rng(20261201)
L = 4
counts = [40, 25, 10, 60]  # unbalanced on purpose: the prior weighting matters
labels = np.concatenate([np.full(c, l) for l, c in enumerate(counts)])
# Uncalibrated scores: true-language boost, a language-dependent offset and an overall scale of 3.
offsets = np.array([0.5, -1.0, 0.0, 2.0])
raw = rng.normal(0.0, 1.0, (labels.size, L)) + 1.5 * np.eye(L)[labels]
scores = 3.0 * raw + offsets
RIDGE = 1e-6


def objective(theta, balanced):
    a, b = theta[0], theta[1:]
    z = a * scores + b
    nll = logsumexp(z, axis=1) - z[np.arange(labels.size), labels]
    n = np.bincount(labels, minlength=L)
    w = (1.0 / L) / n[labels] if balanced else np.full(labels.size, 1.0 / labels.size)
    return np.sum(w * nll) + 0.5 * RIDGE * (a * a + b @ b)


with open("scores.txt", "w") as f:
    for y, s in zip(labels, scores):
        f.write("%d %s\n" % (y, " ".join("%.17g" % v for v in s)))
for name, balanced in (("ref_balanced.txt", True), ("ref_counts.txt", False)):
    res = minimize(objective, np.concatenate([[1.0], np.zeros(L)]), args=(balanced,), method="BFGS",
                   options={"gtol": 1e-12, "maxiter": 10000})
    with open(name, "w") as f:
        f.write(" ".join("%.17g" % v for v in res.x) + "\n")
        f.write("%.17g\n" % res.fun)
    print(name, res.x, res.fun, res.message)

# A language without development recordings: drop language 2's recordings, tie b_2 to the mean of the
# present offsets, optimise over the free parameters only.
ABSENT = 2
keep = labels != ABSENT
present = [l for l in range(L) if l != ABSENT]


def expand(theta):
    b = np.zeros(L)
    b[present] = theta[1:]
    b[ABSENT] = theta[1:].mean()
    return theta[0], b


def objective_absent(theta):
    a, b = expand(theta)
    s, y = scores[keep], labels[keep]
    z = a * s + b
    nll = logsumexp(z, axis=1) - z[np.arange(y.size), y]
    n = np.bincount(y, minlength=L)
    w = (1.0 / len(present)) / n[y]
    return np.sum(w * nll) + 0.5 * RIDGE * (a * a + b @ b)


res = minimize(objective_absent, np.concatenate([[1.0], np.zeros(len(present))]), method="BFGS",
               options={"gtol": 1e-12, "maxiter": 10000})
a, b = expand(res.x)
with open("ref_absent.txt", "w") as f:
    f.write(" ".join("%.17g" % v for v in np.concatenate([[a], b])) + "\n")
    f.write("%.17g\n" % res.fun)
print("ref_absent.txt", a, b, res.fun, res.message)
