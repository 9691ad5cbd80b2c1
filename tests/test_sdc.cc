#include <doctest/doctest.h>

#include <random>

#include "slid/deltas.h"
#include "slid/error.h"
#include "slid/sdc.h"

namespace {
slid::Matrix Random(int rows, int cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 3.0f);
  slid::Matrix m(rows, cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m(r, c) = g(rng);
  return m;
}
}  // namespace

TEST_CASE("SDC shape for N-d-P-k, with and without statics") {
  slid::Matrix x = Random(50, 13, 1);
  slid::SdcOptions o;  // 7-1-3-7
  CHECK(o.Dim() == 56);
  CHECK(o.ContextFrames() == 21);
  slid::Matrix s = slid::ComputeSdc(x, o);
  CHECK(s.rows() == 50);
  CHECK(s.cols() == 56);
  CHECK(s.leftCols(7) == x.leftCols(7));
  o.keep_static = false;
  CHECK(slid::ComputeSdc(x, o).cols() == 49);
  slid::SdcOptions o2{true, 10, 2, 4, 3, true};
  CHECK(slid::ComputeSdc(x, o2).cols() == 40);
  CHECK(slid::ComputeSdc(slid::Matrix(0, 7), slid::SdcOptions{}).rows() == 0);
  CHECK(slid::ComputeSdc(slid::Matrix(0, 7), slid::SdcOptions{}).cols() == 56);
}

TEST_CASE("SDC block i equals the Kaldi delta (order 1, window d) at frame t + i*P") {
  for (int d : {1, 2}) {
    slid::Matrix x = Random(40, 7, 2 + d);
    slid::SdcOptions o;
    o.d = d;
    slid::Matrix s = slid::ComputeSdc(x, o);
    slid::Matrix delta = slid::ComputeDeltas(x, slid::DeltaOptions{1, d}).rightCols(7);
    for (int t = 0; t < 40; ++t) {
      // Block 0 equals the delta at the same frame, edges included.
      CHECK((s.row(t).segment(7, 7) - delta.row(t)).cwiseAbs().maxCoeff() < 1e-5f);
      for (int i = 1; i < 7; ++i)
        if (t + i * 3 < 40) CHECK((s.row(t).segment(7 + 7 * i, 7) - delta.row(t + 3 * i)).cwiseAbs().maxCoeff() < 1e-5f);
    }
  }
}

TEST_CASE("SDC by hand for 7-1-3-7 inside, and edge replication past the end") {
  slid::Matrix x = Random(30, 7, 9);
  slid::Matrix s = slid::ComputeSdc(x, slid::SdcOptions{});
  int t = 5;
  for (int i = 0; i < 7; ++i) {
    int c = t + 3 * i;
    int hi = std::min(c + 1, 29), lo = std::min(c - 1, 29);
    Eigen::RowVectorXf want = 0.5f * (x.row(hi) - x.row(lo));
    CHECK((s.row(t).segment(7 + 7 * i, 7) - want).cwiseAbs().maxCoeff() < 1e-5f);
  }
  // Frame 29 block 6 centres on frame 47: both taps clamp to 29, so the block is zero (Kaldi).
  CHECK(s.row(29).segment(7 + 7 * 6, 7).cwiseAbs().maxCoeff() == 0.0f);
  // Frame 28 block 0: (x[29] - x[27]) / 2; block 1 centred at 31: (x[29] - x[29]) = 0.
  CHECK((s.row(28).segment(7, 7) - 0.5f * (x.row(29) - x.row(27))).cwiseAbs().maxCoeff() < 1e-5f);
  // Centre exactly at T: taps 29 and clamp(31) -> 29 => zero; centre at T-1 = 29 handled above.
}

TEST_CASE("SDC uses the first N columns and rejects bad options") {
  slid::Matrix x = Random(10, 13, 4);
  slid::Matrix a = slid::ComputeSdc(x, slid::SdcOptions{});
  slid::Matrix b = slid::ComputeSdc(x.leftCols(7), slid::SdcOptions{});
  CHECK(a == b);
  slid::SdcOptions o;
  o.n = 14;
  CHECK_THROWS_AS(slid::ComputeSdc(x, o), slid::Error);
  o = {};
  o.p = 0;
  CHECK_THROWS_AS(slid::ComputeSdc(x, o), slid::Error);
  // A single frame still gives one row (all deltas zero).
  slid::Matrix one = slid::ComputeSdc(x.topRows(1), slid::SdcOptions{});
  CHECK(one.rows() == 1);
  CHECK(one.rightCols(49).cwiseAbs().maxCoeff() == 0.0f);
}
