// Metrics on small cases computed by hand (the working is in the comments).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "slid/error.h"
#include "slid/metrics.h"

using slid::Trial;

TEST_CASE("DetectionScores: LLR of one language against the mean of the others") {
  // a = {0, log 2, log 4}: s_0 = 0 - log((2 + 4) / 2) = -log 3, s_2 = log 4 - log((1 + 2) / 2) = log(8/3).
  const std::vector<double> s = slid::DetectionScores({0.0, std::log(2.0), std::log(4.0)});
  REQUIRE(s.size() == 3);
  CHECK(s[0] == doctest::Approx(-std::log(3.0)).epsilon(1e-12));
  CHECK(s[1] == doctest::Approx(std::log(2.0) - std::log(2.5)).epsilon(1e-12));
  CHECK(s[2] == doctest::Approx(std::log(8.0 / 3.0)).epsilon(1e-12));
  // Shift invariance: adding a constant to every score leaves the LLRs unchanged; large values stay finite.
  const std::vector<double> t = slid::DetectionScores({1000.0, 1000.0 + std::log(2.0), 1000.0 + std::log(4.0)});
  for (int i = 0; i < 3; ++i) CHECK(t[i] == doctest::Approx(s[i]).epsilon(1e-9));
  CHECK(slid::DetectionScores({5.0}) == std::vector<double>{0.0});
  CHECK_THROWS_AS(slid::DetectionScores({}), slid::Error);
}

TEST_CASE("ArgMax takes the lowest index on ties") {
  CHECK(slid::ArgMax({1, 3, 3, 2}) == 1);
  CHECK(slid::ArgMax({-5}) == 0);
  CHECK_THROWS_AS(slid::ArgMax({}), slid::Error);
}

TEST_CASE("ConfusionMatrix counts truth x decision") {
  const auto m = slid::ConfusionMatrix({0, 0, 1, 2, 2}, {0, 1, 1, 2, 0}, 3);
  const std::vector<std::vector<int64_t>> expect = {{1, 1, 0}, {0, 1, 0}, {1, 0, 1}};
  CHECK(m == expect);
  CHECK_THROWS_AS(slid::ConfusionMatrix({0, 3}, {0, 0}, 3), slid::Error);
  CHECK_THROWS_AS(slid::ConfusionMatrix({0}, {0, 0}, 3), slid::Error);
}

TEST_CASE("EER when a threshold gives p_miss == p_fa exactly") {
  // targets {0.9, 0.8, 0.4}, non-targets {0.5, 0.3, 0.2}. At threshold 0.5: misses {0.4} = 1/3,
  // false alarms {0.5} = 1/3.
  CHECK(slid::EqualErrorRate({0.9, 0.8, 0.4}, {0.5, 0.3, 0.2}) == doctest::Approx(1.0 / 3.0));
  // Perfect separation: EER 0. Complete inversion: EER 1.
  CHECK(slid::EqualErrorRate({3, 4}, {1, 2}) == doctest::Approx(0.0));
  CHECK(slid::EqualErrorRate({1, 2}, {3, 4}) == doctest::Approx(1.0));
}

TEST_CASE("EER interpolates between operating points") {
  // targets {3, 1}, non-target {2}: points (p_fa, p_miss) = (0, 1) at +inf, (0, 0.5) at 3, (1, 0.5) at 2,
  // (1, 0) at 1. The segment (0, 0.5)-(1, 0.5) crosses p_miss == p_fa at 0.5.
  CHECK(slid::EqualErrorRate({3, 1}, {2}) == doctest::Approx(0.5));
  // targets {4, 2}, non-targets {3, 1, 0, -1}: (0,1) -> (0,.5)@4 -> (.25,.5)@3 -> (.25,0)@2.
  // Segment (.25,.5)-(.25,0) crosses p_miss == p_fa at p_fa = 0.25.
  CHECK(slid::EqualErrorRate({4, 2}, {3, 1, 0, -1}) == doctest::Approx(0.25));
  CHECK_THROWS_AS(slid::EqualErrorRate({}, {1}), slid::Error);
}

TEST_CASE("DetCurve moves tied scores together") {
  // targets {1, 1}, non-target {1}: one threshold accepts all three.
  const auto pts = slid::DetCurve({1, 1}, {1});
  REQUIRE(pts.size() == 2);
  CHECK(pts[0].p_miss == 1.0);
  CHECK(pts[0].p_fa == 0.0);
  CHECK(pts[1].p_miss == 0.0);
  CHECK(pts[1].p_fa == 1.0);
  CHECK(slid::EqualErrorRate({1, 1}, {1}) == doctest::Approx(0.5));
}

