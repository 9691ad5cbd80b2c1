#include "slid/ivector_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "slid/error.h"

namespace slid {

namespace {

void PutFloat(std::string* out, double v) {
  const float f = static_cast<float>(v);
  out->append(reinterpret_cast<const char*>(&f), sizeof f);
}

template <typename M>
void PutAll(std::string* out, const M& m) {
  for (int64_t i = 0; i < m.rows(); ++i)
    for (int64_t j = 0; j < m.cols(); ++j) PutFloat(out, m(i, j));
}

// Reads float32 values from the payload, checking the size.
class PayloadReader {
 public:
  PayloadReader(const char* p, uint64_t n) : p_(p), n_(n) {}
  template <typename M>
  M Read(int64_t rows, int64_t cols) {
    const uint64_t bytes = static_cast<uint64_t>(rows) * cols * sizeof(float);
    if (rows < 0 || cols < 0 || bytes > n_ - pos_) throw Error("ivector back-end: payload too short");
    M m(rows, cols);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        float f;
        std::memcpy(&f, p_ + pos_, sizeof f);
        pos_ += sizeof f;
        if (!std::isfinite(f)) throw Error("ivector back-end: non-finite parameter in the payload");
        m(i, j) = f;
      }
    return m;
  }
  void CheckEnd() const {
    if (pos_ != n_) throw Error("ivector back-end: payload has " + std::to_string(n_ - pos_) + " unread bytes");
  }

 private:
  const char* p_;
  uint64_t n_, pos_ = 0;
};

// Parameters are stored as float32: rounding them once at construction makes a trained model score
// exactly as its saved and reloaded copy.
template <typename M>
M RoundToFloat(const M& m) {
  return m.template cast<float>().template cast<double>();
}

int GetInt(const nlohmann::json& h, const char* key, int min_value) {
  if (!h.contains(key) || !h[key].is_number_integer()) throw Error(std::string("ivector back-end: header lacks integer '") + key + "'");
  const int v = h[key].get<int>();
  if (v < min_value) throw Error(std::string("ivector back-end: header '") + key + "' is " + std::to_string(v));
  return v;
}

}  // namespace

void ForEachUtterance(const FrameSource& source, const std::vector<int64_t>& lengths,
                      const std::function<void(const Matrix&)>& fn) {
  int64_t total = 0;
  for (int64_t n : lengths) {
    if (n < 0) throw Error("ForEachUtterance: negative utterance length");
    total += n;
  }
  if (total != source.NumFrames()) {
    throw Error("ForEachUtterance: utterance lengths sum to " + std::to_string(total) + " frames, the source has " +
                std::to_string(source.NumFrames()));
  }
  size_t u = 0;
  while (u < lengths.size() && lengths[u] == 0) ++u;
  Matrix cur(u < lengths.size() ? lengths[u] : 0, source.Dim());
  int64_t filled = 0;
  source.ForEachBlock(4096, [&](const Matrix& b) {
    for (int64_t i = 0; i < b.rows();) {
      const int64_t n = std::min<int64_t>(b.rows() - i, cur.rows() - filled);
      cur.middleRows(filled, n) = b.middleRows(i, n);
      filled += n;
      i += n;
      if (filled == cur.rows()) {
        fn(cur);
        filled = 0;
        ++u;
        while (u < lengths.size() && lengths[u] == 0) ++u;
        if (u < lengths.size()) cur.resize(lengths[u], source.Dim());
      }
    }
  });
}

void AddUtteranceStats(const UtteranceStats& b, UtteranceStats* a) { a->Add(b); }

