#!/usr/bin/python3
"""Makes tests/data/mfcc/: short real-speech WAVs and the MFCC torchaudio.compliance.kaldi.mfcc
computes for them, one case per option combination.

Run from the repository root with Debian's python3 (torchaudio 0.13) and sox:
    /usr/bin/python3 tests/data/make_mfcc_fixtures.py

Per case <name> it writes:
  <name>.conf      the options in Kaldi config syntax (read by tests/test_mfcc.cc via ApplyKaldiConfig)
  <name>.expected  "rows cols" then one frame per line (%.9g), torchaudio's float32 output
and per clip <clip>.wav (16-bit mono, 3 s cut from an asterisk prompt; 16 kHz ones resampled by sox).
"""
import os
import subprocess

import torch
import torchaudio

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mfcc")
SOUNDS = "/usr/share/asterisk/sounds"

# clip name -> (source prompt, start s, rate)
CLIPS = {
    "en8k": ("en_US_f_Allison/demo-congrats.wav", 1.0, 8000),
    "fr16k": ("fr_CA_f_June/demo-congrats.wav", 1.0, 16000),
    "it8k": ("it_IT_m_Carlo/demo-congrats.wav", 2.0, 8000),
    "ru16k": ("ru_RU_f_IvrvoiceRU/demo-congrats.wav", 1.0, 16000),
    "es16k": ("es_MX_f_Allison/demo-congrats.wav", 3.0, 16000),
}

# Options in Kaldi spelling. Every case states dither=0 and energy-floor (torchaudio's defaults
# differ from Kaldi's: energy_floor 1.0 there, 0 in Kaldi).
CASES = {
    # slid's LID default: povey, C0 (no energy), lifter 22, 7 ceps, 16 kHz
    "lid_default_16k": ("fr16k", {"num-ceps": 7, "use-energy": False, "cepstral-lifter": 22.0}),
    # Kaldi's compute-mfcc-feats defaults at 16 kHz: povey, energy, 13 ceps, lifter 22
    "kaldi_default_16k": ("ru16k", {"num-ceps": 13, "use-energy": True, "cepstral-lifter": 22.0}),
    # hamming, energy on, lifter off, 16 kHz, not rounded to a power of two, non-raw energy
    "hamming_energy_nolifter_16k": ("es16k", {"window-type": "hamming", "num-ceps": 13, "use-energy": True,
                                             "raw-energy": False, "cepstral-lifter": 0.0,
                                             "round-to-power-of-two": False}),
    # 8 kHz povey, energy on with a floor, lifter on, high-freq as an offset from Nyquist, no snip-edges
    "povey_energy_8k": ("en8k", {"sample-frequency": 8000, "num-ceps": 13, "use-energy": True,
                                 "energy-floor": 1.0, "high-freq": -200.0, "snip-edges": False}),
    # 8 kHz hamming, no energy, no lifter, 20 mel bins, 12 ceps
    "hamming_noenergy_8k": ("it8k", {"sample-frequency": 8000, "window-type": "hamming", "num-ceps": 12,
                                     "num-mel-bins": 20, "use-energy": False, "cepstral-lifter": 0.0}),
    # lre07-like 8 kHz: 20 ms / 8 ms frames, 64..3700 Hz, hanning, no DC removal, pre-emphasis 0.9
    "lre07_like_8k": ("en8k", {"sample-frequency": 8000, "frame-length": 20.0, "frame-shift": 8.0,
                               "low-freq": 64.0, "high-freq": 3700.0, "window-type": "hanning",
                               "remove-dc-offset": False, "preemphasis-coefficient": 0.9,
                               "num-ceps": 7, "use-energy": False}),
    # 16 kHz rectangular window, no pre-emphasis, 40 mel bins, 20 ceps, energy
    "rectangular_40bins_16k": ("fr16k", {"window-type": "rectangular", "preemphasis-coefficient": 0.0,
                                         "num-mel-bins": 40, "num-ceps": 20, "use-energy": True}),
    # 16 kHz blackman, no snip-edges, 8 kHz-wide band 100..6000 Hz
    "blackman_16k": ("ru16k", {"window-type": "blackman", "snip-edges": False, "low-freq": 100.0,
                               "high-freq": 6000.0, "num-ceps": 13, "use-energy": False}),
}

TA_NAMES = {
    "sample-frequency": "sample_frequency", "frame-length": "frame_length", "frame-shift": "frame_shift",
    "dither": "dither", "remove-dc-offset": "remove_dc_offset",
    "preemphasis-coefficient": "preemphasis_coefficient", "window-type": "window_type",
    "round-to-power-of-two": "round_to_power_of_two", "snip-edges": "snip_edges",
    "num-mel-bins": "num_mel_bins", "low-freq": "low_freq", "high-freq": "high_freq",
    "num-ceps": "num_ceps", "use-energy": "use_energy", "raw-energy": "raw_energy",
    "energy-floor": "energy_floor", "cepstral-lifter": "cepstral_lifter",
}


def make_clip(name):
    src, start, rate = CLIPS[name]
    path = os.path.join(OUT, name + ".wav")
    subprocess.run(["sox", os.path.join(SOUNDS, src), "-b", "16", "-r", str(rate), path,
                    "trim", str(start), "3.0"], check=True)
    return path


def text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def main():
    os.makedirs(OUT, exist_ok=True)
    wavs = {name: make_clip(name) for name in CLIPS}
    for case, (clip, opts) in sorted(CASES.items()):
        opts = dict(opts)
        opts.setdefault("sample-frequency", 16000)
        opts.setdefault("dither", 0.0)
        opts.setdefault("energy-floor", 0.0)
        wave, rate = torchaudio.load(wavs[clip], normalize=False)  # int16 values = Kaldi scale
        assert rate == opts["sample-frequency"], (case, rate)
        wave = wave.to(torch.float32)
        kwargs = {TA_NAMES[k]: v for k, v in opts.items()}
        feats = torchaudio.compliance.kaldi.mfcc(wave, **kwargs)
        with open(os.path.join(OUT, case + ".conf"), "w") as f:
            f.write("# made by tests/data/make_mfcc_fixtures.py; clip %s\n" % clip)
            f.write("--clip=%s\n" % clip)  # read by the test, not a frontend option
            for k, v in sorted(opts.items()):
                f.write("--%s=%s\n" % (k, text(v)))
        with open(os.path.join(OUT, case + ".expected"), "w") as f:
            f.write("%d %d\n" % tuple(feats.shape))
            for row in feats.tolist():
                f.write(" ".join("%.9g" % x for x in row) + "\n")
        print(case, clip, tuple(feats.shape))


if __name__ == "__main__":
    main()