TEST_CASE("Cavg on a hand-computed 3-language case") {
  // Utterances (truth: decisions for A, B, C):
  //   u0 A: yes no no;  u1 A: no yes no;  u2 B: no yes yes;  u3 C: yes no yes.
  // Target A: P_miss = 1/2, P_fa(A,B) = 0, P_fa(A,C) = 1 -> 0.5*0.5 + 0.25*(0+1) = 0.5
  // Target B: P_miss = 0,   P_fa(B,A) = 1/2, P_fa(B,C) = 0 -> 0.25*0.5 = 0.125
  // Target C: P_miss = 0,   P_fa(C,A) = 0, P_fa(C,B) = 1   -> 0.25
  // Cavg = (0.5 + 0.125 + 0.25) / 3 = 0.2916666...
  const std::vector<int> truth = {0, 0, 1, 2};
  const std::vector<std::vector<bool>> dec = {
      {true, false, false}, {false, true, false}, {false, true, true}, {true, false, true}};
  CHECK(slid::Cavg(truth, dec, 3) == doctest::Approx(0.875 / 3.0).epsilon(1e-12));
  // Perfect decisions cost 0; saying "yes" to everything costs (1 - P_target) = 0.5.
  const std::vector<std::vector<bool>> perfect = {
      {true, false, false}, {true, false, false}, {false, true, false}, {false, false, true}};
  CHECK(slid::Cavg(truth, perfect, 3) == doctest::Approx(0.0));
  const std::vector<std::vector<bool>> all_yes(4, std::vector<bool>(3, true));
  CHECK(slid::Cavg(truth, all_yes, 3) == doctest::Approx(0.5));
  const std::vector<std::vector<bool>> all_no(4, std::vector<bool>(3, false));
  CHECK(slid::Cavg(truth, all_no, 3) == doctest::Approx(0.5));
  // A language without test utterances is left out: 4 languages with one absent gives the same value.
  const std::vector<std::vector<bool>> dec4 = {{true, false, false, true},
                                               {false, true, false, false},
                                               {false, true, true, false},
                                               {true, false, true, true}};
  CHECK(slid::Cavg(truth, dec4, 4) == doctest::Approx(0.875 / 3.0).epsilon(1e-12));
  CHECK_THROWS_AS(slid::Cavg({0, 0}, {{true, false}, {true, false}}, 2), slid::Error);
}

TEST_CASE("Evaluate: accuracy, precision/recall, confusion, EER, Cavg together") {
  // Scores are log-likelihoods; decisions are argmax.
  std::vector<Trial> trials = {
      {0, {0.0, -1.0, -2.0}, 2.0},   // A -> A
      {0, {-1.0, 0.0, -2.0}, 5.0},   // A -> B
      {1, {-2.0, 0.0, -1.0}, 12.0},  // B -> B
      {2, {-2.0, -1.0, 0.0}, 1.0},   // C -> C
  };
  const slid::EvalSummary s = slid::Evaluate(trials, 3);
  CHECK(s.num_trials == 4);
  CHECK(s.accuracy == doctest::Approx(0.75));
  const std::vector<std::vector<int64_t>> conf = {{1, 1, 0}, {0, 1, 0}, {0, 0, 1}};
  CHECK(s.confusion == conf);
  CHECK(s.per_language[0].recall == doctest::Approx(0.5));
  CHECK(s.per_language[0].precision == doctest::Approx(1.0));
  CHECK(s.per_language[1].recall == doctest::Approx(1.0));
  CHECK(s.per_language[1].precision == doctest::Approx(0.5));
  CHECK(s.per_language[2].precision == doctest::Approx(1.0));
  // Detection LLRs: with scores {0,-1,-2} (any order) the best language has LLR
  // 0 - log((e^-1 + e^-2)/2) = 1.0068..., the middle one -1 - log((1 + e^-2)/2) = -0.4338...,
  // the worst -2 - log((1 + e^-1)/2) = -1.6201.... Threshold 0: only the argmax says "yes", so
  // the decisions equal the identification decisions here:
  // Target A: P_miss 1/2, P_fa(A,B)=0, P_fa(A,C)=0 -> 0.25; B: P_miss 0, P_fa(B,A)=1/2 -> 0.125; C: 0.
  CHECK(s.cavg == doctest::Approx((0.25 + 0.125 + 0.0) / 3.0));
  // Pooled LLRs (b = 1.0068 best, m = -0.4338 middle, w = -1.6201 worst):
  //   targets: u0 A b, u1 A m, u2 B b, u3 C b                -> {b, b, b, m}
  //   non-targets: u0 {m, w}, u1 {b, w}, u2 {w, m}, u3 {w, m} -> {b, m, m, m, w, w, w, w}
  // Points: (p_fa, p_miss) = (0, 1) at +inf, (1/8, 1/4) at b, (4/8, 0) at m, (1, 0) at w.
  // Segment (1/8, 1/4)-(1/2, 0): p_miss - p_fa goes 1/8 -> -1/2, zero at t = 1/5: p_fa = 1/8 + 3/40 = 0.2.
  CHECK(s.eer == doctest::Approx(0.2));
  // Zero trials: defined, empty results.
  const slid::EvalSummary e = slid::Evaluate({}, 3);
  CHECK(e.num_trials == 0);
  CHECK(e.eer == -1);
  CHECK(e.cavg == -1);
  CHECK_THROWS_AS(slid::Evaluate({{0, {1.0}, 1.0}}, 3), slid::Error);
}

