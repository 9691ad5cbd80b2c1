#!/usr/bin/python3
"""In-domain score normalisation trial (experiment code, not a slid feature): unlabelled speech of the
test condition as the normalisation cohort. Each language column of a `slid eval` scores.tsv is
centred (and, second row, also scaled) by its mean (standard deviation) over the utterances of OTHER
test speakers: the speakers are split in two halves by MD5(speaker) mod 2, half A is normalised with
half B's statistics and B with A's, so no utterance normalises itself; labels are never used.
usage: domain_norm.py SCORES.tsv TEST_DATA_DIR (with utt2spk) [NAME]"""
import sys, hashlib, numpy as np

from lid_measures import cavg, eer
scores, data = sys.argv[1], sys.argv[2].rstrip("/")
f = sys.argv[3] if len(sys.argv) > 3 else data.split("/")[-1]
h = open(scores).readline().rstrip("\n").split("\t")
rows = [l.rstrip("\n").split("\t") for l in open(scores)][1:]
rows = [r for r in rows if r[h.index("status")] == "ok"]
cols = [i for i, x in enumerate(h) if x.startswith("llk_")]
langs = [h[i][4:] for i in cols]
S = np.array([[float(r[i]) for i in cols] for r in rows])
truth = np.array([r[1] for r in rows])
u2s = dict(l.split() for l in open(data + "/utt2spk"))
half = np.array([int(hashlib.md5(u2s[r[0]].encode()).hexdigest(), 16) % 2 for r in rows])

def report(name, S):
    dec = np.array(langs)[S.argmax(1)]
    per = np.mean([np.mean(dec[truth == L] == L) for L in sorted(set(truth))])
    print(f"{f} {name:28s} acc {100*np.mean(dec == truth):5.1f} %  mean/lang {100*per:5.1f} %  Cavg {cavg(langs, S, truth):.3f}  EER {100*eer(langs, S, truth):4.1f} %  (n={len(S)}, halves {np.sum(half==0)}/{np.sum(half==1)})")

report("gmm", S)
for scale in (False, True):
    N = S.copy()
    for a in (0, 1):
        o = S[half != a]
        N[half == a] = (S[half == a] - o.mean(0)) / (o.std(0) if scale else 1)
    report("in-domain mean" + (" + std" if scale else ""), N)
