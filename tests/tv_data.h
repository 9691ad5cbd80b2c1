// Synthetic data from a true total-variability model (K components, per-utterance shift T w), for the
// i-vector tests (test_ivector.cc) and the sharded T-matrix EM tests (test_distributed.cc).
#pragma once
#include <random>
#include <utility>
#include <vector>

#include "slid/gmm.h"
#include "slid/matrix.h"

struct TvData {
  slid::DiagGmm ubm;
  std::vector<slid::Matrix> utts;
};

inline TvData MakeTvData(int k, int d, int r, int num_utts, unsigned seed) {
  using slid::Matrix;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  slid::Vector w = slid::Vector::Constant(k, 1.0f / k);
  Matrix mu(k, d), var = Matrix::Constant(k, d, 1.0f), t(k * d, r);
  for (int i = 0; i < mu.size(); ++i) mu.data()[i] = 3.0f * normal(rng);
  for (int i = 0; i < t.size(); ++i) t.data()[i] = 0.8f * normal(rng);
  TvData data{slid::DiagGmm(w, mu, var), {}};
  std::uniform_int_distribution<int> pick(0, k - 1), len(20, 80);
  for (int u = 0; u < num_utts; ++u) {
    Eigen::VectorXf iv(r);
    for (int q = 0; q < r; ++q) iv[q] = normal(rng);
    Matrix x(len(rng), d);
    for (int n = 0; n < x.rows(); ++n) {
      const int c = pick(rng);
      const Eigen::VectorXf shift = t.middleRows(c * d, d) * iv;
      for (int q = 0; q < d; ++q) x(n, q) = mu(c, q) + shift[q] + 0.7f * normal(rng);
    }
    data.utts.push_back(std::move(x));
  }
  return data;
}
