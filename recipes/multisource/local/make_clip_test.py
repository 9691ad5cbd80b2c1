#!/usr/bin/python3
"""A clip-level test set: every original clip (no merging) of the recordings of a test set, at most N
per language (random, seed 1), as a Kaldi data dir.
  make_clip_test.py <clips-data-dir> <test-data-dir> <out-dir> [N=150]
<clips-data-dir>: make_data.pl's output with merge-min-seconds 0 (every clip its own utterance).
The recordings of <test-data-dir> (e.g. data/test_spk: held-out speakers) decide what is taken, so the
clips are as unheard as that test set's utterances."""
import collections
import os
import random
import sys

if len(sys.argv) not in (4, 5):
    sys.exit(__doc__)
src, ref, out = sys.argv[1:4]
cap = int(sys.argv[4]) if len(sys.argv) == 5 else 150


def read(path):
    with open(path, encoding="utf-8") as f:
        return dict(line.rstrip("\n").split(" ", 1) for line in f if line.strip())


recs = set(read(f"{ref}/wav.scp"))
seg, lang, spk, dur, wav = (read(f"{src}/{n}") for n in ("segments", "utt2lang", "utt2spk", "utt2dur", "wav.scp"))
by_lang = collections.defaultdict(list)
for u in sorted(seg):
    if seg[u].split()[0] in recs:
        by_lang[lang[u]].append(u)
random.seed(1)
keep = sorted(u for _, us in sorted(by_lang.items()) for u in random.sample(us, min(cap, len(us))))
os.makedirs(out, exist_ok=True)
used = sorted({seg[u].split()[0] for u in keep})
with open(f"{out}/wav.scp", "w", encoding="utf-8") as f:
    f.writelines(f"{r} {wav[r]}\n" for r in used)
for name, m in (("segments", seg), ("utt2lang", lang), ("utt2spk", spk), ("utt2dur", dur)):
    with open(f"{out}/{name}", "w", encoding="utf-8") as f:
        f.writelines(f"{u} {m[u]}\n" for u in keep)
print(f"make_clip_test.py: {len(keep)} clips of {len(used)} recordings -> {out}", file=sys.stderr)
