// Back-ends: "gmm" scores equal each DiagGmm's own average log-likelihood; "ubm-map" top-C scoring
// equals a direct per-frame computation from DiagGmm::ComponentLogLikelihoods (pick the C best UBM
// components, log-sum-exp the adapted components there), never exceeds full scoring and grows with C;
// C = 0 or C >= K is full scoring; blocks fed in pieces give the same scores; bad shapes are errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "slid/backend.h"
#include "slid/error.h"

namespace {

slid::DiagGmm RandomGmm(int k, int d, std::mt19937* rng, float shift = 0) {
  std::normal_distribution<float> n(0.f, 1.f);
  std::uniform_real_distribution<float> u(0.3f, 2.0f);
  slid::Vector w(k);
  slid::Matrix mu(k, d), var(k, d);
  for (int i = 0; i < k; ++i) {
    w[i] = u(*rng);
    for (int j = 0; j < d; ++j) {
      mu(i, j) = 1.5f * n(*rng) + shift;
      var(i, j) = u(*rng);
    }
  }
  w /= w.sum();
  return slid::DiagGmm(w, mu, var);
}

// A UBM and L "adapted" GMMs: the UBM's variances, means moved a little, weights perturbed.
void RandomUbmMap(int k, int d, int num_lang, std::mt19937* rng, slid::DiagGmm* ubm, std::vector<slid::DiagGmm>* adapted) {
  *ubm = RandomGmm(k, d, rng);
  std::normal_distribution<float> n(0.f, 0.3f);
  for (int l = 0; l < num_lang; ++l) {
    slid::Matrix mu = ubm->means();
    for (int i = 0; i < mu.size(); ++i) mu.data()[i] += n(*rng);
    slid::Vector w = ubm->weights().array() * (1.0f + 0.5f * slid::Vector::Random(k).array().abs());
    w /= w.sum();
    adapted->emplace_back(w, mu, ubm->variances());
  }
}

slid::Matrix RandomFrames(int rows, int d, std::mt19937* rng) {
  std::normal_distribution<float> n(0.f, 1.5f);
  slid::Matrix x(rows, d);
  for (int i = 0; i < x.size(); ++i) x.data()[i] = n(*rng);
  return x;
}

std::vector<double> Score(const slid::Backend& b, const slid::Matrix& x) {
  auto u = b.NewUtterance();
  u->Add(x);
  return u->Scores();
}

// Direct top-C reference, frame by frame, from the GMMs' own component log-likelihoods (double sums).
std::vector<double> TopCReference(const slid::DiagGmm& ubm, const std::vector<slid::DiagGmm>& adapted,
                                  const slid::Matrix& x, int c) {
  const slid::Matrix u = ubm.ComponentLogLikelihoods(x);
  std::vector<slid::Matrix> a;
  for (const auto& g : adapted) a.push_back(g.ComponentLogLikelihoods(x));
  std::vector<double> out(adapted.size(), 0.0);
  const int k = ubm.NumGauss();
  for (int t = 0; t < x.rows(); ++t) {
    std::vector<int> idx(k);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int p, int q) { return u(t, p) > u(t, q); });
    for (size_t l = 0; l < adapted.size(); ++l) {
      double m = -1e300;
      for (int j = 0; j < c; ++j) m = std::max(m, static_cast<double>(a[l](t, idx[j])));
      double s = 0;
      for (int j = 0; j < c; ++j) s += std::exp(a[l](t, idx[j]) - m);
      out[l] += m + std::log(s);
    }
  }
  for (double& v : out) v /= static_cast<double>(x.rows());
  return out;
}

}  // namespace

