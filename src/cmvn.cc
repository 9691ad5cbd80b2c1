// CMVN; the sliding window follows Kaldi's SlidingWindowCmnInternal (src/feat/feature-functions.cc)
// exactly for the window bounds. Sums come from double prefix sums instead of Kaldi's running sums
// (same values up to rounding, and no drift on long files).
#include "slid/cmvn.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "slid/error.h"

namespace slid {

std::string CmvnModeName(CmvnMode mode) {
  switch (mode) {
    case CmvnMode::kNone: return "none";
    case CmvnMode::kUtterance: return "utterance";
    case CmvnMode::kSliding: return "sliding";
  }
  return "?";
}

CmvnMode ParseCmvnMode(const std::string& name) {
  if (name == "none") return CmvnMode::kNone;
  if (name == "utterance") return CmvnMode::kUtterance;
  if (name == "sliding") return CmvnMode::kSliding;
  throw Error("cmvn-mode: unknown mode '" + name + "' (none, utterance, sliding)");
}

void ValidateCmvnOptions(const CmvnOptions& o) {
  if (o.cmn_window < 1) throw Error("cmn-window: must be >= 1, got " + std::to_string(o.cmn_window));
  if (o.min_cmn_window < 1) throw Error("min-cmn-window: must be >= 1, got " + std::to_string(o.min_cmn_window));
}

void SlidingCmnWindow(const CmvnOptions& o, int64_t t, int64_t T, int64_t* s_out, int64_t* e_out) {
  int64_t s, e;
  if (o.center) {
    s = t - o.cmn_window / 2;
    e = s + o.cmn_window;
  } else {
    s = t - o.cmn_window;
    e = t + 1;
  }
  if (s < 0) {
    e -= s;
    s = 0;
  }
  if (!o.center && e > t) e = std::max<int64_t>(t + 1, o.min_cmn_window);
  if (e > T) {
    s -= e - T;
    e = T;
    if (s < 0) s = 0;
  }
  *s_out = s;
  *e_out = e;
}

Matrix ApplyCmvn(const Matrix& x, const CmvnOptions& o) {
  ValidateCmvnOptions(o);
  const int64_t T = x.rows();
  const int64_t D = x.cols();
  if (o.mode == CmvnMode::kNone || T == 0) return x;
  // prefix[t] = sum of rows [0, t); likewise for squares.
  MatrixD prefix = MatrixD::Zero(T + 1, D), prefix_sq;
  for (int64_t t = 0; t < T; ++t) prefix.row(t + 1) = prefix.row(t) + x.row(t).cast<double>();
  if (o.norm_vars) {
    prefix_sq = MatrixD::Zero(T + 1, D);
    for (int64_t t = 0; t < T; ++t)
      prefix_sq.row(t + 1) = prefix_sq.row(t) + x.row(t).cast<double>().array().square().matrix();
  }
  Matrix out(T, D);
  VectorD sum(D), var(D);
  for (int64_t t = 0; t < T; ++t) {
    int64_t s = 0, e = T;
    if (o.mode == CmvnMode::kSliding) SlidingCmnWindow(o, t, T, &s, &e);
    const double n = static_cast<double>(e - s);
    sum = (prefix.row(e) - prefix.row(s)).transpose();
    VectorD frame = x.row(t).cast<double>().transpose();
    VectorD y = frame - sum / n;
    if (o.norm_vars) {
      if (e - s == 1) {
        y.setZero();
      } else {
        var = (prefix_sq.row(e) - prefix_sq.row(s)).transpose() / n - (sum / n).array().square().matrix();
        var = var.cwiseMax(1e-10);
        y = y.cwiseQuotient(var.cwiseSqrt());
      }
    }
    out.row(t) = y.transpose().cast<float>();
  }
  return out;
}

}  // namespace slid