IvectorModel::IvectorModel(DiagGmm ubm, IvectorExtractor extractor, IvectorStatsOptions stats, VectorD ivector_mean,
                           LinearTransform lda, LinearTransform wccn, std::string classifier,
                           Eigen::MatrixXd class_means, Eigen::MatrixXd covariance_or_weights, Eigen::VectorXd bias)
    : ubm_(std::move(ubm)),
      extractor_(RoundToFloat(extractor.projection()), RoundToFloat(extractor.variances()),
                 RoundToFloat(extractor.mean_offsets())),
      stats_(stats),
      ivector_mean_(RoundToFloat(ivector_mean)),
      lda_{RoundToFloat(lda.A), RoundToFloat(lda.offset)},
      wccn_{RoundToFloat(wccn.A), RoundToFloat(wccn.offset)},
      classifier_(std::move(classifier)),
      class_means_(RoundToFloat(class_means)),
      second_(RoundToFloat(covariance_or_weights)),
      bias_(RoundToFloat(bias)) {
  stats_.second_order = false;  // scoring never needs them
  const int r = extractor_.IvectorDim();
  if (ubm_.NumGauss() != extractor_.NumGauss() || ubm_.Dim() != extractor_.FeatDim())
    throw Error("ivector back-end: UBM and extractor shapes differ");
  if (ivector_mean_.size() != r || lda_.A.cols() != r || lda_.offset.size() != r)
    throw Error("ivector back-end: LDA does not match the i-vector dimension");
  const int64_t d = lda_.A.rows();
  if (d < 1 || wccn_.A.rows() != d || wccn_.A.cols() != d || wccn_.offset.size() != d)
    throw Error("ivector back-end: WCCN does not match the LDA dimension");
  if (class_means_.rows() < 2 || class_means_.cols() != d) throw Error("ivector back-end: bad language means");
  if (classifier_ == "gaussian") {
    gaussian_ = GaussianBackend(class_means_, second_);
  } else if (classifier_ == "logreg") {
    if (second_.rows() != class_means_.rows() || second_.cols() != d || bias_.size() != class_means_.rows())
      throw Error("ivector back-end: logistic regression shapes do not match");
    logreg_.W = second_;
    logreg_.b = bias_;
  } else if (classifier_ != "cosine") {
    throw Error("ivector back-end: unknown classifier '" + classifier_ + "' (known: gaussian, cosine, logreg)");
  }
}

Eigen::VectorXd IvectorModel::Project(const UtteranceStats& stats) const {
  const VectorD w = extractor_.Extract(stats).mean - ivector_mean_;
  const Eigen::MatrixXd row = LengthNormalise(Eigen::MatrixXd(w.transpose()));
  return wccn_.Apply(lda_.Apply(row)).row(0).transpose();
}

std::vector<double> IvectorModel::Scores(const UtteranceStats& stats) const {
  if (!(stats.num_frames > 0)) throw Error("ivector back-end: no frames to score");
  const Eigen::MatrixXd y = Project(stats).transpose();
  Eigen::MatrixXd s;
  if (classifier_ == "gaussian") s = gaussian_.Scores(y);
  else if (classifier_ == "logreg") s = LogPosteriors(logreg_, y);
  else s = CosineScores(y, class_means_);
  return std::vector<double>(s.data(), s.data() + s.size());
}

nlohmann::json IvectorModel::Header() const {
  return {{"kind", "ivector"},
          {"num_gauss", ubm_.NumGauss()},
          {"dim", ubm_.Dim()},
          {"ivector_dim", extractor_.IvectorDim()},
          {"lda_dim", lda_.A.rows()},
          {"num_languages", NumLanguages()},
          {"classifier", classifier_},
          {"top_c", stats_.top_c},
          {"min_posterior", stats_.min_posterior}};
}

uint64_t IvectorModel::PayloadBytes() const {
  const uint64_t k = ubm_.NumGauss(), d = ubm_.Dim(), r = extractor_.IvectorDim(), e = lda_.A.rows(),
                 l = NumLanguages();
  uint64_t n = k + 2 * k * d;                 // UBM
  n += k * d * r + 2 * k * d;                 // T, Sigma, offsets
  n += r + e * r + r + e * e + e;             // mean, LDA A + offset, WCCN A + offset
  n += l * e;                                 // language means
  if (classifier_ == "gaussian") n += e * e;  // covariance
  if (classifier_ == "logreg") n += l * e + l;
  return n * sizeof(float);
}

