// Total-variability i-vectors (Dehak et al. 2011) for a diagonal-covariance UBM, after Kaldi's
// src/ivector (IvectorExtractorUtteranceStats, IvectorExtractor, IvectorExtractorStats), diagonal case:
//
//   supervector model  x_t | component k  ~  N(m_k + T_k w, Sigma_k),   w ~ N(0, I_R)
//
// with m_k = UBM mean + offset_k (offset 0 until minimum-divergence moves it), T_k a D x R block of the
// total-variability matrix T (KD x R) and Sigma_k diagonal. Per utterance, Baum-Welch statistics
//   N_k = sum_t gamma_tk,   F_k = sum_t gamma_tk (x_t - mu_k),   S_k = sum_t gamma_tk (x_t - mu_k)^2
// (mu_k the UBM means, gamma the UBM posteriors) are all the extractor needs. The posterior of w is
// Gaussian with precision  L = I + sum_k N_k T_k' Sigma_k^-1 T_k  and mean  L^-1 sum_k T_k' Sigma_k^-1 F~_k,
// F~_k = F_k - N_k offset_k (Kenny, Boulianne & Dumouchel 2005; Kaldi IvectorExtractor::GetIvectorDistribution).
//
// Model (IvectorExtractor), statistics of one utterance (UtteranceStats), training statistics
// (IvectorExtractorStats: additive, memory independent of the number of utterances) and the M-step
// (IvectorExtractorStats::Update) are separate, as GmmStats / em.h are.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "slid/gmm.h"
#include "slid/matrix.h"

namespace slid {

// How UBM posteriors become Baum-Welch statistics.
struct IvectorStatsOptions {
  int top_c = 20;               // keep the top_c most likely UBM components per frame (0 = all K), as
                                // Kaldi's gmm-gselect --n=20 in egs/lre07/v1; posteriors renormalised over them
  float min_posterior = 0.025f; // then drop posteriors below this (never the best component) and
                                // renormalise (Kaldi --min-post 0.025); 0 keeps all top_c
  bool second_order = false;    // also accumulate S_k (needed to re-estimate variances and for the full
                                // likelihood in training; extraction does not use it)
};

constexpr uint32_t kUtteranceStatsFormatVersion = 1;

// Statistics of one utterance against a UBM with K components of dimension D.
struct UtteranceStats {
  double num_frames = 0;   // frames accumulated
  VectorD zeroth;          // K: N_k
  MatrixD first;           // K x D: F_k = sum gamma (x - mu_k), centred on the UBM means
  MatrixD second;          // K x D: S_k = sum gamma (x - mu_k)^2, or 0 x 0 if not computed
  uint64_t ubm_checksum = 0;  // UbmChecksum() of the UBM they were computed against (UtteranceStatsComputer
                              // sets it); 0 = not known (statistics assembled by hand)

  // this += other (pieces of one recording, e.g. blocks or chunks of a stream). An empty this (K = 0)
  // takes other. slid::Error if the shapes differ, one side has second-order statistics and the other
  // not, or both know their UBM and the UBMs differ.
  void Add(const UtteranceStats& other);

  // Statistics that travel, as GmmStats (slid/gmm_stats.h): computed once per utterance, then read by
  // every T-matrix iteration or by another machine. Binary format, version kUtteranceStatsFormatVersion,
  // little-endian:
  //   "SLIDUST\0", uint32 version, uint32 K, uint32 D, uint32 has_second (0 or 1), uint64 ubm_checksum,
  //   float64 num_frames, float64 zeroth[K], float64 first[K*D], float64 second[K*D] (if has_second;
  //   row-major), uint64 FNV-1a of every byte before it.
  // Doubles are stored exactly: write -> read gives identical statistics.
  std::string ToBytes() const;  // slid::Error if K = 0 or the parts' shapes disagree
  // Parses ToBytes() output; `name` stands for the source in errors (bad magic, other version, truncated,
  // trailing bytes, checksum mismatch, absurd shape). add = true adds to *this (Add), else replaces it.
  void FromBytes(const std::string& bytes, const std::string& name, bool add = false);
  void Write(const std::string& path) const;  // atomically (WriteFileAtomically)
  void Read(const std::string& path, bool add = false);  // errors name the path
};

// Identity of a UBM's parameters (FNV-1a of K, D, weights, means, variances): never 0.
uint64_t UbmChecksum(const DiagGmm& ubm);

// Computes UtteranceStats with reusable work buffers (one per thread). Posteriors come from the
// UBM's batched GEMM log-likelihoods (DiagGmm::BlockLogLikelihoods).
class UtteranceStatsComputer {
 public:
  // Throws slid::Error if the UBM is empty, top_c < 0 or min_posterior is outside [0, 1).
  UtteranceStatsComputer(const DiagGmm& ubm, const IvectorStatsOptions& opts = {});
  // frames: N x D (D == UBM dim, else slid::Error). 0 frames give all-zero statistics.
  UtteranceStats Compute(const Matrix& frames);
  // Sum over the frames of the last Compute() of log p(x_t) under the UBM (not pruned).
  double last_log_likelihood() const { return last_loglik_; }

