#!/usr/bin/python3
"""The Python peer of issue 13: the same classic pipeline built from independent libraries, run beside
`slid train`/`slid eval` on the same data directories.
  peer.py train <data-dir> <model.pkl> [--vad fbank|c0] [--max-iter N] [--init k-means++|kmeans|random]
                [--reg-covar X] [--num-gauss K] [--seed S] [--feats-cache F.npz]
  peer.py eval <model.pkl> <data-dir> <scores.tsv> [--feats-cache F.npz]
Pipeline: torchaudio.compliance.kaldi fbank (23 mel bins, use_energy=True, dither 0, 16 kHz, povey
25/10 ms) -> 7 cepstra C0..C6 from the log-mel energies with torchaudio's own DCT and lifter (exactly
kaldi.mfcc with use_energy=False) -> sliding CMN over 300 frames (centred, as apply-cmvn-sliding)
-> SDC 7-1-3-7 (delta window 1, Kaldi scaling, edges replicated) with the 7 statics (56 dims)
-> energy VAD on the fbank log-energy column (keep frames above 5.5 + 0.5 x its mean over the
utterance; `--vad c0` uses C0 instead, slid's default input) -> one sklearn GaussianMixture(256,
covariance_type='diag', reg_covar=1e-3, init_params='k-means++', max_iter=20) per language;
the language whose GMM gives the highest average frame log-likelihood (`score`) wins.
Reads Kaldi data dirs with or without `segments` (python3-soundfile decodes Ogg Opus)."""
import argparse
import os
import pickle
import sys
import time

import numpy as np
import soundfile as sf
import torch
import torchaudio.compliance.kaldi as K
from sklearn.mixture import GaussianMixture

torch.set_num_threads(1)
RATE = 16000


def read_map(path):
    with open(path, encoding="utf-8") as f:
        return dict(line.rstrip("\n").split(" ", 1) for line in f if line.strip())


def utterances(data):
    """Yields (utt, lang, samples as float32 in the 16-bit range) for a Kaldi data dir."""
    wav = read_map(os.path.join(data, "wav.scp"))
    lang = read_map(os.path.join(data, "utt2lang"))
    seg_path = os.path.join(data, "segments")
    if not os.path.exists(seg_path):
        for utt in sorted(wav):
            x, rate = sf.read(wav[utt], dtype="int16", always_2d=True)
            assert rate == RATE, f"{wav[utt]}: {rate} Hz, expected {RATE}"
            yield utt, lang[utt], x[:, 0].astype(np.float32)
        return
    by_rec = {}
    for utt, v in read_map(seg_path).items():
        rec, a, b = v.split()
        by_rec.setdefault(rec, []).append((utt, float(a), float(b)))
    for rec in sorted(by_rec):
        x, rate = sf.read(wav[rec], dtype="int16", always_2d=True)
        assert rate == RATE, f"{wav[rec]}: {rate} Hz, expected {RATE}"
        x = x[:, 0].astype(np.float32)
        for utt, a, b in sorted(by_rec[rec]):
            yield utt, lang[utt], x[int(round(a * rate)):int(round(b * rate))]


