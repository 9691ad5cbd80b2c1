// The "gmm" and "ubm-map" back-ends and ReadBackend; see slid/backend.h.
#include "slid/backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "slid/error.h"
#include "slid/ivector_backend.h"

namespace slid {
namespace {

// Frames per GEMM block: 128 x (10 x 256) floats of log-densities (1.3 MB) stays near the L2 cache.
constexpr int kScoreBlockFrames = 128;

void PutFloats(std::string* out, const float* data, size_t n) {
  out->append(reinterpret_cast<const char*>(data), n * sizeof(float));
}

uint64_t GmmBytes(uint64_t k, uint64_t d) { return k * (1 + 2 * d) * sizeof(float); }

void AppendGmm(const DiagGmm& g, std::string* out) {
  PutFloats(out, g.weights().data(), g.weights().size());
  PutFloats(out, g.means().data(), g.means().size());
  PutFloats(out, g.variances().data(), g.variances().size());
}

// Reads one GMM of shape k x d at *offset, advancing it.
DiagGmm TakeGmm(const char* payload, uint64_t* offset, int k, int d) {
  Vector w(k);
  Matrix mu(k, d), var(k, d);
  auto take = [&](float* dst, size_t n) {
    std::memcpy(dst, payload + *offset, n * sizeof(float));
    *offset += n * sizeof(float);
  };
  take(w.data(), k);
  take(mu.data(), static_cast<size_t>(k) * d);
  take(var.data(), static_cast<size_t>(k) * d);
  return DiagGmm(std::move(w), std::move(mu), std::move(var));
}

void CheckShape(int k, int d) {
  if (k < 1 || d < 1 || k > (1 << 20) || d > (1 << 16))
    throw Error("implausible GMM shape " + std::to_string(k) + " x " + std::to_string(d));
}

void CheckFrames(const Matrix& frames, int dim) {
  if (frames.cols() != dim && frames.rows() > 0)
    throw Error("scorer: features have " + std::to_string(frames.cols()) + " dims, the model " + std::to_string(dim));
}

// Utterance state shared by the GMM-based back-ends: per-language sums of frame log-likelihoods.
template <typename B>
class SumScorer : public UtteranceScorer {
 public:
  explicit SumScorer(const B& b) : b_(b), sums_(b.NumLanguages(), 0.0) {}
  void Add(const Matrix& frames) override {
    CheckFrames(frames, b_.Dim());
    b_.AccumulateLogLikelihoods(frames, &sums_);
    frames_ += frames.rows();
  }
  int64_t NumFrames() const override { return frames_; }
  std::vector<double> Scores() const override {
    if (frames_ == 0) throw Error("scorer: no frames to score");
    std::vector<double> s(sums_);
    for (double& v : s) v /= static_cast<double>(frames_);
    return s;
  }