 private:
  const DiagGmm* ubm_;
  uint64_t ubm_checksum_;
  IvectorStatsOptions opts_;
  double last_loglik_ = 0;
  Matrix xx_, loglik_, block_first_, block_second_;
  Vector frame_loglik_, post_sums_;
  std::vector<int> order_;
};

// Convenience: UtteranceStatsComputer(ubm, opts).Compute(frames).
UtteranceStats ComputeUtteranceStats(const DiagGmm& ubm, const Matrix& frames, const IvectorStatsOptions& opts = {});

// The posterior of w for one utterance.
struct IvectorPosterior {
  VectorD mean;          // R: the i-vector
  MatrixD covariance;    // R x R: L^-1 (0 x 0 unless asked for)
  double log_likelihood = 0;  // log p(statistics | model), see IvectorExtractor::Extract
};

class IvectorExtractor {
 public:
  IvectorExtractor() = default;  // empty: every call but the accessors throws slid::Error
  // Kaldi-like random start: T_k = diag(sqrt(ubm variance_k)) * G_k / sqrt(R), G standard normal from
  // `seed`, Sigma_k = the UBM variances, offsets 0. ivector_dim >= 1, non-empty UBM.
  IvectorExtractor(const DiagGmm& ubm, int ivector_dim, uint64_t seed);
  // Explicit parameters (loading, tests): projection KD x R (rows k*D .. k*D+D-1 are T_k), variances
  // K x D (> 0, finite), mean_offsets K x D (finite). slid::Error on any inconsistency.
  IvectorExtractor(MatrixD projection, MatrixD variances, MatrixD mean_offsets);

  int NumGauss() const { return static_cast<int>(variances_.rows()); }
  int FeatDim() const { return static_cast<int>(variances_.cols()); }
  int IvectorDim() const { return static_cast<int>(projection_.cols()); }
  const MatrixD& projection() const { return projection_; }     // KD x R
  const MatrixD& variances() const { return variances_; }       // K x D
  const MatrixD& mean_offsets() const { return mean_offsets_; } // K x D
  // Identity of the parameters (FNV-1a of K, D, R, projection, variances, offsets; computed once per
  // change): what IvectorExtractorStats and shard accumulators record, so that statistics accumulated
  // against one extractor are never used to update another. 0 for an empty extractor.
  uint64_t Checksum() const { return checksum_; }

  // Posterior of w for each utterance of `batch` (all with K zeroth and K x D first-order stats, else
  // slid::Error). Utterances are processed together so that the KD x R and K x R(R+1)/2 parameter
  // matrices are read once per batch (GEMM, single precision; the R x R Cholesky factorisation in
  // double). want_covariance fills IvectorPosterior::covariance. log_likelihood is
  //   0.5 b' L^-1 b - 0.5 log|L| - 0.5 sum_k N_k (D log 2 pi + log|Sigma_k|) [- 0.5 sum_k tr(Sigma_k^-1 S~_k)]
  // the log marginal likelihood of the frames given their alignment, with the bracketed term only
  // when second-order stats are present (without it, the terms that depend on T alone).
  std::vector<IvectorPosterior> Extract(const std::vector<UtteranceStats>& batch, bool want_covariance = false) const;
  // One utterance: Extract({stats}).front().
  IvectorPosterior Extract(const UtteranceStats& stats, bool want_covariance = false) const;

 private:
  friend class IvectorExtractorStats;
  void Precompute();  // fills the cached single-precision products below
  // Extract(), also returning the centred first-order statistics F~ (B x KD, row u = utterance u,
  // offsets removed) if centred_first is non-null.
  std::vector<IvectorPosterior> ExtractBatch(const std::vector<UtteranceStats>& batch, bool want_covariance,
                                             MatrixD* centred_first) const;

  MatrixD projection_;     // KD x R
  MatrixD variances_;      // K x D
  MatrixD mean_offsets_;   // K x D
  Matrix prec_projection_; // KD x R: Sigma^-1 T (float)
  Matrix quad_packed_;     // K x R(R+1)/2: lower triangle of T_k' Sigma_k^-1 T_k, column-major packed (float)
  VectorD gconst_;         // K: -0.5 (D log 2 pi + log|Sigma_k|)
  uint64_t checksum_ = 0;  // Checksum()
};

constexpr uint32_t kIvectorStatsFormatVersion = 1;

// Training statistics of T and Sigma (Kaldi IvectorExtractorStats): additive, fixed size
// (KD x R + K x R(R+1)/2 + small) whatever the number of utterances.
// They are tied to the extractor they were made with (its Checksum()): Accumulate, Add and Update refuse
// another one, so statistics of a stale model cannot update the current one.
class IvectorExtractorStats {
 public:
  IvectorExtractorStats() = default;  // 0 x 0 placeholder (Add and FromBytes give it a shape)
  explicit IvectorExtractorStats(const IvectorExtractor& extractor);
  // E-step for a batch of utterances (see IvectorExtractor::Extract). Variance statistics are gathered
  // only from utterances carrying second-order stats. Returns the summed log-likelihood of the batch.
  double Accumulate(const IvectorExtractor& extractor, const std::vector<UtteranceStats>& batch);
  // this += other; slid::Error on shape or extractor mismatch. A placeholder this takes other.
  void Add(const IvectorExtractorStats& other);