TEST_CASE("Duration buckets partition the positive half-line") {
  const auto& b = slid::DefaultDurationBuckets();
  REQUIRE(b.size() == 3);
  auto bucket_of = [&](double d) {
    for (size_t i = 0; i < b.size(); ++i)
      if (d > b[i].min_seconds && d <= b[i].max_seconds) return static_cast<int>(i);
    return -1;
  };
  CHECK(bucket_of(0.0) == 0);
  CHECK(bucket_of(3.0) == 0);
  CHECK(bucket_of(3.01) == 1);
  CHECK(bucket_of(10.0) == 1);
  CHECK(bucket_of(1e6) == 2);
}

namespace {
// The 300 random 5-language trials of tests/data/make_metrics_fixtures.py: "<true> <s1> ... <s5>" a line.
std::vector<Trial> ReadTrials5() {
  std::ifstream tsv(SLID_TEST_DATA "/metrics/trials_5lang.tsv");
  REQUIRE(tsv.good());
  std::vector<Trial> trials;
  std::string line;
  while (std::getline(tsv, line)) {
    std::istringstream in(line);
    Trial t;
    in >> t.true_language;
    double v;
    while (in >> v) t.scores.push_back(v);
    REQUIRE(t.scores.size() == 5);
    trials.push_back(t);
  }
  return trials;
}
}  // namespace

TEST_CASE("Evaluate agrees with numpy/scikit-learn on 300 random 5-language trials") {
  // Fixture and reference values: tests/data/make_metrics_fixtures.py (see tests/data/README.md).
  const std::vector<Trial> trials = ReadTrials5();
  REQUIRE(trials.size() == 300);
  std::ifstream js(SLID_TEST_DATA "/metrics/expected_5lang.json");
  const nlohmann::json ref = nlohmann::json::parse(js);
  const slid::EvalSummary s = slid::Evaluate(trials, 5);
  CHECK(s.accuracy == doctest::Approx(ref["accuracy"].get<double>()).epsilon(1e-12));
  CHECK(s.confusion == ref["confusion"].get<std::vector<std::vector<int64_t>>>());
  for (int l = 0; l < 5; ++l) {
    CHECK(s.per_language[l].precision == doctest::Approx(ref["precision"][l].get<double>()).epsilon(1e-12));
    CHECK(s.per_language[l].recall == doctest::Approx(ref["recall"][l].get<double>()).epsilon(1e-12));
  }
  // Both sides compute the LLRs in double from the same 4-decimal scores; 1e-9 allows for exp/log rounding.
  CHECK(s.eer == doctest::Approx(ref["eer"].get<double>()).epsilon(1e-9));
  CHECK(s.cavg == doctest::Approx(ref["cavg"].get<double>()).epsilon(1e-9));
}

// ---------------------------------------------------------------- Cllr (tests/data/cllr/make_cllr_fixtures.py)

