// The "ivector" language back-end: UBM -> per-utterance Baum-Welch statistics -> i-vector
// (slid/ivector.h) -> subtract the training mean -> length normalisation -> LDA to (languages - 1)
// dimensions -> WCCN -> a classifier (slid/lda.h, slid/logreg.h):
//   "gaussian": Gaussian back-end with shared covariance, score = log N(y | m_l, S)  (default)
//   "cosine":   cosine similarity with each language's mean (Dehak et al. 2011)
//   "logreg":   multinomial logistic regression, score = log P(l | y) (Kaldi egs/lre07/v1)
// Scores are per utterance: the whole recording's statistics give one i-vector.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slid/backend.h"
#include "slid/feature_cache.h"
#include "slid/gmm.h"
#include "slid/ivector.h"
#include "slid/lda.h"
#include "slid/logreg.h"
#include "slid/matrix.h"

namespace slid {

struct IvectorBackendOptions {
  IvectorStatsOptions stats;            // UBM posteriors -> statistics (training and scoring)
  IvectorTrainOptions extractor;        // total-variability training (ivector_dim, iterations, ...)
  std::string classifier = "gaussian";  // "gaussian", "cosine" or "logreg" (see above)
  LogRegOptions logreg;                 // for "logreg"
};

// Progress of TrainIvectorModel: a phase name and, for T training, each EM iteration.
struct IvectorTrainReport {
  std::string phase;             // "extractor", "ivectors", "backend"
  IvectorTrainProgress em;       // filled for phase "extractor"
  int64_t utterances_done = 0;   // for phase "ivectors"
};

// Calls visit(frames, language) for every training utterance (frames N x D, N >= 1, language in
// [0, L)), in the same order on every call. Called num_iters + 1 times.
using LabelledUtteranceSource =
    std::function<void(const std::function<void(const Matrix& frames, int language)>& visit)>;

class IvectorModel {
 public:
  IvectorModel() = default;
  // Assembles a model from its parts (training, loading). slid::Error on inconsistent shapes.
  IvectorModel(DiagGmm ubm, IvectorExtractor extractor, IvectorStatsOptions stats, VectorD ivector_mean,
               LinearTransform lda, LinearTransform wccn, std::string classifier, Eigen::MatrixXd class_means,
               Eigen::MatrixXd covariance_or_weights, Eigen::VectorXd bias);

  int NumLanguages() const { return static_cast<int>(class_means_.rows()); }
  int Dim() const { return ubm_.Dim(); }
  const DiagGmm& ubm() const { return ubm_; }
  const IvectorExtractor& extractor() const { return extractor_; }
  const IvectorStatsOptions& stats_options() const { return stats_; }
  const std::string& classifier() const { return classifier_; }

  // The transformed i-vector (LDA + WCCN output) of an utterance's statistics.
  Eigen::VectorXd Project(const UtteranceStats& stats) const;
  // One score per language (see the top of this file). Error if the statistics hold no frames.
  std::vector<double> Scores(const UtteranceStats& stats) const;

  // Serialisation (the shape of slid/backend.h): JSON header + float32 payload.
  nlohmann::json Header() const;
  uint64_t PayloadBytes() const;
  void AppendPayload(std::string* out) const;
  // Rebuilds from Header() / AppendPayload() output; slid::Error on any mismatch.
  static IvectorModel Read(const nlohmann::json& header, const char* payload, uint64_t payload_bytes);
  std::string Describe() const;

 private:
  DiagGmm ubm_;
  IvectorExtractor extractor_;
  IvectorStatsOptions stats_;
  VectorD ivector_mean_;            // R
  LinearTransform lda_, wccn_;      // R -> d, d -> d
  std::string classifier_;
  Eigen::MatrixXd class_means_;     // L x d (all classifiers: cosine uses them, others for the shape)
  Eigen::MatrixXd second_;          // gaussian: d x d covariance; logreg: L x d weights; cosine: 0 x 0
  Eigen::VectorXd bias_;            // logreg: L; others empty
  GaussianBackend gaussian_;        // cached for "gaussian"
  LogRegModel logreg_;              // cached for "logreg"
};

// The adapter to slid/backend.h: kind "ivector". Each recording's UtteranceScorer accumulates its
// statistics block by block (memory K x D whatever the length); Scores() extracts one i-vector.
class IvectorBackend : public Backend {
 public:
  explicit IvectorBackend(IvectorModel model) : model_(std::move(model)) {}
  std::string Kind() const override { return "ivector"; }
  int NumLanguages() const override { return model_.NumLanguages(); }
  int Dim() const override { return model_.Dim(); }
  std::unique_ptr<UtteranceScorer> NewUtterance() const override;
  nlohmann::json Header() const override { return model_.Header(); }  // see IvectorModel::Header
  uint64_t PayloadBytes() const override { return model_.PayloadBytes(); }
  void AppendPayload(std::string* out) const override { model_.AppendPayload(out); }
  std::string Describe() const override { return model_.Describe(); }
  int NumGauss(int) const override { return model_.ubm().NumGauss(); }
  const IvectorModel& model() const { return model_; }

 private:
  IvectorModel model_;
};

// Trains everything after the UBM: T on the utterances' statistics (streamed: memory does not grow
// with the number of utterances), then i-vectors of every training utterance, mean, length norm, LDA,
// WCCN and the classifier. Needs at least 2 languages, each with at least one utterance, and more
// utterances than languages. slid::Error otherwise.
IvectorModel TrainIvectorModel(const DiagGmm& ubm, int num_languages, const LabelledUtteranceSource& source,
                               const IvectorBackendOptions& opts = {},
                               const std::function<void(const IvectorTrainReport&)>& progress = {});

// Cuts the frames of `source` (in order) into utterances of the given lengths (0-length entries are
// skipped) and calls fn on each. slid::Error if the lengths do not sum to source.NumFrames().
void ForEachUtterance(const FrameSource& source, const std::vector<int64_t>& lengths,
                      const std::function<void(const Matrix&)>& fn);

// Adds b's statistics into *a: a->Add(b) (slid/ivector.h; same shapes and UBM, else slid::Error); an empty *a takes b.
void AddUtteranceStats(const UtteranceStats& b, UtteranceStats* a);

}  // namespace slid