  // Statistics that travel (Kaldi's IvectorExtractorStats::Write / Read(..., add)): one T-matrix EM
  // iteration as a map over shards of the utterances and a reduce (slid/distributed.h). Binary format,
  // version kIvectorStatsFormatVersion, little-endian:
  //   "SLIDIVS\0", uint32 version, uint32 K, uint32 D, uint32 R, uint64 extractor checksum,
  //   float64 utterances, float64 frames, float64 log-likelihood, int64 utterances with second-order
  //   stats, float64 C[K*D x R], float64 A[K x R(R+1)/2], float64 N[K], float64 S[K x D], float64 w_sum[R],
  //   float64 ww_sum[R x R] (all row-major), uint64 FNV-1a of every byte before it.
  // Doubles are stored exactly, so a sum of read shards equals the in-memory sum up to the order of
  // the additions (double rounding).
  std::string ToBytes() const;  // slid::Error for a placeholder
  // As GmmStats::FromBytes: errors name `name`; add = true adds to *this (Add's checks).
  void FromBytes(const std::string& bytes, const std::string& name, bool add = false);
  void Write(const std::string& path) const;  // atomically
  void Read(const std::string& path, bool add = false);
  // Every accumulated number (utterances, frames, log-likelihood, second-order count, C, A, N, S,
  // w_sum, ww_sum) appended to *out as doubles, and SetFlat, which reads the same count back from
  // `in` and returns the position after it: for an all-reduce (MPI_SUM) across processes.
  void AppendFlat(std::vector<double>* out) const;
  const double* SetFlat(const double* in);

  double NumUtterances() const { return num_utts_; }
  double NumFrames() const { return num_frames_; }
  double LogLikelihood() const { return loglik_; }  // sum over accumulated utterances
  uint64_t ExtractorChecksum() const { return extractor_checksum_; }  // of the extractor they serve

  struct UpdateOptions {
    bool update_variances = true;       // re-estimate Sigma_k (needs second-order stats from every utterance)
    bool min_divergence = true;         // re-estimate the prior: shift offsets by T m, T <- T chol(Cov w)
    double variance_floor_factor = 0.1; // floor Sigma_kd at this times the average within-component variance
    double min_count = 1e-3;            // components with less occupancy keep their parameters
  };
  // M-step: T_k = C_k A_k^-1, Sigma_k = (S~_k - diag(T_k C_k')) / N_k, then minimum divergence.
  // Never lowers the likelihood of the accumulated data (EM; minimum divergence is a reparametrisation).
  void Update(const UpdateOptions& opts, IvectorExtractor* extractor) const;

 private:
  double num_utts_ = 0, num_frames_ = 0, loglik_ = 0;
  int64_t second_order_utts_ = 0;
  uint64_t extractor_checksum_ = 0;
  MatrixD c_;       // KD x R: sum_u F~_u E[w_u]'
  MatrixD a_;       // K x R(R+1)/2: sum_u N_uk (packed) E[w w']_u
  VectorD n_;       // K: sum_u N_uk
  MatrixD s_;       // K x D: sum_u S~_uk (centred on the current means)
  VectorD w_sum_;   // R: sum_u E[w_u]
  MatrixD ww_sum_;  // R x R: sum_u E[w w']_u
};

// Training driver.
struct IvectorTrainOptions {
  int ivector_dim = 400;       // R
  int num_iters = 5;           // EM iterations (Kaldi egs/lre07/v1 train_ivector_extractor.sh: 5)
  uint64_t seed = 1;           // random initialisation of T
  int batch_utterances = 32;   // utterances per Extract batch
  IvectorExtractorStats::UpdateOptions update;  // M-step
};
struct IvectorTrainProgress {
  int iteration = 0;             // 1-based, the one just finished
  int num_iters = 0;
  double num_utterances = 0;
  double log_likelihood_per_frame = 0;  // of the model before this iteration's update
};
// Hands every training utterance's statistics to `visit`, once per call (called once per iteration),
// in any order. Statistics are made on the fly, so memory does not grow with the number of utterances.
using UtteranceStatsSource = std::function<void(const std::function<void(const UtteranceStats&)>& visit)>;

// EM training of T (and Sigma) from the UBM. Throws slid::Error if the source yields no utterance or
// stats of the wrong shape; update_variances needs second-order stats (IvectorStatsOptions::second_order).
IvectorExtractor TrainIvectorExtractor(const DiagGmm& ubm, const UtteranceStatsSource& source,
                                       const IvectorTrainOptions& opts = {},
                                       const std::function<void(const IvectorTrainProgress&)>& progress = {});

}  // namespace slid
