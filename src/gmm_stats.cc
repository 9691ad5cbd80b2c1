#include "slid/gmm_stats.h"

#include <algorithm>
#include <string>

#include "slid/error.h"

namespace slid {

GmmStats::GmmStats(int num_gauss, int dim, float min_posterior) : min_posterior_(min_posterior) {
  if (num_gauss < 1 || dim < 1) {
    throw Error("GmmStats: bad shape " + std::to_string(num_gauss) + " components x " + std::to_string(dim) + " dims");
  }
  if (!(min_posterior >= 0 && min_posterior < 1)) {
    throw Error("GmmStats: min_posterior must be in [0, 1), got " + std::to_string(min_posterior));
  }
  occupancy_ = VectorD::Zero(num_gauss);
  first_ = MatrixD::Zero(num_gauss, dim);
  second_ = MatrixD::Zero(num_gauss, dim);
}

void GmmStats::SetZero() {
  num_frames_ = 0;
  total_loglik_ = 0;
  occupancy_.setZero();
  first_.setZero();
  second_.setZero();
}

double GmmStats::Accumulate(const DiagGmm& gmm, const Matrix& frames) {
  const int k = NumGauss(), d = Dim();
  if (gmm.NumGauss() != k || gmm.Dim() != d) {
    throw Error("GmmStats: statistics are " + std::to_string(k) + " x " + std::to_string(d) + ", model is " +
                std::to_string(gmm.NumGauss()) + " x " + std::to_string(gmm.Dim()));
  }
  if (frames.cols() != d) {
    throw Error("GmmStats: frames have " + std::to_string(frames.cols()) + " dims, expected " + std::to_string(d));
  }
  double total = 0;
  const int block_frames = GmmBlockFrames(k);
  for (int64_t b = 0; b < frames.rows(); b += block_frames) {
    const int n = static_cast<int>(std::min<int64_t>(block_frames, frames.rows() - b));
    gmm.BlockLogLikelihoods(frames, b, n, &xx_, &loglik_);
    post_sums_.setZero(k);
    if (min_posterior_ > 0) {
      LogSumExpRowsToPosteriors(n, &loglik_, &frame_loglik_, nullptr);
      AccumulatePruned(n);
    } else {
      LogSumExpRowsToPosteriors(n, &loglik_, &frame_loglik_, &post_sums_);
      // Statistics of the block by one GEMM: gamma^T [x, x^2] (K x 2D), single precision over at most
      // GmmBlockFrames(K) frames, then added into the double accumulators.
      block_stats_.noalias() = loglik_.topRows(n).transpose() * xx_.topRows(n);
    }
    first_ += block_stats_.leftCols(d).cast<double>();
    second_ += block_stats_.rightCols(d).cast<double>();
    occupancy_ += post_sums_.cast<double>();
    total += frame_loglik_.head(n).cast<double>().sum();
  }
  num_frames_ += static_cast<double>(frames.rows());
  total_loglik_ += total;
  return total;
}

void GmmStats::AccumulatePruned(int n) {
  const int k = NumGauss(), w = 2 * Dim();
  block_stats_.setZero(k, w);
  const float tau = min_posterior_;
  active_.resize(k);
  int* active = active_.data();
  float* sums = post_sums_.data();
  for (int i = 0; i < n; ++i) {
    const float* g = loglik_.data() + static_cast<int64_t>(i) * k;
    const float* x = xx_.data() + static_cast<int64_t>(i) * w;
    // Branch-free gather of the surviving components (a branch per posterior mispredicts badly).
    int count = 0;
    for (int c = 0; c < k; ++c) {
      active[count] = c;
      count += g[c] >= tau;
    }
    for (int a = 0; a < count; ++a) {
      const int c = active[a];
      const float gc = g[c];
      float* row = block_stats_.data() + static_cast<int64_t>(c) * w;
      for (int j = 0; j < w; ++j) row[j] += gc * x[j];  // vectorised by the compiler
      sums[c] += gc;
    }
  }
}

void GmmStats::Add(const GmmStats& other) {
  if (other.NumGauss() != NumGauss() || other.Dim() != Dim()) {
    throw Error("GmmStats::Add: shapes differ (" + std::to_string(NumGauss()) + " x " + std::to_string(Dim()) + " vs " +
                std::to_string(other.NumGauss()) + " x " + std::to_string(other.Dim()) + ")");
  }
  num_frames_ += other.num_frames_;
  total_loglik_ += other.total_loglik_;
  occupancy_ += other.occupancy_;
  first_ += other.first_;
  second_ += other.second_;
}

}  // namespace slid
