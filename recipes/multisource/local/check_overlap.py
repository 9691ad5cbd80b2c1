#!/usr/bin/python3
"""Finds clips that are the same recording in two corpora in real-v1 form (e.g. a Debian package and
real-v1 both shipping one voice's alphabet), which would put one recording into a cross-source
training set and its test set under two source names.

    local/check_overlap.py <corpus-a> <corpus-b> [--max-dur-diff-s 0.005] [--min-xcorr 0.8] [--langs l1,l2]

Candidates: clips of the same language whose durations differ by at most --max-dur-diff-s (one file
decoded twice keeps its length to a few samples). Score: the largest normalised cross-correlation of
the two waveforms over lags of +-50 ms (FFT); a copy of one recording, even re-encoded (real-v1 is
Opus) or resampled, scores near 1, two takes of one word by one voice well below (they are not
sample-aligned over their length). Pairs at or above --min-xcorr are printed (tab-separated: lang,
score, clip a, clip b); a count per (language, source a, source b) goes to stderr. Exit 0 either way.
Pairs within one source are not compared, so a corpus can be checked against itself (its sources
against each other). Blind spot: a copy whose silence was trimmed differently (length changed by more than the tolerance).
"""
import argparse
import collections
import sys

import numpy as np

RATE_HZ = 16000


def read_segments(corpus):
    rec_info = {}
    with open(f'{corpus}/recordings.tsv', encoding='utf-8') as f:
        next(f)
        for line in f:
            r = line.rstrip('\n').split('\t')
            rec_info[r[0]] = (r[1], r[2])
    clips = collections.defaultdict(list)   # lang -> [(dur, rec, start, end, clip, source)]
    with open(f'{corpus}/segments.tsv', encoding='utf-8') as f:
        next(f)
        for line in f:
            rec, s, e, clip = line.rstrip('\n').split('\t')
            source, lang = rec_info[rec]
            clips[lang].append((float(e) - float(s), rec, float(s), float(e), clip, source))
    return clips


class Audio:
    """Decoded recordings, most recent 64 kept."""
    def __init__(self, corpus):
        self.corpus, self.cache = corpus, collections.OrderedDict()

    def clip(self, t):
        import soundfile as sf
        rec = t[1]
        if rec not in self.cache:
            x, rate = sf.read(f'{self.corpus}/audio/{rec}', dtype='float32', always_2d=True)
            if rate != RATE_HZ:
                sys.exit(f'check_overlap.py: {self.corpus}/audio/{rec}: {rate} Hz, expected {RATE_HZ}')
            self.cache[rec] = x.mean(axis=1)
            if len(self.cache) > 64:
                self.cache.popitem(last=False)
        return self.cache[rec][int(round(t[2] * RATE_HZ)):int(round(t[3] * RATE_HZ))]


def xcorr(a, b, max_lag):
    a = a - a.mean()
    b = b - b.mean()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-6 or nb < 1e-6:
        return 0.0
    n = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    c = np.fft.irfft(np.fft.rfft(a, n) * np.conj(np.fft.rfft(b, n)), n)
    c = np.concatenate([c[-max_lag:], c[:max_lag + 1]])
    return float(np.abs(c).max() / (na * nb))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('a')
    ap.add_argument('b')
    ap.add_argument('--max-dur-diff-s', type=float, default=0.005)
    ap.add_argument('--min-xcorr', type=float, default=0.8)
    ap.add_argument('--langs', default='', help='comma-separated languages to check (default: all shared)')
    args = ap.parse_args()
    ca, cb = read_segments(args.a), read_segments(args.b)
    aa, ab = Audio(args.a), Audio(args.b)
    max_lag = RATE_HZ // 20
    for lang in sorted(set(ca) & set(cb)):
        if args.langs and lang not in args.langs.split(','):
            continue
        A = sorted(ca[lang], key=lambda t: (t[1], t[2]))   # recording order: each decoded once
        B = sorted(cb[lang])
        durs = np.array([t[0] for t in B])
        cand, match = collections.Counter(), collections.Counter()
        for ta in A:
            lo, hi = np.searchsorted(durs, [ta[0] - args.max_dur_diff_s, ta[0] + args.max_dur_diff_s])
            if lo == hi:
                continue
            xa = aa.clip(ta)
            for tb in B[lo:hi]:
                if tb[5] == ta[5]:   # one source (a corpus checked against itself): no cross-source leak
                    continue
                cand[(ta[5], tb[5])] += 1
                score = xcorr(xa, ab.clip(tb), max_lag)
                if score >= args.min_xcorr:
                    match[(ta[5], tb[5])] += 1
                    print(f'{lang}\t{score:.3f}\t{ta[4]}\t{tb[4]}', flush=True)
        for k in sorted(cand):
            print(f'check_overlap: {lang} {k[0]} vs {k[1]}: {match[k]} copies among {cand[k]} candidate pairs',
                  file=sys.stderr, flush=True)


if __name__ == '__main__':
    main()
