#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>

#include "slid/em.h"
#include "slid/error.h"
#include "slid/feature_cache.h"
#include "slid/map.h"

using namespace slid;

namespace {

// A 2-component 3-dim UBM and data drawn near it (every component well populated).
DiagGmm SmallUbm() {
  Vector w(2);
  w << 0.4f, 0.6f;
  Matrix mu(2, 3), var(2, 3);
  mu << -2, 0, 1,  //
      2, 1, -1;
  var << 1, 0.5f, 2,  //
      0.7f, 1.5f, 1;
  return DiagGmm(w, mu, var);
}

Matrix NoisyData(int n, unsigned seed, float shift) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::bernoulli_distribution pick(0.5);
  Matrix x(n, 3);
  for (int i = 0; i < n; ++i) {
    const float c = pick(rng) ? -2.0f : 2.0f;
    x(i, 0) = c + shift + normal(rng);
    x(i, 1) = shift + normal(rng);
    x(i, 2) = -0.5f * c + normal(rng);
  }
  return x;
}

GmmStats StatsOf(const DiagGmm& ubm, const Matrix& x) {
  GmmStats s(ubm.NumGauss(), ubm.Dim());
  s.Accumulate(ubm, x);
  return s;
}

}  // namespace

TEST_CASE("MapAdapt: hand-computed one-dimensional case") {
  // UBM: w = (0.5, 0.5), mu = (0, 10), var = (1, 1). Frames 0.5, -0.5, 1: component 1 has
  // posterior < 1e-17 for each, so N_0 = 3, E_0[x] = 1/3, E_0[x^2] = 0.5 to double precision.
  // r = 16: alpha_0 = 3/19; mu_0' = (3 * 1/3 + 16 * 0) / 19 = 1/19.
  // weights: (3/19 + 16/19 * 0.5, ~0.5) = (11/19, 1/2) -> normalised (22/41, 19/41).
  // variance: 3/19 * 0.5 + 16/19 * (1 + 0) - (1/19)^2 = 331.5/361.
  Vector w(2);
  w << 0.5f, 0.5f;
  Matrix mu(2, 1), var(2, 1);
  mu << 0, 10;
  var << 1, 1;
  const DiagGmm ubm(w, mu, var);
  Matrix x(3, 1);
  x << 0.5f, -0.5f, 1.0f;
  MapOptions o;
  o.relevance = 16;
  o.update_weights = true;
  o.update_variances = true;
  const DiagGmm a = MapAdapt(ubm, StatsOf(ubm, x), o);
  CHECK(a.means()(0, 0) == doctest::Approx(1.0 / 19).epsilon(1e-6));
  CHECK(a.means()(1, 0) == doctest::Approx(10.0).epsilon(1e-6));
  CHECK(a.weights()[0] == doctest::Approx(22.0 / 41).epsilon(1e-6));
  CHECK(a.weights()[1] == doctest::Approx(19.0 / 41).epsilon(1e-6));
  CHECK(a.variances()(0, 0) == doctest::Approx(331.5 / 361).epsilon(1e-6));
  CHECK(a.variances()(1, 0) == doctest::Approx(1.0).epsilon(1e-6));

  // Defaults: only the means move.
  const DiagGmm m = MapAdapt(ubm, StatsOf(ubm, x));
  CHECK(m.means()(0, 0) == doctest::Approx(1.0 / 19).epsilon(1e-6));
  CHECK(m.weights() == ubm.weights());
  CHECK(m.variances() == ubm.variances());
}

TEST_CASE("MapAdapt: r -> infinity returns the UBM") {
  const DiagGmm ubm = SmallUbm();
  const Matrix x = NoisyData(2000, 1, 0.8f);
  MapOptions o;
  o.relevance = 1e30;
  o.update_weights = true;
  o.update_variances = true;
  const DiagGmm a = MapAdapt(ubm, StatsOf(ubm, x), o);
  CHECK((a.means() - ubm.means()).cwiseAbs().maxCoeff() < 1e-6f);
  CHECK((a.weights() - ubm.weights()).cwiseAbs().maxCoeff() < 1e-6f);
  CHECK((a.variances() - ubm.variances()).cwiseAbs().maxCoeff() < 1e-6f);
}

