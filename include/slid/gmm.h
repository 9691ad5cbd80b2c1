// Diagonal-covariance Gaussian mixture model: parameters, cached per-component constants and
// batched log-likelihoods. Statistics live in gmm_stats.h, training (EM) in em.h (Kaldi's split of
// DiagGmm / AccumDiagGmm / MleDiagGmmUpdate).
#pragma once
#include <cstdint>

#include "slid/matrix.h"

namespace slid {

// Largest number of frames processed per internal block by the batched routines: working memory is
// bounded by kGmmBlockFrames x (K + 2 D) floats whatever the number of frames.
constexpr int kGmmBlockFrames = 2048;
// Frames per internal block for a model of num_gauss components: kGmmBlockFrames, reduced for large K
// so that the frames x K block of log-likelihoods stays within about 2 MiB (cache resident).
int GmmBlockFrames(int num_gauss);

class DiagGmm {
 public:
  DiagGmm() = default;  // empty model: NumGauss() == 0; every scoring call on it throws slid::Error
  // weights: K (>= 0, finite, at least one > 0, summing to 1 within 1e-3);
  // means: K x D (finite); variances: K x D (> 0, finite, and not so small that mean/variance or
  // 1/variance overflow float). K >= 1, D >= 1.
  // Throws slid::Error naming the offending component/dimension otherwise. Caches the constants.
  DiagGmm(Vector weights, Matrix means, Matrix variances);

  int NumGauss() const { return static_cast<int>(weights_.size()); }
  int Dim() const { return static_cast<int>(means_.cols()); }
  const Vector& weights() const { return weights_; }
  const Matrix& means() const { return means_; }
  const Matrix& variances() const { return variances_; }

  // frames: N x D. Returns N x K with log(w_k N(x_n | mu_k, diag var_k)) (natural log).
  // Memory is N x K: for large N use FrameLogLikelihoods or GmmStats. 0 rows give a 0 x K matrix.
  Matrix ComponentLogLikelihoods(const Matrix& frames) const;
  // frames: N x D. Returns N values log p(x_n) = log sum_k w_k N(x_n|k), computed block-wise
  // (stable log-sum-exp). 0 rows give an empty vector.
  Vector FrameLogLikelihoods(const Matrix& frames) const;
  // Mean over frames of FrameLogLikelihoods (summed in double). Throws slid::Error on 0 frames.
  double AverageLogLikelihood(const Matrix& frames) const;

  // --- Low-level access for the batched kernels (GmmStats, scorers); most callers need none of it.
  // Packed GEMM operand, 2D x K: rows 0..D-1 hold mu/var, rows D..2D-1 hold -0.5/var, so that
  // [x, x^2] (1 x 2D) times this plus gconsts() is the row of component log-densities.
  const Matrix& packed_params() const { return packed_; }
  // K constants: log w_k - 0.5 (D log 2pi + sum_d log var_kd + sum_d mu_kd^2 / var_kd), computed in double.
  const Vector& gconsts() const { return gconsts_; }
  // Writes [x, x^2] of `frames` rows [begin, begin+n) into the first n rows of *xx (resized to at least
  // n x 2D, never shrunk) and the component log-densities into the first n rows of *loglik
  // (at least n x K). Both buffers are reused across calls to avoid allocations.
  void BlockLogLikelihoods(const Matrix& frames, int64_t begin, int n, Matrix* xx, Matrix* loglik) const;

 private:
  Vector weights_;
  Matrix means_;
  Matrix variances_;
  Matrix packed_;   // 2D x K
  Vector gconsts_;  // K
};

// In place over the first n rows of *loglik (each K wide): replaces every row by the posteriors
// exp(l - logsumexp(l)) and stores logsumexp(l) in (*frame_loglik)[i] (resized to at least n).
// If posterior_sums is non-null (size K), the posterior rows are added into it (zeroth-order stats).
// Stable for rows with very negative entries; a row with all entries -inf gives NaN (cannot happen
// for a valid DiagGmm and finite frames).
void LogSumExpRowsToPosteriors(int n, Matrix* loglik, Vector* frame_loglik, Vector* posterior_sums = nullptr);

}  // namespace slid
