#include "slid/gmm.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "slid/error.h"
#include "slid/number_text.h"
#include "util.h"

namespace slid {

DiagGmm::DiagGmm(Vector weights, Matrix means, Matrix variances)
    : weights_(std::move(weights)), means_(std::move(means)), variances_(std::move(variances)) {
  const int64_t k = weights_.size(), d = means_.cols();
  if (k < 1) throw Error("DiagGmm: needs at least one component");
  if (d < 1) throw Error("DiagGmm: needs at least one dimension");
  if (means_.rows() != k || variances_.rows() != k || variances_.cols() != d) {
    throw Error("DiagGmm: shapes disagree: weights " + std::to_string(k) + ", means " + Shape(means_.rows(), d) +
                ", variances " + Shape(variances_.rows(), variances_.cols()));
  }
  double sum = 0;
  bool any_positive = false;
  for (int64_t i = 0; i < k; ++i) {
    const float w = weights_[i];
    if (!std::isfinite(w) || w < 0) throw Error("DiagGmm: weight of component " + std::to_string(i) + " is " + std::to_string(w));
    any_positive |= w > 0;
    sum += w;
    for (int64_t j = 0; j < d; ++j) {
      if (!std::isfinite(means_(i, j))) {
        throw Error("DiagGmm: mean of component " + std::to_string(i) + ", dim " + std::to_string(j) + " is not finite");
      }
      const float v = variances_(i, j);
      if (!std::isfinite(v) || !(v > 0)) {
        throw Error("DiagGmm: variance of component " + std::to_string(i) + ", dim " + std::to_string(j) + " is " +
                    std::to_string(v) + " (must be positive and finite)");
      }
    }
  }
  if (!any_positive || std::abs(sum - 1.0) > 1e-3) {
    throw Error("DiagGmm: weights sum to " + std::to_string(sum) + ", expected 1");
  }

  // Constants in double: the float GEMM only adds the data-dependent part.
  // log w N(x) = log w - 0.5 [D log 2pi + sum log var + sum mu^2/var] + sum x mu/var - 0.5 sum x^2/var.
  packed_.resize(2 * d, k);
  gconsts_.resize(k);
  const double log2pi = std::log(2.0 * M_PI);
  for (int64_t i = 0; i < k; ++i) {
    double c = d * log2pi;
    for (int64_t j = 0; j < d; ++j) {
      const double v = variances_(i, j), m = means_(i, j);
      c += std::log(v) + m * m / v;
      packed_(j, i) = static_cast<float>(m / v);
      packed_(d + j, i) = static_cast<float>(-0.5 / v);
      // A positive but tiny (e.g. denormal) variance overflows these to inf, and the GEMM then gives NaN.
      if (!std::isfinite(packed_(j, i)) || !std::isfinite(packed_(d + j, i)))
      {
        const std::string value = FormatGeneral(v);
        throw Error("DiagGmm: variance of component " + std::to_string(i) + ", dim " + std::to_string(j) + " is " +
                    value + ": too small for float arithmetic (mean/variance overflows)");
      }
    }
    const double lw = weights_[i] > 0 ? std::log(static_cast<double>(weights_[i])) : -std::numeric_limits<double>::infinity();
    gconsts_[i] = static_cast<float>(lw - 0.5 * c);
    if (weights_[i] > 0 && !std::isfinite(gconsts_[i]))
      throw Error("DiagGmm: component " + std::to_string(i) + " has a non-finite normalising constant (extreme means or variances)");
  }
}

void DiagGmm::BlockLogLikelihoods(const Matrix& frames, int64_t begin, int n, Matrix* xx, Matrix* loglik) const {
  const int d = Dim(), k = NumGauss();
  if (k == 0) throw Error("DiagGmm: scoring with an empty model");
  if (frames.cols() != d) {
    throw Error("DiagGmm: frames have " + std::to_string(frames.cols()) + " dims, the model " + std::to_string(d));
  }
  if (xx->rows() < n || xx->cols() != 2 * d) xx->resize(std::max<int64_t>(n, xx->rows()), 2 * d);
  if (loglik->rows() < n || loglik->cols() != k) loglik->resize(std::max<int64_t>(n, loglik->rows()), k);
  auto x = frames.middleRows(begin, n);
  xx->topLeftCorner(n, d) = x;
  xx->block(0, d, n, d) = x.array().square();
  auto out = loglik->topRows(n);
  // The two GEMMs (x against mu/var, x^2 against -0.5/var) fused into one with inner size 2D.
  out.noalias() = xx->topRows(n) * packed_;
  out.rowwise() += gconsts_.transpose();
}

int GmmBlockFrames(int num_gauss) {
  return std::clamp((1 << 19) / std::max(num_gauss, 1), 256, kGmmBlockFrames);
}

void LogSumExpRowsToPosteriors(int n, Matrix* loglik, Vector* frame_loglik, Vector* posterior_sums) {
  if (frame_loglik->size() < n) frame_loglik->resize(n);
  const int k = static_cast<int>(loglik->cols());
  if (posterior_sums && posterior_sums->size() != k) throw Error("LogSumExpRowsToPosteriors: posterior_sums has wrong size");
  for (int i = 0; i < n; ++i) {
    float* row = loglik->data() + static_cast<int64_t>(i) * k;  // row-major: contiguous
    Eigen::Map<Eigen::ArrayXf> r(row, k);
    const float m = r.maxCoeff();
    r = (r - m).exp();
    const float s = r.sum();
    r *= 1.0f / s;
    // Row-wise while the row is in cache (a column-wise sum of a row-major block is strided and slow).
    if (posterior_sums) posterior_sums->array() += r;
    (*frame_loglik)[i] = m + std::log(s);
  }
}

Matrix DiagGmm::ComponentLogLikelihoods(const Matrix& frames) const {
  if (NumGauss() == 0) throw Error("DiagGmm: scoring with an empty model");
  Matrix xx, out(frames.rows(), NumGauss());
  Matrix block;
  const int block_frames = GmmBlockFrames(NumGauss());
  for (int64_t b = 0; b < frames.rows(); b += block_frames) {
    const int n = static_cast<int>(std::min<int64_t>(block_frames, frames.rows() - b));
    BlockLogLikelihoods(frames, b, n, &xx, &block);
    out.middleRows(b, n) = block.topRows(n);
  }
  return out;
}

Vector DiagGmm::FrameLogLikelihoods(const Matrix& frames) const {
  if (NumGauss() == 0) throw Error("DiagGmm: scoring with an empty model");
  Vector out(frames.rows());
  Matrix xx, block;
  Vector ll;
  const int block_frames = GmmBlockFrames(NumGauss());
  for (int64_t b = 0; b < frames.rows(); b += block_frames) {
    const int n = static_cast<int>(std::min<int64_t>(block_frames, frames.rows() - b));
    BlockLogLikelihoods(frames, b, n, &xx, &block);
    LogSumExpRowsToPosteriors(n, &block, &ll);
    out.segment(b, n) = ll.head(n);
  }
  return out;
}

double DiagGmm::AverageLogLikelihood(const Matrix& frames) const {
  if (frames.rows() == 0) throw Error("DiagGmm: average log-likelihood of 0 frames");
  const Vector ll = FrameLogLikelihoods(frames);
  return ll.cast<double>().sum() / static_cast<double>(frames.rows());
}

}  // namespace slid
