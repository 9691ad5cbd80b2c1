#!/usr/bin/python3
"""Makes tests/data/gmm/sklearn_em_step.json: one EM step of scikit-learn's GaussianMixture
(covariance_type='diag') from given initial parameters, the reference for tests/test_em.cc, and the
per-frame log-densities of the initial model (score_samples), the reference for tests/test_gmm.cc.

Run from the repository root with the Debian python that has scikit-learn 1.2:
    /usr/bin/python3 tests/data/make_gmm_fixtures.py

All data and initial parameters are float32 values (written exactly), so that slid (float32 frames)
and scikit-learn (float64) start from identical numbers. reg_covar=0 so that scikit-learn does not add
anything to the variances; slid's variance floor is set tiny in the test so that it never binds.
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

rng = np.random.default_rng(20240603)
K, D, N = 4, 6, 2000

# A true mixture with separated, differently scaled components (feature-like magnitudes).
true_w = np.array([0.4, 0.3, 0.2, 0.1])
true_mu = rng.normal(0.0, 2.0, size=(K, D))
true_sd = rng.uniform(0.4, 1.5, size=(K, D))
comp = rng.choice(K, size=N, p=true_w)
X = (true_mu[comp] + true_sd[comp] * rng.normal(size=(N, D))).astype(np.float32)

# Initial parameters: deliberately off (means perturbed, variances scaled, dyadic weights).
w0 = np.array([0.25, 0.125, 0.375, 0.25], dtype=np.float32)
mu0 = (true_mu + rng.normal(0.0, 0.7, size=(K, D))).astype(np.float32)
var0 = (true_sd**2 * rng.uniform(0.6, 1.8, size=(K, D))).astype(np.float32)

X64 = X.astype(np.float64)
w064, mu064, var064 = w0.astype(np.float64), mu0.astype(np.float64), var0.astype(np.float64)

gm = GaussianMixture(n_components=K, covariance_type="diag", weights_init=w064, means_init=mu064,
                     precisions_init=1.0 / var064, max_iter=1, tol=0.0, reg_covar=0.0, n_init=1,
                     random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # one iteration is what we ask for
    gm.fit(X64)

# Log-densities of the initial model: a GaussianMixture with its parameters set by hand.
init = GaussianMixture(n_components=K, covariance_type="diag")
init.weights_, init.means_, init.covariances_ = w064, mu064, var064
init.precisions_cholesky_ = 1.0 / np.sqrt(var064)
score0 = init.score_samples(X64)

out = {
    "made_by": "/usr/bin/python3 tests/data/make_gmm_fixtures.py (scikit-learn %s, numpy %s)"
               % (sklearn.__version__, np.__version__),
    "num_gauss": K, "dim": D, "frames": N,
    "data": X.astype(np.float64).tolist(),
    "init_weights": w064.tolist(), "init_means": mu064.tolist(), "init_variances": var064.tolist(),
    "init_frame_loglik": score0.tolist(),
    "init_avg_loglik": float(score0.mean()),
    "lower_bound": float(gm.lower_bound_),  # average log-likelihood under the initial parameters
    "step_weights": gm.weights_.tolist(), "step_means": gm.means_.tolist(),
    "step_variances": gm.covariances_.tolist(),
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gmm", "sklearn_em_step.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
print("wrote", path, "lower_bound", gm.lower_bound_)
