// CMVN; the sliding window follows Kaldi's SlidingWindowCmnInternal (src/feat/feature-functions.cc)
// exactly for the window bounds. Sums come from double prefix sums instead of Kaldi's running sums
// (same values up to rounding, and no drift on long files). Feature warping: Pelecanos & Sridharan,
// "Feature warping for robust speaker verification", Odyssey 2001, over the same windows.
#include "slid/cmvn.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "slid/error.h"

namespace slid {

std::string CmvnModeName(CmvnMode mode) {
  switch (mode) {
    case CmvnMode::kNone: return "none";
    case CmvnMode::kUtterance: return "utterance";
    case CmvnMode::kSliding: return "sliding";
    case CmvnMode::kWarp: return "warp";
  }
  return "?";
}

CmvnMode ParseCmvnMode(const std::string& name) {
  if (name == "none") return CmvnMode::kNone;
  if (name == "utterance") return CmvnMode::kUtterance;
  if (name == "sliding") return CmvnMode::kSliding;
  if (name == "warp") return CmvnMode::kWarp;
  throw Error("cmvn-mode: unknown mode '" + name + "' (none, utterance, sliding, warp)");
}

void ValidateCmvnOptions(const CmvnOptions& o) {
  if (o.cmn_window < 1) throw Error("cmn-window: must be >= 1, got " + std::to_string(o.cmn_window));
  if (o.min_cmn_window < 1) throw Error("min-cmn-window: must be >= 1, got " + std::to_string(o.min_cmn_window));
  if (o.mode == CmvnMode::kWarp && o.norm_vars)
    throw Error("norm-vars: cannot be combined with cmvn-mode=warp (warped features are already standard "
                "normal); set norm-vars=false");
}

double NormalQuantile(double p) {
  if (std::isnan(p)) return p;
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  // Upper half by symmetry: 1 - p is exact there (Sterbenz), and the refinement below then works on
  // Phi(x) for x <= 0, where erfc of a positive argument keeps full relative precision (refining
  // Phi(x) - p near 1 would cancel).
  if (p > 0.5) return -NormalQuantile(1 - p);
  // Peter J. Acklam, "An algorithm for computing the inverse normal cumulative distribution function"
  // (2003; relative error < 1.15e-9 in (0, 1)).
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  double x;
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  // One Halley step on f(x) = Phi(x) - p (Acklam's refinement), Phi(x) = erfc(-x / sqrt 2) / 2.
  // u = e / phi(x); exp(x^2/2) overflows only for p below ~1e-308, where the step is skipped.
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  constexpr double kSqrt2Pi = 2.50662827463100050242;
  const double u = e * kSqrt2Pi * std::exp(x * x / 2);
  if (std::isfinite(u)) x = x - u / (1 + x * u / 2);
  return x;
}

namespace {

// WarpedValue with k = 2 below + equal: (below + equal/2) / n = k / (2n), a ratio of integers, so the
// quotient is the correctly rounded p whichever way it is written.
double WarpQuantile(int64_t k, int64_t n) {
  return NormalQuantile(static_cast<double>(k) / static_cast<double>(2 * n));
}

}  // namespace

double WarpedValue(int64_t below, int64_t equal, int64_t n) {
  if (below < 0 || equal < 1 || below + equal > n)
    throw Error("WarpedValue: " + std::to_string(below) + " values below and " + std::to_string(equal) +
                " equal (the value itself included) do not fit a window of " + std::to_string(n));
  return WarpQuantile(2 * below + equal, n);
}

namespace {

// Feature warping (see ApplyCmvn in slid/cmvn.h). Each column is copied out contiguously so the
// per-frame count over its window is a plain loop the compiler vectorises. The quantiles of the
// steady-state window length (that of the last frame: every frame's but the first cmn-window ones
// when not centred) are tabulated once (2n - 1 values); other lengths call WarpQuantile directly.
Matrix ApplyWarp(const Matrix& x, const CmvnOptions& o) {
  const int64_t T = x.rows(), D = x.cols();
  std::vector<int64_t> s(static_cast<size_t>(T)), e(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) SlidingCmnWindow(o, t, T, &s[t], &e[t]);
  const int64_t table_n = e[T - 1] - s[T - 1];
  // table[k] = WarpQuantile(k, table_n), k = 2 below + equal; k = 0 only for a NaN value (it equals
  // nothing, not even itself): NaN in, NaN out.
  std::vector<double> table(static_cast<size_t>(2 * table_n));
  table[0] = std::numeric_limits<double>::quiet_NaN();
  for (int64_t k = 1; k < 2 * table_n; ++k) table[k] = WarpQuantile(k, table_n);
  std::vector<float> col(static_cast<size_t>(T));
  Matrix out(T, D);
  for (int64_t c = 0; c < D; ++c) {
    for (int64_t t = 0; t < T; ++t) col[t] = x(t, c);
    for (int64_t t = 0; t < T; ++t) {
      const int64_t n = e[t] - s[t];
      const float v = col[t];
      const float* w = col.data() + s[t];
      int64_t below = 0, equal = 0;
      for (int64_t u = 0; u < n; ++u) {
        below += w[u] < v;
        equal += w[u] == v;
      }
      const int64_t k = 2 * below + equal;
      const double y = n == table_n ? table[static_cast<size_t>(k)]
                       : k == 0     ? std::numeric_limits<double>::quiet_NaN()
                                    : WarpQuantile(k, n);
      out(t, c) = static_cast<float>(y);
    }
  }
  return out;
}

}  // namespace

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
  if (o.mode == CmvnMode::kWarp) return ApplyWarp(x, o);
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
