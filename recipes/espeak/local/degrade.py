#!/usr/bin/python3
"""Degraded copies of a Kaldi data directory, for measuring how a model does on channels it never heard.

    local/degrade.py SRC_DATA DST_DATA CONDITION SEED

CONDITION is a '+'-separated chain applied left to right:
  white:SNR  pink:SNR  brown:SNR   additive Gaussian noise (white; 1/f; 1/f^2 power spectrum) at SNR dB,
                                   SNR = 10 log10(mean(x^2) / mean(n^2)) over the whole utterance
  tel                              telephone channel: 16 kHz -> 8 kHz (scipy resample_poly), 4th-order
                                   Butterworth band-pass 300-3400 Hz, -> 16 kHz
e.g. "tel", "white:10", "pink:5+tel" (noise in the room, then the phone line).

Deliberately independent of slid's own augmentation code (numpy/scipy, noise shaped in the frequency
domain, not slid's filters), so a model trained with slid's augmentation is not tested on its own
generator. Deterministic: the noise of an utterance depends only on SEED, the condition and the
utterance id. Writes 16-bit WAVs (clipped to full scale; clipping is counted and printed) under
DST_DATA/wav and a data directory (wav.scp; the other files copied) in DST_DATA.
"""
import hashlib
import os
import shutil
import sys
import wave

import numpy as np
from scipy import signal


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, path
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    return x, rate


def write_wav(path, x, rate):
    y = np.clip(np.round(x), -32768, 32767)
    clipped = int(np.sum(np.abs(np.round(x)) > 32767))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(y.astype("<i2").tobytes())
    return clipped


def coloured_noise(rng, n, colour):
    """Gaussian noise of length n whose power spectrum goes as 1/f^k (k = 0, 1, 2), shaped by FFT."""
    white = rng.standard_normal(n)
    if colour == "white":
        return white
    k = {"pink": 1.0, "brown": 2.0}[colour]
    spec = np.fft.rfft(white)
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = f[1] if len(f) > 1 else 1.0  # no infinite DC gain
    spec /= f ** (k / 2)
    return np.fft.irfft(spec, n)


def add_noise(rng, x, colour, snr_db):
    noise = coloured_noise(rng, len(x), colour)
    px = np.mean(x ** 2)
    pn = np.mean(noise ** 2)
    return x + noise * np.sqrt(px / (pn * 10 ** (snr_db / 10)))


TEL_SOS = signal.butter(4, [300, 3400], btype="bandpass", fs=8000, output="sos")


def telephone(x, rate):
    assert rate == 16000, "tel expects 16 kHz input"
    y = signal.resample_poly(x, 1, 2)
    y = signal.sosfilt(TEL_SOS, y)
    return signal.resample_poly(y, 2, 1)[: len(x)]


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    src, dst, condition, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    steps = condition.split("+")
    for s in steps:
        if s != "tel" and not (s.split(":")[0] in ("white", "pink", "brown") and len(s.split(":")) == 2):
            sys.exit(f"degrade.py: unknown step '{s}' in condition '{condition}'")
    os.makedirs(os.path.join(dst, "wav"), exist_ok=True)
    for f in os.listdir(src):
        if f != "wav.scp" and os.path.isfile(os.path.join(src, f)):
            shutil.copy(os.path.join(src, f), os.path.join(dst, f))
    clipped_utts = 0
    lines = []
    with open(os.path.join(src, "wav.scp")) as scp:
        for line in scp:
            utt, path = line.split(maxsplit=1)
            path = path.strip()
            x, rate = read_wav(path)
            key = hashlib.md5(f"{seed}/{condition}/{utt}".encode()).digest()
            rng = np.random.default_rng(int.from_bytes(key[:8], "little"))
            for s in steps:
                if s == "tel":
                    x = telephone(x, rate)
                else:
                    colour, snr = s.split(":")
                    x = add_noise(rng, x, colour, float(snr))
            out = os.path.abspath(os.path.join(dst, "wav", utt + ".wav"))
            clipped_utts += write_wav(out, x, rate) > 0
            lines.append(f"{utt} {out}\n")
    with open(os.path.join(dst, "wav.scp"), "w") as scp:
        scp.writelines(lines)
    print(f"degrade.py: {condition}: {len(lines)} utterances -> {dst} ({clipped_utts} with clipped samples)")


if __name__ == "__main__":
    main()
