#include <doctest/doctest.h>

#include <random>

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
