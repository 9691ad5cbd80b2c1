#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
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

// ---------------------------------------------------------------------------------------------------
// The statistics that start EM: global moments and the keyed k-means++ subsample.

namespace {

// Reference moments in long double over all rows (two-pass): what MomentStats must equal.
void TwoPassMoments(const Matrix& x, VectorD* mean, VectorD* var) {
  const int d = static_cast<int>(x.cols());
  mean->resize(d);
  var->resize(d);
  for (int j = 0; j < d; ++j) {
    long double s = 0, s2 = 0;
    for (int64_t i = 0; i < x.rows(); ++i) s += x(i, j);
    const long double m = s / x.rows();
    for (int64_t i = 0; i < x.rows(); ++i) s2 += (x(i, j) - m) * (x(i, j) - m);
    (*mean)[j] = static_cast<double>(m);
    (*var)[j] = static_cast<double>(s2 / x.rows());
  }
}

// Three "utterances" of frames, each an own key, as three shards would hold them.
struct Utt {
  Matrix frames;
  uint64_t key;
};
std::vector<Utt> ThreeUtterances(int d) {
  Matrix x = RandomFrames(3000, d, 21);
  x.col(1).array() += 1000.0f;  // a large offset: a naive sum-of-squares variance would lose digits
  return {{x.topRows(1100), UtteranceKey("spk1-utt1")},
          {x.middleRows(1100, 700), UtteranceKey("spk2-utt7")},
          {x.bottomRows(1200), UtteranceKey("spk3-utt2")}};
}

GmmInitStats InitStatsOf(const Utt& u, int d, int64_t capacity, uint64_t seed, int block) {
  GmmInitStats s(d, capacity, seed);
  // Offered in blocks of `block` frames: the result must not depend on it.
  for (int64_t b = 0; b < u.frames.rows(); b += block)
    s.Accumulate(u.frames.middleRows(b, std::min<int64_t>(block, u.frames.rows() - b)), u.key, b);
  return s;
}

}  // namespace

TEST_CASE("MomentStats: equals the two-pass long-double moments; any split and order agrees to 1e-12") {
  const int d = 5;
  const auto utts = ThreeUtterances(d);
  Matrix all(3000, d);
  all << utts[0].frames, utts[1].frames, utts[2].frames;
  VectorD ref_mean, ref_var;
  TwoPassMoments(all, &ref_mean, &ref_var);
  MomentStats abc(d), cab(d);
  for (int i : {0, 1, 2}) abc.Accumulate(utts[i].frames);
  // C + A + B, each shard accumulated in blocks of 37 frames, then merged.
  for (int i : {2, 0, 1}) {
    MomentStats shard(d);
    for (int64_t b = 0; b < utts[i].frames.rows(); b += 37)
      shard.Accumulate(utts[i].frames.middleRows(b, std::min<int64_t>(37, utts[i].frames.rows() - b)));
    cab.Add(shard);
  }
  CHECK(abc.Count() == 3000);
  CHECK(cab.Count() == 3000);
  // Tolerance: a few double roundings per merge, relative to the variance (1e-12 leaves room for ~1e4
  // of them; float data, so the reference itself is exact to long double).
  CHECK((abc.Mean() - ref_mean).cwiseAbs().maxCoeff() < 1e-12 * (1 + ref_mean.cwiseAbs().maxCoeff()));
  CHECK(((abc.Variance() - ref_var).array() / ref_var.array()).abs().maxCoeff() < 1e-12);
  CHECK(((cab.Variance() - ref_var).array() / ref_var.array()).abs().maxCoeff() < 1e-12);
  CHECK((cab.Mean() - abc.Mean()).cwiseAbs().maxCoeff() < 1e-12 * (1 + ref_mean.cwiseAbs().maxCoeff()));

  SUBCASE("a constant dimension has exactly zero variance however it is split") {
    Matrix c = RandomFrames(500, 2, 3);
    c.col(0).setConstant(0.1f);
    MomentStats m(2);
    m.Accumulate(c.topRows(7));
    m.Accumulate(c.middleRows(7, 400));
    MomentStats rest(2);
    rest.Accumulate(c.bottomRows(93));
    m.Add(rest);
    CHECK(m.Variance()[0] == 0.0);
    CHECK(m.Mean()[0] == static_cast<double>(0.1f));
  }
  SUBCASE("non-finite frames are refused, naming the frame") {
    MomentStats m(2);
    m.Accumulate(RandomFrames(10, 2, 1));
    Matrix bad = RandomFrames(5, 2, 2);
    bad(3, 1) = std::nanf("");
    CHECK_THROWS_WITH_AS(m.Accumulate(bad), doctest::Contains("frame 13 is not finite"), Error);
    CHECK_THROWS_AS(m.Accumulate(RandomFrames(5, 3, 1)), Error);
  }
}

