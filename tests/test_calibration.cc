// Calibration: TrainCalibration against an independent scipy (BFGS) optimum of the same objective
// (tests/data/calibration/make_calibration_fixtures.py), with every language present and with one
// language absent from the development data (tied offset), plus properties: the cross-entropy never rises,
// a per-recording constant added to all scores changes nothing, scaling the scores divides the scale;
// Apply is W s + b; JSON round trip is exact; bad input is an error.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "slid/calibration.h"
#include "slid/error.h"

namespace {

struct Dev {
  std::vector<std::vector<double>> scores;
  std::vector<int> labels;
};

Dev LoadScores() {
  std::ifstream in(std::string(SLID_TEST_DATA) + "/calibration/scores.txt");
  REQUIRE(in.good());
  Dev d;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    ls.imbue(std::locale::classic());
    int y;
    ls >> y;
    std::vector<double> s;
    double v;
    while (ls >> v) s.push_back(v);
    d.labels.push_back(y);
    d.scores.push_back(s);
  }
  return d;
}

std::vector<double> LoadRef(const std::string& name) {
  std::ifstream in(std::string(SLID_TEST_DATA) + "/calibration/" + name);
  in.imbue(std::locale::classic());
  std::string line;
  std::getline(in, line);
  std::istringstream ls(line);
  ls.imbue(std::locale::classic());
  std::vector<double> v;
  double x;
  while (ls >> x) v.push_back(x);
  double f;
  in >> f;
  v.push_back(f);
  return v;  // a, b_0..b_{L-1}, objective
}

}  // namespace

TEST_CASE("TrainCalibration matches scipy's optimum of the same objective (balanced and count priors)") {
  const Dev d = LoadScores();
  REQUIRE(d.scores.size() == 135);
  for (const bool balanced : {true, false}) {
    const std::vector<double> ref = LoadRef(balanced ? "ref_balanced.txt" : "ref_counts.txt");
    REQUIRE(ref.size() == 6);
    slid::CalibrationOptions o;
    o.balance_priors = balanced;
    slid::CalibrationReport rep;
    const slid::Calibration c = slid::TrainCalibration(d.scores, d.labels, 4, o, &rep);
    CAPTURE(balanced);
    // Tolerance: scipy's BFGS stops at gradient ~1e-9 ("precision loss"); Newton converges to ~1e-12.
    CHECK(rep.scale == doctest::Approx(ref[0]).epsilon(1e-5));
    for (int l = 0; l < 4; ++l) {
      CHECK(c.weights(l, l) == doctest::Approx(ref[0]).epsilon(1e-5));
      CHECK(c.bias[l] == doctest::Approx(ref[1 + l]).epsilon(1e-5).scale(1));
    }
    CHECK(c.weights(0, 1) == 0.0);
    // The objective (without the ridge term, which is below 1e-6 here) equals scipy's minimum.
    CHECK(rep.cross_entropy_after == doctest::Approx(ref[5]).epsilon(1e-6));
    CHECK(rep.cross_entropy_after < rep.cross_entropy_before);
    CHECK(rep.iterations < 50);
  }
}

TEST_CASE("TrainCalibration properties: shift invariance and scale equivariance") {
  const Dev d = LoadScores();
  const slid::Calibration base = slid::TrainCalibration(d.scores, d.labels, 4);
  Dev shifted = d, doubled = d;
  for (size_t i = 0; i < d.scores.size(); ++i)
    for (int l = 0; l < 4; ++l) {
      shifted.scores[i][l] += 10.0 * static_cast<double>(i % 7) - 30;  // per-recording constant
      doubled.scores[i][l] *= 2;
    }
  const slid::Calibration s = slid::TrainCalibration(shifted.scores, shifted.labels, 4);
  const slid::Calibration t = slid::TrainCalibration(doubled.scores, doubled.labels, 4);
  CHECK(s.weights(0, 0) == doctest::Approx(base.weights(0, 0)).epsilon(1e-6));
  CHECK(t.weights(0, 0) == doctest::Approx(base.weights(0, 0) / 2).epsilon(1e-5));
  for (int l = 0; l < 4; ++l) {
    // Offsets are defined up to a common constant (the ridge picks mean ~0): compare differences.
    CHECK(s.bias[l] - s.bias[0] == doctest::Approx(base.bias[l] - base.bias[0]).epsilon(1e-5).scale(1));
    CHECK(t.bias[l] - t.bias[0] == doctest::Approx(base.bias[l] - base.bias[0]).epsilon(1e-5).scale(1));
  }
}

