// Delta features, as Kaldi's add-deltas (kaldi src/feat/feature-functions.cc, DeltaFeatures).
#pragma once
#include "slid/matrix.h"

namespace slid {

struct DeltaOptions {
  int order = 2;   // highest delta order appended (0 = statics only) ("delta-order")
  int window = 2;  // regression half-width: delta_t = sum_{j=-w..w} j x_{t+j} / sum j^2 ("delta-window")
};

// Returns frames x (dim * (order + 1)): [x, delta x, delta-delta x, ...]. Order i applies the
// order-1 regression filter to order i-1 (Kaldi builds the convolved filter; identical result).
// Frame edges: frames outside [0, T) are replaced by the nearest edge frame (Kaldi's behaviour).
// 0 input rows give 0 output rows. Throws slid::Error if order < 0 or window < 1.
Matrix ComputeDeltas(const Matrix& features, const DeltaOptions& opts);

}  // namespace slid
