// Back-ends: what turns a recording's voiced feature frames into one score per language.
//
// A Backend is immutable and thread-safe; each recording gets its own UtteranceScorer (NewUtterance),
// fed blocks of voiced frames (frames x Dim()) in any number of calls, which then gives one score per
// language, in the model's language order. Scores are log-likelihood-like: higher is more likely;
// differences between languages are what matter (calibration, slid/calibration.h, maps them to
// calibrated log-likelihoods).
//
// Kinds:
//  - "gmm"     one diagonal GMM per language; score = (1/T) sum_t log p(x_t | GMM_l), every component of
//              every language evaluated (the method of Torres-Carrasquillo et al. 2002).
//  - "ubm-map" a universal background model (UBM) and per-language GMMs MAP-adapted from it (same K,
//              component k of every language derived from UBM component k; slid/map.h). Score =
//              (1/T) sum_t log sum_{k in top_C(t)} w_lk N(x_t | mu_lk, var_lk), where top_C(t) are the C
//              UBM components with the highest w_k N(x_t | k) (Reynolds et al. 2000, sec. 3.3): the cost per
//              frame is one UBM evaluation (K) plus C per language, not K per language. top_c = 0 scores
//              all K components of every language (then equal to "gmm" on the adapted GMMs).
//
// Serialisation (see slid/model.h): Header() is the back-end's JSON object in the model header (it
// always holds "kind"); AppendPayload() appends its float32 parameters, PayloadBytes() of them.
// ReadBackend() rebuilds a back-end from both and checks shapes and values.
//
// Adding a kind (e.g. "ivector"): derive from Backend and UtteranceScorer in your own header/source
// (keep the kind's maths in its own module: the back-end class is the adapter); give Header() a "kind"
// of its own plus whatever shapes ReadBackend needs to size the payload; add one branch to ReadBackend()
// in src/backend.cc that checks the header, consumes exactly the payload and constructs it; make
// TrainLanguageModelSet (slid/train.h) build it for TrainOptions::backend == kind. Scorer, calibration,
// model files, `slid identify/eval/calibrate/info` then work unchanged. A back-end that needs whole-
// utterance statistics (i-vectors) accumulates them in its UtteranceScorer::Add and computes in Scores().
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slid/gmm.h"
#include "slid/matrix.h"

namespace slid {

// The scoring state of one recording. Not thread-safe: one per recording (per thread).
class UtteranceScorer {
 public:
  virtual ~UtteranceScorer() = default;
  // Adds voiced feature frames (N x Dim(), N may be 0). Error on a dimension mismatch.
  virtual void Add(const Matrix& frames) = 0;
  // Frames added so far.
  virtual int64_t NumFrames() const = 0;
  // One score per language of the back-end. Error if NumFrames() == 0.
  virtual std::vector<double> Scores() const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string Kind() const = 0;        // "gmm", "ubm-map", ...
  virtual int NumLanguages() const = 0;        // scores per utterance
  virtual int Dim() const = 0;                 // feature dimension
  virtual std::unique_ptr<UtteranceScorer> NewUtterance() const = 0;
  virtual nlohmann::json Header() const = 0;   // {"kind": Kind(), ...shapes/settings}
  virtual uint64_t PayloadBytes() const = 0;   // bytes AppendPayload writes
  virtual void AppendPayload(std::string* out) const = 0;
  virtual std::string Describe() const = 0;    // one line for `slid info` ("gmm: 3 languages x 256 Gaussians")
  // Gaussians per language (for `slid info`); 0 if the notion does not apply.
  virtual int NumGauss(int language) const { return 0; }
};

// Rebuilds a back-end from its header object and its payload (exactly `payload_bytes` bytes).
// Throws slid::Error on an unknown kind, a shape or size mismatch, or invalid parameters.
std::shared_ptr<const Backend> ReadBackend(const nlohmann::json& header, const char* payload, uint64_t payload_bytes);

// ---- "gmm" ------------------------------------------------------------------------------------
class GmmBackend : public Backend {
 public:
  // gmms: one per language (>= 1), non-empty, all of the same Dim(). Error otherwise.
  explicit GmmBackend(std::vector<DiagGmm> gmms);
  std::string Kind() const override { return "gmm"; }
  int NumLanguages() const override { return static_cast<int>(gmms_.size()); }
  int Dim() const override { return gmms_.front().Dim(); }
  std::unique_ptr<UtteranceScorer> NewUtterance() const override;
  nlohmann::json Header() const override;  // {"kind": "gmm", "num_gauss": [K per language], "dim": D}
  uint64_t PayloadBytes() const override;  // per language: weights (K), means (K x D), variances (K x D)
  void AppendPayload(std::string* out) const override;
  std::string Describe() const override;
  int NumGauss(int language) const override { return gmms_.at(language).NumGauss(); }
  const std::vector<DiagGmm>& gmms() const { return gmms_; }

