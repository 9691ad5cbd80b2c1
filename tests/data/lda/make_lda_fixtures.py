#!/usr/bin/python3
"""Reference for tests/test_lda.cc.

Run from the repository root:  /usr/bin/python3 tests/data/lda/make_lda_fixtures.py
Writes tests/data/lda/lda_reference.json:
  x, labels: 4 classes x 6 dims, unequal class sizes and covariances (rounded to 5 decimals);
  sklearn_scalings: scikit-learn LinearDiscriminantAnalysis(solver='eigen') scalings_[:, :3] (D x 3,
    eigenvectors of S_b v = l S_w v from scipy.linalg.eigh, S_w-orthonormal, largest eigenvalue first), sklearn_explained_variance_ratio: its
    explained_variance_ratio_ (eigenvalues / their sum over all D);
  gaussian_scores: log N(x | class mean, pooled within-class ML covariance) by numpy/scipy for every row;
  wccn_A: numpy's WCCN, inv(cholesky(mean_c Cov_c)) (lower-triangular L^-1).
"""
import json
import numpy as np
from scipy.stats import multivariate_normal
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

rng = np.random.default_rng(20261201)
C, D = 4, 6
counts = [50, 80, 35, 60]
xs, ys = [], []
for c in range(C):
    mean = rng.normal(0, 2, D)
    a = rng.normal(0, 1, (D, D)) * 0.5 + np.eye(D)
    xs.append(mean + rng.normal(0, 1, (counts[c], D)) @ a)
    ys.append(np.full(counts[c], c))
x = np.round(np.concatenate(xs), 5)
y = np.concatenate(ys)

lda = LinearDiscriminantAnalysis(solver='eigen').fit(x, y)
scal = lda.scalings_[:, : C - 1]

means = np.stack([x[y == c].mean(0) for c in range(C)])
cent = x - means[y]
sw = cent.T @ cent / len(x)
scores = np.stack([multivariate_normal(means[c], sw).logpdf(x) for c in range(C)], axis=1)

w = np.mean([np.cov(x[y == c].T, bias=True) for c in range(C)], axis=0)
wccn = np.linalg.inv(np.linalg.cholesky(w))

with open("tests/data/lda/lda_reference.json", "w") as f:
    json.dump(dict(x=x.tolist(), labels=y.tolist(), num_classes=C, sklearn_scalings=scal.tolist(),
                   sklearn_explained_variance_ratio=lda.explained_variance_ratio_.tolist(),
                   gaussian_scores=scores.tolist(), wccn_A=wccn.tolist()), f)
