#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "slid/error.h"
#include "slid/gmm_stats.h"

using namespace slid;

namespace {

DiagGmm RandomGmm(int k, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> uni(0.3f, 2.0f);
  Vector w(k);
  Matrix mu(k, d), var(k, d);
  for (int i = 0; i < k; ++i) {
    w[i] = uni(rng);
    for (int j = 0; j < d; ++j) {
      mu(i, j) = 1.5f * normal(rng);
      var(i, j) = uni(rng);
    }
  }
  w /= w.sum();
  return DiagGmm(w, mu, var);
}

Matrix RandomFrames(int n, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  Matrix x(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) x(i, j) = normal(rng);
  return x;
}

double RelDiff(const MatrixD& a, const MatrixD& b) { return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff(); }

}  // namespace

TEST_CASE("statistics equal the per-frame double-precision definition") {
  const int k = 9, d = 5, n = slid::kGmmBlockFrames + 333;  // two internal blocks
  const DiagGmm g = RandomGmm(k, d, 21);
  const Matrix x = RandomFrames(n, d, 22);
  GmmStats s(k, d);
  const double total = s.Accumulate(g, x);

  VectorD occ = VectorD::Zero(k);
  MatrixD first = MatrixD::Zero(k, d), second = MatrixD::Zero(k, d);
  double ref_total = 0;
  for (int i = 0; i < n; ++i) {
    VectorD l(k);
    for (int c = 0; c < k; ++c) {
      double v = std::log(static_cast<double>(g.weights()[c]));
      for (int j = 0; j < d; ++j) {
        const double diff = x(i, j) - static_cast<double>(g.means()(c, j)), var = g.variances()(c, j);
        v -= 0.5 * (std::log(2 * M_PI * var) + diff * diff / var);
      }
      l[c] = v;
    }
    const double m = l.maxCoeff(), lse = m + std::log((l.array() - m).exp().sum());
    ref_total += lse;
    for (int c = 0; c < k; ++c) {
      const double gamma = std::exp(l[c] - lse);
      occ[c] += gamma;
      for (int j = 0; j < d; ++j) {
        first(c, j) += gamma * x(i, j);
        second(c, j) += gamma * static_cast<double>(x(i, j)) * x(i, j);
      }
    }
  }
  CHECK(s.NumFrames() == n);
  CHECK(total == doctest::Approx(ref_total).epsilon(1e-6));
  CHECK(s.TotalLogLikelihood() == total);
  CHECK(s.occupancy().sum() == doctest::Approx(n).epsilon(1e-5));
  CHECK(RelDiff(s.occupancy(), occ) < 1e-5);
  CHECK(RelDiff(s.first_order(), first) < 1e-5);
  CHECK(RelDiff(s.second_order(), second) < 1e-5);
}

TEST_CASE("Add of partial statistics equals accumulating everything at once") {
  const int k = 16, d = 7;
  const DiagGmm g = RandomGmm(k, d, 23);
  const Matrix x = RandomFrames(5000, d, 24);
  GmmStats all(k, d);
  all.Accumulate(g, x);
  GmmStats a(k, d), b(k, d), c(k, d);
  a.Accumulate(g, x.topRows(1234));
  b.Accumulate(g, x.middleRows(1234, 3000));
  c.Accumulate(g, x.bottomRows(5000 - 4234));
  GmmStats merged(k, d);
  merged.Add(a);
  merged.Add(b);
  merged.Add(c);
  CHECK(merged.NumFrames() == all.NumFrames());
  CHECK(merged.TotalLogLikelihood() == doctest::Approx(all.TotalLogLikelihood()).epsilon(1e-7));
  // Different block boundaries round differently in single precision: agreement to float rounding.
  CHECK(RelDiff(merged.occupancy(), all.occupancy()) < 1e-6);
  CHECK(RelDiff(merged.first_order(), all.first_order()) < 1e-6);
  CHECK(RelDiff(merged.second_order(), all.second_order()) < 1e-6);

  // Same blocks: Add is exact.
  GmmStats twice(k, d);
  twice.Add(a);
  twice.Add(a);
  GmmStats again(k, d);
  again.Accumulate(g, x.topRows(1234));
  again.Accumulate(g, x.topRows(1234));
  CHECK(twice.first_order() == again.first_order());

  merged.SetZero();
  CHECK(merged.NumFrames() == 0);
  CHECK(merged.occupancy().isZero());
  CHECK(merged.second_order().isZero());
}

TEST_CASE("empty blocks and shape errors") {
  const DiagGmm g = RandomGmm(3, 4, 25);
  GmmStats s(3, 4);
  CHECK(s.Accumulate(g, Matrix(0, 4)) == 0);
  CHECK(s.NumFrames() == 0);
  CHECK_THROWS_WITH_AS(s.Accumulate(g, Matrix::Zero(2, 5)), doctest::Contains("dims"), Error);
  CHECK_THROWS_AS(s.Accumulate(RandomGmm(4, 4, 26), Matrix::Zero(2, 4)), Error);
  CHECK_THROWS_WITH_AS(s.Add(GmmStats(3, 5)), doctest::Contains("shapes differ"), Error);
  CHECK_THROWS_AS(GmmStats(0, 4), Error);
}

TEST_CASE("pruned statistics: the sparse path equals the dense GEMM when nothing is pruned") {
  const int k = 40, d = 6;
  const DiagGmm g = RandomGmm(k, d, 27);
  const Matrix x = RandomFrames(3000, d, 28);
  GmmStats dense(k, d), sparse(k, d, 1e-30f), pruned(k, d, 1e-3f);
  const double ld = dense.Accumulate(g, x);
  CHECK(sparse.Accumulate(g, x) == ld);  // log-likelihoods are never pruned
  CHECK(pruned.Accumulate(g, x) == ld);
  CHECK(RelDiff(sparse.occupancy(), dense.occupancy()) < 1e-5);
  CHECK(RelDiff(sparse.first_order(), dense.first_order()) < 1e-5);
  CHECK(RelDiff(sparse.second_order(), dense.second_order()) < 1e-5);
  // Pruning at 1e-3 drops at most 1e-3 x K of each frame's posterior mass.
  CHECK(pruned.occupancy().sum() <= dense.occupancy().sum());
  CHECK(pruned.occupancy().sum() >= dense.occupancy().sum() * (1 - 1e-3 * k));
  CHECK(RelDiff(pruned.first_order(), dense.first_order()) < 2e-2);
  CHECK(RelDiff(pruned.second_order(), dense.second_order()) < 2e-2);
  CHECK(RelDiff(pruned.occupancy(), dense.occupancy()) > 0);  // something was pruned
  CHECK_THROWS_AS(GmmStats(k, d, 1.0f), Error);
  CHECK_THROWS_AS(GmmStats(k, d, -0.1f), Error);
}
