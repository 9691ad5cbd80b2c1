// Loader of tests/data/gmm/sklearn_em_step.json (made by tests/data/make_gmm_fixtures.py; see
// tests/data/README.md), shared by test_em.cc and test_gmm.cc.
#pragma once
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "slid/matrix.h"

struct SklearnGmmFixture {
  nlohmann::json j;  // everything, including the reference results
  int k = 0, d = 0, n = 0;
  slid::Matrix x, mu, var;  // data (n x d) and the initial means and variances (k x d)
  slid::Vector w;           // initial weights (k)
};

inline SklearnGmmFixture LoadSklearnGmmFixture() {
  SklearnGmmFixture f;
  std::ifstream in(std::string(SLID_TEST_DATA) + "/gmm/sklearn_em_step.json");
  REQUIRE(in);
  f.j = nlohmann::json::parse(in);
  f.k = f.j["num_gauss"];
  f.d = f.j["dim"];
  f.n = f.j["frames"];
  f.x.resize(f.n, f.d);
  f.mu.resize(f.k, f.d);
  f.var.resize(f.k, f.d);
  f.w.resize(f.k);
  for (int i = 0; i < f.n; ++i)
    for (int c = 0; c < f.d; ++c) f.x(i, c) = f.j["data"][i][c].get<float>();
  for (int i = 0; i < f.k; ++i) {
    f.w[i] = f.j["init_weights"][i].get<float>();
    for (int c = 0; c < f.d; ++c) {
      f.mu(i, c) = f.j["init_means"][i][c].get<float>();
      f.var(i, c) = f.j["init_variances"][i][c].get<float>();
    }
  }
  return f;
}
