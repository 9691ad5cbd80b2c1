// Random diagonal GMMs and language model sets with slid's default feature dimension, for tests that
// need a model but not a trained one.
#pragma once
#include <random>
#include <string>
#include <vector>

#include "slid/frontend.h"
#include "slid/gmm.h"
#include "slid/model.h"

struct RandomGmmOptions {
  float mean_scale = 1.0f;   // means are mean_scale * N(0, 1) ...
  float lang_shift = 0.0f;   // ... + lang_shift * (index of the language), to make languages separable
  float var_min = 0.3f;      // variances and (unnormalised) weights uniform in [var_min, var_max)
  float var_max = 3.0f;
};

// A k-component GMM of dimension d; `shift` is added to every mean.
inline slid::DiagGmm RandomGmm(int k, int d, std::mt19937* rng, const RandomGmmOptions& o = {}, float shift = 0.0f) {
  std::normal_distribution<float> n(0.f, 1.f);
  std::uniform_real_distribution<float> u(o.var_min, o.var_max);
  slid::Vector w(k);
  slid::Matrix mu(k, d), var(k, d);
  for (int i = 0; i < k; ++i) {
    w[i] = u(*rng);
    for (int j = 0; j < d; ++j) {
      mu(i, j) = o.mean_scale * n(*rng) + shift;
      var(i, j) = u(*rng);
    }
  }
  w /= w.sum();
  return slid::DiagGmm(w, mu, var);
}

// `num_lang` languages "l0", "l1", ... of k components each, for the default frontend's dimension.
inline slid::LanguageModelSet RandomModel(int num_lang, int k, int seed, const RandomGmmOptions& o = {}) {
  std::mt19937 rng(seed);
  std::vector<std::string> langs;
  std::vector<slid::DiagGmm> gmms;
  const int d = slid::Frontend(slid::FrontendOptions()).Dim();
  for (int l = 0; l < num_lang; ++l) {
    langs.push_back("l" + std::to_string(l));
    gmms.push_back(RandomGmm(k, d, &rng, o, o.lang_shift * l));
  }
  return slid::LanguageModelSet::FromGmms({}, langs, gmms);
}
