#!/usr/bin/python3
"""Survey of the VAD speech check (include/slid/vad.h CheckSpeech) over a list of audio files: for each
file, how many frames lie 6 dB (and other margins) above its noise floor, the 10th percentile of C0.
The default check says "no speech" when fewer than 20 frames are 6 dB above the floor.

Usage (from the repository root, after building):
  /usr/bin/python3 tools/speech_check_survey.py build/bin/slid LIST [--lowest N]
LIST holds one audio path per line. Runs `slid features --list LIST --stage mfcc --ark ark,t:-` (the
default frontend: 23 mel bins, C0 in column 0) and prints, lowest first, the frames above floor + 3, 4,
5, 6, 8, 10 dB per file, then the smallest count at 6 dB.
"""
import math
import subprocess
import sys

import numpy as np

DB_PER_UNIT = 10 / math.log(10) / math.sqrt(23)  # Column0DecibelsPerUnit for the default frontend
MARGINS_DB = (3, 4, 5, 6, 8, 10)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    slid, listing = sys.argv[1], sys.argv[2]
    lowest = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--lowest" else 0
    text = subprocess.run([slid, "features", "--list", listing, "--stage", "mfcc", "--ark", "ark,t:-", "-q"],
                          check=True, capture_output=True, text=True).stdout
    rows, utt, counts = [], None, []
    for line in text.splitlines():
        if "[" in line:
            utt, rows = line.split()[0], []
            continue
        fields = line.replace("]", "").split()
        if fields:
            rows.append(float(fields[0]))
        if "]" in line:
            c0 = np.array(rows) * DB_PER_UNIT
            floor = np.sort(c0)[(len(c0) - 1) // 10]  # rank floor(0.1 (T - 1)), as CheckSpeech
            counts.append((utt, len(c0), [int((c0 > floor + m).sum()) for m in MARGINS_DB]))
    counts.sort(key=lambda r: r[2][MARGINS_DB.index(6)])
    print("file frames " + " ".join("above+%ddB" % m for m in MARGINS_DB))
    for utt, n, above in counts[: lowest or len(counts)]:
        print(utt, n, " ".join(str(a) for a in above))
    print("files: %d; fewest frames 6 dB above the floor: %d" % (len(counts), counts[0][2][MARGINS_DB.index(6)]))


if __name__ == "__main__":
    main()
