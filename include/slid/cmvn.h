// Cepstral mean (and variance) normalisation, per utterance or over a sliding window with Kaldi's
// apply-cmvn-sliding semantics (kaldi src/feat/feature-functions.cc, SlidingWindowCmnInternal), and
// feature warping over the same sliding window (Pelecanos & Sridharan, "Feature warping for robust
// speaker verification", Odyssey 2001).
#pragma once
#include <cstdint>
#include <string>

#include "slid/matrix.h"

namespace slid {

enum class CmvnMode {
  kNone,       // features unchanged ("none")
  kUtterance,  // statistics over the whole utterance ("utterance")
  kSliding,    // statistics over a sliding window, Kaldi apply-cmvn-sliding ("sliding")
  kWarp,       // feature warping over the sliding window: rank -> standard normal quantile ("warp")
};
std::string CmvnModeName(CmvnMode mode);
CmvnMode ParseCmvnMode(const std::string& name);  // throws slid::Error on an unknown name

struct CmvnOptions {
  CmvnMode mode = CmvnMode::kSliding;  // ("cmvn-mode")
  int cmn_window = 300;      // sliding window length in frames ("cmn-window"). Kaldi: 600; lre07 uses 300
  int min_cmn_window = 100;  // non-centred only: minimum frames at the start ("min-cmn-window")
  bool center = true;        // centre the window on the frame, else it ends at the frame ("center").
                             // Kaldi: false; lre07 uses true
  bool norm_vars = false;    // also divide by the standard deviation ("norm-vars"); not with kWarp
};

// Throws slid::Error naming the option if a value is out of range, or if norm-vars is set with
// cmvn-mode warp (warped values are already standard normal; the combination is refused, not ignored).
void ValidateCmvnOptions(const CmvnOptions& opts);

// Returns features normalised per column; same shape. Statistics are accumulated in double.
// Sliding, frame t uses window [s, e) with, as Kaldi: centred s = t - W/2, e = s + W; otherwise
// s = t - W, e = t + 1, and e = max(t+1, min_cmn_window) if that window would end after t; a window
// starting before 0 is shifted right and one ending after T shifted left (then clipped to [0, T)).
// So a window W >= T with center=true is the whole utterance for every frame (= kUtterance).
// Variance: floored at 1e-10; a window of one frame gives 0 output (Kaldi). 0 rows give 0 rows.
// Warp: per column, frame t's window [s, e) is the sliding one above (n = e - s frames: cmn_window, or
// all T frames if T < cmn_window, or fewer at the start when not centred); the output is
// WarpedValue(below, equal, n) with below = the window's values < x_t and equal = those == x_t (x_t
// itself included). So every output is a quantile of N(0, 1), the map is monotone within a window,
// and any strictly increasing transform of a column leaves the output bit-identical. A NaN input
// gives NaN (it ranks nowhere). Cost O(T n) per column (a direct count per frame).
Matrix ApplyCmvn(const Matrix& features, const CmvnOptions& opts);

// Feature warping of one value (Pelecanos & Sridharan 2001): its rank among n window values, ties
// given their average rank R = below + (equal + 1) / 2, mapped to the standard normal quantile
// NormalQuantile((R - 1/2) / n) = NormalQuantile((below + equal / 2) / n). Needs equal >= 1 (the value
// itself is in the window) and below + equal <= n; the argument then lies in [1/(2n), 1 - 1/(2n)].
double WarpedValue(int64_t below, int64_t equal, int64_t n);

// The standard normal quantile (probit, inverse of the normal CDF) Phi^-1(p): -inf for p <= 0, +inf
// for p >= 1, NaN for NaN. Acklam's rational approximation (relative error 1.15e-9) refined by one
// Halley step on std::erfc, in the lower half only (p > 1/2 uses -Phi^-1(1 - p), so the result is
// exactly antisymmetric): relative error ~1e-15 for p >= 1e-300.
double NormalQuantile(double p);

// The sliding window [*s, *e) of frame t in an input of T frames, by the rules above (ApplyCmvn's;
// also the incremental frontend's, slid/windowed.h, which passes a huge T while the end is unknown).
void SlidingCmnWindow(const CmvnOptions& opts, int64_t t, int64_t T, int64_t* s, int64_t* e);

}  // namespace slid