TEST_CASE("Calibration: Apply, JSON round trip, errors") {
  slid::Calibration c;
  CHECK(c.empty());
  CHECK(c.ToJson().is_null());
  c.weights.resize(2, 2);
  c.weights << 1, 2, 3, 4;
  c.bias.resize(2);
  c.bias << 0.5, -0.1;
  const std::vector<double> out = c.Apply({1.0 / 3, 2.0});
  CHECK(out[0] == doctest::Approx(1.0 / 3 + 4 + 0.5));
  CHECK(out[1] == doctest::Approx(1.0 + 8 - 0.1));
  const slid::Calibration r = slid::Calibration::FromJson(nlohmann::json::parse(c.ToJson().dump()));
  CHECK(r.weights == c.weights);
  CHECK(r.bias == c.bias);
  CHECK_THROWS_AS(c.Apply({1.0}), slid::Error);
  CHECK_THROWS_AS(slid::Calibration::FromJson({{"weights", {{1.0}}}, {"bias", {1.0, 2.0}}}), slid::Error);

  const Dev d = LoadScores();
  CHECK_THROWS_AS(slid::TrainCalibration(d.scores, d.labels, 5), slid::Error);  // 4 scores for 5 languages
  // Fewer than 2 languages with recordings: nothing to calibrate against.
  Dev one;
  for (size_t i = 0; i < d.scores.size(); ++i)
    if (d.labels[i] == 1) {
      one.scores.push_back(d.scores[i]);
      one.labels.push_back(1);
    }
  CHECK_THROWS_AS(slid::TrainCalibration(one.scores, one.labels, 4), slid::Error);
  std::vector<int> bad = d.labels;
  bad[3] = 9;
  CHECK_THROWS_AS(slid::TrainCalibration(d.scores, bad, 4), slid::Error);
  Dev nan = d;
  nan.scores[0][1] = std::nan("");
  CHECK_THROWS_AS(slid::TrainCalibration(nan.scores, nan.labels, 4), slid::Error);
  CHECK_THROWS_AS(slid::TrainCalibration({{1.0}}, {0}, 1), slid::Error);
}

namespace {

// d without the recordings of language `absent`.
Dev Without(const Dev& d, int absent) {
  Dev out;
  for (size_t i = 0; i < d.scores.size(); ++i)
    if (d.labels[i] != absent) {
      out.scores.push_back(d.scores[i]);
      out.labels.push_back(d.labels[i]);
    }
  return out;
}

// Mean over recordings of -log softmax(c.Apply(s))_y (nats).
double CrossEntropy(const slid::Calibration& c, const Dev& d) {
  double sum = 0;
  for (size_t i = 0; i < d.scores.size(); ++i) {
    const std::vector<double> z = c.Apply(d.scores[i]);
    double m = z[0];
    for (double v : z) m = std::max(m, v);
    double e = 0;
    for (double v : z) e += std::exp(v - m);
    sum += m + std::log(e) - z[d.labels[i]];
  }
  return sum / static_cast<double>(d.scores.size());
}

}  // namespace

