// slid/cmvn.h: utterance and sliding CMVN (Kaldi window rules, properties), and feature warping
// against scipy (fixtures: tests/data/warp, made by tests/data/make_warp_fixture.py) plus its
// properties: a monotone map inside a window, N(0, 1) statistics, invariance to increasing transforms.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "slid/cmvn.h"
#include "slid/error.h"

namespace {
slid::Matrix Random(int rows, int cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  slid::Matrix m(rows, cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m(r, c) = 5.0f * g(rng) + 10.0f * c - 7.0f;
  return m;
}
}  // namespace

TEST_CASE("Utterance CMVN gives mean 0 and, with norm-vars, variance 1") {
  slid::Matrix x = Random(500, 7, 1);
  slid::CmvnOptions o;
  o.mode = slid::CmvnMode::kUtterance;
  slid::Matrix y = slid::ApplyCmvn(x, o);
  for (int c = 0; c < 7; ++c) CHECK(std::abs(y.col(c).mean()) < 1e-4f);
  // Without norm-vars the spread is unchanged.
  CHECK(y.col(3).squaredNorm() / 500 == doctest::Approx((x.col(3).array() - x.col(3).mean()).square().mean()).epsilon(1e-4));
  o.norm_vars = true;
  y = slid::ApplyCmvn(x, o);
  for (int c = 0; c < 7; ++c) {
    CHECK(std::abs(y.col(c).mean()) < 1e-4f);
    CHECK(y.col(c).squaredNorm() / 500 == doctest::Approx(1.0).epsilon(1e-4));
  }
}

TEST_CASE("Sliding CMVN with a window covering the utterance equals utterance CMVN") {
  slid::Matrix x = Random(123, 5, 2);
  for (bool norm_vars : {false, true}) {
    slid::CmvnOptions full;
    full.mode = slid::CmvnMode::kUtterance;
    full.norm_vars = norm_vars;
    slid::CmvnOptions sliding;
    sliding.mode = slid::CmvnMode::kSliding;
    sliding.norm_vars = norm_vars;
    for (int w : {123, 124, 600}) {
      sliding.cmn_window = w;
      sliding.center = true;
      CHECK((slid::ApplyCmvn(x, sliding) - slid::ApplyCmvn(x, full)).cwiseAbs().maxCoeff() < 1e-4f);
      // Non-centred: every window [max(0,t-W), max(t+1, min_window)) clipped to T is the whole
      // utterance when min_window >= T.
      sliding.center = false;
      sliding.min_cmn_window = 200;
      CHECK((slid::ApplyCmvn(x, sliding) - slid::ApplyCmvn(x, full)).cwiseAbs().maxCoeff() < 1e-4f);
    }
  }
}

TEST_CASE("Sliding CMN windows follow Kaldi apply-cmvn-sliding") {
  slid::Matrix x(10, 1);
  for (int t = 0; t < 10; ++t) x(t, 0) = static_cast<float>(t * t);
  auto mean = [&](int s, int e) { return x.col(0).segment(s, e - s).mean(); };
  slid::CmvnOptions o;
  o.cmn_window = 4;
  o.center = true;
  slid::Matrix y = slid::ApplyCmvn(x, o);
  CHECK(y(0, 0) == doctest::Approx(x(0, 0) - mean(0, 4)));  // window [-2,2) shifted to [0,4)
  CHECK(y(5, 0) == doctest::Approx(x(5, 0) - mean(3, 7)));  // [t-2, t+2)
  CHECK(y(9, 0) == doctest::Approx(x(9, 0) - mean(6, 10)));  // [7,11) shifted to [6,10)
  o.center = false;
  o.min_cmn_window = 3;
  y = slid::ApplyCmvn(x, o);
  CHECK(y(0, 0) == doctest::Approx(x(0, 0) - mean(0, 3)));  // min window at the start
  CHECK(y(2, 0) == doctest::Approx(x(2, 0) - mean(0, 3)));
  CHECK(y(3, 0) == doctest::Approx(x(3, 0) - mean(0, 4)));  // [t-4, t+1) clipped at 0
  CHECK(y(8, 0) == doctest::Approx(x(8, 0) - mean(4, 9)));  // [t-4, t+1)
}

TEST_CASE("CMVN edge cases and options") {
  slid::CmvnOptions o;
  CHECK(slid::ApplyCmvn(slid::Matrix(0, 7), o).rows() == 0);
  slid::Matrix one(1, 3);
  one << 1, 2, 3;
  CHECK(slid::ApplyCmvn(one, o).cwiseAbs().maxCoeff() == 0.0f);
  o.norm_vars = true;
  CHECK(slid::ApplyCmvn(one, o).cwiseAbs().maxCoeff() == 0.0f);  // one-frame window gives 0 (Kaldi)
  o.mode = slid::CmvnMode::kNone;
  CHECK(slid::ApplyCmvn(one, o) == one);
  o.cmn_window = 0;
  CHECK_THROWS_AS(slid::ApplyCmvn(one, o), slid::Error);
  CHECK(slid::ParseCmvnMode("sliding") == slid::CmvnMode::kSliding);
  CHECK_THROWS_AS(slid::ParseCmvnMode("global"), slid::Error);
  // Constant column with norm-vars: variance floored at 1e-10, output 0, finite.
  slid::Matrix c = slid::Matrix::Constant(50, 2, 4.0f);
  o = {};
  o.norm_vars = true;
  slid::Matrix y = slid::ApplyCmvn(c, o);
  CHECK(y.allFinite());
  CHECK(y.cwiseAbs().maxCoeff() == 0.0f);
}

// ---- feature warping (cmvn-mode warp) ---------------------------------------------------------

namespace {

const std::string kWarpDir = std::string(SLID_TEST_DATA) + "/warp/";

struct WarpCase {
  slid::CmvnOptions opts;
  slid::Matrix x;
  slid::MatrixD expected;
};

// tests/data/warp/<name>.txt: "T D cmn_window center min_cmn_window", T rows of inputs, T of outputs.
WarpCase ReadWarpCase(const std::string& name) {
  std::ifstream in(kWarpDir + name + ".txt");
  REQUIRE_MESSAGE(in.good(), (kWarpDir + name + ".txt"));
  int T = 0, D = 0, center = 0;
  WarpCase c;
  c.opts.mode = slid::CmvnMode::kWarp;
  in >> T >> D >> c.opts.cmn_window >> center >> c.opts.min_cmn_window;
  c.opts.center = center != 0;
  c.x.resize(T, D);
  c.expected.resize(T, D);
  for (int t = 0; t < T; ++t)
    for (int d = 0; d < D; ++d) in >> c.x(t, d);
  for (int t = 0; t < T; ++t)
    for (int d = 0; d < D; ++d) in >> c.expected(t, d);
  REQUIRE_MESSAGE(!in.fail(), (name + ": truncated fixture"));
  return c;
}

slid::CmvnOptions Warp(int window) {
  slid::CmvnOptions o;
  o.mode = slid::CmvnMode::kWarp;
  o.cmn_window = window;
  return o;
}

// Sorted values of a column.
std::vector<float> Sorted(const slid::Matrix& m, int c) {
  std::vector<float> v;
  for (int64_t t = 0; t < m.rows(); ++t) v.push_back(m(t, c));
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("NormalQuantile equals scipy.stats.norm.ppf to 1e-12 relative, from 1e-300 to 1 - 2^-53") {
  // Acklam's approximation alone is good to 1.15e-9 relative; one Halley step on std::erfc brings it
  // to about 1e-15. 1e-12 leaves room for the platform's erfc/log/exp.
  std::ifstream in(kWarpDir + "quantiles.txt");
  REQUIRE(in.good());
  double p = 0, ref = 0;
  int n = 0;
  while (in >> p >> ref) {
    CAPTURE(p);
    const double x = slid::NormalQuantile(p);
    CHECK(std::abs(x - ref) <= 1e-12 * std::abs(ref));
    ++n;
  }
  CHECK(n >= 100);
  CHECK(slid::NormalQuantile(0.5) == 0.0);
  CHECK(slid::NormalQuantile(0.0) == -std::numeric_limits<double>::infinity());
  CHECK(slid::NormalQuantile(1.0) == std::numeric_limits<double>::infinity());
  CHECK(std::isnan(slid::NormalQuantile(std::nan(""))));
  // Exactly antisymmetric where 1 - q is exact (dyadic q).
  for (double q : {0x1p-40, 0x1p-10, 0.125, 0.375}) CHECK(slid::NormalQuantile(1 - q) == -slid::NormalQuantile(q));
}

TEST_CASE("Feature warping equals the scipy reference: edge windows, short utterance, ties, non-centred") {
  // Ranks are exact integer counts, so the only difference is the quantile (1e-15) and the float
  // output: at most one float ulp, 2^-23 = 1.2e-7 relative.
  for (const std::string name : {"centred", "short", "causal", "default"}) {
    CAPTURE(name);
    const WarpCase c = ReadWarpCase(name);
    const slid::Matrix y = slid::ApplyCmvn(c.x, c.opts);
    REQUIRE(y.rows() == c.x.rows());
    REQUIRE(y.cols() == c.x.cols());
    double worst = 0;
    for (int64_t t = 0; t < y.rows(); ++t)
      for (int64_t d = 0; d < y.cols(); ++d)
        worst = std::max(worst, std::abs(y(t, d) - c.expected(t, d)) / std::max(std::abs(c.expected(t, d)), 1e-30));
    CHECK(worst <= 0x1p-23);
  }
}

TEST_CASE("Feature warping inside one window is a monotone map onto the normal quantiles") {
  // T <= N: every frame's window is the whole utterance. Continuous column: the outputs are exactly
  // the T quantiles WarpedValue(k, 1, T), in the order of the inputs. Rounded column: ties give
  // equal outputs, and x_t < x_s gives y_t < y_s.
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1.0f);
  const int T = 250;
  slid::Matrix x(T, 2);
  for (int t = 0; t < T; ++t) {
    x(t, 0) = 3.0f * g(rng) + 1.0f;
    x(t, 1) = std::round(2.0f * g(rng));
  }
  for (int window : {T, 300}) {
    const slid::Matrix y = slid::ApplyCmvn(x, Warp(window));
    const std::vector<float> q = Sorted(y, 0);
    const std::vector<float> xs = Sorted(x, 0);
    REQUIRE(std::adjacent_find(xs.begin(), xs.end()) == xs.end());  // no ties in column 0
    for (int k = 0; k < T; ++k) CHECK(q[k] == static_cast<float>(slid::WarpedValue(k, 1, T)));
    double sum = 0;
    for (int t = 0; t < T; ++t) sum += y(t, 0);
    CHECK(std::abs(sum / T) < 1e-7);  // symmetric quantiles
    for (int c = 0; c < 2; ++c)
      for (int t = 0; t < T; ++t)
        for (int s = 0; s < T; ++s) {
          if (x(t, c) < x(s, c)) REQUIRE(y(t, c) < y(s, c));
          if (x(t, c) == x(s, c)) REQUIRE(y(t, c) == y(s, c));
        }
  }
}

TEST_CASE("Feature warping of a long random input: mean 0 and the variance of the warped uniform") {
  // For i.i.d. continuous input the rank of x_t in its N-frame window is uniform on 1..N, so y_t has
  // mean 0 and variance V_N = (1/N) sum_k Phi^-1((k - 1/2)/N)^2 (0.990 for N = 300). Standard errors
  // over 20000 frames are ~0.007 (mean) and ~0.01 (variance); the bounds are 5 of them.
  const int T = 20000, N = 300;
  std::mt19937 rng(11);
  std::gamma_distribution<float> skewed(2.0f, 1.5f);  // far from normal on purpose
  std::normal_distribution<float> g(5.0f, 0.1f);
  slid::Matrix x(T, 2);
  for (int t = 0; t < T; ++t) {
    x(t, 0) = skewed(rng);
    x(t, 1) = g(rng);
  }
  const slid::Matrix y = slid::ApplyCmvn(x, Warp(N));
  double v_n = 0;
  for (int k = 0; k < N; ++k) v_n += std::pow(slid::WarpedValue(k, 1, N), 2) / N;
  CHECK(v_n == doctest::Approx(0.990).epsilon(0.005));
  for (int c = 0; c < 2; ++c) {
    CAPTURE(c);
    const double mean = y.col(c).cast<double>().mean();
    const double var = (y.col(c).cast<double>().array() - mean).square().mean();
    CHECK(std::abs(mean) < 0.035);
    CHECK(std::abs(var - v_n) < 0.05);
    CHECK(y.col(c).cwiseAbs().maxCoeff() <= static_cast<float>(-slid::WarpedValue(0, 1, N)));
  }
}

TEST_CASE("Feature warping is invariant to strictly increasing transforms of a column (bit-identical)") {
  // The property that makes it channel-robust: a gain (affine map with positive scale) or any
  // monotone distortion of a cepstral coefficient leaves the warped features unchanged.
  const int T = 2000;
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.0f, 1.0f);
  slid::Matrix x(T, 3);
  for (int t = 0; t < T; ++t)
    for (int c = 0; c < 3; ++c) x(t, c) = c == 2 ? std::round(4.0f * g(rng)) : 2.0f * g(rng);  // column 2: ties
  slid::Matrix affine = (2.5f * x.array() + 3.0f).matrix(), expo = x.array().exp().matrix();
  expo.col(1) = x.col(1).array().cube().matrix();  // another shape
  // Precondition: in float, the transforms kept every strict order (no two values merged).
  for (const slid::Matrix* m : {&affine, &expo})
    for (int c = 0; c < 3; ++c) {
      std::vector<int> idx(T);
      std::iota(idx.begin(), idx.end(), 0);
      std::sort(idx.begin(), idx.end(), [&](int a, int b) { return x(a, c) < x(b, c); });
      for (int i = 1; i < T; ++i)
        if (x(idx[i - 1], c) < x(idx[i], c)) REQUIRE((*m)(idx[i - 1], c) < (*m)(idx[i], c));
    }
  for (bool center : {true, false}) {
    slid::CmvnOptions o = Warp(300);
    o.center = center;
    const slid::Matrix y = slid::ApplyCmvn(x, o);
    CHECK(slid::ApplyCmvn(affine, o) == y);
    CHECK(slid::ApplyCmvn(expo, o) == y);
    // Not true of sliding CMN: a gain changes its output.
    slid::CmvnOptions sliding = o;
    sliding.mode = slid::CmvnMode::kSliding;
    CHECK(slid::ApplyCmvn(affine, sliding) != slid::ApplyCmvn(x, sliding));
  }
}

TEST_CASE("Feature warping: options, edge cases") {
  CHECK(slid::ParseCmvnMode("warp") == slid::CmvnMode::kWarp);
  CHECK(slid::CmvnModeName(slid::CmvnMode::kWarp) == "warp");
  slid::CmvnOptions o = Warp(300);
  CHECK(slid::ApplyCmvn(slid::Matrix(0, 7), o).rows() == 0);
  slid::Matrix one(1, 3);
  one << 1, 2, 3;
  CHECK(slid::ApplyCmvn(one, o).cwiseAbs().maxCoeff() == 0.0f);  // rank 1 of 1: Phi^-1(1/2) = 0
  slid::Matrix c = slid::Matrix::Constant(50, 2, 4.0f);
  CHECK(slid::ApplyCmvn(c, o).cwiseAbs().maxCoeff() == 0.0f);  // all tied: average rank, 0
  slid::Matrix nan = slid::Matrix::Zero(5, 1);
  nan << 1, 2, std::nanf(""), 4, 5;
  const slid::Matrix yn = slid::ApplyCmvn(nan, o);
  CHECK(std::isnan(yn(2, 0)));
  CHECK(yn(0, 0) == static_cast<float>(slid::WarpedValue(0, 1, 5)));  // NaN is below nothing
  o.norm_vars = true;
  try {
    slid::ApplyCmvn(one, o);
    FAIL("norm-vars with warp accepted");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("norm-vars") != std::string::npos);
    CHECK(std::string(e.what()).find("warp") != std::string::npos);
  }
  CHECK_THROWS_AS(slid::WarpedValue(0, 0, 5), slid::Error);
  CHECK_THROWS_AS(slid::WarpedValue(4, 2, 5), slid::Error);
  CHECK(slid::WarpedValue(2, 1, 5) == 0.0);  // the median
  CHECK(slid::WarpedValue(1, 2, 5) == slid::NormalQuantile(0.4));  // ranks 2, 3 tied: (2.5 - 0.5) / 5
}
