#!/usr/bin/python3
"""Score normalisation trial on slid eval score files (issue 8 item 8, cross-source folds). Experiment
code, not a slid feature: it rewrites the per-language scores of a `slid eval` scores.tsv and the
decision, so that local/summary.pl can tabulate the result beside the plain runs.

  score_norm.py tnorm  <scores.tsv> <out.tsv>
  score_norm.py znorm  <scores.tsv> <out.tsv> --cohort <cohort scores.tsv>
  score_norm.py ztnorm <scores.tsv> <out.tsv> --cohort <cohort scores.tsv>

tnorm (per utterance, against the other languages' models; T-norm, Auckenthaler et al. 2000, with the
       other language models as the cohort): s'_l = (s_l - mean_{j != l} s_j) / std_{j != l} s_j.
       Uses nothing but the utterance's own scores.
znorm (per language model, against impostor speech; Z-norm, Li & Porter 1988 / Reynolds 2000):
       s'_l = (s_l - mu_l) / sigma_l, mu_l and sigma_l the mean and standard deviation of model l's scores
       on the cohort utterances of OTHER languages. The cohort must be speech the evaluation never tests
       on; the recipe uses a sample of the fold's own training set (other languages' utterances were
       never seen by model l: every GMM trains on its own language only).
ztnorm: znorm, then tnorm of the z-normed scores.

Input: slid eval's scores.tsv (utterance, truth, language, score, status, speech_seconds, llk_<lang>...).
Rows whose status is not "ok" are copied unchanged (no scores). Output: the same columns, the llk_
columns replaced by the normalised scores, language/score by the argmax and its value.
"""
import argparse
import sys

import numpy as np


def read(path):
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    cols = [i for i, h in enumerate(header) if h.startswith("llk_")]
    if not cols:
        sys.exit("%s: no llk_ columns (not a slid eval scores.tsv)" % path)
    for need in ("utterance", "truth", "language", "score", "status"):
        if need not in header:
            sys.exit("%s: no column '%s'" % (path, need))
    return header, rows, cols


def scores_of(header, rows, cols):
    st = header.index("status")
    ok = np.array([r[st] == "ok" for r in rows])
    s = np.full((len(rows), len(cols)), np.nan)
    for i, r in enumerate(rows):
        if ok[i]:
            s[i] = [float(r[c]) for c in cols]
    return s, ok


def tnorm(s):
    n = s.shape[1]
    tot, tot2 = s.sum(axis=1, keepdims=True), (s * s).sum(axis=1, keepdims=True)
    mean = (tot - s) / (n - 1)
    var = (tot2 - s * s) / (n - 1) - mean * mean
    return (s - mean) / np.sqrt(np.maximum(var, 1e-12))


def zstats(cohort_path, langs):
    header, rows, cols = read(cohort_path)
    clangs = [header[c][4:] for c in cols]
    if clangs != langs:
        sys.exit("%s: languages differ from the scores' (%s vs %s)" % (cohort_path, clangs, langs))
    s, ok = scores_of(header, rows, cols)
    truth = np.array([r[header.index("truth")] for r in rows])
    mu, sd = np.zeros(len(langs)), np.ones(len(langs))
    for k, l in enumerate(langs):
        imp = s[ok & (truth != l), k]
        if imp.size < 2:
            sys.exit("%s: fewer than 2 impostor scores for %s" % (cohort_path, l))
        mu[k], sd[k] = imp.mean(), max(imp.std(), 1e-12)
    return mu, sd


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["tnorm", "znorm", "ztnorm"])
    ap.add_argument("scores")
    ap.add_argument("out")
    ap.add_argument("--cohort", help="slid eval scores.tsv of the cohort (znorm, ztnorm)")
    a = ap.parse_args()
    header, rows, cols = read(a.scores)
    langs = [header[c][4:] for c in cols]
    s, ok = scores_of(header, rows, cols)
    if a.mode in ("znorm", "ztnorm"):
        if not a.cohort:
            sys.exit("score_norm.py: %s needs --cohort" % a.mode)
        mu, sd = zstats(a.cohort, langs)
        s = (s - mu) / sd
    if a.mode in ("tnorm", "ztnorm"):
        s = tnorm(s)
    il, isc = header.index("language"), header.index("score")
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\t".join(header) + "\n")
        for i, r in enumerate(rows):
            if ok[i]:
                r = list(r)
                k = int(np.argmax(s[i]))
                r[il], r[isc] = langs[k], "%.6g" % s[i, k]
                for j, c in enumerate(cols):
                    r[c] = "%.6g" % s[i, j]
            f.write("\t".join(r) + "\n")


if __name__ == "__main__":
    main()
