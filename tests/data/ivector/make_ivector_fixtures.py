#!/usr/bin/python3
"""Reference for tests/test_ivector.cc: i-vector posterior mean, covariance and log-likelihood computed
directly with numpy (float64), independently of slid.

Run from the repository root:  /usr/bin/python3 tests/data/ivector/make_ivector_fixtures.py
Writes tests/data/ivector/ivector_posterior.json.

Model: UBM with K diagonal components (weights w, means mu, variances v), total-variability blocks
T_k (D x R), offsets o_k, model variances Sigma_k. For frames X of one utterance:
  gamma_tk = softmax_k log(w_k N(x_t | mu_k, v_k))          (all components, or top-C / min-post pruned)
  N_k = sum_t gamma_tk, F_k = sum_t gamma_tk (x_t - mu_k), S_k = sum_t gamma_tk (x_t - mu_k)^2
  L = I + sum_k N_k T_k' Sigma_k^-1 T_k,  b = sum_k T_k' Sigma_k^-1 (F_k - N_k o_k)
  mean = L^-1 b, cov = L^-1
  loglik = 0.5 b' mean - 0.5 log|L| - 0.5 sum_k N_k (D log 2pi + log|Sigma_k|)
           - 0.5 sum_k sum_d (S_k - 2 o_k F_k + N_k o_k^2)_d / Sigma_kd
The last term is the Gaussian log-likelihood of the aligned frames with w integrated out; checked
here against a brute-force evaluation of log N(supervector stats) for the dense case.
"""
import json
import numpy as np

rng = np.random.default_rng(20261201)
K, D, R = 5, 3, 4

w = rng.dirichlet(np.ones(K) * 2.0)
w = (w / w.sum()).astype(np.float32).astype(np.float64)
mu = rng.normal(0, 2.0, (K, D)).astype(np.float32).astype(np.float64)
v = rng.uniform(0.5, 2.0, (K, D)).astype(np.float32).astype(np.float64)
T = rng.normal(0, 0.7, (K * D, R))
Sigma = rng.uniform(0.4, 1.5, (K, D))
offs = rng.normal(0, 0.3, (K, D))


def frames(n):
    comp = rng.integers(0, K, n)
    x = mu[comp] + rng.normal(0, 1.0, (n, D)) * np.sqrt(v[comp]) + rng.normal(0, 0.8, (1, D))
    return x.astype(np.float32).astype(np.float64)


def posteriors(x, top_c, min_post):
    ll = np.log(w)[None, :] - 0.5 * (D * np.log(2 * np.pi) + np.log(v).sum(1))[None, :] \
        - 0.5 * (((x[:, None, :] - mu[None, :, :]) ** 2) / v[None, :, :]).sum(2)
    g = np.zeros_like(ll)
    for t in range(len(x)):
        idx = np.argsort(-ll[t], kind='stable')[: (top_c if top_c > 0 else K)]
        p = np.exp(ll[t, idx] - ll[t, idx].max())
        p /= p.sum()
        keep = p >= min_post
        keep[0] = True  # the best component is always kept
        p = p[keep] / p[keep].sum()
        g[t, idx[keep]] = p
    return g


def stats(x, g):
    N = g.sum(0)
    F = g.T @ x - N[:, None] * mu
    S = g.T @ (x ** 2) - 2 * mu * (g.T @ x) + N[:, None] * mu ** 2
    return N, F, S


def posterior(N, F, S):
    L = np.eye(R)
    b = np.zeros(R)
    ll = 0.0
    for k in range(K):
        Tk = T[k * D:(k + 1) * D]
        P = np.diag(1.0 / Sigma[k])
        L += N[k] * Tk.T @ P @ Tk
        Fc = F[k] - N[k] * offs[k]
        b += Tk.T @ P @ Fc
        Sc = S[k] - 2 * offs[k] * F[k] + N[k] * offs[k] ** 2
        ll += -0.5 * N[k] * (D * np.log(2 * np.pi) + np.log(Sigma[k]).sum()) - 0.5 * (Sc / Sigma[k]).sum()
    cov = np.linalg.inv(L)
    mean = cov @ b
    ll += 0.5 * b @ mean - 0.5 * np.linalg.slogdet(L)[1]
    return mean, cov, ll


def brute_loglik(x, g):
    # sum_t sum_k gamma_tk log N(x_t | mu_k + o_k + T_k w, Sigma_k) integrated over w ~ N(0, I) with the
    # alignment fixed: a Gaussian in w; integrate numerically-exactly by completing the square via the
    # joint Gaussian of all frames. Equivalent closed form: log of int prod_t prod_k N(.)^gamma dw.
    # Quadratic in w: c0 + b'w - 0.5 w'(L - I)w; integral with N(w|0,I) gives c0 + 0.5 b'L^-1 b - 0.5 log|L|.
    c0 = 0.0
    for k in range(K):
        diff = x - (mu[k] + offs[k])
        c0 += (g[:, k] * (-0.5 * (D * np.log(2 * np.pi) + np.log(Sigma[k]).sum())
                          - 0.5 * (diff ** 2 / Sigma[k]).sum(1))).sum()
    N, F, S = stats(x, g)
    L = np.eye(R)
    b = np.zeros(R)
    for k in range(K):
        Tk = T[k * D:(k + 1) * D]
        L += N[k] * Tk.T @ np.diag(1 / Sigma[k]) @ Tk
        b += Tk.T @ np.diag(1 / Sigma[k]) @ (F[k] - N[k] * offs[k])
    return c0 + 0.5 * b @ np.linalg.solve(L, b) - 0.5 * np.linalg.slogdet(L)[1]


cases = []
for name, n, top_c, min_post in [("dense_60", 60, 0, 0.0), ("dense_7", 7, 0, 0.0), ("pruned_80", 80, 2, 0.3)]:
    x = frames(n)
    g = posteriors(x, top_c, min_post)
    N, F, S = stats(x, g)
    mean, cov, ll = posterior(N, F, S)
    assert abs(ll - brute_loglik(x, g)) < 1e-8 * max(1, abs(ll))
    cases.append(dict(name=name, top_c=top_c, min_posterior=min_post, frames=x.tolist(),
                      zeroth=N.tolist(), first=F.tolist(), second=S.tolist(),
                      mean=mean.tolist(), covariance=cov.tolist(), log_likelihood=ll))

out = dict(num_gauss=K, dim=D, ivector_dim=R, weights=w.tolist(), means=mu.tolist(), variances=v.tolist(),
           projection=T.tolist(), model_variances=Sigma.tolist(), mean_offsets=offs.tolist(), cases=cases)
with open("tests/data/ivector/ivector_posterior.json", "w") as f:
    json.dump(out, f, indent=0)
