// Cepstral mean (and variance) normalisation, per utterance or over a sliding window with Kaldi's
// apply-cmvn-sliding semantics (kaldi src/feat/feature-functions.cc, SlidingWindowCmnInternal).
#pragma once
#include <cstdint>
#include <string>

#include "slid/matrix.h"

namespace slid {

enum class CmvnMode {
  kNone,       // features unchanged ("none")
  kUtterance,  // statistics over the whole utterance ("utterance")
  kSliding,    // statistics over a sliding window, Kaldi apply-cmvn-sliding ("sliding")
};
std::string CmvnModeName(CmvnMode mode);
CmvnMode ParseCmvnMode(const std::string& name);  // throws slid::Error on an unknown name

struct CmvnOptions {
  CmvnMode mode = CmvnMode::kSliding;  // ("cmvn-mode")
  int cmn_window = 300;      // sliding window length in frames ("cmn-window"). Kaldi: 600; lre07 uses 300
  int min_cmn_window = 100;  // non-centred only: minimum frames at the start ("min-cmn-window")
  bool center = true;        // centre the window on the frame, else it ends at the frame ("center").
                             // Kaldi: false; lre07 uses true
  bool norm_vars = false;    // also divide by the standard deviation ("norm-vars")
};

// Throws slid::Error naming the option if a value is out of range.
void ValidateCmvnOptions(const CmvnOptions& opts);

// Returns features normalised per column; same shape. Statistics are accumulated in double.
// Sliding, frame t uses window [s, e) with, as Kaldi: centred s = t - W/2, e = s + W; otherwise
// s = t - W, e = t + 1, and e = max(t+1, min_cmn_window) if that window would end after t; a window
// starting before 0 is shifted right and one ending after T shifted left (then clipped to [0, T)).
// So a window W >= T with center=true is the whole utterance for every frame (= kUtterance).
// Variance: floored at 1e-10; a window of one frame gives 0 output (Kaldi). 0 rows give 0 rows.
Matrix ApplyCmvn(const Matrix& features, const CmvnOptions& opts);

// The sliding window [*s, *e) of frame t in an input of T frames, by the rules above (ApplyCmvn's;
// also the incremental frontend's, slid/windowed.h, which passes a huge T while the end is unknown).
void SlidingCmnWindow(const CmvnOptions& opts, int64_t t, int64_t T, int64_t* s, int64_t* e);

}  // namespace slid