void IvectorModel::AppendPayload(std::string* out) const {
  PutAll(out, ubm_.weights());
  PutAll(out, ubm_.means());
  PutAll(out, ubm_.variances());
  PutAll(out, extractor_.projection());
  PutAll(out, extractor_.variances());
  PutAll(out, extractor_.mean_offsets());
  PutAll(out, ivector_mean_);
  PutAll(out, lda_.A);
  PutAll(out, lda_.offset);
  PutAll(out, wccn_.A);
  PutAll(out, wccn_.offset);
  PutAll(out, class_means_);
  if (classifier_ != "cosine") PutAll(out, second_);
  if (classifier_ == "logreg") PutAll(out, bias_);
}

IvectorModel IvectorModel::Read(const nlohmann::json& h, const char* payload, uint64_t payload_bytes) {
  const int k = GetInt(h, "num_gauss", 1), d = GetInt(h, "dim", 1), r = GetInt(h, "ivector_dim", 1),
            e = GetInt(h, "lda_dim", 1), l = GetInt(h, "num_languages", 2), top_c = GetInt(h, "top_c", 0);
  if (!h.contains("classifier") || !h["classifier"].is_string()) throw Error("ivector back-end: header lacks 'classifier'");
  if (!h.contains("min_posterior") || !h["min_posterior"].is_number()) throw Error("ivector back-end: header lacks 'min_posterior'");
  const std::string classifier = h["classifier"];
  IvectorStatsOptions so;
  so.top_c = top_c;
  so.min_posterior = h["min_posterior"].get<float>();
  PayloadReader rd(payload, payload_bytes);
  const Vector w = rd.Read<Matrix>(k, 1).col(0);
  Matrix mu = rd.Read<Matrix>(k, d), var = rd.Read<Matrix>(k, d);
  DiagGmm ubm(w, std::move(mu), std::move(var));
  MatrixD t = rd.Read<MatrixD>(static_cast<int64_t>(k) * d, r), sig = rd.Read<MatrixD>(k, d),
          off = rd.Read<MatrixD>(k, d);
  IvectorExtractor ext(std::move(t), std::move(sig), std::move(off));
  const VectorD mean = rd.Read<MatrixD>(r, 1).col(0);
  LinearTransform lda{rd.Read<Eigen::MatrixXd>(e, r), rd.Read<Eigen::MatrixXd>(r, 1).col(0)};
  LinearTransform wccn{rd.Read<Eigen::MatrixXd>(e, e), rd.Read<Eigen::MatrixXd>(e, 1).col(0)};
  Eigen::MatrixXd means = rd.Read<Eigen::MatrixXd>(l, e), second;
  Eigen::VectorXd bias;
  if (classifier == "gaussian") second = rd.Read<Eigen::MatrixXd>(e, e);
  if (classifier == "logreg") {
    second = rd.Read<Eigen::MatrixXd>(l, e);
    bias = rd.Read<Eigen::MatrixXd>(l, 1).col(0);
  }
  rd.CheckEnd();
  return IvectorModel(std::move(ubm), std::move(ext), so, mean, std::move(lda), std::move(wccn), classifier,
                      std::move(means), std::move(second), std::move(bias));
}

std::string IvectorModel::Describe() const {
  return "ivector: " + std::to_string(NumLanguages()) + " languages, UBM " + std::to_string(ubm_.NumGauss()) +
         " Gaussians, i-vector dim " + std::to_string(extractor_.IvectorDim()) + ", LDA dim " +
         std::to_string(lda_.A.rows()) + ", " + classifier_ + " classifier";
}

namespace {

class IvectorUtteranceScorer : public UtteranceScorer {
 public:
  explicit IvectorUtteranceScorer(const IvectorModel& m) : model_(m), computer_(m.ubm(), m.stats_options()) {}
  void Add(const Matrix& frames) override {
    if (frames.cols() != model_.Dim()) {
      throw Error("ivector back-end: frames have " + std::to_string(frames.cols()) + " dims, the model " +
                  std::to_string(model_.Dim()));
    }
    if (frames.rows() == 0) return;
    AddUtteranceStats(computer_.Compute(frames), &stats_);
  }
  int64_t NumFrames() const override { return static_cast<int64_t>(stats_.num_frames); }
  std::vector<double> Scores() const override { return model_.Scores(stats_); }