  // Sums over the frames of log p(x | GMM_l) for every language, added into *sums (size NumLanguages()),
  // one GEMM per block against all languages' stacked parameters. Thread-safe.
  void AccumulateLogLikelihoods(const Matrix& frames, std::vector<double>* sums) const;

 private:
  std::vector<DiagGmm> gmms_;
  std::vector<int> offsets_;  // start column of each language in packed_; size L+1
  Matrix packed_;             // 2D x sum K: every language's DiagGmm::packed_params() side by side
  Vector gconsts_;            // sum K
};

// ---- "ubm-map" --------------------------------------------------------------------------------
struct UbmMapScoringOptions {
  int top_c = 5;  // UBM components kept per frame (>= 0; 0 = all, i.e. full scoring; capped at K)
};

class UbmMapBackend : public Backend {
 public:
  // adapted: one GMM per language (>= 1), each with the UBM's K and D. Error otherwise.
  UbmMapBackend(DiagGmm ubm, std::vector<DiagGmm> adapted, const UbmMapScoringOptions& opts = {});
  std::string Kind() const override { return "ubm-map"; }
  int NumLanguages() const override { return static_cast<int>(adapted_.size()); }
  int Dim() const override { return ubm_.Dim(); }
  std::unique_ptr<UtteranceScorer> NewUtterance() const override;
  // {"kind": "ubm-map", "num_gauss": K, "dim": D, "num_languages": L, "top_c": C}
  nlohmann::json Header() const override;
  uint64_t PayloadBytes() const override;  // UBM, then each language: weights, means, variances
  void AppendPayload(std::string* out) const override;
  std::string Describe() const override;
  int NumGauss(int language) const override { return ubm_.NumGauss(); }
  const DiagGmm& ubm() const { return ubm_; }
  const std::vector<DiagGmm>& adapted() const { return adapted_; }
  const UbmMapScoringOptions& options() const { return opts_; }
  // A copy scoring with other options (e.g. top_c = 0 for full scoring).
  UbmMapBackend WithOptions(const UbmMapScoringOptions& opts) const { return UbmMapBackend(ubm_, adapted_, opts); }

  // Sums over the frames of the top-C log-likelihood of every language (see the top of this file),
  // added into *sums (size NumLanguages()). Thread-safe.
  void AccumulateLogLikelihoods(const Matrix& frames, std::vector<double>* sums) const;

 private:
  DiagGmm ubm_;
  std::vector<DiagGmm> adapted_;
  UbmMapScoringOptions opts_;
  GmmBackend full_;  // the adapted GMMs, for top_c = 0 (or >= K)
  // Row k * L + l: language l's component k as [mu/var, -0.5/var] (2D wide), so that the L languages'
  // log-densities of UBM component k are one (L x 2D) x (2D) product plus gconsts_ rows k*L..k*L+L-1.
  Matrix interleaved_;
  Vector gconsts_;  // K * L, same order
};

}  // namespace slid
