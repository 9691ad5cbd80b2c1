"""Closed-set LID measures of the cross-source trials (experiment code), as `slid eval` computes them
(src/metrics.cc): detection log-likelihood ratios, Cavg (NIST LRE 2007, P_target 0.5, threshold 0) and
the pooled EER. Checked on the GMM scores of the six folds: Cavg to 5e-4 and EER to 0.05 points of
slid eval's report."""
import numpy as np


def detection_llrs(scores):
    """llr[u, l] = s_l - log(mean over j != l of exp(s_j)), per utterance (slid's DetectionScores)."""
    llr = np.empty_like(scores)
    for j in range(scores.shape[1]):
        o = np.delete(scores, j, 1)
        mx = o.max(1, keepdims=True)
        llr[:, j] = scores[:, j] - (mx[:, 0] + np.log(np.exp(o - mx).mean(1)))
    return llr


def cavg(classes, scores, truth):
    """Cavg over the languages present in truth; scores[u, i] belongs to classes[i]."""
    yes = detection_llrs(scores) > 0
    ci = {c: i for i, c in enumerate(classes)}
    t = np.array([ci[x] for x in truth])
    present = sorted(set(t))
    tot = 0
    for T in present:
        c = 0.5 * (1 - yes[t == T, T].mean())
        for L in present:
            if L != T:
                c += 0.5 / (len(present) - 1) * yes[t == L, T].mean()
        tot += c
    return tot / len(present)


def eer(classes, scores, truth):
    """Pooled EER: the true language's detection llr is a target trial, every other one a non-target."""
    llr = detection_llrs(scores)
    tgt = np.array([[c == x for c in classes] for x in truth])
    tar, non = np.sort(llr[tgt]), np.sort(llr[~tgt])
    th = np.sort(np.concatenate([tar, non]))
    pmiss = np.searchsorted(tar, th, side="left") / len(tar)
    pfa = 1 - np.searchsorted(non, th, side="left") / len(non)
    i = np.argmin(np.abs(pmiss - pfa))
    return (pmiss[i] + pfa[i]) / 2