TEST_CASE("TrainCalibration with a language absent from the development data matches scipy (tied offset)") {
  const Dev all = LoadScores();
  const Dev dev = Without(all, 2);  // language 2's scores still compete; no recording of it
  const std::vector<double> ref = LoadRef("ref_absent.txt");
  REQUIRE(ref.size() == 6);
  slid::CalibrationReport rep;
  const slid::Calibration c = slid::TrainCalibration(dev.scores, dev.labels, 4, {}, &rep);
  REQUIRE(rep.languages_without_data == std::vector<int>{2});
  CHECK(c.info.at("languages_without_data") == nlohmann::json::array({2}));
  // Same tolerances as the all-present reference (scipy's BFGS stops at gradient ~1e-9).
  CHECK(rep.scale == doctest::Approx(ref[0]).epsilon(1e-5));
  for (int l = 0; l < 4; ++l) {
    CHECK(c.weights(l, l) == doctest::Approx(ref[0]).epsilon(1e-5));
    CHECK(c.bias[l] == doctest::Approx(ref[1 + l]).epsilon(1e-5).scale(1));
  }
  CHECK(rep.cross_entropy_after == doctest::Approx(ref[5]).epsilon(1e-6));
  // The tie holds exactly (up to rounding): the absent offset is the mean of the trained ones.
  CHECK(c.bias[2] == doctest::Approx((c.bias[0] + c.bias[1] + c.bias[3]) / 3).scale(1).epsilon(1e-12));
  // The absent language still gets finite calibrated posteriors that sum to 1, and on its own
  // recordings (never seen in training) they carry information: cross-entropy under log 4 (uninformative).
  Dev own;
  for (size_t i = 0; i < all.scores.size(); ++i)
    if (all.labels[i] == 2) {
      own.scores.push_back(all.scores[i]);
      own.labels.push_back(2);
    }
  REQUIRE(own.scores.size() == 10);
  for (const auto& s : own.scores) {
    const std::vector<double> z = c.Apply(s);
    double m = z[0], sum = 0;
    for (double v : z) m = std::max(m, v);
    for (double v : z) {
      REQUIRE(std::isfinite(v));
      sum += std::exp(v - m);
    }
    double psum = 0;
    for (double v : z) psum += std::exp(v - m) / sum;
    CHECK(psum == doctest::Approx(1.0).epsilon(1e-12));
  }
  const double ce_own = CrossEntropy(c, own);
  CHECK(ce_own < std::log(4.0));
  // ... and close to what the calibration trained with its recordings gives them (within 0.3 nats).
  const slid::Calibration full = slid::TrainCalibration(all.scores, all.labels, 4);
  CAPTURE(CrossEntropy(full, own));
  CHECK(std::abs(ce_own - CrossEntropy(full, own)) < 0.3);
}

TEST_CASE("TrainCalibration with an absent language: shift invariance, and every language absent in turn") {
  const Dev all = LoadScores();
  for (int absent = 0; absent < 4; ++absent) {
    CAPTURE(absent);
    const Dev dev = Without(all, absent);
    const slid::Calibration c = slid::TrainCalibration(dev.scores, dev.labels, 4);
    REQUIRE(c.bias.allFinite());
    double mean = 0;
    for (int l = 0; l < 4; ++l)
      if (l != absent) mean += c.bias[l] / 3;
    CHECK(c.bias[absent] == doctest::Approx(mean).scale(1).epsilon(1e-12));
    // A per-recording constant added to every score changes nothing (the tie keeps softmax invariance).
    Dev shifted = dev;
    for (size_t i = 0; i < dev.scores.size(); ++i)
      for (int l = 0; l < 4; ++l) shifted.scores[i][l] += 7.0 * static_cast<double>(i % 5) - 20;
    const slid::Calibration s = slid::TrainCalibration(shifted.scores, shifted.labels, 4);
    CHECK(s.weights(0, 0) == doctest::Approx(c.weights(0, 0)).epsilon(1e-6));
    for (int l = 0; l < 4; ++l)
      CHECK(s.bias[l] - s.bias[0] == doctest::Approx(c.bias[l] - c.bias[0]).epsilon(1e-5).scale(1));
    // Training never raises the cross-entropy of the development data.
    slid::CalibrationReport rep;
    slid::TrainCalibration(dev.scores, dev.labels, 4, {}, &rep);
    CHECK(rep.cross_entropy_after < rep.cross_entropy_before);
  }
}