TEST_CASE("gmm back-end: average log-likelihood of each language's GMM") {
  std::mt19937 rng(1);
  std::vector<slid::DiagGmm> g;
  for (int l = 0; l < 3; ++l) g.push_back(RandomGmm(5 + l, 6, &rng, 0.3f * l));
  const slid::GmmBackend b(g);
  const slid::Matrix x = RandomFrames(700, 6, &rng);
  const std::vector<double> s = Score(b, x);
  REQUIRE(s.size() == 3);
  for (int l = 0; l < 3; ++l) CHECK(s[l] == doctest::Approx(g[l].AverageLogLikelihood(x)).epsilon(1e-5));
  CHECK(b.NumGauss(2) == 7);
  // Pieces: 700 frames as 3 blocks.
  auto u = b.NewUtterance();
  u->Add(x.topRows(100));
  u->Add(x.middleRows(100, 0));
  u->Add(x.bottomRows(600));
  CHECK(u->NumFrames() == 700);
  for (int l = 0; l < 3; ++l) CHECK(u->Scores()[l] == doctest::Approx(s[l]).epsilon(1e-9));
  CHECK_THROWS_AS(b.NewUtterance()->Scores(), slid::Error);           // no frames
  CHECK_THROWS_AS(b.NewUtterance()->Add(slid::Matrix(3, 5)), slid::Error);  // wrong dim
  CHECK_THROWS_AS(slid::GmmBackend({}), slid::Error);
  CHECK_THROWS_AS(slid::GmmBackend({RandomGmm(2, 6, &rng), RandomGmm(2, 5, &rng)}), slid::Error);
}

TEST_CASE("ubm-map back-end: top-C against a direct computation; full scoring at C = 0 and C >= K") {
  std::mt19937 rng(2);
  const int k = 32, d = 8, num_lang = 4;
  slid::DiagGmm ubm;
  std::vector<slid::DiagGmm> adapted;
  RandomUbmMap(k, d, num_lang, &rng, &ubm, &adapted);
  const slid::Matrix x = RandomFrames(3000, d, &rng);  // more than one internal block
  const std::vector<double> full = Score(slid::GmmBackend(adapted), x);
  std::vector<double> prev(num_lang, -1e300);
  for (int c : {1, 2, 5, 10}) {
    slid::UbmMapScoringOptions o;
    o.top_c = c;
    const slid::UbmMapBackend b(ubm, adapted, o);
    const std::vector<double> s = Score(b, x);
    const std::vector<double> ref = TopCReference(ubm, adapted, x, c);
    CAPTURE(c);
    for (int l = 0; l < num_lang; ++l) {
      CHECK(s[l] == doctest::Approx(ref[l]).epsilon(1e-5));
      CHECK(s[l] <= full[l] + 1e-6);     // a subset of the mixture's terms
      CHECK(s[l] >= prev[l] - 1e-6);     // more components, more terms
      prev[l] = s[l];
    }
  }
  for (int c : {0, k, k + 5}) {
    slid::UbmMapScoringOptions o;
    o.top_c = c;
    const std::vector<double> s = Score(slid::UbmMapBackend(ubm, adapted, o), x);
    for (int l = 0; l < num_lang; ++l) CHECK(s[l] == full[l]);
  }
  slid::UbmMapScoringOptions bad;
  bad.top_c = -1;
  CHECK_THROWS_AS(slid::UbmMapBackend(ubm, adapted, bad), slid::Error);
  std::vector<slid::DiagGmm> wrong = adapted;
  wrong.push_back(RandomGmm(k - 1, d, &rng));
  CHECK_THROWS_AS(slid::UbmMapBackend(ubm, wrong), slid::Error);
}

TEST_CASE("Back-ends round-trip through Header/AppendPayload/ReadBackend") {
  std::mt19937 rng(3);
  slid::DiagGmm ubm;
  std::vector<slid::DiagGmm> adapted;
  RandomUbmMap(6, 4, 3, &rng, &ubm, &adapted);
  const slid::Matrix x = RandomFrames(50, 4, &rng);
  const slid::UbmMapBackend u(ubm, adapted);
  const slid::GmmBackend g(adapted);
  for (const slid::Backend* b : {static_cast<const slid::Backend*>(&u), static_cast<const slid::Backend*>(&g)}) {
    std::string payload;
    b->AppendPayload(&payload);
    REQUIRE(payload.size() == b->PayloadBytes());
    const auto r = slid::ReadBackend(b->Header(), payload.data(), payload.size());
    CHECK(r->Kind() == b->Kind());
    CHECK(r->Header() == b->Header());
    CHECK(Score(*r, x) == Score(*b, x));
    CHECK_THROWS_AS(slid::ReadBackend(b->Header(), payload.data(), payload.size() - 4), slid::Error);
  }
  CHECK_THROWS_AS(slid::ReadBackend({{"kind", "nope"}}, nullptr, 0), slid::Error);
  CHECK_THROWS_AS(slid::ReadBackend({{"kind", "gmm"}}, nullptr, 0), slid::Error);  // missing fields
}
