"""Reference values for tests/test_metrics.cc, computed independently of slid with numpy and
scikit-learn (Debian 12: /usr/bin/python3, numpy 1.24, scikit-learn 1.2).

Run from tests/data:  /usr/bin/python3 make_metrics_fixtures.py
Writes metrics/trials_5lang.tsv (truth, then 5 per-language scores per line) and
metrics/expected_5lang.json."""
import json
import numpy as np
from sklearn.metrics import confusion_matrix, precision_score, recall_score, roc_curve

rng = np.random.default_rng(20261123)
L, N = 5, 300
truth = rng.integers(0, L, N)
scores = rng.normal(0.0, 1.0, (N, L))
scores[np.arange(N), truth] += rng.uniform(0.0, 2.0, N)  # some separation
scores = np.round(scores, 4)  # what the TSV holds, so both sides see the same numbers
scores[:10, 1] = scores[:10, 2]  # a few exact ties

decided = scores.argmax(axis=1)  # numpy: first index on ties, as slid
acc = float((decided == truth).mean())
conf = confusion_matrix(truth, decided, labels=list(range(L)))
prec = precision_score(truth, decided, labels=list(range(L)), average=None, zero_division=0)
rec = recall_score(truth, decided, labels=list(range(L)), average=None, zero_division=0)

# Detection LLRs: s_l = a_l - log(mean_{j != l} exp(a_j)).
llr = np.zeros_like(scores)
for l in range(L):
    others = np.delete(scores, l, axis=1)
    m = others.max(axis=1, keepdims=True)
    llr[:, l] = scores[:, l] - (m[:, 0] + np.log(np.exp(others - m).mean(axis=1)))
is_target = np.zeros_like(scores, dtype=bool)
is_target[np.arange(N), truth] = True

# EER from sklearn's ROC (all thresholds): p_fa = fpr, p_miss = 1 - tpr; linear interpolation of the
# first segment where p_miss - p_fa changes sign.
fpr, tpr, _ = roc_curve(is_target.ravel(), llr.ravel(), drop_intermediate=False)
pmiss = 1 - tpr
d = pmiss - fpr
i = int(np.argmax(d <= 0))
if d[i] == 0:
    eer = float(pmiss[i])
else:
    t = d[i - 1] / (d[i - 1] - d[i])
    eer = float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))

# Cavg (NIST LRE 2007/2009), decisions llr > 0.
dec = llr > 0
cost = 0.0
for t in range(L):
    pm = 1 - dec[truth == t, t].mean()
    c = 0.5 * pm
    for n in range(L):
        if n != t:
            c += 0.5 / (L - 1) * dec[truth == n, t].mean()
    cost += c
cavg = cost / L

with open("metrics/trials_5lang.tsv", "w") as f:
    for u in range(N):
        f.write(str(int(truth[u])) + "\t" + "\t".join("%.4f" % v for v in scores[u]) + "\n")
with open("metrics/expected_5lang.json", "w") as f:
    json.dump({"accuracy": acc, "confusion": conf.tolist(), "precision": prec.tolist(), "recall": rec.tolist(),
               "eer": eer, "cavg": cavg}, f, indent=1)
print("accuracy", acc, "eer", eer, "cavg", cavg)
