#!/usr/bin/python3
"""Reference for feature warping (cmvn-mode warp) in tests/test_cmvn.cc, written into tests/data/warp/.

Run from tests/data with Debian's python3 (numpy 1.24.2, scipy 1.10.1):

    /usr/bin/python3 make_warp_fixture.py

Feature warping (Pelecanos & Sridharan, "Feature warping for robust speaker verification", Odyssey
2001), written here independently of slid with scipy: per column, frame t's window [s, e) (Kaldi's
apply-cmvn-sliding placement, transcribed below from Kaldi's SlidingWindowCmnInternal), R =
scipy.stats.rankdata(window, method="average") of x_t (ties share their average rank), and
y_t = scipy.stats.norm.ppf((R - 0.5) / n), n = e - s.

  quantiles.txt   "p ppf(p)" per line, %.17g: scipy.stats.norm.ppf at tail, boundary (Acklam's
                  0.02425 split), central and k/(2n) points, to test slid::NormalQuantile
  <case>.txt      first line "T D cmn_window center min_cmn_window"; then T lines of the D inputs
                  (float32 values printed with %.9g, so they read back exactly), then T lines of the D
                  warped outputs (%.17g, computed in float64 from the float32 inputs)

Cases: centred (T = 60 > N = 11: edge windows shifted at both ends, ties in columns 1 and 2),
short (T = 7 < N = 11: every frame uses the whole utterance, ties), causal (center = false,
N = 9, min_cmn_window = 4: Kaldi's non-centred window of N + 1 frames, the minimum window at the start),
default (T = 420, N = 300, centred: the slid default window, ties in column 1).
"""
import numpy as np
from scipy import stats


def window(t, T, W, center, min_window):
    # Kaldi SlidingWindowCmnInternal, src/feat/feature-functions.cc (0-based, end exclusive).
    if center:
        s = t - W // 2
        e = s + W
    else:
        s = t - W
        e = t + 1
    if s < 0:
        e -= s
        s = 0
    if not center and e > t:
        e = max(t + 1, min_window)
    if e > T:
        s -= e - T
        e = T
        if s < 0:
            s = 0
    return s, e


def warp(x, W, center, min_window):
    T, D = x.shape
    y = np.zeros((T, D))
    for t in range(T):
        s, e = window(t, T, W, center, min_window)
        seg = x[s:e].astype(np.float64)
        for c in range(D):
            r = stats.rankdata(seg[:, c], method="average")[t - s]
            y[t, c] = stats.norm.ppf((r - 0.5) / (e - s))
    return y


def write_case(name, x, W, center, min_window):
    x = x.astype(np.float32)
    y = warp(x, W, center, min_window)
    T, D = x.shape
    with open(f"warp/{name}.txt", "w") as f:
        f.write(f"{T} {D} {W} {int(center)} {min_window}\n")
        for row in x:
            f.write(" ".join("%.9g" % v for v in row) + "\n")
        for row in y:
            f.write(" ".join("%.17g" % v for v in row) + "\n")


rng = np.random.default_rng(20260301)

# centred: column 0 continuous, column 1 rounded to 0.5 (many ties), column 2 a few repeated levels.
T = 60
x = np.stack([rng.normal(3.0, 2.0, T), np.round(rng.normal(0, 1.5, T) * 2) / 2,
              rng.choice([-1.25, 0.0, 0.75, 2.0], T)], axis=1)
write_case("centred", x, 11, True, 100)

# short: fewer frames than the window; ties.
x = np.array([[1.0, 5.0], [-2.0, 5.0], [0.5, 3.0], [1.0, 7.0], [4.0, 5.0], [-2.0, 3.0], [0.25, 7.0]])
write_case("short", x, 11, True, 100)

# causal: non-centred window with the minimum window at the start.
T = 40
x = np.stack([rng.normal(0, 1, T), np.round(rng.normal(0, 1, T) * 2) / 2], axis=1)
write_case("causal", x, 9, False, 4)

# default window: 300 frames, centred.
T = 420
x = np.stack([rng.normal(-4.0, 3.0, T), np.round(rng.normal(0, 2, T) * 4) / 4], axis=1)
write_case("default", x, 300, True, 100)

# quantiles: tails, the region boundaries, the centre, and the warped values of a 300-frame window.
ps = [1e-300, 1e-100, 1e-20, 1e-10, 1e-6, 1e-3, 0.02, 0.02425, 0.0242500001, 0.1, 0.25, 0.4, 0.49, 0.5,
      0.51, 0.6, 0.75, 0.9, 0.97575, 0.98, 0.999, 1 - 1e-6, 1 - 1e-10, 1 - 2**-53]
ps += [k / 600 for k in range(1, 600, 7)]
with open("warp/quantiles.txt", "w") as f:
    for p in ps:
        f.write("%.17g %.17g\n" % (p, stats.norm.ppf(p)))
