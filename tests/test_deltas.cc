#include <doctest/doctest.h>

#include "slid/deltas.h"
#include "slid/error.h"

TEST_CASE("Deltas of a linear ramp: slope inside, Kaldi edge replication at the ends") {
  const int T = 20;
  slid::Matrix x(T, 2);
  for (int t = 0; t < T; ++t) {
    x(t, 0) = 3.0f * t + 1.0f;
    x(t, 1) = -0.5f * t;
  }
  slid::Matrix d = slid::ComputeDeltas(x, slid::DeltaOptions{});
  REQUIRE(d.rows() == T);
  REQUIRE(d.cols() == 6);
  CHECK(d.leftCols(2) == x);
  for (int t = 4; t < T - 4; ++t) {  // the order-2 filter spans +-4 frames
    CHECK(d(t, 2) == doctest::Approx(3.0));
    CHECK(d(t, 3) == doctest::Approx(-0.5));
    CHECK(d(t, 4) == doctest::Approx(0.0).epsilon(1e-6).scale(1));
    CHECK(d(t, 5) == doctest::Approx(0.0).epsilon(1e-6).scale(1));
  }
  // Frame 0, window 2: taps at -2,-1 clamp to frame 0: (-2*x0 - x0 + x1 + 2*x2) / 10 = (3 + 12) / 10 * ...
  // for x = 3t+1: (-3*1 + 4 + 2*7) / 10 = 1.5
  CHECK(d(0, 2) == doctest::Approx(1.5));
  CHECK(d(T - 1, 2) == doctest::Approx(1.5));
}

TEST_CASE("Delta order 1, window 1 is (x[t+1] - x[t-1]) / 2 and order 0 is the identity") {
  slid::Matrix x(5, 1);
  x << 1, 4, 9, 16, 25;
  slid::Matrix d = slid::ComputeDeltas(x, slid::DeltaOptions{1, 1});
  REQUIRE(d.cols() == 2);
  CHECK(d(2, 1) == doctest::Approx((16 - 4) / 2.0));
  CHECK(d(0, 1) == doctest::Approx((4 - 1) / 2.0));
  CHECK(slid::ComputeDeltas(x, slid::DeltaOptions{0, 2}) == x);
}

TEST_CASE("Delta edge cases") {
  CHECK(slid::ComputeDeltas(slid::Matrix(0, 3), slid::DeltaOptions{}).rows() == 0);
  CHECK(slid::ComputeDeltas(slid::Matrix(0, 3), slid::DeltaOptions{}).cols() == 9);
  slid::Matrix one(1, 2);
  one << 5, 6;
  slid::Matrix d = slid::ComputeDeltas(one, slid::DeltaOptions{});
  CHECK(d.rightCols(4).cwiseAbs().maxCoeff() < 1e-6f);  // a single frame: zero deltas (float taps sum to ~0)
  CHECK_THROWS_AS(slid::ComputeDeltas(one, slid::DeltaOptions{-1, 2}), slid::Error);
  CHECK_THROWS_AS(slid::ComputeDeltas(one, slid::DeltaOptions{2, 0}), slid::Error);
}
