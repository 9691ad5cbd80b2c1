// Shifted delta cepstra; see sdc.h for the relation to Kaldi's add-deltas-sdc.
#include "slid/sdc.h"

#include <algorithm>
#include <string>
#include <vector>

#include "slid/error.h"

namespace slid {

void ValidateSdcOptions(const SdcOptions& o) {
  if (o.n < 1) throw Error("sdc-n: must be >= 1, got " + std::to_string(o.n));
  if (o.d < 1 || o.d > 1000) throw Error("sdc-d: must be in [1, 1000], got " + std::to_string(o.d));
  if (o.p < 1 || o.p > 1000) throw Error("sdc-p: must be in [1, 1000], got " + std::to_string(o.p));
  if (o.k < 1 || o.k > 1000) throw Error("sdc-k: must be in [1, 1000], got " + std::to_string(o.k));
}

Matrix ComputeSdc(const Matrix& x, const SdcOptions& o) {
  ValidateSdcOptions(o);
  if (x.cols() < o.n)
    throw Error("sdc-n: " + std::to_string(o.n) + " cepstra requested but the features have " +
                std::to_string(x.cols()) + " columns");
  const int64_t T = x.rows();
  const int n = o.n, d = o.d;
  const int static_dims = o.keep_static ? n : 0;
  Matrix out(T, o.Dim());
  if (T == 0) return out;
  // Delta at every frame first (one pass), then each block is a clamped row lookup; outside [0, T)
  // the delta taps are clamped individually as Kaldi does, so blocks near the end are computed
  // directly rather than looked up.
  double norm = 0.0;
  for (int j = 1; j <= d; ++j) norm += 2.0 * j * j;
  const float inv = static_cast<float>(1.0 / norm);
  Matrix delta = Matrix::Zero(T, n);
  for (int64_t t = 0; t < T; ++t) {
    for (int j = 1; j <= d; ++j) {
      int64_t hi = std::min<int64_t>(t + j, T - 1), lo = std::max<int64_t>(t - j, 0);
      delta.row(t) += (j * inv) * (x.row(hi).head(n) - x.row(lo).head(n));
    }
  }
  Eigen::Matrix<float, 1, Eigen::Dynamic> tail(n);
  for (int64_t t = 0; t < T; ++t) {
    float* row = out.row(t).data();
    if (o.keep_static) std::copy(x.row(t).data(), x.row(t).data() + n, row);
    for (int i = 0; i < o.k; ++i) {
      int64_t c = t + static_cast<int64_t>(i) * o.p;
      float* dst = row + static_dims + static_cast<int64_t>(i) * n;
      if (c < T) {
        std::copy(delta.row(c).data(), delta.row(c).data() + n, dst);
      } else {
        // Every tap c +- j >= T - 1 clamps to T - 1 only where c - j >= T; compute per tap.
        tail.setZero();
        for (int j = 1; j <= d; ++j) {
          int64_t hi = std::min<int64_t>(c + j, T - 1), lo = std::clamp<int64_t>(c - j, 0, T - 1);
          tail += (j * inv) * (x.row(hi).head(n) - x.row(lo).head(n));
        }
        std::copy(tail.data(), tail.data() + n, dst);
      }
    }
  }
  return out;
}

}  // namespace slid
