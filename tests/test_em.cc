#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <nlohmann/json.hpp>

#include "slid/em.h"
#include "sklearn_gmm_fixture.h"
#include "slid/error.h"

using namespace slid;

namespace {

struct Truth {
  Vector w;
  Matrix mu, var;
};

// Samples n frames from a known diagonal mixture (the data a test recovers the mixture from).
Matrix Sample(const Truth& t, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::discrete_distribution<int> pick(t.w.data(), t.w.data() + t.w.size());
  std::normal_distribution<float> normal;
  Matrix x(n, t.mu.cols());
  for (int i = 0; i < n; ++i) {
    const int k = pick(rng);
    for (int j = 0; j < x.cols(); ++j) x(i, j) = t.mu(k, j) + std::sqrt(t.var(k, j)) * normal(rng);
  }
  return x;
}

Truth ThreeBlobs() {
  Truth t;
  t.w.resize(3);
  t.w << 0.5f, 0.3f, 0.2f;
  t.mu.resize(3, 3);
  t.mu << -4, 0, 1,  //
      0, 3, -2,      //
      5, -1, 0;
  t.var.resize(3, 3);
  t.var << 1.0f, 0.5f, 2.0f,  //
      0.3f, 1.5f, 1.0f,       //
      2.0f, 0.7f, 0.4f;
  return t;
}

// Component order after sorting by the first mean coordinate.
std::vector<int> SortedOrder(const DiagGmm& g) {
  std::vector<int> o(g.NumGauss());
  std::iota(o.begin(), o.end(), 0);
  std::sort(o.begin(), o.end(), [&](int a, int b) { return g.means()(a, 0) < g.means()(b, 0); });
  return o;
}

bool AllFinite(const DiagGmm& g) {
  return g.weights().allFinite() && g.means().allFinite() && g.variances().allFinite();
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x.find(s) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("one EM step agrees with scikit-learn GaussianMixture(covariance_type='diag') within 1e-5") {
  const SklearnGmmFixture f = LoadSklearnGmmFixture();
  const nlohmann::json& j = f.j;
  const int k = f.k, d = f.d;
  const Matrix& x = f.x;
  const Matrix &mu = f.mu, &var = f.var;
  const Vector& w = f.w;
  EmOptions o;
  o.max_iters = 1;
  o.var_floor_rel = 1e-20f;  // never binds: scikit-learn has no floor (reg_covar = 0 in the fixture)
  o.min_weight = 0;
  const MatrixFrameSource src(x);
  const EmResult r = TrainDiagGmmFrom(src, DiagGmm(w, mu, var), o);
  REQUIRE(r.history.size() == 1);
  CHECK(r.history[0].avg_loglik == doctest::Approx(j["lower_bound"].get<double>()).epsilon(1e-6));
  // Relative error; for means the denominator is max(|ref|, data std of the dim) so that a mean near 0
  // is judged on the scale of its dimension.
  const Eigen::ArrayXf sd = ((x.rowwise() - x.colwise().mean()).array().square().colwise().mean()).sqrt().transpose();
  double ew = 0, em = 0, ev = 0;
  for (int i = 0; i < k; ++i) {
    const double rw = j["step_weights"][i].get<double>();
    ew = std::max(ew, std::abs(r.gmm.weights()[i] - rw) / rw);
    for (int c = 0; c < d; ++c) {
      const double rm = j["step_means"][i][c].get<double>(), rv = j["step_variances"][i][c].get<double>();
      em = std::max(em, std::abs(r.gmm.means()(i, c) - rm) / std::max<double>(std::abs(rm), sd[c]));
      ev = std::max(ev, std::abs(r.gmm.variances()(i, c) - rv) / rv);
    }
  }
  MESSAGE("max relative error vs scikit-learn: weights " << ew << ", means " << em << ", variances " << ev);
  CHECK(ew < 1e-5);
  CHECK(em < 1e-5);
  CHECK(ev < 1e-5);
}

TEST_CASE("a known mixture is recovered from data sampled from it") {
  const Truth t = ThreeBlobs();
  const Matrix x = Sample(t, 30000, 7);
  for (GmmInit init : {GmmInit::kKMeansPlusPlus, GmmInit::kBinarySplit}) {
    CAPTURE(static_cast<int>(init));
    EmOptions o;
    o.num_gauss = 3;
    o.max_iters = 30;
    o.init = init;
    const EmResult r = TrainDiagGmm(MatrixFrameSource(x), o);
    REQUIRE(r.gmm.NumGauss() == 3);
    const std::vector<int> ord = SortedOrder(r.gmm);
    for (int k = 0; k < 3; ++k) {
      const int e = ord[k];
      CHECK(r.gmm.weights()[e] == doctest::Approx(t.w[k]).epsilon(0.03));
      for (int c = 0; c < 3; ++c) {
        CHECK(std::abs(r.gmm.means()(e, c) - t.mu(k, c)) < 0.06);
        CHECK(r.gmm.variances()(e, c) == doctest::Approx(t.var(k, c)).epsilon(0.06));
      }
    }
  }
}

TEST_CASE("average log-likelihood never decreases; progress is reported per iteration") {
  const Truth t = ThreeBlobs();
  const Matrix x = Sample(t, 20000, 11);
  EmOptions o;
  o.num_gauss = 24;  // more components than clusters: many small moves
  o.max_iters = 25;
  o.tol = 0;
  std::vector<EmProgress> seen;
  const EmResult r = TrainDiagGmm(MatrixFrameSource(x), o, [&](const EmProgress& p) { seen.push_back(p); });
  REQUIRE(r.history.size() == 25);
  REQUIRE(seen.size() == 25);
  for (size_t i = 0; i < seen.size(); ++i) {
    CHECK(seen[i].iteration == static_cast<int>(i + 1));
    CHECK(seen[i].avg_loglik == r.history[i].avg_loglik);
    CHECK(seen[i].num_frames == 20000);
    CHECK(seen[i].seconds >= 0);
  }
  for (size_t i = 1; i < r.history.size(); ++i) {
    CAPTURE(i);
    // Float rounding of a per-frame log-likelihood: a few 1e-7 relative.
    CHECK(r.history[i].avg_loglik >= r.history[i - 1].avg_loglik - 1e-6 * std::abs(r.history[i - 1].avg_loglik));
  }
  CHECK(r.history.back().avg_loglik > r.history.front().avg_loglik);
  CHECK_FALSE(r.converged);
}

TEST_CASE("convergence by relative tolerance stops early") {
  const Matrix x = Sample(ThreeBlobs(), 5000, 12);
  EmOptions o;
  o.num_gauss = 3;
  o.max_iters = 200;
  o.tol = 1e-5;
  const EmResult r = TrainDiagGmm(MatrixFrameSource(x), o);
  CHECK(r.converged);
  CHECK(r.history.size() < 200);
  const size_t m = r.history.size();
  REQUIRE(m >= 2);
  CHECK(r.history[m - 1].avg_loglik - r.history[m - 2].avg_loglik < 1e-5 * std::abs(r.history[m - 2].avg_loglik));
}

TEST_CASE("AccumulateStats: the same statistics for any thread count, also with more threads than blocks") {
  const Matrix x = Sample(ThreeBlobs(), 5000, 7);
  EmOptions o;
  o.num_gauss = 8;
  o.max_iters = 1;
  const DiagGmm g = TrainDiagGmm(MatrixFrameSource(x), o).gmm;
  // 700-frame blocks: 8 blocks (the last short); 2 threads take them in batches of 8, 16 threads have
  // fewer blocks than threads.
  const GmmStats one = AccumulateStats(g, MatrixFrameSource(x), 1, 700);
  for (int threads : {2, 3, 16}) {
    CAPTURE(threads);
    const GmmStats s = AccumulateStats(g, MatrixFrameSource(x), threads, 700);
    CHECK(s.NumFrames() == one.NumFrames());
    CHECK(s.TotalLogLikelihood() == one.TotalLogLikelihood());
    CHECK(s.occupancy() == one.occupancy());
    CHECK(s.first_order() == one.first_order());
    CHECK(s.second_order() == one.second_order());
  }
  // And the k-means++ initialisation (threaded Lloyd assignments) from the same statistics.
  o.num_gauss = 32;
  const GmmInitStats st = AccumulateInitStats(MatrixFrameSource(x), o);
  o.threads = 1;
  const GmmStart a = InitDiagGmm(st, o);
  o.threads = 3;
  const GmmStart b = InitDiagGmm(st, o);
  CHECK(a.gmm.means() == b.gmm.means());
  CHECK(a.gmm.variances() == b.gmm.variances());
  CHECK(a.gmm.weights() == b.gmm.weights());
}

TEST_CASE("the model does not depend on the thread count; same seed gives the same model") {
  const Matrix x = Sample(ThreeBlobs(), 25000, 13);
  EmOptions o;
  o.num_gauss = 16;
  o.max_iters = 4;
  o.block_frames = 1000;  // 25 blocks: an odd tail for 2 and 3 threads
  o.threads = 1;
  const EmResult a = TrainDiagGmm(MatrixFrameSource(x), o);
  o.threads = 2;
  const EmResult b = TrainDiagGmm(MatrixFrameSource(x), o);
  o.threads = 3;
  const EmResult c = TrainDiagGmm(MatrixFrameSource(x), o);
  // Statistics are merged in block order (em.cc), so the arithmetic is identical: exact equality.
  CHECK(a.gmm.weights() == b.gmm.weights());
  CHECK(a.gmm.means() == b.gmm.means());
  CHECK(a.gmm.variances() == b.gmm.variances());
  CHECK(a.gmm.means() == c.gmm.means());
  CHECK(a.gmm.variances() == c.gmm.variances());
  CHECK(a.history.back().avg_loglik == c.history.back().avg_loglik);

  o.threads = 1;
  const EmResult again = TrainDiagGmm(MatrixFrameSource(x), o);
  CHECK(again.gmm.means() == a.gmm.means());
  o.seed = 1;
  const EmResult other = TrainDiagGmm(MatrixFrameSource(x), o);
  CHECK(other.gmm.means() != a.gmm.means());
}

TEST_CASE("degenerate data: constant dimension") {
  Matrix x = Sample(ThreeBlobs(), 3000, 14);
  x.col(1).setConstant(2.5f);
  EmOptions o;
  o.num_gauss = 4;
  o.max_iters = 5;
  const EmResult r = TrainDiagGmm(MatrixFrameSource(x), o);
  CHECK(Contains(r.warnings, "dimension 1 is constant"));
  CHECK(AllFinite(r.gmm));
  CHECK(r.gmm.NumGauss() == 4);
  CHECK(std::isfinite(r.history.back().avg_loglik));
  for (int k = 0; k < 4; ++k) CHECK(r.gmm.means()(k, 1) == doctest::Approx(2.5));
}

TEST_CASE("degenerate data: duplicate frames and fewer frames than components") {
  SUBCASE("three distinct frames repeated") {
    Matrix x(300, 2);
    for (int i = 0; i < 300; ++i) x.row(i) << static_cast<float>(i % 3), static_cast<float>((i % 3) * (i % 3));
    EmOptions o;
    o.num_gauss = 8;
    o.max_iters = 5;
    const EmResult r = TrainDiagGmm(MatrixFrameSource(x), o);
    CHECK(Contains(r.warnings, "only 3 distinct frames"));
    CHECK(r.gmm.NumGauss() == 3);
    CHECK(AllFinite(r.gmm));
    CHECK(r.gmm.weights().minCoeff() == doctest::Approx(1.0 / 3).epsilon(0.01));
  }
  SUBCASE("fewer frames than components: K reduced with a warning") {
    const Matrix x = Sample(ThreeBlobs(), 5, 15);
    EmOptions o;
    o.num_gauss = 16;
    o.max_iters = 3;
    const EmResult r = TrainDiagGmm(MatrixFrameSource(x), o);
    CHECK(Contains(r.warnings, "num_gauss reduced to 5"));
    CHECK(r.gmm.NumGauss() == 5);
    CHECK(AllFinite(r.gmm));
  }
  SUBCASE("all frames identical") {
    const Matrix x = Matrix::Constant(50, 3, 1.0f);
    EmOptions o;
    o.num_gauss = 4;
    o.max_iters = 2;
    const EmResult r = TrainDiagGmm(MatrixFrameSource(x), o);
    CHECK(r.gmm.NumGauss() == 1);
    CHECK(Contains(r.warnings, "dimension 0 is constant"));
    CHECK(AllFinite(r.gmm));
  }
}

TEST_CASE("a dying component is replaced by splitting the heaviest, never NaN") {
  const Matrix x = Sample(ThreeBlobs(), 4000, 16);
  Vector w(3);
  w << 0.45f, 0.45f, 0.1f;
  Matrix mu(3, 3), var = Matrix::Ones(3, 3);
  mu << -4, 0, 1, 0, 3, -2, 1000, 1000, 1000;  // the third sits far from every frame
  EmOptions o;
  o.max_iters = 3;
  const EmResult r = TrainDiagGmmFrom(MatrixFrameSource(x), DiagGmm(w, mu, var), o);
  CHECK(Contains(r.warnings, "component 2 had weight"));
  CHECK(Contains(r.warnings, "replaced by splitting component"));
  CHECK(r.gmm.NumGauss() == 3);
  CHECK(AllFinite(r.gmm));
  CHECK(r.gmm.weights().minCoeff() > 0.05f);
  CHECK(r.gmm.means().cwiseAbs().maxCoeff() < 50);
}

TEST_CASE("errors: no frames, non-finite frames, bad options, mismatched model") {
  EmOptions o;
  o.num_gauss = 2;
  const Matrix none(0, 3);
  CHECK_THROWS_WITH_AS(TrainDiagGmm(MatrixFrameSource(none), o), doctest::Contains("0 frames"), Error);
  Matrix x = Sample(ThreeBlobs(), 100, 17);
  x(42, 1) = std::nanf("");
  CHECK_THROWS_WITH_AS(TrainDiagGmm(MatrixFrameSource(x), o), doctest::Contains("frame 42"), Error);
  x(42, 1) = 0;
  EmOptions bad = o;
  bad.num_gauss = 0;
  CHECK_THROWS_WITH_AS(TrainDiagGmm(MatrixFrameSource(x), bad), doctest::Contains("num_gauss"), Error);
  bad = o;
  bad.var_floor_rel = 0;
  CHECK_THROWS_WITH_AS(TrainDiagGmm(MatrixFrameSource(x), bad), doctest::Contains("var_floor_rel"), Error);
  bad = o;
  bad.threads = 0;
  CHECK_THROWS_AS(TrainDiagGmm(MatrixFrameSource(x), bad), Error);
  Vector w(1);
  w << 1;
  CHECK_THROWS_WITH_AS(TrainDiagGmmFrom(MatrixFrameSource(x), DiagGmm(w, Matrix::Zero(1, 2), Matrix::Ones(1, 2)), o),
                       doctest::Contains("dims"), Error);
}

TEST_CASE("variance floor is relative to the global variance of each dimension") {
  Matrix x = Sample(ThreeBlobs(), 4000, 18);
  x.col(2) *= 100.0f;  // a dimension with a large scale
  GmmStats s(1, 3);
  Vector w(1);
  w << 1;
  const DiagGmm g(w, Matrix::Zero(1, 3), Matrix::Ones(1, 3));
  s.Accumulate(g, x);
  Vector floor(3);
  floor << 1e3f, 1e3f, 1e9f;  // above every true variance: the update must return exactly the floor
  const DiagGmm u = UpdateDiagGmm(s, floor, 0, nullptr);
  CHECK(u.variances()(0, 0) == 1e3f);
  CHECK(u.variances()(0, 2) == 1e9f);
  EmOptions o;
  o.num_gauss = 8;
  o.max_iters = 10;
  o.var_floor_rel = 0.05f;
  const EmResult r = TrainDiagGmm(MatrixFrameSource(x), o);
  const Eigen::RowVectorXf gv = (x.rowwise() - x.colwise().mean()).array().square().colwise().mean();
  for (int k = 0; k < r.gmm.NumGauss(); ++k)
    for (int c = 0; c < 3; ++c) CHECK(r.gmm.variances()(k, c) >= 0.05f * gv[c] * (1 - 1e-4f));
}

TEST_CASE("initialisation from shard statistics equals TrainDiagGmm's, bit for bit (keyed subsample)") {
  const Matrix x = Sample(ThreeBlobs(), 6000, 31);
  // Four utterances of unequal length; the single-process run sees them as one source with keys.
  UtteranceKeys utts;
  utts.lengths = {1500, 900, 2600, 1000};
  for (const char* id : {"a/1", "a/2", "b/1", "c/9"}) utts.keys.push_back(UtteranceKey(id));
  EmOptions o;
  o.num_gauss = 3;
  o.max_iters = 0;
  o.init_max_frames = 800;  // a real subsample (< frames)
  o.block_frames = 700;     // blocks straddle utterance boundaries
  o.seed = 5;
  const EmResult whole = TrainDiagGmm(MatrixFrameSource(x), o, {}, &utts);
  // Shards: utterances {3, 0} and {1, 2}, each accumulated alone, merged in two orders.
  std::vector<GmmInitStats> per(4);
  int64_t start = 0;
  for (int u = 0; u < 4; ++u) {
    const Matrix part = x.middleRows(start, utts.lengths[u]);
    UtteranceKeys one{{utts.lengths[u]}, {utts.keys[u]}};
    per[u] = AccumulateInitStats(MatrixFrameSource(part), o, &one);
    start += utts.lengths[u];
  }
  for (const std::vector<int>& order : {std::vector<int>{3, 0, 1, 2}, std::vector<int>{2, 1, 0, 3}}) {
    GmmInitStats sum;
    for (int u : order) sum.Add(per[u]);
    const GmmStart s = InitDiagGmm(sum, o);
    // Identical subsample and k-means++ (same code): identical means and weights; variances come from
    // the sample and, for tiny clusters, the global variance (double rounding of the merge, then float).
    CHECK((s.gmm.means().array() == whole.gmm.means().array()).all());
    CHECK((s.gmm.weights().array() == whole.gmm.weights().array()).all());
    CHECK(((s.gmm.variances() - whole.gmm.variances()).array() / whole.gmm.variances().array()).abs().maxCoeff() < 1e-6);
  }
  // A subsample drawn with another seed is refused; so are lengths that do not cover the source.
  GmmInitStats sum;
  for (int u = 0; u < 4; ++u) sum.Add(per[u]);
  EmOptions other = o;
  other.seed = 6;
  CHECK_THROWS_WITH_AS(InitDiagGmm(sum, other), doctest::Contains("seed"), Error);
  UtteranceKeys short_keys{{100}, {1}};
  CHECK_THROWS_WITH_AS(AccumulateInitStats(MatrixFrameSource(x), o, &short_keys), doctest::Contains("sum to 100"), Error);
}

TEST_CASE("EmConverged is the loop's stopping rule") {
  CHECK_FALSE(EmConverged(1, -10.0, -10.0, 1e-4));  // never after the first iteration
  CHECK(EmConverged(2, -10.0, -10.0, 1e-4));
  CHECK_FALSE(EmConverged(2, -9.0, -10.0, 1e-4));
  CHECK(EmConverged(3, -9.9995, -10.0, 1e-4));
}
