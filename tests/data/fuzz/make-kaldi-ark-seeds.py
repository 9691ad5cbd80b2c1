#!/usr/bin/python3
"""Regenerates the seed corpus of fuzz target fuzz_kaldi_ark (tests/data/fuzz/fuzz_kaldi_ark/).

First byte of each seed: 0 = the rest is an archive, 1 = the rest is one object (as an scp offset
points at). Seeds: archives written by Kaldi itself (copied from the shared fixtures, see
../shared/fixtures/kaldi/README.md), hand-made objects of every type slid reads (FM, DM, FV, DV,
CM, CM2, CM3, text), and damaged variants.
Usage: make-kaldi-ark-seeds.py <shared/fixtures/kaldi>
"""
import os
import struct
import sys

fixtures = sys.argv[1]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_kaldi_ark")
os.makedirs(out, exist_ok=True)


def seed(name, mode, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([mode]) + data)


def i32(v):
    return b"\x04" + struct.pack("<i", v)


def fm(rows, cols, values):
    return b"\0BFM " + i32(rows) + i32(cols) + struct.pack("<%df" % len(values), *values)


def dm(rows, cols, values):
    return b"\0BDM " + i32(rows) + i32(cols) + struct.pack("<%dd" % len(values), *values)


def cm_header(token, min_value, value_range, rows, cols):
    return b"\0B" + token + b" " + struct.pack("<ffii", min_value, value_range, rows, cols)


def kaldi(name):
    with open(os.path.join(fixtures, name), "rb") as f:
        return f.read()


# Written by Kaldi (compute-mfcc-feats, copy-feats --compress=true, compute-vad, copy-feats ark,t:).
seed("kaldi_mfcc_8k_ark", 0, kaldi("mfcc_8k.ark"))
seed("kaldi_mfcc_8k_compressed_ark", 0, kaldi("mfcc_8k_compressed.ark"))
seed("kaldi_vad_8k_ark", 0, kaldi("vad_8k.ark"))
text = kaldi("mfcc_8k.txt").split(b"\n")
seed("kaldi_mfcc_8k_text_head", 0, b"\n".join(text[:6]) + b" ]\n")

# Hand-made objects.
small = [1.5, -2.0, 3.25, 0.0, 1e-7, 65504.0]
seed("fm_2x3", 0, b"a " + fm(2, 3, small) + b"b " + fm(0, 0, []))
seed("dm_3x2", 0, b"d " + dm(3, 2, small))
seed("fv_dv", 0, b"v \0BFV " + i32(3) + struct.pack("<3f", 0, 1, 1) + b"w \0BDV " + i32(2) + struct.pack("<2d", 1, 0))
seed("cm2_2x2", 0, b"c " + cm_header(b"CM2", -10.0, 20.0, 2, 2) + struct.pack("<4H", 0, 65535, 32768, 1))
seed("cm3_1x3", 0, b"c " + cm_header(b"CM3", 1.0, 2.55, 1, 3) + bytes([0, 100, 255]))
seed("cm_5x1", 0, b"c " + cm_header(b"CM", 0.0, 65535.0, 5, 1) + struct.pack("<4H", 100, 200, 400, 1000) + bytes([0, 64, 128, 192, 255]))
seed("cm_empty", 0, b"e " + cm_header(b"CM", 0.0, 0.0, 0, 0))
seed("text_mixed", 0, b"t  [\n  1 2 3 \n  4 5 6 ]\nv  [ 1 2 ]\ne  [ ]\nb " + fm(1, 2, [7, 8]) + b"n [\n nan -inf +1e3 ]\n")
seed("obj_fm", 1, fm(2, 3, small))
seed("obj_text", 1, b" [\n  1 2 \n  3 4 ]\n")
# Damaged.
seed("truncated_fm", 0, (b"a " + fm(2, 3, small))[:20])
seed("bad_token", 0, b"a \0BXM " + i32(1) + i32(1) + b"\0\0\0\0")
seed("huge_rows", 0, b"a \0BFM " + i32(0x7FFFFFFF) + i32(0x7FFFFFFF) + b"\0\0\0\0")
seed("ragged_text", 0, b"a [ 1 2\n 3 ]\n")
