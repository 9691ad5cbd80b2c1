// Sufficient statistics of a diagonal GMM: zeroth, first and second order, accumulated in double.
// They add: statistics from threads, files or machines are merged with Add() before one M-step.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "slid/gmm.h"
#include "slid/matrix.h"

namespace slid {

constexpr uint32_t kGmmStatsFormatVersion = 1;

class GmmStats {
 public:
  GmmStats() = default;  // 0 x 0, only useful as a placeholder
  // Zero statistics for a model with num_gauss components of dimension dim (both >= 1).
  // min_posterior (in [0, 1)): 0 (default) accumulates every posterior exactly, the first and second
  // order statistics of a block by one dense GEMM. > 0 drops posteriors below it from all three
  // statistics (not renormalised) and accumulates the rest frame by frame: far fewer operations when
  // posteriors are peaked (typical for speech features), at the cost of the dropped mass. The
  // log-likelihoods are never pruned.
  GmmStats(int num_gauss, int dim, float min_posterior = 0.0f);

  // Adds the statistics of frames (N x D, D == dim) under `gmm` (same K and D, else slid::Error):
  // occupancy_k += sum_n gamma_nk, first_k += sum_n gamma_nk x_n, second_k += sum_n gamma_nk x_n^2.
  // Posteriors and block products are single precision, blocks of GmmBlockFrames(K) frames are added into
  // the double accumulators. Returns the sum over frames of log p(x_n) (0 for N == 0).
  double Accumulate(const DiagGmm& gmm, const Matrix& frames);
  // this += other; throws slid::Error if the shapes differ.
  void Add(const GmmStats& other);
  // Back to all zeros (keeps the shape).
  void SetZero();

  // Statistics that travel (Kaldi's AccumDiagGmm::Write / Read(..., add)): so that an EM iteration can
  // be a map over shards of the data (accumulate, write) and a reduce (read and add, then one M-step).
  // Binary format, version kGmmStatsFormatVersion, all little-endian:
  //   "SLIDGST\0", uint32 version, uint32 K, uint32 D, float32 min_posterior, float64 num_frames,
  //   float64 total_loglik, float64 occupancy[K], float64 first[K*D], float64 second[K*D] (row-major),
  //   uint64 FNV-1a of every byte before it.
  // Doubles are stored exactly, so write -> read gives identical statistics and a sum of read shards
  // equals the in-memory sum up to the order of additions (float rounding only).
  std::string ToBytes() const;
  // Parses ToBytes() output; `name` stands for the source in errors (wrong magic, other version,
  // truncated, trailing bytes, checksum mismatch, absurd shape). With add = true the parsed statistics
  // are added to *this (shapes must match, or *this is a default 0 x 0 placeholder); otherwise they
  // replace it.
  void FromBytes(const std::string& bytes, const std::string& name, bool add = false);
  // Writes ToBytes() to `path` atomically (WriteFileAtomically).
  void Write(const std::string& path) const;
  // Reads `path` (see FromBytes); errors name the path.
  void Read(const std::string& path, bool add = false);

  int NumGauss() const { return static_cast<int>(occupancy_.size()); }
  int Dim() const { return static_cast<int>(first_.cols()); }
  float min_posterior() const { return min_posterior_; }
  double NumFrames() const { return num_frames_; }                // frames accumulated
  double TotalLogLikelihood() const { return total_loglik_; }    // sum of log p(x_n)
  const VectorD& occupancy() const { return occupancy_; }         // K
  const MatrixD& first_order() const { return first_; }          // K x D, sum gamma x
  const MatrixD& second_order() const { return second_; }        // K x D, sum gamma x^2

 private:
  void AccumulatePruned(int n);  // sparse path for min_posterior > 0, into block_stats_ / post_sums_
  float min_posterior_ = 0;
  double num_frames_ = 0;
  double total_loglik_ = 0;
  VectorD occupancy_;
  MatrixD first_;
  MatrixD second_;
  // Reusable work buffers (not part of the value; each thread owns its GmmStats).
  Matrix xx_, loglik_, block_stats_;
  Vector frame_loglik_, post_sums_;
  std::vector<int> active_;
};

}  // namespace slid
