#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "slid/error.h"
#include "slid/gmm_stats.h"
#include "temp_dir.h"

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

TEST_CASE("statistics travel: write -> read is exact, read-and-add of shards equals one accumulation") {
  const int k = 7, d = 4;
  const DiagGmm g = RandomGmm(k, d, 5);
  const Matrix x = RandomFrames(3000, d, 6);
  GmmStats whole(k, d);
  whole.Accumulate(g, x);
  // Three shards written to disk, read back in a different order, added.
  TempDir tmp("slid-test-gmmstats-");
  const int64_t cuts[4] = {0, 1000, 2100, 3000};
  GmmStats in_memory(k, d);
  for (int s = 0; s < 3; ++s) {
    GmmStats part(k, d);
    part.Accumulate(g, x.middleRows(cuts[s], cuts[s + 1] - cuts[s]));
    part.Write(tmp("shard" + std::to_string(s)));
    in_memory.Add(part);
  }
  GmmStats sum;  // 0 x 0 placeholder: the first read with add = true takes the shape
  for (int s : {2, 0, 1}) sum.Read(tmp("shard" + std::to_string(s)), /*add=*/true);
  CHECK(sum.NumFrames() == whole.NumFrames());
  // Against the in-memory sum of the same shards: only the order of three double additions differs.
  CHECK(RelDiff(sum.first_order(), in_memory.first_order()) < 1e-14);
  CHECK(RelDiff(sum.second_order(), in_memory.second_order()) < 1e-14);
  // Against one accumulation over all frames: block boundaries move, and block products are float
  // (see Accumulate), so the bound is single-precision rounding.
  CHECK(RelDiff(sum.first_order(), whole.first_order()) < 1e-5);
  CHECK(RelDiff(sum.second_order(), whole.second_order()) < 1e-5);
  CHECK(std::abs(sum.TotalLogLikelihood() - whole.TotalLogLikelihood()) < 1e-6 * std::abs(whole.TotalLogLikelihood()));

  // Exact round trip of one file.
  GmmStats again;
  again.Read(tmp("shard1"));
  GmmStats direct(k, d);
  direct.Accumulate(g, x.middleRows(1000, 1100));
  CHECK(again.ToBytes() == direct.ToBytes());
  CHECK((again.occupancy().array() == direct.occupancy().array()).all());

  // Adding to a non-empty accumulator doubles it.
  again.Read(tmp("shard1"), /*add=*/true);
  CHECK(again.NumFrames() == 2 * direct.NumFrames());
  CHECK(RelDiff(again.first_order(), 2 * direct.first_order()) < 1e-15);
}

TEST_CASE("damaged statistics files are refused with the file named") {
  GmmStats s(3, 2);
  s.Accumulate(RandomGmm(3, 2, 1), RandomFrames(50, 2, 2));
  const std::string good = s.ToBytes();
  GmmStats t;
  CHECK_NOTHROW(t.FromBytes(good, "ok.stats"));
  auto message = [&](const std::string& bytes) {
    try {
      t.FromBytes(bytes, "x.stats");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message("hello").find("x.stats: not slid GMM statistics") == 0);
  CHECK(message(good.substr(0, good.size() - 1)).find("truncated") != std::string::npos);
  CHECK(message(good + "x").find("trailing bytes") != std::string::npos);
  std::string flipped = good;
  flipped[60] ^= 1;
  CHECK(message(flipped).find("checksum") != std::string::npos);
  std::string version = good;
  version[8] = 9;
  CHECK(message(version).find("format version 9") != std::string::npos);
  // Every truncation is an error, never a crash.
  for (size_t n = 0; n < good.size(); ++n) CHECK_THROWS_AS(t.FromBytes(good.substr(0, n), "cut"), Error);
  // Adding statistics of another shape is refused.
  GmmStats other(4, 2);
  CHECK_THROWS_WITH_AS(other.FromBytes(good, "y.stats", true), doctest::Contains("adding to 4 x 2"), Error);
}