TEST_CASE("FrameSubsample: the frames with the smallest keys, identical whatever the split, order and blocks") {
  const int d = 3;
  const auto utts = ThreeUtterances(d);
  const int64_t cap = 250;
  const uint64_t seed = 7;
  // Reference by brute force: key every frame, sort, take the first `cap`.
  std::vector<std::pair<uint64_t, std::vector<float>>> keyed;
  for (const Utt& u : utts)
    for (int64_t i = 0; i < u.frames.rows(); ++i)
      keyed.push_back({FrameSampleKey(seed, u.key, i), {u.frames(i, 0), u.frames(i, 1), u.frames(i, 2)}});
  std::sort(keyed.begin(), keyed.end());
  FrameSubsample whole(cap, d, seed);
  for (const Utt& u : utts) whole.Offer(u.frames, u.key, 0);
  REQUIRE(whole.Size() == cap);
  const Matrix got = whole.Frames();
  const std::vector<uint64_t> keys = whole.Keys();
  for (int64_t i = 0; i < cap; ++i) {
    CHECK(keys[i] == keyed[i].first);
    for (int j = 0; j < d; ++j) CHECK(got(i, j) == keyed[i].second[j]);
  }
  // Shards C, A, B, offered in blocks of 64 frames, merged: bit-identical.
  FrameSubsample merged;
  for (int i : {2, 0, 1}) {
    FrameSubsample shard(cap, d, seed);
    for (int64_t b = 0; b < utts[i].frames.rows(); b += 64)
      shard.Offer(utts[i].frames.middleRows(b, std::min<int64_t>(64, utts[i].frames.rows() - b)), utts[i].key, b);
    merged.Add(shard);
  }
  CHECK(merged.Keys() == keys);
  CHECK((merged.Frames().array() == got.array()).all());
  // Another seed draws another sample; merging samples of different seeds is refused.
  FrameSubsample other(cap, d, seed + 1);
  for (const Utt& u : utts) other.Offer(u.frames, u.key, 0);
  CHECK(other.Keys() != keys);
  CHECK_THROWS_WITH_AS(merged.Add(other), doctest::Contains("seed"), Error);
  // KeepBelow: shards that send only their keys below a limit that the merged sample does not reach
  // give the same sample; a limit that leaves fewer than the capacity shows in the merged size.
  const uint64_t limit = keys.back() + (std::numeric_limits<uint64_t>::max() - keys.back()) / 64;
  FrameSubsample filtered, short_merge;
  for (int i : {1, 2, 0}) {
    FrameSubsample shard(cap, d, seed);
    shard.Offer(utts[i].frames, utts[i].key, 0);
    FrameSubsample low = shard;
    shard.KeepBelow(limit);
    CHECK(shard.Size() < cap);  // the limit removed something from every shard
    filtered.Add(shard);
    low.KeepBelow(keys[cap / 2]);
    short_merge.Add(low);
  }
  CHECK(filtered.Keys() == keys);
  CHECK((filtered.Frames().array() == got.array()).all());
  CHECK(short_merge.Size() == cap / 2);
  // Fewer frames than the capacity: all of them, in key order.
  FrameSubsample small(5000, d, seed);
  small.Offer(utts[1].frames, utts[1].key, 0);
  CHECK(small.Size() == utts[1].frames.rows());
}

