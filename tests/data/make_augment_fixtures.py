#!/usr/bin/python3
"""Fixtures of tests/test_augment.cc (slid/augment.h), written into tests/data/augment/:

  butter_<name>.txt   scipy.signal.butter(order, cutoff, btype, fs=rate, output="sos") run by
                      scipy.signal.sosfilt over the test input x[n] (below); one output per line
  mulaw.txt           "<input> <output>" per line: torchaudio.functional.mu_law_encoding then
                      mu_law_decoding (256 channels) on input / 32768, times 32768

The test input, also computed by the C++ test: x[n] = 1000 sin(0.05 n) + 800 sin(1.9 n) + 5000 [n == 0],
n = 0..399. Run with Debian's python3 from tests/data: /usr/bin/python3 make_augment_fixtures.py
"""
import numpy as np
import torch
import torchaudio.functional as F
from scipy import signal

n = np.arange(400)
x = 1000 * np.sin(0.05 * n) + 800 * np.sin(1.9 * n) + 5000 * (n == 0)
filters = {
    "hp4_300_8000": (4, 300, "highpass", 8000),
    "lp4_3400_8000": (4, 3400, "lowpass", 8000),
    "lp6_1000_16000": (6, 1000, "lowpass", 16000),
    "hp2_50_16000": (2, 50, "highpass", 16000),
}
for name, (order, cutoff, btype, rate) in filters.items():
    sos = signal.butter(order, cutoff, btype, fs=rate, output="sos")
    y = signal.sosfilt(sos, x)
    np.savetxt(f"augment/butter_{name}.txt", y, fmt="%.10g")

inp = np.concatenate([np.linspace(-40000, 40000, 161), [0.0, 1.0, -1.0, 12.5, 32767.0, -32768.0]])
enc = F.mu_law_encoding(torch.tensor(inp / 32768, dtype=torch.float64), 256)
dec = F.mu_law_decoding(enc, 256).numpy() * 32768
np.savetxt("augment/mulaw.txt", np.stack([inp, dec], axis=1), fmt="%.10g")
