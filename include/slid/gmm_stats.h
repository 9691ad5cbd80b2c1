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

  // Every accumulated number (frames, log-likelihood, occupancy, first, second; row-major) appended
  // to *out as doubles, and SetFlat, which reads the same count back from `in` into this shape and
  // returns the position after it: for an all-reduce (MPI_SUM) across processes.
  void AppendFlat(std::vector<double>* out) const;
  const double* SetFlat(const double* in);

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

// Global moments of frames per dimension (count, mean, sum of squared deviations M2), in double, for
// the variance floor and the finiteness check that start EM. Mergeable in any order: Add() is the
// pairwise update of Chan, Golub & LeVeque (1979), so shards give the moments of their union up to
// float rounding. A constant dimension gives exactly zero variance however the frames are split
// (a block mean of identical float values is exact in double).
class MomentStats {
 public:
  MomentStats() = default;  // dimension 0: a placeholder that Add()/FromBytes(add) give a shape
  explicit MomentStats(int dim);  // dim >= 1
  // Adds frames (N x Dim(); N may be 0). Throws slid::Error if a frame is not finite (naming its row
  // counted from the first frame this object saw) or the dimension differs.
  void Accumulate(const Matrix& frames);
  // this += other (a 0-dim this takes other's shape); Error if both have shapes and they differ.
  void Add(const MomentStats& other);
  int Dim() const { return static_cast<int>(mean_.size()); }
  double Count() const { return count_; }     // frames
  const VectorD& Mean() const { return mean_; }
  VectorD Variance() const;                   // M2 / count (population variance); 0 if count == 0
  // Raw parts for serialisation: count, mean, M2.
  const VectorD& M2() const { return m2_; }
  void Set(double count, VectorD mean, VectorD m2);

 private:
  double count_ = 0;
  VectorD mean_, m2_;
};

// A subsample of at most Capacity() frames that does not depend on how the frames were split into
// shards or in which order they arrive: every frame gets a pseudo-random 64-bit key from
// (seed, its utterance's key, its index in the utterance) (FrameSampleKey), and the sample holds the
// frames with the smallest keys (bottom-k sampling; ties, which need a 64-bit collision, are broken by
// the frame values). Frames() returns them in key order, so a sample built from all the data at once
// and one merged from shards in any order are identical, bit for bit.
class FrameSubsample {
 public:
  FrameSubsample() = default;  // capacity 0, dim 0: a placeholder
  FrameSubsample(int64_t capacity, int dim, uint64_t seed);  // capacity >= 1, dim >= 1
  // Offers frames rows [0, N) of an utterance with key `utterance_key`, whose first row is frame
  // `first_frame` of the utterance (so an utterance may be offered in several blocks).
  void Offer(const Matrix& frames, uint64_t utterance_key, int64_t first_frame);
  // Merges another sample of the same capacity, dim and seed (Error otherwise; a placeholder this
  // takes other's shape).
  void Add(const FrameSubsample& other);
  int64_t Capacity() const { return capacity_; }
  int Dim() const { return dim_; }
  uint64_t Seed() const { return seed_; }
  int64_t Size() const;        // frames held: min(capacity, frames offered)
  Matrix Frames() const;       // Size() x Dim(), smallest key first
  std::vector<uint64_t> Keys() const;  // their keys, ascending
  // Drops the frames whose key is >= limit. Exact for merging when the merged sample still holds
  // Capacity() frames (or every frame): then the frames with the smallest keys overall were all below
  // the limit and were kept. Used to send only the part of a shard's sample that can matter.
  void KeepBelow(uint64_t limit);
  // Replaces the contents (for deserialisation): keys and rows (keys.size() x dim, at most capacity).
  void Set(const std::vector<uint64_t>& keys, const Matrix& rows);

 private:
  void Prune() const;  // keeps the `capacity_` smallest keys, sorted
  int64_t capacity_ = 0;
  int dim_ = 0;
  uint64_t seed_ = 0;
  mutable std::vector<uint64_t> keys_;
  mutable std::vector<float> rows_;  // keys_.size() x dim_, row-major
  mutable bool pruned_ = true;
};

// The key of frame `frame` of the utterance with key `utterance_key` (e.g. UtteranceKey(id)), for
// sampling seed `seed`: a SplitMix64-style mix, the same on every platform.
uint64_t FrameSampleKey(uint64_t seed, uint64_t utterance_key, int64_t frame);
// A stable 64-bit key of an utterance id (FNV-1a of its bytes).
uint64_t UtteranceKey(const std::string& id);

constexpr uint32_t kGmmInitStatsFormatVersion = 1;

// What one pass over the data gives the EM initialisation (em.h InitDiagGmm): the global moments and
// the k-means++ subsample. Additive like GmmStats, and travels the same way.
// Binary format, version kGmmInitStatsFormatVersion, little-endian:
//   "SLIDGIN\0", uint32 version, uint32 D, uint64 capacity, uint64 seed, float64 count, float64 mean[D],
//   float64 M2[D], uint64 S (sample size), S x (uint64 key, float32 row[D]), uint64 FNV-1a of every byte
//   before it.
struct GmmInitStats {
  MomentStats moments;
  FrameSubsample sample;  // capacity 0: no subsample (binary-split initialisation needs none)

  GmmInitStats() = default;
  GmmInitStats(int dim, int64_t sample_capacity, uint64_t seed);  // sample_capacity 0: no subsample
  // Adds the frames of one utterance (or a block of it starting at its frame `first_frame`).
  void Accumulate(const Matrix& frames, uint64_t utterance_key, int64_t first_frame = 0);
  // this += other (shapes, capacities and seeds must agree; a default-constructed this takes other's).
  void Add(const GmmInitStats& other);
  std::string ToBytes() const;
  // As GmmStats::FromBytes: errors name `name`; add = true adds to *this.
  void FromBytes(const std::string& bytes, const std::string& name, bool add = false);
  void Write(const std::string& path) const;  // atomically
  void Read(const std::string& path, bool add = false);
};

}  // namespace slid