 private:
  const IvectorModel& model_;
  UtteranceStatsComputer computer_;
  UtteranceStats stats_;
};

}  // namespace

std::unique_ptr<UtteranceScorer> IvectorBackend::NewUtterance() const {
  return std::make_unique<IvectorUtteranceScorer>(model_);
}

IvectorModel TrainIvectorModel(const DiagGmm& ubm, int num_languages, const LabelledUtteranceSource& source,
                               const IvectorBackendOptions& opts,
                               const std::function<void(const IvectorTrainReport&)>& progress) {
  if (num_languages < 2) throw Error("ivector back-end: needs at least 2 languages");
  if (opts.classifier != "gaussian" && opts.classifier != "cosine" && opts.classifier != "logreg")
    throw Error("ivector back-end: unknown classifier '" + opts.classifier + "' (known: gaussian, cosine, logreg)");
  IvectorStatsOptions train_stats = opts.stats;
  train_stats.second_order = opts.extractor.update.update_variances;
  // 1. T, from statistics made on the fly each iteration.
  const IvectorExtractor ext = TrainIvectorExtractor(
      ubm,
      [&](const std::function<void(const UtteranceStats&)>& visit) {
        UtteranceStatsComputer comp(ubm, train_stats);
        source([&](const Matrix& frames, int) { visit(comp.Compute(frames)); });
      },
      opts.extractor, [&](const IvectorTrainProgress& p) {
        if (progress) {
          IvectorTrainReport rep;
          rep.phase = "extractor";
          rep.em = p;
          progress(rep);
        }
      });
  // 2. i-vectors of every training utterance (R doubles each), batched.
  std::vector<VectorD> ivectors;
  std::vector<int> labels;
  {
    IvectorStatsOptions so = opts.stats;
    so.second_order = false;
    UtteranceStatsComputer comp(ubm, so);
    std::vector<UtteranceStats> batch;
    auto flush = [&]() {
      for (IvectorPosterior& p : ext.Extract(batch)) ivectors.push_back(std::move(p.mean));
      batch.clear();
      if (progress) {
        IvectorTrainReport rep;
        rep.phase = "ivectors";
        rep.utterances_done = static_cast<int64_t>(ivectors.size());
        progress(rep);
      }
    };
    source([&](const Matrix& frames, int language) {
      if (language < 0 || language >= num_languages)
        throw Error("ivector back-end: utterance language " + std::to_string(language) + " out of range");
      batch.push_back(comp.Compute(frames));
      labels.push_back(language);
      if (static_cast<int>(batch.size()) == opts.extractor.batch_utterances) flush();
    });
    if (!batch.empty()) flush();
  }
  const int64_t n = static_cast<int64_t>(ivectors.size());
  const int r = ext.IvectorDim();
  Eigen::MatrixXd x(n, r);
  for (int64_t i = 0; i < n; ++i) x.row(i) = ivectors[i].transpose();
  // 3. Mean, length norm, LDA, WCCN, classifier.
  if (progress) {
    IvectorTrainReport rep;
    rep.phase = "backend";
    progress(rep);
  }
  const VectorD mean = x.colwise().mean().transpose();
  x = LengthNormalise(x.rowwise() - mean.transpose());
  const LinearTransform lda = TrainLda(x, labels, num_languages);
  Eigen::MatrixXd y = lda.Apply(x);
  const LinearTransform wccn = TrainWccn(y, labels, num_languages);
  y = wccn.Apply(y);
  Eigen::MatrixXd means = ClassMeans(y, labels, num_languages), second;
  Eigen::VectorXd bias;
  if (opts.classifier == "gaussian") {
    second = GaussianBackend(y, labels, num_languages).covariance();
  } else if (opts.classifier == "logreg") {
    const LogRegModel m = TrainLogReg(y, labels, num_languages, opts.logreg);
    second = m.W;
    bias = m.b;
  }
  return IvectorModel(ubm, ext, opts.stats, mean, lda, wccn, opts.classifier, std::move(means), std::move(second),
                      std::move(bias));
}

}  // namespace slid