TEST_CASE("Cllr and min-Cllr agree with a numpy / scikit-learn-isotonic transcription of BOSARIS (1e-9)") {
  std::ifstream in(SLID_TEST_DATA "/cllr/expected_cllr.json");
  REQUIRE(in);
  const nlohmann::json j = nlohmann::json::parse(in);
  for (const auto& c : j["binary"]) {
    CAPTURE(c["name"].get<std::string>());
    const std::vector<double> tar = c["tar"], non = c["non"];
    CHECK(slid::Cllr(tar, non) == doctest::Approx(c["cllr"].get<double>()).epsilon(1e-9));
    CHECK(slid::MinCllr(tar, non) == doctest::Approx(c["min_cllr"].get<double>()).epsilon(1e-9));
    CHECK(slid::MinCllr(tar, non) <= slid::Cllr(tar, non) + 1e-12);
  }
  const std::vector<Trial> trials = ReadTrials5();
  REQUIRE(trials.size() == 300);
  const slid::CllrSummary s = slid::DetectionCllr(trials, 5);
  CHECK(s.num_languages == 5);
  CHECK(s.cllr == doctest::Approx(j["detection_cllr"].get<double>()).epsilon(1e-9));
  CHECK(s.min_cllr == doctest::Approx(j["detection_min_cllr"].get<double>()).epsilon(1e-9));
  CHECK(slid::MulticlassCllr(trials, 5) == doctest::Approx(j["multiclass_cllr"].get<double>()).epsilon(1e-9));
}

TEST_CASE("Cllr: hand-computed values and properties") {
  // s = 0 everywhere: log(2) / (2 log 2) * 2 = 1 bit.
  CHECK(slid::Cllr({0.0, 0.0}, {0.0}) == doctest::Approx(1.0));
  // Targets at +inf, non-targets at -inf: 0.
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(slid::Cllr({inf}, {-inf}) == 0.0);
  // One target at log 3 (posterior 3/4), one non-target at -log 3: (log(4/3) + log(4/3)) / (2 log 2).
  CHECK(slid::Cllr({std::log(3.0)}, {-std::log(3.0)}) == doctest::Approx(std::log(4.0 / 3.0) / std::log(2.0)));
  // min-Cllr is invariant under monotone transformations of the scores.
  const std::vector<double> tar = {0.3, 1.2, 2.5, -0.1, 0.9}, non = {-1.0, 0.2, -0.3, 0.95, -2.0, 0.0};
  std::vector<double> tar2, non2;
  for (double v : tar) tar2.push_back(std::exp(3 * v) + 7);
  for (double v : non) non2.push_back(std::exp(3 * v) + 7);
  CHECK(slid::MinCllr(tar, non) == doctest::Approx(slid::MinCllr(tar2, non2)).epsilon(1e-12));
  // Uninformative multiclass scores give log2(N).
  std::vector<Trial> trials(4);
  for (int i = 0; i < 4; ++i) trials[i] = Trial{i % 4, {1.0, 1.0, 1.0, 1.0}, 1.0};
  CHECK(slid::MulticlassCllr(trials, 4) == doctest::Approx(2.0));
  CHECK(slid::MulticlassCllr({}, 4) == -1.0);
  CHECK(slid::DetectionCllr({}, 4).cllr == -1.0);
  CHECK_THROWS_AS(slid::Cllr({}, {1.0}), slid::Error);
  CHECK_THROWS_AS(slid::MinCllr({1.0}, {std::nan("")}), slid::Error);
}

// ------------------------------------- multiclass min-Cllr, reliability (tests/data/cllr/make_min_cllr_fixtures.py)