TEST_CASE("MapAdapt: r = 0 gives the maximum-likelihood parameters of one EM step") {
  const DiagGmm ubm = SmallUbm();
  const Matrix x = NoisyData(5000, 2, 0.8f);
  MapOptions o;
  o.relevance = 0;
  o.update_weights = true;
  o.update_variances = true;
  const DiagGmm a = MapAdapt(ubm, StatsOf(ubm, x), o);
  EmOptions em;
  em.max_iters = 1;
  em.var_floor_rel = 1e-6f;  // no flooring in play
  const EmResult ml = TrainDiagGmmFrom(MatrixFrameSource(x), ubm, em);
  REQUIRE(ml.gmm.NumGauss() == 2);
  CHECK((a.means() - ml.gmm.means()).cwiseAbs().maxCoeff() < 1e-5f);
  CHECK((a.weights() - ml.gmm.weights()).cwiseAbs().maxCoeff() < 1e-5f);
  CHECK((a.variances() - ml.gmm.variances()).cwiseAbs().maxCoeff() < 1e-4f);
}

TEST_CASE("MapAdapt: means move from the UBM toward the data's ML means, further with more data") {
  const DiagGmm ubm = SmallUbm();
  const Matrix few = NoisyData(20, 3, 0.8f), many = NoisyData(20000, 3, 0.8f);
  MapOptions ml;
  ml.relevance = 0;
  // Fraction of the way from the UBM mean to the ML mean: in (0, 1), larger for more data.
  auto fraction = [&](const Matrix& x, int c, int j) {
    const GmmStats s = StatsOf(ubm, x);
    const float target = MapAdapt(ubm, s, ml).means()(c, j), adapted = MapAdapt(ubm, s).means()(c, j);
    return (adapted - ubm.means()(c, j)) / (target - ubm.means()(c, j));
  };
  for (int c = 0; c < 2; ++c) {
    for (int j = 0; j < 3; ++j) {
      const float f_few = fraction(few, c, j), f_many = fraction(many, c, j);
      CHECK(f_few > 0);
      CHECK(f_few < 1);
      CHECK(f_many > 0.99f);  // N_k ~ 10000 against r = 16
      CHECK(f_many < 1);
      CHECK(f_many > f_few);
    }
  }
}

TEST_CASE("MapAdapt: empty statistics and components without data keep the UBM") {
  const DiagGmm ubm = SmallUbm();
  GmmStats none(2, 3);
  const DiagGmm same = MapAdapt(ubm, none);
  CHECK(same.means() == ubm.means());
  // One frame deep in component 0: component 1's occupancy underflows to 0 in float posteriors.
  Matrix x(1, 3);
  x << -200, 0, 1;
  MapOptions o;
  o.relevance = 0;
  const DiagGmm a = MapAdapt(ubm, StatsOf(ubm, x), o);
  CHECK(a.means().allFinite());
  CHECK(a.means()(0, 0) == doctest::Approx(-200.0));
  CHECK(a.means().row(1) == ubm.means().row(1));
}

TEST_CASE("MapAdapt: bad inputs are errors") {
  const DiagGmm ubm = SmallUbm();
  CHECK_THROWS_AS(MapAdapt(DiagGmm(), GmmStats(2, 3)), Error);
  CHECK_THROWS_AS(MapAdapt(ubm, GmmStats(3, 3)), Error);
  CHECK_THROWS_AS(MapAdapt(ubm, GmmStats(2, 4)), Error);
  MapOptions o;
  o.relevance = -1;
  CHECK_THROWS_AS(MapAdapt(ubm, GmmStats(2, 3), o), Error);
  o.relevance = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(MapAdapt(ubm, GmmStats(2, 3), o), Error);
  o.relevance = 16;
  o.var_floor = 0;
  CHECK_THROWS_AS(MapAdapt(ubm, GmmStats(2, 3), o), Error);
}
