#!/usr/bin/python3
"""Writes every utterance of a Kaldi data directory with `segments` as its own 16-bit WAV file and a
copy of the directory whose wav.scp names those files (no segments): for slid builds that read
wav.scp only. Each recording is decoded once (python3-soundfile, which reads Ogg Opus).
  materialise.py <data-dir> <wav-dir> <out-dir>
Files already present in <wav-dir> with the right length are kept, so several sets can share one
<wav-dir>."""
import os
import shutil
import sys

import numpy as np
import soundfile as sf


def read_map(path):
    with open(path, encoding="utf-8") as f:
        return dict(line.rstrip("\n").split(" ", 1) for line in f if line.strip())


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: materialise.py <data-dir> <wav-dir> <out-dir>")
    data, wav_dir, out = sys.argv[1:]
    wav = read_map(os.path.join(data, "wav.scp"))
    by_rec = {}
    with open(os.path.join(data, "segments"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            p = line.split()
            if len(p) != 4:
                sys.exit(f"{data}/segments:{n}: expected '<utt> <recording> <start> <end>'")
            by_rec.setdefault(p[1], []).append((p[0], float(p[2]), float(p[3])))
    os.makedirs(wav_dir, exist_ok=True)
    os.makedirs(out, exist_ok=True)
    scp = {}
    for rec, segs in sorted(by_rec.items()):
        if rec not in wav:
            sys.exit(f"{data}/segments: recording {rec} is not in wav.scp")
        todo = [s for s in segs if not os.path.exists(os.path.join(wav_dir, s[0] + ".wav"))]
        if todo:
            x, rate = sf.read(wav[rec], dtype="int16", always_2d=True)
            x = x[:, 0]
            for utt, start, end in todo:
                a, b = int(round(start * rate)), int(round(end * rate))
                if a < 0 or b > len(x) + rate // 10 or b <= a:
                    sys.exit(f"{data}/segments: {utt}: {start}..{end} s outside recording {rec} ({len(x) / rate:.3f} s)")
                path = os.path.join(wav_dir, utt + ".wav")
                sf.write(path + ".tmp", x[a:min(b, len(x))], rate, subtype="PCM_16", format="WAV")
                os.replace(path + ".tmp", path)
        for utt, _, _ in segs:
            scp[utt] = os.path.abspath(os.path.join(wav_dir, utt + ".wav"))
    with open(os.path.join(out, "wav.scp"), "w", encoding="utf-8") as f:
        for utt in sorted(scp):
            f.write(f"{utt} {scp[utt]}\n")
    for name in os.listdir(data):
        if name not in ("wav.scp", "segments") and os.path.isfile(os.path.join(data, name)):
            shutil.copy(os.path.join(data, name), os.path.join(out, name))


if __name__ == "__main__":
    main()