TEST_CASE("MinMulticlassCllr agrees with scipy's BFGS minimum of the multiclass Cllr over (a, b) (1e-6)") {
  // Tolerance: slid's Newton solution carries a 1e-6 ridge; scipy's minimum has none. 1e-6 relative
  // is ~1000x what the ridge moves the optimum here and far below any difference that matters.
  std::ifstream in(SLID_TEST_DATA "/cllr/expected_min_cllr.json");
  REQUIRE(in);
  const nlohmann::json j = nlohmann::json::parse(in);
  const std::vector<Trial> all = ReadTrials5();
  REQUIRE(all.size() == 300);
  std::vector<Trial> without4;
  for (const Trial& t : all)
    if (t.true_language != 4) without4.push_back(t);
  REQUIRE(static_cast<int>(without4.size()) == j["without4"]["num_trials"].get<int>());
  CHECK(slid::MulticlassCllr(all, 5) == doctest::Approx(j["all5"]["cllr"].get<double>()).epsilon(1e-9));
  CHECK(slid::MinMulticlassCllr(all, 5) == doctest::Approx(j["all5"]["min_cllr"].get<double>()).epsilon(1e-6));
  // Language 4 has no trials: slid drops its column; scipy had to push b_4 towards -inf itself.
  CHECK(slid::MulticlassCllr(without4, 5) == doctest::Approx(j["without4"]["cllr"].get<double>()).epsilon(1e-9));
  CHECK(slid::MinMulticlassCllr(without4, 5) == doctest::Approx(j["without4"]["min_cllr"].get<double>()).epsilon(1e-6));

  // Evaluate() reports the same numbers.
  const slid::EvalSummary s = slid::Evaluate(all, 5);
  CHECK(s.cllr == doctest::Approx(j["all5"]["cllr"].get<double>()).epsilon(1e-9));
  CHECK(s.min_cllr == doctest::Approx(j["all5"]["min_cllr"].get<double>()).epsilon(1e-6));
  CHECK(s.detection_cllr == doctest::Approx(slid::DetectionCllr(all, 5).cllr));
  CHECK(s.detection_min_cllr == doctest::Approx(slid::DetectionCllr(all, 5).min_cllr));

  // Reliability bins against numpy.
  const std::vector<slid::ReliabilityBin> bins = slid::Reliability(all, 5, 10);
  REQUIRE(bins.size() == 10);
  REQUIRE(s.reliability.size() == 10);
  for (size_t b = 0; b < 10; ++b) {
    const auto& e = j["reliability"][b];
    CAPTURE(b);
    CHECK(bins[b].lo == doctest::Approx(e["lo"].get<double>()));
    CHECK(bins[b].hi == doctest::Approx(e["hi"].get<double>()));
    CHECK(bins[b].count == e["count"].get<int64_t>());
    CHECK(bins[b].mean_confidence == doctest::Approx(e["mean_confidence"].get<double>()).epsilon(1e-12));
    CHECK(bins[b].accuracy == doctest::Approx(e["accuracy"].get<double>()).epsilon(1e-12));
    CHECK(s.reliability[b].count == bins[b].count);
  }
}

TEST_CASE("MinMulticlassCllr: properties") {
  const std::vector<Trial> all = ReadTrials5();
  REQUIRE(all.size() == 300);
  // Never above the Cllr it starts from, and invariant under the calibration family a s + b (a > 0).
  const double m = slid::MinMulticlassCllr(all, 5);
  CHECK(m <= slid::MulticlassCllr(all, 5) + 1e-9);
  std::vector<Trial> moved = all;
  const double b[5] = {3.0, -1.0, 0.5, 7.0, -4.0};
  for (Trial& t : moved)
    for (int l = 0; l < 5; ++l) t.scores[l] = 4.0 * t.scores[l] + b[l];
  CHECK(slid::MulticlassCllr(moved, 5) > slid::MulticlassCllr(all, 5) + 0.5);  // badly miscalibrated
  CHECK(slid::MinMulticlassCllr(moved, 5) == doctest::Approx(m).epsilon(1e-6));
  // Uninformative scores: nothing to recover, log2(N) bits; one language with trials: 0; none: -1.
  std::vector<Trial> flat;
  for (int i = 0; i < 8; ++i) flat.push_back(Trial{i % 4, {2.0, 2.0, 2.0, 2.0}, 1.0});
  CHECK(slid::MinMulticlassCllr(flat, 4) == doctest::Approx(2.0).epsilon(1e-6));
  std::vector<Trial> one = {Trial{1, {0.0, 1.0, 2.0}, 1.0}, Trial{1, {3.0, 1.0, 2.0}, 1.0}};
  CHECK(slid::MinMulticlassCllr(one, 3) == 0.0);
  CHECK(slid::MinMulticlassCllr({}, 3) == -1.0);
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(slid::MinMulticlassCllr({Trial{0, {1.0, -inf}, 1.0}, Trial{1, {0.0, 2.0}, 1.0}}, 2) == -1.0);
  CHECK_THROWS_AS(slid::MinMulticlassCllr({Trial{0, {1.0}, 1.0}}, 2), slid::Error);
  // Reliability: a confident correct trial lands in the last bin, an uninformative one in the 1/N bin.
  const std::vector<slid::ReliabilityBin> r =
      slid::Reliability({Trial{0, {50.0, 0.0}, 1.0}, Trial{1, {0.0, 0.0}, 1.0}}, 2, 4);
  REQUIRE(r.size() == 4);
  CHECK(r[3].count == 1);
  CHECK(r[3].accuracy == 1.0);
  CHECK(r[1].count == 1);  // confidence 0.5 is in (0.25, 0.5]
  CHECK(r[1].accuracy == 0.0);  // the tie goes to language 0; the truth is 1
  CHECK(r[1].mean_confidence == doctest::Approx(0.5));
  CHECK_THROWS_AS(slid::Reliability({}, 2, 0), slid::Error);
}
