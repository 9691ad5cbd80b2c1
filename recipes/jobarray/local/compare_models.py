#!/usr/bin/python3
"""Compares the GMMs of two slid model files (gmm back-end) parameter by parameter.

Usage: compare_models.py A.slid B.slid [--tol T]

Reads the files itself (format 2, see include/slid/model.h: magic, version, JSON header, float32
payload of weights K, means K x D, variances K x D per language), independently of slid. Prints, per
language, the largest difference of the weights (absolute), of the means (in standard deviations of
B's component: |mu_a - mu_b| / sqrt(var_b)) and of the variances (relative), and exits 1 if any
exceeds T (default 1e-4), or if the languages, shapes or frontends differ.
"""
import json
import math
import struct
import sys
from array import array


def load(path):
    with open(path, "rb") as f:
        b = f.read()
    if b[:8] != b"SLIDMDL\0":
        sys.exit(f"{path}: not a slid model")
    (version,) = struct.unpack_from("<I", b, 8)
    (hlen,) = struct.unpack_from("<Q", b, 16)
    header = json.loads(b[24:24 + hlen].decode("utf-8"))
    if header["backend"]["kind"] != "gmm":
        sys.exit(f"{path}: back-end {header['backend']['kind']}, this compares gmm models")
    payload = array("f")
    payload.frombytes(b[24 + hlen:24 + hlen + header["payload_bytes"]])
    if sys.byteorder != "little":
        payload.byteswap()
    d = header["backend"]["dim"]
    gmms, pos = {}, 0
    for lang, k in zip(header["languages"], header["backend"]["num_gauss"]):
        w = payload[pos:pos + k]; pos += k
        mu = payload[pos:pos + k * d]; pos += k * d
        var = payload[pos:pos + k * d]; pos += k * d
        gmms[lang] = (k, d, w, mu, var)
    return header, gmms


def main():
    args = sys.argv[1:]
    tol = 1e-4
    if "--tol" in args:
        i = args.index("--tol")
        tol = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    ha, a = load(args[0])
    hb, b = load(args[1])
    if ha["languages"] != hb["languages"]:
        sys.exit(f"languages differ: {ha['languages']} vs {hb['languages']}")
    if ha["frontend"] != hb["frontend"]:
        sys.exit("frontend options differ")
    worst = 0.0
    for lang in ha["languages"]:
        ka, da, wa, ma, va = a[lang]
        kb, db, wb, mb, vb = b[lang]
        if (ka, da) != (kb, db):
            sys.exit(f"{lang}: shapes differ ({ka} x {da} vs {kb} x {db})")
        dw = max(abs(x - y) for x, y in zip(wa, wb))
        dm = max(abs(x - y) / math.sqrt(v) for x, y, v in zip(ma, mb, vb))
        dv = max(abs(x - y) / y for x, y in zip(va, vb))
        worst = max(worst, dw, dm, dv)
        print(f"{lang}: K={ka} D={da} max |dw| {dw:.3g}, max |dmu|/sigma {dm:.3g}, max |dvar|/var {dv:.3g}")
    print(f"largest difference {worst:.3g} (tolerance {tol:g})")
    sys.exit(0 if worst <= tol else 1)


if __name__ == "__main__":
    main()
