#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <nlohmann/json.hpp>

#include "sklearn_gmm_fixture.h"
#include "slid/error.h"
#include "slid/gmm.h"

using slid::DiagGmm;
using slid::Matrix;
using slid::Vector;

namespace {

// Direct per-frame, per-component formula in double: the independent reference.
double DirectLogDensity(const DiagGmm& g, const Matrix& x, int n, int k) {
  double s = std::log(static_cast<double>(g.weights()[k]));
  for (int j = 0; j < g.Dim(); ++j) {
    const double v = g.variances()(k, j), diff = static_cast<double>(x(n, j)) - g.means()(k, j);
    s += -0.5 * (std::log(2 * M_PI * v) + diff * diff / v);
  }
  return s;
}

double DirectFrameLogLik(const DiagGmm& g, const Matrix& x, int n) {
  double m = -std::numeric_limits<double>::infinity();
  std::vector<double> l(g.NumGauss());
  for (int k = 0; k < g.NumGauss(); ++k) m = std::max(m, l[k] = DirectLogDensity(g, x, n, k));
  double s = 0;
  for (double v : l) s += std::exp(v - m);
  return m + std::log(s);
}

DiagGmm RandomGmm(int k, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> uni(0.2f, 2.0f);
  Vector w(k);
  Matrix mu(k, d), var(k, d);
  for (int i = 0; i < k; ++i) {
    w[i] = uni(rng);
    for (int j = 0; j < d; ++j) {
      mu(i, j) = 2 * normal(rng);
      var(i, j) = uni(rng);
    }
  }
  w /= w.sum();
  return DiagGmm(w, mu, var);
}

Matrix RandomFrames(int n, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 2.5f);
  Matrix x(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) x(i, j) = normal(rng);
  return x;
}

}  // namespace

TEST_CASE("component log-density equals the hand-computed value") {
  // One component, D = 2, mu = (1, -2), var = (4, 0.25), x = (2, -1):
  // log N = -0.5 (2 log 2pi + log 4 + log 0.25 + 1/4 + 1/0.25) = -0.5 (3.6757541328186907 + 4.25)
  Vector w(1);
  w << 1.0f;
  Matrix mu(1, 2), var(1, 2), x(1, 2);
  mu << 1, -2;
  var << 4, 0.25f;
  x << 2, -1;
  DiagGmm g(w, mu, var);
  const double expected = -0.5 * (3.6757541328186907 + 4.25);  // -3.9628770664093453
  CHECK(g.ComponentLogLikelihoods(x)(0, 0) == doctest::Approx(expected).epsilon(1e-6));
  CHECK(g.FrameLogLikelihoods(x)[0] == doctest::Approx(expected).epsilon(1e-6));

  // Two components with weights 0.25 / 0.75: log p = log(0.25 N1 + 0.75 N2), N2 at its mean.
  Vector w2(2);
  w2 << 0.25f, 0.75f;
  Matrix mu2(2, 2), var2(2, 2);
  mu2 << 1, -2, 2, -1;
  var2 << 4, 0.25f, 1, 1;
  DiagGmm g2(w2, mu2, var2);
  const double n2 = -0.5 * (3.6757541328186907);  // log N(x | x, I)
  const double l1 = std::log(0.25) + expected, l2 = std::log(0.75) + n2;
  const Matrix c = g2.ComponentLogLikelihoods(x);
  CHECK(c(0, 0) == doctest::Approx(l1).epsilon(1e-6));
  CHECK(c(0, 1) == doctest::Approx(l2).epsilon(1e-6));
  CHECK(g2.FrameLogLikelihoods(x)[0] == doctest::Approx(std::log(std::exp(l1) + std::exp(l2))).epsilon(1e-6));
}

TEST_CASE("batched log-likelihoods match the per-frame formula across block boundaries") {
  const DiagGmm g = RandomGmm(37, 13, 1);
  const int n = 2 * slid::kGmmBlockFrames + 17;
  const Matrix x = RandomFrames(n, 13, 2);
  const Matrix comp = g.ComponentLogLikelihoods(x);
  const Vector frame = g.FrameLogLikelihoods(x);
  REQUIRE(comp.rows() == n);
  REQUIRE(comp.cols() == 37);
  REQUIRE(frame.size() == n);
  double worst_comp = 0, worst_frame = 0, sum = 0;
  for (int i = 0; i < n; i += 7) {
    for (int k = 0; k < 37; ++k) {
      const double ref = DirectLogDensity(g, x, i, k);
      worst_comp = std::max(worst_comp, std::abs(comp(i, k) - ref) / std::max(1.0, std::abs(ref)));
    }
    const double ref = DirectFrameLogLik(g, x, i);
    worst_frame = std::max(worst_frame, std::abs(frame[i] - ref) / std::max(1.0, std::abs(ref)));
  }
  for (int i = 0; i < n; ++i) sum += frame[i];
  CHECK(worst_comp < 1e-5);
  CHECK(worst_frame < 1e-5);
  CHECK(g.AverageLogLikelihood(x) == doctest::Approx(sum / n).epsilon(1e-9));
}

