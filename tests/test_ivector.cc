// i-vectors: statistics and posterior against a direct numpy computation
// (tests/data/ivector/make_ivector_fixtures.py), and EM properties of total-variability training.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slid/error.h"
#include "slid/ivector.h"

using namespace slid;

namespace {

nlohmann::json LoadFixture() {
  std::ifstream in(std::string(SLID_TEST_DATA) + "/ivector/ivector_posterior.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

MatrixD ToMatrix(const nlohmann::json& j) {
  MatrixD m(j.size(), j[0].size());
  for (int i = 0; i < m.rows(); ++i)
    for (int c = 0; c < m.cols(); ++c) m(i, c) = j[i][c].get<double>();
  return m;
}

VectorD ToVector(const nlohmann::json& j) {
  VectorD v(j.size());
  for (int i = 0; i < v.size(); ++i) v[i] = j[i].get<double>();
  return v;
}

// max |a - b| / (max |b| + floor): one relative error for a whole array.
double RelErr(const MatrixD& a, const MatrixD& b, double floor = 1e-3) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return (a - b).cwiseAbs().maxCoeff() / (b.cwiseAbs().maxCoeff() + floor);
}

}  // namespace

TEST_CASE("utterance statistics and i-vector posterior match numpy (tolerance 1e-4 relative)") {
  const nlohmann::json j = LoadFixture();
  const DiagGmm ubm(ToVector(j["weights"]).cast<float>(), ToMatrix(j["means"]).cast<float>(),
                    ToMatrix(j["variances"]).cast<float>());
  const IvectorExtractor ext(ToMatrix(j["projection"]), ToMatrix(j["model_variances"]), ToMatrix(j["mean_offsets"]));
  CHECK(ext.NumGauss() == j["num_gauss"].get<int>());
  CHECK(ext.IvectorDim() == j["ivector_dim"].get<int>());
  std::vector<UtteranceStats> all;
  for (const auto& c : j["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    IvectorStatsOptions so;
    so.top_c = c["top_c"];
    so.min_posterior = c["min_posterior"];
    so.second_order = true;
    const Matrix x = ToMatrix(c["frames"]).cast<float>();
    const UtteranceStats st = ComputeUtteranceStats(ubm, x, so);
    CHECK(st.num_frames == x.rows());
    // Posteriors and block products are single precision: 1e-4 relative to the largest statistic.
    CHECK(RelErr(st.zeroth, ToVector(c["zeroth"])) < 1e-4);
    CHECK(RelErr(st.first, ToMatrix(c["first"])) < 1e-4);
    CHECK(RelErr(st.second, ToMatrix(c["second"])) < 1e-4);
    const IvectorPosterior p = ext.Extract(st, true);
    CHECK(RelErr(p.mean, ToVector(c["mean"])) < 1e-4);
    CHECK(RelErr(p.covariance, ToMatrix(c["covariance"])) < 1e-4);
    const double ll = c["log_likelihood"];
    CHECK(std::abs(p.log_likelihood - ll) < 1e-4 * std::abs(ll));
    all.push_back(st);
  }
  // A batch gives the same posteriors as one utterance at a time.
  const std::vector<IvectorPosterior> batch = ext.Extract(all, false);
  REQUIRE(batch.size() == all.size());
  for (size_t u = 0; u < all.size(); ++u) {
    CHECK(RelErr(batch[u].mean, ext.Extract(all[u]).mean) < 1e-6);
    CHECK(batch[u].covariance.size() == 0);
  }
}

TEST_CASE("pruned statistics: top_c = K and min_posterior 0 equal the dense path; zero frames give zeros") {
  const nlohmann::json j = LoadFixture();
  const DiagGmm ubm(ToVector(j["weights"]).cast<float>(), ToMatrix(j["means"]).cast<float>(),
                    ToMatrix(j["variances"]).cast<float>());
  const Matrix x = ToMatrix(j["cases"][0]["frames"]).cast<float>();
  IvectorStatsOptions dense, sparse;
  dense.top_c = 0;
  dense.min_posterior = 0;
  sparse.top_c = ubm.NumGauss();
  sparse.min_posterior = 1e-30f;  // forces the per-frame path while keeping everything
  UtteranceStatsComputer a(ubm, dense), b(ubm, sparse);
  const UtteranceStats sa = a.Compute(x), sb = b.Compute(x);
  CHECK(RelErr(sa.first, sb.first) < 1e-5);
  CHECK(RelErr(sa.zeroth, sb.zeroth) < 1e-5);
  CHECK(a.last_log_likelihood() == doctest::Approx(b.last_log_likelihood()).epsilon(1e-6));
  CHECK(sa.zeroth.sum() == doctest::Approx(x.rows()).epsilon(1e-5));
  const UtteranceStats z = a.Compute(Matrix(0, ubm.Dim()));
  CHECK(z.zeroth.cwiseAbs().maxCoeff() == 0.0);
  CHECK(z.first.cwiseAbs().maxCoeff() == 0.0);
  CHECK_THROWS_AS(a.Compute(Matrix(3, ubm.Dim() + 1)), Error);
  IvectorStatsOptions bad;
  bad.top_c = -1;
  CHECK_THROWS_AS(UtteranceStatsComputer(ubm, bad), Error);
  bad.top_c = 2;
  bad.min_posterior = 1.0f;
  CHECK_THROWS_AS(UtteranceStatsComputer(ubm, bad), Error);
}

namespace {

// Synthetic data from a true total-variability model: K components, per-utterance shift T w.
struct TvData {
  DiagGmm ubm;
  std::vector<Matrix> utts;
};

TvData MakeTvData(int k, int d, int r, int num_utts, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Vector w = Vector::Constant(k, 1.0f / k);
  Matrix mu(k, d), var = Matrix::Constant(k, d, 1.0f), t(k * d, r);
  for (int i = 0; i < mu.size(); ++i) mu.data()[i] = 3.0f * normal(rng);
  for (int i = 0; i < t.size(); ++i) t.data()[i] = 0.8f * normal(rng);
  TvData data{DiagGmm(w, mu, var), {}};
  std::uniform_int_distribution<int> pick(0, k - 1), len(20, 80);
  for (int u = 0; u < num_utts; ++u) {
    Eigen::VectorXf iv(r);
    for (int q = 0; q < r; ++q) iv[q] = normal(rng);
    Matrix x(len(rng), d);
    for (int n = 0; n < x.rows(); ++n) {
      const int c = pick(rng);
      const Eigen::VectorXf shift = t.middleRows(c * d, d) * iv;
      for (int q = 0; q < d; ++q) x(n, q) = mu(c, q) + shift[q] + 0.7f * normal(rng);
    }
    data.utts.push_back(std::move(x));
  }
  return data;
}

}  // namespace

TEST_CASE("total-variability EM: the likelihood never decreases (with and without variance / minimum-divergence updates)") {
  const TvData data = MakeTvData(8, 4, 3, 60, 7);
  for (int variant = 0; variant < 3; ++variant) {
    CAPTURE(variant);
    IvectorStatsOptions so;
    so.top_c = 0;
    so.min_posterior = 0;
    so.second_order = true;
    std::vector<UtteranceStats> stats;
    for (const Matrix& x : data.utts) stats.push_back(ComputeUtteranceStats(data.ubm, x, so));
    IvectorTrainOptions to;
    to.ivector_dim = 3;
    to.num_iters = 8;
    to.batch_utterances = 7;  // not a divisor of 60: exercises the last partial batch
    to.update.update_variances = variant != 1;
    to.update.min_divergence = variant != 2;
    std::vector<double> ll;
    const IvectorExtractor e = TrainIvectorExtractor(
        data.ubm, [&](const std::function<void(const UtteranceStats&)>& visit) { for (const auto& s : stats) visit(s); },
        to, [&](const IvectorTrainProgress& p) {
          CHECK(p.num_utterances == 60);
          ll.push_back(p.log_likelihood_per_frame);
        });
    REQUIRE(ll.size() == 8);
    for (size_t i = 1; i < ll.size(); ++i) {
      CAPTURE(i);
      CHECK(ll[i] >= ll[i - 1] - 1e-6 * std::abs(ll[i - 1]));
    }
    CHECK(ll.back() > ll.front() + 0.05);  // it learnt something (per frame, nats)
    CHECK(e.projection().allFinite());
    CHECK(e.variances().minCoeff() > 0);
  }
}

TEST_CASE("IvectorExtractorStats add: two halves plus Add give the same update as one pass") {
  const TvData data = MakeTvData(6, 3, 2, 20, 11);
  IvectorStatsOptions so;
  so.second_order = true;
  std::vector<UtteranceStats> first, second, all;
  for (size_t u = 0; u < data.utts.size(); ++u) {
    UtteranceStats s = ComputeUtteranceStats(data.ubm, data.utts[u], so);
    (u < 9 ? first : second).push_back(s);
    all.push_back(s);
  }
  IvectorExtractor e1(data.ubm, 2, 5), e2(data.ubm, 2, 5);
  IvectorExtractorStats a(e1), b(e1), whole(e1);
  a.Accumulate(e1, first);
  b.Accumulate(e1, second);
  a.Add(b);
  whole.Accumulate(e1, all);
  CHECK(a.NumUtterances() == 20);
  // The batch products are single-precision GEMMs whose rounding depends on the batch shape: 1e-6.
  CHECK(a.LogLikelihood() == doctest::Approx(whole.LogLikelihood()).epsilon(1e-6));
  a.Update({}, &e1);
  whole.Update({}, &e2);
  CHECK(RelErr(e1.projection(), e2.projection()) < 1e-6);
  CHECK(RelErr(e1.variances(), e2.variances()) < 1e-6);
  CHECK(RelErr(e1.mean_offsets(), e2.mean_offsets()) < 1e-6);
}

TEST_CASE("i-vector errors: bad shapes and options throw slid::Error") {
  const TvData data = MakeTvData(4, 3, 2, 2, 3);
  IvectorExtractor e(data.ubm, 2, 1);
  UtteranceStats s;
  s.zeroth = VectorD::Zero(5);
  s.first = MatrixD::Zero(5, 3);
  CHECK_THROWS_AS(e.Extract(s), Error);
  CHECK_THROWS_AS(IvectorExtractor(data.ubm, 0, 1), Error);
  CHECK_THROWS_AS(IvectorExtractor(MatrixD::Zero(12, 2), MatrixD::Constant(4, 3, -1.0), MatrixD::Zero(4, 3)), Error);
  CHECK_THROWS_AS(IvectorExtractor(MatrixD::Zero(11, 2), MatrixD::Ones(4, 3), MatrixD::Zero(4, 3)), Error);
  CHECK_THROWS_AS(IvectorExtractor().Extract(s), Error);
  // update_variances without second-order statistics is refused.
  IvectorExtractorStats st(e);
  st.Accumulate(e, {ComputeUtteranceStats(data.ubm, data.utts[0])});
  CHECK_THROWS_AS(st.Update({}, &e), Error);
  IvectorTrainOptions to;
  to.ivector_dim = 2;
  CHECK_THROWS_AS(TrainIvectorExtractor(data.ubm, [](const std::function<void(const UtteranceStats&)>&) {}, to), Error);
}
