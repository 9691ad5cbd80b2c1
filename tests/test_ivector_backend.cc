// The i-vector language back-end end to end on synthetic languages: it learns (held-out accuracy far
// above chance for every classifier) and its serialised form scores identically.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "slid/em.h"
#include "slid/error.h"
#include "slid/feature_cache.h"
#include "slid/ivector_backend.h"

using namespace slid;

namespace {

// Three "languages": frames from a shared set of 6 sound classes whose means shift by a per-language
// offset plus a per-utterance (channel/speaker) offset; utterance lengths 30..90 frames.
struct Data {
  std::vector<Matrix> utts;
  std::vector<int> labels;
};

Data MakeData(int per_language, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  const int d = 4, sounds = 6, langs = 3;
  std::mt19937 fixed(99);  // the same sound and language means for every call
  Matrix sound_means(sounds, d), lang_shift(langs * sounds, d);
  for (int i = 0; i < sound_means.size(); ++i) sound_means.data()[i] = 3.0f * normal(fixed);
  for (int i = 0; i < lang_shift.size(); ++i) lang_shift.data()[i] = 0.6f * normal(fixed);
  std::uniform_int_distribution<int> pick(0, sounds - 1), len(30, 90);
  Data out;
  for (int l = 0; l < langs; ++l)
    for (int u = 0; u < per_language; ++u) {
      Eigen::RowVectorXf channel(d);
      for (int j = 0; j < d; ++j) channel[j] = 0.3f * normal(rng);
      Matrix x(len(rng), d);
      for (int n = 0; n < x.rows(); ++n) {
        const int s = pick(rng);
        for (int j = 0; j < d; ++j)
          x(n, j) = sound_means(s, j) + lang_shift(l * sounds + s, j) + channel[j] + 0.5f * normal(rng);
      }
      out.utts.push_back(std::move(x));
      out.labels.push_back(l);
    }
  return out;
}

DiagGmm TrainUbm(const Data& data) {
  int64_t total = 0;
  for (const Matrix& m : data.utts) total += m.rows();
  Matrix all(total, 4);
  int64_t row = 0;
  for (const Matrix& m : data.utts) {
    all.middleRows(row, m.rows()) = m;
    row += m.rows();
  }
  EmOptions eo;
  eo.num_gauss = 8;
  eo.max_iters = 10;
  return TrainDiagGmm(MatrixFrameSource(all), eo).gmm;
}

UtteranceStats StatsOf(const IvectorModel& m, const Matrix& x) {
  return ComputeUtteranceStats(m.ubm(), x, m.stats_options());
}

}  // namespace

TEST_CASE("ivector back-end: trains, classifies held-out synthetic languages, round-trips through its payload") {
  const Data train = MakeData(30, 1), test = MakeData(20, 2);
  const DiagGmm ubm = TrainUbm(train);
  for (const std::string classifier : {"gaussian", "cosine", "logreg"}) {
    CAPTURE(classifier);
    IvectorBackendOptions o;
    o.stats.top_c = 4;
    o.extractor.ivector_dim = 6;
    o.extractor.num_iters = 3;
    o.classifier = classifier;
    std::vector<std::string> phases;
    const IvectorModel m = TrainIvectorModel(
        ubm, 3,
        [&](const std::function<void(const Matrix&, int)>& visit) {
          for (size_t i = 0; i < train.utts.size(); ++i) visit(train.utts[i], train.labels[i]);
        },
        o, [&](const IvectorTrainReport& r) { phases.push_back(r.phase); });
    CHECK(phases.front() == "extractor");
    CHECK(phases.back() == "backend");
    CHECK(m.NumLanguages() == 3);
    int correct = 0;
    for (size_t i = 0; i < test.utts.size(); ++i) {
      const std::vector<double> s = m.Scores(StatsOf(m, test.utts[i]));
      REQUIRE(s.size() == 3);
      correct += static_cast<int>(std::max_element(s.begin(), s.end()) - s.begin()) == test.labels[i];
    }
    const double acc = static_cast<double>(correct) / test.utts.size();
    MESSAGE(classifier, " held-out accuracy ", acc);
    CHECK(acc > 0.8);  // chance is 1/3
    // Serialisation: header + payload -> identical scores.
    std::string payload;
    m.AppendPayload(&payload);
    CHECK(payload.size() == m.PayloadBytes());
    const IvectorModel back = IvectorModel::Read(m.Header(), payload.data(), payload.size());
    for (int i = 0; i < 5; ++i) CHECK(back.Scores(StatsOf(back, test.utts[i])) == m.Scores(StatsOf(m, test.utts[i])));
    // Truncated or padded payloads and bad headers are refused.
    CHECK_THROWS_AS(IvectorModel::Read(m.Header(), payload.data(), payload.size() - 4), Error);
    std::string longer = payload + std::string(4, '\0');
    CHECK_THROWS_AS(IvectorModel::Read(m.Header(), longer.data(), longer.size()), Error);
    nlohmann::json h = m.Header();
    h["classifier"] = "svm";
    CHECK_THROWS_AS(IvectorModel::Read(h, payload.data(), payload.size()), Error);
    h = m.Header();
    h.erase("ivector_dim");
    CHECK_THROWS_AS(IvectorModel::Read(h, payload.data(), payload.size()), Error);
  }
  CHECK_THROWS_AS(TrainIvectorModel(ubm, 1, [](const std::function<void(const Matrix&, int)>&) {}), Error);
}