TEST_CASE("frame log-likelihoods agree with scikit-learn's score_samples") {
  const SklearnGmmFixture f = LoadSklearnGmmFixture();
  const nlohmann::json& j = f.j;
  const int n = f.n;
  const Matrix& x = f.x;
  const Matrix &mu = f.mu, &var = f.var;
  const Vector& w = f.w;
  const DiagGmm g(w, mu, var);
  const Vector ll = g.FrameLogLikelihoods(x);
  double worst = 0;
  for (int i = 0; i < n; ++i) {
    const double ref = j["init_frame_loglik"][i].get<double>();
    worst = std::max(worst, std::abs(ll[i] - ref) / std::max(1.0, std::abs(ref)));
  }
  CHECK(worst < 1e-5);
  CHECK(g.AverageLogLikelihood(x) == doctest::Approx(j["init_avg_loglik"].get<double>()).epsilon(1e-6));
}

TEST_CASE("log-sum-exp is stable far from every component") {
  const DiagGmm g = RandomGmm(8, 4, 3);
  Matrix x = Matrix::Constant(2, 4, 1e4f);
  x.row(1).setConstant(-3e3f);
  const Vector ll = g.FrameLogLikelihoods(x);
  CHECK(std::isfinite(ll[0]));
  CHECK(std::isfinite(ll[1]));
  CHECK(ll[0] == doctest::Approx(DirectFrameLogLik(g, x, 0)).epsilon(1e-5));
  CHECK(ll[1] == doctest::Approx(DirectFrameLogLik(g, x, 1)).epsilon(1e-5));
  // Posteriors of a row sum to one.
  Matrix l = g.ComponentLogLikelihoods(x);
  Vector fl;
  slid::LogSumExpRowsToPosteriors(2, &l, &fl);
  CHECK(l.row(0).sum() == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(l.row(1).sum() == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(fl[0] == doctest::Approx(ll[0]).epsilon(1e-6));
}

TEST_CASE("empty input and invalid models") {
  const DiagGmm g = RandomGmm(3, 2, 4);
  CHECK(g.FrameLogLikelihoods(Matrix(0, 2)).size() == 0);
  CHECK(g.ComponentLogLikelihoods(Matrix(0, 2)).rows() == 0);
  CHECK_THROWS_AS(g.AverageLogLikelihood(Matrix(0, 2)), slid::Error);
  CHECK_THROWS_WITH_AS(g.FrameLogLikelihoods(Matrix(3, 5)), doctest::Contains("dims"), slid::Error);
  CHECK_THROWS_AS(DiagGmm().FrameLogLikelihoods(Matrix(1, 2)), slid::Error);

  Vector w(2);
  w << 0.5f, 0.5f;
  Matrix mu = Matrix::Zero(2, 3), var = Matrix::Ones(2, 3);
  CHECK_NOTHROW(DiagGmm(w, mu, var));
  Matrix bad_var = var;
  bad_var(1, 2) = 0;
  CHECK_THROWS_WITH_AS(DiagGmm(w, mu, bad_var), doctest::Contains("component 1, dim 2"), slid::Error);
  bad_var(1, 2) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(DiagGmm(w, mu, bad_var), slid::Error);
  Vector bad_w = w;
  bad_w[0] = 0.9f;
  CHECK_THROWS_WITH_AS(DiagGmm(bad_w, mu, var), doctest::Contains("sum"), slid::Error);
  bad_w << -0.5f, 1.5f;
  CHECK_THROWS_AS(DiagGmm(bad_w, mu, var), slid::Error);
  CHECK_THROWS_WITH_AS(DiagGmm(w, Matrix::Zero(3, 3), var), doctest::Contains("shapes"), slid::Error);
  Matrix bad_mu = mu;
  bad_mu(0, 0) = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(DiagGmm(w, bad_mu, var), slid::Error);
}