def sliding_cmn(c, window=300):
    """apply-cmvn-sliding --center=true --norm-vars=false: mean over a window of `window` frames
    centred on t, shifted to lie inside the utterance (the whole utterance if it is shorter)."""
    t = c.shape[0]
    if t <= window:
        return c - c.mean(axis=0, keepdims=True)
    cs = np.vstack([np.zeros((1, c.shape[1])), np.cumsum(c, axis=0, dtype=np.float64)])
    start = np.clip(np.arange(t) - window // 2, 0, t - window)
    return (c - (cs[start + window] - cs[start]) / window).astype(np.float32)


def sdc(c, n=7, d=1, p=3, k=7):
    """Statics + shifted delta cepstra N-d-P-k (Kaldi add-deltas-sdc: delta = sum_i i (c[t+i]-c[t-i]) /
    (2 sum i^2), block j = delta at t + j P, frame indices clamped to the utterance)."""
    t = c.shape[0]
    idx = np.arange(t)
    cc = c[:, :n]
    den = 2.0 * sum(i * i for i in range(1, d + 1))
    delta = sum(i * (cc[np.minimum(idx + i, t - 1)] - cc[np.maximum(idx - i, 0)]) for i in range(1, d + 1)) / den
    blocks = [cc] + [delta[np.minimum(idx + j * p, t - 1)] for j in range(k)]
    return np.hstack(blocks).astype(np.float32)


def features(x, vad):
    """56-dim voiced frames of one utterance (0 rows if too short)."""
    if len(x) < 400 + 21 * 160:
        return np.zeros((0, 56), np.float32)
    fb = K.fbank(torch.from_numpy(x).unsqueeze(0), num_mel_bins=23, use_energy=True, dither=0.0,
                 sample_frequency=RATE, energy_floor=0.0).numpy()
    energy, logmel = fb[:, 0], fb[:, 1:]
    dct = K._get_dct_matrix(7, 23).numpy()
    lifter = K._get_lifter_coeffs(7, 22.0).numpy()
    mfcc = (logmel @ dct) * lifter
    col = energy if vad == "fbank" else mfcc[:, 0]
    voiced = col > 5.5 + 0.5 * col.mean()
    return sdc(sliding_cmn(mfcc))[voiced]


def load_feats(data, vad, cache):
    if cache and os.path.exists(cache):
        z = np.load(cache, allow_pickle=True)
        return list(z["utts"]), list(z["langs"]), list(z["feats"]), list(z["durs"])
    utts, langs, feats, durs = [], [], [], []
    t0 = time.time()
    for i, (utt, lang, x) in enumerate(utterances(data)):
        utts.append(utt)
        langs.append(lang)
        durs.append(len(x) / RATE)
        feats.append(features(x, vad))
        if i % 1000 == 0:
            print(f"peer: {data}: {i} utterances, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    if cache:
        f = np.empty(len(feats), dtype=object)
        f[:] = feats
        np.savez(cache, utts=np.array(utts), langs=np.array(langs), feats=f, durs=np.array(durs))
    return utts, langs, feats, durs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["train", "eval"])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("c", nargs="?")
    ap.add_argument("--vad", choices=["fbank", "c0"], default="fbank")
    ap.add_argument("--num-gauss", type=int, default=256)
    ap.add_argument("--max-iter", type=int, default=20)
    ap.add_argument("--init", default="k-means++")
    ap.add_argument("--reg-covar", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--feats-cache", default="")
    o = ap.parse_args()
    if o.cmd == "train":
        data, model = o.a, o.b
        _, langs, feats, _ = load_feats(data, o.vad, o.feats_cache)
        gmms = {}
        for lang in sorted(set(langs)):
            x = np.vstack([f for f, l in zip(feats, langs) if l == lang])
            t0 = time.time()
            g = GaussianMixture(o.num_gauss, covariance_type="diag", reg_covar=o.reg_covar, init_params=o.init,
                                max_iter=o.max_iter, random_state=o.seed).fit(x)
            print(f"peer: {lang}: {len(x)} frames, {g.n_iter_} iterations, avg llk {g.score(x):.3f}, "
                  f"{time.time() - t0:.0f} s", file=sys.stderr, flush=True)
            gmms[lang] = g
        with open(model + ".tmp", "wb") as f:
            pickle.dump({"vad": o.vad, "gmms": gmms}, f)
        os.replace(model + ".tmp", model)
    else:
        model, data, out = o.a, o.b, o.c
        with open(model, "rb") as f:
            m = pickle.load(f)
        utts, langs, feats, durs = load_feats(data, m["vad"], o.feats_cache)
        names = sorted(m["gmms"])
        with open(out + ".tmp", "w", encoding="utf-8") as f:
            f.write("utt\tlang\tdecided\tduration_s\t" + "\t".join("llk_" + n for n in names) + "\n")
            for utt, lang, x, dur in zip(utts, langs, feats, durs):
                if len(x) == 0:
                    f.write(f"{utt}\t{lang}\t-\t{dur:.3f}\t" + "\t".join("nan" for _ in names) + "\n")
                    continue
                s = [m["gmms"][n].score(x) for n in names]
                f.write(f"{utt}\t{lang}\t{names[int(np.argmax(s))]}\t{dur:.3f}\t" + "\t".join(f"{v:.4f}" for v in s) + "\n")
        os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
