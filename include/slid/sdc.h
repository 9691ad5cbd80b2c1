// Shifted delta cepstra (SDC) N-d-P-k, the classic language-identification feature
// (Torres-Carrasquillo et al., ICSLP 2002).
//
// For frame t and block i = 0..k-1, block i is the delta of the first N cepstra centred at t + i*P:
//   sdc_i(t) = sum_{j=-d..d} j * c(t + i*P + j) / sum_{j=-d..d} j^2
// With d = 1 that is (c(t+iP+1) - c(t+iP-1)) / 2.
//
// Relation to Kaldi: this is exactly Kaldi's add-deltas-sdc (ShiftedDeltaFeatures in
// src/feat/feature-functions.cc, used by egs/lre07/v1) with --window=d --block-shift=P
// --num-blocks=k applied to the first N columns: same regression normalisation (1/sum j^2, so the
// classic unnormalised c(t+iP+d) - c(t+iP-d) is 2x ours for d=1), and the same edge handling:
// every frame index outside [0, T) is clamped to the nearest edge frame (edge replication), so
// there is one output row per input frame, whatever T >= 1. Kaldi always prepends all input
// columns as statics; here keep_static = true prepends the N statics (default: 7 + 49 = 56 dims).
// Consequently block 0 equals the first-order Kaldi delta (add-deltas --delta-order=1
// --delta-window=d) of the same frame, and block i equals that delta at frame t + i*P while
// t + i*P < T.
#pragma once
#include "slid/matrix.h"

namespace slid {

struct SdcOptions {
  bool enabled = true;       // false: the frontend outputs the (normalised) MFCC instead ("use-sdc")
  int n = 7;                 // N: leading cepstra used, C0 included ("sdc-n"); <= num-ceps
  int d = 1;                 // d: delta half-width in frames ("sdc-d")
  int p = 3;                 // P: shift between blocks in frames ("sdc-p")
  int k = 7;                 // k: number of blocks ("sdc-k")
  bool keep_static = true;   // prepend the N static cepstra ("sdc-keep-static")

  int Dim() const { return n * k + (keep_static ? n : 0); }
  // Frames spanned by one output frame's context: (k-1)*P + 2d + 1 (21 for 7-1-3-7).
  int ContextFrames() const { return (k - 1) * p + 2 * d + 1; }
};

// Throws slid::Error naming the option if a value is out of range.
void ValidateSdcOptions(const SdcOptions& opts);

// features: T x D with D >= N. Returns T x opts.Dim() (edge replication, see above); 0 rows in,
// 0 rows out. Throws slid::Error if D < N or the options are invalid.
Matrix ComputeSdc(const Matrix& features, const SdcOptions& opts);

}  // namespace slid
