#!/usr/bin/python3
"""Extract, per utterance of a Kaldi data dir: slid's 56-dim SDC features for ALL frames (stage 'sdc'),
slid's raw C0 (stage 'mfcc'), and the peer's fbank log-energy (torchaudio.compliance.kaldi.fbank,
use_energy=True) -- so that VAD decisions and GMM trainers can be swapped independently.
usage: swap_feats.py DATADIR OUT.npz   (run from recipes/multisource; SLID_PYTHONPATH = build/python by default)"""
import os, sys, time
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("SLID_PYTHONPATH", os.path.join(HERE, "../../../build/python")))
sys.path.insert(0, HERE)
import numpy as np, torch, slid
import torchaudio.compliance.kaldi as K
import peer
torch.set_num_threads(1)
data, out = sys.argv[1], sys.argv[2]
utts, langs, sdcs, c0s, ens, durs = [], [], [], [], [], []
t0 = time.time(); checked = 0
for i, (utt, lang, x) in enumerate(peer.utterances(data)):
    utts.append(utt); langs.append(lang); durs.append(len(x) / 16000)
    if len(x) < 400 + 21 * 160:
        sdcs.append(np.zeros((0, 56), np.float32)); c0s.append(np.zeros(0, np.float32)); ens.append(np.zeros(0, np.float32)); continue
    s = slid.compute_features(x, 16000, stage="sdc")
    m = slid.compute_features(x, 16000, stage="mfcc")
    fb = K.fbank(torch.from_numpy(x).unsqueeze(0), num_mel_bins=23, use_energy=True, dither=0.0,
                 sample_frequency=16000, energy_floor=0.0).numpy()
    assert fb.shape[0] == s.shape[0] == m.shape[0], (utt, fb.shape, s.shape, m.shape)
    sdcs.append(np.array(s)); c0s.append(np.array(m[:, 0])); ens.append(fb[:, 0].copy())
    if checked < 20:  # the peer's own features equal slid's SDC under the peer's VAD
        p = peer.features(x, "fbank")
        v = fb[:, 0] > 5.5 + 0.5 * fb[:, 0].mean()
        d = np.abs(p - s[v]).max() if p.size else 0.0
        full = slid.compute_features(x, 16000)
        vs = m[:, 0] > 5.0 + 0.5 * m[:, 0].mean()
        d2 = np.abs(full - s[vs]).max() if full.size else 0.0
        print(f"check {utt}: peer vs slid feats max diff {d:.2e}; slid full vs sdc[c0 vad] {d2:.2e}", file=sys.stderr)
        checked += 1
    if i % 500 == 0:
        print(f"{data}: {i} utts {time.time()-t0:.0f} s", file=sys.stderr, flush=True)
o = lambda L: np.array(L + [None], dtype=object)[:-1]
np.savez(out, utts=np.array(utts), langs=np.array(langs), durs=np.array(durs), sdc=o(sdcs), c0=o(c0s), en=o(ens))
print(f"{data}: {len(utts)} utts in {time.time()-t0:.0f} s", file=sys.stderr)