 private:
  const B& b_;
  std::vector<double> sums_;
  int64_t frames_ = 0;
};

}  // namespace

// ---- gmm ----------------------------------------------------------------------------------------

GmmBackend::GmmBackend(std::vector<DiagGmm> gmms) : gmms_(std::move(gmms)) {
  if (gmms_.empty()) throw Error("gmm back-end: no languages");
  const int d = gmms_.front().Dim();
  int total_k = 0;
  offsets_.push_back(0);
  for (size_t l = 0; l < gmms_.size(); ++l) {
    if (gmms_[l].NumGauss() == 0) throw Error("gmm back-end: language " + std::to_string(l) + " has an empty GMM");
    if (gmms_[l].Dim() != d)
      throw Error("gmm back-end: language " + std::to_string(l) + " has dim " + std::to_string(gmms_[l].Dim()) +
                  ", language 0 has " + std::to_string(d));
    total_k += gmms_[l].NumGauss();
    offsets_.push_back(total_k);
  }
  packed_.resize(2 * d, total_k);
  gconsts_.resize(total_k);
  for (size_t l = 0; l < gmms_.size(); ++l) {
    packed_.middleCols(offsets_[l], gmms_[l].NumGauss()) = gmms_[l].packed_params();
    gconsts_.segment(offsets_[l], gmms_[l].NumGauss()) = gmms_[l].gconsts();
  }
}

std::unique_ptr<UtteranceScorer> GmmBackend::NewUtterance() const {
  return std::make_unique<SumScorer<GmmBackend>>(*this);
}

void GmmBackend::AccumulateLogLikelihoods(const Matrix& features, std::vector<double>* sums) const {
  if (features.rows() == 0) return;
  const int dim = Dim();
  CheckFrames(features, dim);
  const int num_lang = NumLanguages();
  if (static_cast<int>(sums->size()) != num_lang) throw Error("gmm back-end: sums has the wrong size");
  Matrix xx(kScoreBlockFrames, 2 * dim);
  Matrix ll(kScoreBlockFrames, packed_.cols());
  const int64_t n_frames = features.rows();
  for (int64_t begin = 0; begin < n_frames; begin += kScoreBlockFrames) {
    const int n = static_cast<int>(std::min<int64_t>(kScoreBlockFrames, n_frames - begin));
    auto x = features.middleRows(begin, n);
    xx.topLeftCorner(n, dim) = x;
    xx.block(0, dim, n, dim) = x.array().square();
    auto out = ll.topRows(n);
    out.noalias() = xx.topRows(n) * packed_;
    out.rowwise() += gconsts_.transpose();
    for (int c = 0; c < num_lang; ++c) {
      const int k0 = offsets_[c], k = offsets_[c + 1] - offsets_[c];
      double acc = 0;
      for (int r = 0; r < n; ++r) {
        auto seg = out.row(r).segment(k0, k).array();
        const float m = seg.maxCoeff();
        acc += m + std::log(static_cast<double>((seg - m).exp().sum()));
      }
      (*sums)[c] += acc;
    }
  }
}

nlohmann::json GmmBackend::Header() const {
  std::vector<int> ks;
  for (const DiagGmm& g : gmms_) ks.push_back(g.NumGauss());
  return {{"kind", "gmm"}, {"num_gauss", ks}, {"dim", Dim()}};
}

uint64_t GmmBackend::PayloadBytes() const {
  uint64_t b = 0;
  for (const DiagGmm& g : gmms_) b += GmmBytes(g.NumGauss(), g.Dim());
  return b;
}

void GmmBackend::AppendPayload(std::string* out) const {
  for (const DiagGmm& g : gmms_) AppendGmm(g, out);
}

std::string GmmBackend::Describe() const {
  int kmin = gmms_[0].NumGauss(), kmax = kmin;
  for (const DiagGmm& g : gmms_) {
    kmin = std::min(kmin, g.NumGauss());
    kmax = std::max(kmax, g.NumGauss());
  }
  return "gmm: one GMM per language, " + std::to_string(NumLanguages()) + " x " +
         (kmin == kmax ? std::to_string(kmax) : std::to_string(kmin) + "-" + std::to_string(kmax)) + " Gaussians";
}

// ---- ubm-map -------------------------------------------------------------------------------------

UbmMapBackend::UbmMapBackend(DiagGmm ubm, std::vector<DiagGmm> adapted, const UbmMapScoringOptions& opts)
    : ubm_(std::move(ubm)), adapted_(std::move(adapted)), opts_(opts), full_(adapted_) {
  if (opts_.top_c < 0) throw Error("ubm-map back-end: top_c must be >= 0");
  const int k = ubm_.NumGauss(), d = ubm_.Dim(), num_lang = NumLanguages();
  if (k == 0) throw Error("ubm-map back-end: empty UBM");
  for (int l = 0; l < num_lang; ++l)
    if (adapted_[l].NumGauss() != k || adapted_[l].Dim() != d)
      throw Error("ubm-map back-end: language " + std::to_string(l) + " has " + std::to_string(adapted_[l].NumGauss()) +
                  " x " + std::to_string(adapted_[l].Dim()) + " Gaussians, the UBM " + std::to_string(k) + " x " +
                  std::to_string(d));
  interleaved_.resize(static_cast<int64_t>(k) * num_lang, 2 * d);
  gconsts_.resize(static_cast<int64_t>(k) * num_lang);
  for (int l = 0; l < num_lang; ++l) {
    const Matrix& p = adapted_[l].packed_params();  // 2D x K
    for (int c = 0; c < k; ++c) {
      interleaved_.row(static_cast<int64_t>(c) * num_lang + l) = p.col(c).transpose();
      gconsts_[static_cast<int64_t>(c) * num_lang + l] = adapted_[l].gconsts()[c];
    }
  }
}

std::unique_ptr<UtteranceScorer> UbmMapBackend::NewUtterance() const {
  return std::make_unique<SumScorer<UbmMapBackend>>(*this);
}

void UbmMapBackend::AccumulateLogLikelihoods(const Matrix& features, std::vector<double>* sums) const {
  const int k = ubm_.NumGauss(), num_lang = NumLanguages();
  if (opts_.top_c == 0 || opts_.top_c >= k) {
    full_.AccumulateLogLikelihoods(features, sums);
    return;
  }
  if (features.rows() == 0) return;
  CheckFrames(features, Dim());
  if (static_cast<int>(sums->size()) != num_lang) throw Error("ubm-map back-end: sums has the wrong size");
  const int c_top = opts_.top_c;
  const int block = std::min<int64_t>(GmmBlockFrames(k), features.rows());
  Matrix xx, ll;
  std::vector<int> idx(k);
  Matrix comp(c_top, num_lang);  // log-densities of the top C components, per language
  Eigen::VectorXd acc = Eigen::VectorXd::Zero(num_lang);
  for (int64_t begin = 0; begin < features.rows(); begin += block) {
    const int n = static_cast<int>(std::min<int64_t>(block, features.rows() - begin));
    ubm_.BlockLogLikelihoods(features, begin, n, &xx, &ll);
    for (int r = 0; r < n; ++r) {
      const float* row = ll.data() + static_cast<int64_t>(r) * ll.cols();
      std::iota(idx.begin(), idx.end(), 0);
      // The C best UBM components; ties by index so the choice is deterministic.
      std::partial_sort(idx.begin(), idx.begin() + c_top, idx.end(),
                        [row](int a, int b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
      const auto x = xx.row(r).transpose();
      for (int j = 0; j < c_top; ++j) {
        const int64_t r0 = static_cast<int64_t>(idx[j]) * num_lang;
        comp.row(j).noalias() = (interleaved_.middleRows(r0, num_lang) * x).transpose();
        comp.row(j) += gconsts_.segment(r0, num_lang).transpose();
      }
      for (int l = 0; l < num_lang; ++l) {
        auto col = comp.col(l).array();
        const float m = col.maxCoeff();
        acc[l] += m + std::log(static_cast<double>((col - m).exp().sum()));
      }
    }
  }
  for (int l = 0; l < num_lang; ++l) (*sums)[l] += acc[l];
}

nlohmann::json UbmMapBackend::Header() const {
  return {{"kind", "ubm-map"}, {"num_gauss", ubm_.NumGauss()}, {"dim", Dim()}, {"num_languages", NumLanguages()},
          {"top_c", opts_.top_c}};
}

uint64_t UbmMapBackend::PayloadBytes() const {
  return (1 + static_cast<uint64_t>(NumLanguages())) * GmmBytes(ubm_.NumGauss(), Dim());
}

void UbmMapBackend::AppendPayload(std::string* out) const {
  AppendGmm(ubm_, out);
  for (const DiagGmm& g : adapted_) AppendGmm(g, out);
}

std::string UbmMapBackend::Describe() const {
  return "ubm-map: UBM of " + std::to_string(ubm_.NumGauss()) + " Gaussians MAP-adapted to " +
         std::to_string(NumLanguages()) + " languages, scored with the top " +
         (opts_.top_c == 0 ? std::string("all") : std::to_string(opts_.top_c)) + " components per frame";
}

// ---- reading ---------------------------------------------------------------------------------------

std::shared_ptr<const Backend> ReadBackend(const nlohmann::json& h, const char* payload, uint64_t payload_bytes) {
  try {
    const std::string kind = h.at("kind").get<std::string>();
    uint64_t off = 0;
    auto need = [&](uint64_t bytes) {
      if (bytes != payload_bytes)
        throw Error("the " + kind + " back-end needs " + std::to_string(bytes) + " payload bytes, the file has " +
                    std::to_string(payload_bytes));
    };
    if (kind == "gmm") {
      const auto ks = h.at("num_gauss").get<std::vector<int>>();
      const int d = h.at("dim").get<int>();
      if (ks.empty()) throw Error("gmm back-end without languages");
      uint64_t bytes = 0;
      for (int k : ks) {
        CheckShape(k, d);
        bytes += GmmBytes(k, d);
      }
      need(bytes);
      std::vector<DiagGmm> gmms;
      for (size_t l = 0; l < ks.size(); ++l) {
        try {
          gmms.push_back(TakeGmm(payload, &off, ks[l], d));
        } catch (const Error& e) {
          throw Error("language " + std::to_string(l) + ": " + e.what());
        }
      }
      return std::make_shared<GmmBackend>(std::move(gmms));
    }
    if (kind == "ubm-map") {
      const int k = h.at("num_gauss").get<int>(), d = h.at("dim").get<int>();
      const int num_lang = h.at("num_languages").get<int>();
      UbmMapScoringOptions o;
      o.top_c = h.at("top_c").get<int>();
      CheckShape(k, d);
      if (num_lang < 1 || num_lang > (1 << 16)) throw Error("implausible number of languages " + std::to_string(num_lang));
      need((1 + static_cast<uint64_t>(num_lang)) * GmmBytes(k, d));
      DiagGmm ubm;
      try {
        ubm = TakeGmm(payload, &off, k, d);
      } catch (const Error& e) {
        throw Error(std::string("UBM: ") + e.what());
      }
      std::vector<DiagGmm> adapted;
      for (int l = 0; l < num_lang; ++l) {
        try {
          adapted.push_back(TakeGmm(payload, &off, k, d));
        } catch (const Error& e) {
          throw Error("language " + std::to_string(l) + ": " + e.what());
        }
      }
      return std::make_shared<UbmMapBackend>(std::move(ubm), std::move(adapted), o);
    }
    if (kind == "ivector")  // slid/ivector_backend.h checks the header and consumes the payload
      return std::make_shared<IvectorBackend>(IvectorModel::Read(h, payload, payload_bytes));
    throw Error("unknown back-end kind '" + kind + "' (this slid knows: gmm, ubm-map, ivector)");
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("back-end header: ") + e.what());
  }
}

}  // namespace slid
