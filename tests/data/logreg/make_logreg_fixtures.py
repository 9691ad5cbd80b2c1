#!/usr/bin/python3
"""Reference for tests/test_logreg.cc: scikit-learn's multinomial LogisticRegression.

Run from the repository root:  /usr/bin/python3 tests/data/logreg/make_logreg_fixtures.py
Writes tests/data/logreg/sklearn_logreg.json.

slid minimises sum_n v_n (-log P(y_n|x_n)) + 0.5 l2 ||W||^2 (b not penalised), scikit-learn
C * sum_n v_n (-log P) + 0.5 ||W||^2: the same minimiser for C = 1 / l2. balance_priors corresponds
to class_weight='balanced'. scikit-learn is run to tight tolerance (newton-cg, tol 1e-11: its gradient test; lbfgs stops earlier on its ftol) so that its
optimum is the reference (it warns that the line search hit rounding: the gradient there is below
1e-10, checked by hand); the intercepts are centred (they are defined up to a common constant).
"""
import json
import numpy as np
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(20261201)
cases = []

# 1: a classifier-like problem (4 classes, 5 dims, unbalanced, overlapping).
C, D = 4, 5
counts = [120, 40, 25, 60]
centres = rng.normal(0, 1.2, (C, D))
X = np.concatenate([centres[c] + rng.normal(0, 1.0, (counts[c], D)) for c in range(C)])
y = np.concatenate([np.full(counts[c], c) for c in range(C)])
# 2: a calibration-like problem: 3 classes, score vectors (scaled and shifted log-likelihoods).
C2 = 3
counts2 = [200, 50, 80]
y2 = np.concatenate([np.full(counts2[c], c) for c in range(C2)])
S = rng.normal(0, 1, (len(y2), C2))
S[np.arange(len(y2)), y2] += 1.5
X2 = 3.0 * S + np.array([1.0, -2.0, 0.5])

X, X2 = np.round(X, 4), np.round(X2, 4)  # what the JSON holds, so both sides see the same numbers
for name, x, lab, nc in [("classifier", X, y, C), ("calibration", X2, y2, C2)]:
    for l2 in [0.1, 10.0]:
        for balanced in [False, True]:
            m = LogisticRegression(multi_class='multinomial', C=1.0 / l2, solver='newton-cg', tol=1e-11,
                                   max_iter=100000, class_weight='balanced' if balanced else None)
            m.fit(x, lab)
            b = m.intercept_ - m.intercept_.mean()
            cases.append(dict(name=f"{name}_l2={l2}_balanced={balanced}", l2=l2, balance_priors=balanced,
                              num_classes=nc, x=x.tolist(), labels=lab.tolist(), W=m.coef_.tolist(),
                              b=b.tolist(), log_proba=m.predict_log_proba(x).tolist()))

with open("tests/data/logreg/sklearn_logreg.json", "w") as f:
    json.dump(dict(cases=cases), f)