TEST_CASE("GmmInitStats travel: round trip is exact, A+B+C from files equals C+A+B, damage is refused") {
  const int d = 4;
  const auto utts = ThreeUtterances(d);
  const int64_t cap = 300;
  TempDir tmp("slid-test-initstats-");
  GmmInitStats direct(d, cap, 3);  // all utterances in one accumulator, blocks of 100
  for (const Utt& u : utts)
    for (int64_t b = 0; b < u.frames.rows(); b += 100)
      direct.Accumulate(u.frames.middleRows(b, std::min<int64_t>(100, u.frames.rows() - b)), u.key, b);
  for (int i = 0; i < 3; ++i) InitStatsOf(utts[i], d, cap, 3, 41 + i).Write(tmp("init." + std::to_string(i + 1)));

  GmmInitStats abc, cab;
  for (int i : {1, 2, 3}) abc.Read(tmp("init." + std::to_string(i)), /*add=*/true);
  for (int i : {3, 1, 2}) cab.Read(tmp("init." + std::to_string(i)), /*add=*/true);
  // The subsample is identical bit for bit; moments agree to double rounding of three merges.
  CHECK(abc.sample.Keys() == direct.sample.Keys());
  CHECK(cab.sample.Keys() == direct.sample.Keys());
  CHECK((cab.sample.Frames().array() == direct.sample.Frames().array()).all());
  CHECK(abc.moments.Count() == 3000);
  CHECK(((abc.moments.Variance() - cab.moments.Variance()).array() / direct.moments.Variance().array()).abs().maxCoeff() < 1e-13);
  CHECK(((abc.moments.Variance() - direct.moments.Variance()).array() / direct.moments.Variance().array()).abs().maxCoeff() < 1e-12);

  // Exact round trip.
  GmmInitStats again;
  again.FromBytes(direct.ToBytes(), "mem");
  CHECK(again.ToBytes() == direct.ToBytes());

  // Moments only (no subsample) travel too, and cannot be added to a sample-carrying one.
  GmmInitStats bare(d, 0, 0);
  bare.Accumulate(utts[0].frames, utts[0].key);
  GmmInitStats bare2;
  bare2.FromBytes(bare.ToBytes(), "bare");
  CHECK(bare2.sample.Capacity() == 0);
  CHECK(bare2.moments.Count() == 1100);
  CHECK_THROWS_WITH_AS(bare2.FromBytes(direct.ToBytes(), "withsample", true), doctest::Contains("withsample"), Error);

  // Damage: every truncation, a flipped byte, trailing bytes, another version; the name is in the message.
  const std::string good = direct.ToBytes();
  GmmInitStats t;
  auto message = [&](const std::string& bytes) {
    try {
      t.FromBytes(bytes, "x.init");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message("hello").find("x.init: not slid GMM initialisation statistics") == 0);
  CHECK(message(good + "z").find("trailing bytes") != std::string::npos);
  std::string flipped = good;
  flipped[good.size() / 2] ^= 4;
  CHECK(message(flipped).find("x.init: damaged") == 0);
  std::string version = good;
  version[8] = 5;
  CHECK(message(version).find("format version 5") != std::string::npos);
  for (size_t n = 0; n < good.size(); n += (n < 200 ? 1 : 97)) CHECK_THROWS_AS(t.FromBytes(good.substr(0, n), "cut"), Error);
  // A damaged file on disk: the error names the path.
  {
    std::ofstream f(tmp("bad.init"), std::ios::binary);
    f.write(flipped.data(), static_cast<std::streamsize>(flipped.size()));
  }
  CHECK_THROWS_WITH_AS(t.Read(tmp("bad.init")), doctest::Contains((tmp("bad.init") + ": damaged").c_str()), Error);
}
