// Affine score calibration: applying, storing and training (scalar scale + per-language offsets by
// Newton's method on the prior-weighted multiclass cross-entropy). See slid/calibration.h.
#include "slid/calibration.h"

#include <Eigen/Cholesky>
#include <cmath>
#include <limits>

#include "slid/error.h"

namespace slid {

std::vector<double> Calibration::Apply(const std::vector<double>& scores) const {
  if (static_cast<int>(scores.size()) != NumLanguages())
    throw Error("calibration: " + std::to_string(scores.size()) + " scores for " + std::to_string(NumLanguages()) +
                " languages");
  const Eigen::Map<const VectorD> s(scores.data(), static_cast<Eigen::Index>(scores.size()));
  const VectorD c = weights * s + bias;
  return std::vector<double>(c.data(), c.data() + c.size());
}

void Calibration::Validate() const {
  if (weights.size() == 0 && bias.size() == 0) return;
  const auto l = bias.size();
  if (l < 1 || weights.rows() != l || weights.cols() != l)
    throw Error("calibration: weights are " + std::to_string(weights.rows()) + " x " + std::to_string(weights.cols()) +
                ", bias has " + std::to_string(l) + " entries");
  if (!weights.allFinite() || !bias.allFinite()) throw Error("calibration: non-finite parameters");
}

nlohmann::json Calibration::ToJson() const {
  if (empty()) return nullptr;
  nlohmann::json w = nlohmann::json::array();
  for (Eigen::Index r = 0; r < weights.rows(); ++r)
    w.push_back(std::vector<double>(weights.row(r).data(), weights.row(r).data() + weights.cols()));
  return {{"weights", w}, {"bias", std::vector<double>(bias.data(), bias.data() + bias.size())}, {"info", info}};
}

Calibration Calibration::FromJson(const nlohmann::json& j) {
  Calibration c;
  if (j.is_null()) return c;
  try {
    const auto b = j.at("bias").get<std::vector<double>>();
    const auto w = j.at("weights").get<std::vector<std::vector<double>>>();
    const auto l = static_cast<Eigen::Index>(b.size());
    if (static_cast<Eigen::Index>(w.size()) != l) throw Error("calibration: weights and bias disagree in size");
    c.bias = Eigen::Map<const VectorD>(b.data(), l);
    c.weights.resize(l, l);
    for (Eigen::Index r = 0; r < l; ++r) {
      if (static_cast<Eigen::Index>(w[r].size()) != l) throw Error("calibration: weights are not square");
      for (Eigen::Index k = 0; k < l; ++k) c.weights(r, k) = w[r][k];
    }
    c.info = j.value("info", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("calibration: ") + e.what());
  }
  c.Validate();
  return c;
}

namespace {

struct CalibrationProblem {
  const std::vector<std::vector<double>>& scores;
  const std::vector<int>& labels;
  std::vector<double> w;  // per-recording weight P_y / N_y
  int L;
  double ridge;

  // Objective at (a, b); if grad/hess are given, fills them (size L+1; parameter 0 is a).
  double Eval(double a, const VectorD& b, VectorD* grad, MatrixD* hess) const {
    double f = 0.5 * ridge * (a * a + b.squaredNorm());
    if (grad) {
      grad->setZero(L + 1);
      hess->setZero(L + 1, L + 1);
      (*grad)[0] = ridge * a;
      grad->tail(L) = ridge * b;
      hess->diagonal().setConstant(ridge);
    }
    VectorD z(L), p(L), s(L);
    for (size_t i = 0; i < scores.size(); ++i) {
      for (int l = 0; l < L; ++l) s[l] = scores[i][l];
      z = a * s + b;
      const double m = z.maxCoeff();
      p = (z.array() - m).exp();
      const double zsum = p.sum();
      p /= zsum;
      const int y = labels[i];
      f += w[i] * (m + std::log(zsum) - z[y]);
      if (!grad) continue;
      VectorD r = p;
      r[y] -= 1;  // dLoss/dz
      (*grad)[0] += w[i] * r.dot(s);
      grad->tail(L) += w[i] * r;
      // d2Loss/dz2 = diag(p) - p p^T; z = a s + b.
      const VectorD hs = p.cwiseProduct(s) - p * p.dot(s);  // H_z s
      (*hess)(0, 0) += w[i] * s.dot(hs);
      hess->block(1, 0, L, 1) += w[i] * hs;
      hess->block(0, 1, 1, L) += w[i] * hs.transpose();
      MatrixD hz = -p * p.transpose();
      hz.diagonal() += p;
      hess->block(1, 1, L, L) += w[i] * hz;
    }
    return f;
  }
};

}  // namespace

Calibration TrainCalibration(const std::vector<std::vector<double>>& scores, const std::vector<int>& labels,
                             int num_languages, const CalibrationOptions& opts, CalibrationReport* report) {
  const int L = num_languages;
  if (L < 2) throw Error("calibration: needs at least 2 languages");
  if (scores.size() != labels.size()) throw Error("calibration: scores and labels differ in number");
  if (!(opts.ridge >= 0)) throw Error("calibration: ridge must be >= 0");
  std::vector<int64_t> count(L, 0);
  for (size_t i = 0; i < scores.size(); ++i) {
    if (static_cast<int>(scores[i].size()) != L)
      throw Error("calibration: recording " + std::to_string(i) + " has " + std::to_string(scores[i].size()) +
                  " scores, expected " + std::to_string(L));
    for (double v : scores[i])
      if (!std::isfinite(v)) throw Error("calibration: recording " + std::to_string(i) + " has a non-finite score");
    if (labels[i] < 0 || labels[i] >= L) throw Error("calibration: label out of range at recording " + std::to_string(i));
    ++count[labels[i]];
  }
  CalibrationReport rep;
  std::vector<int> present;
  for (int l = 0; l < L; ++l) (count[l] > 0 ? present : rep.languages_without_data).push_back(l);
  const int num_present = static_cast<int>(present.size());
  if (num_present < 2)
    throw Error("calibration: development recordings of at least 2 languages are needed, got " +
                std::to_string(num_present));
  CalibrationProblem pr{scores, labels, {}, L, opts.ridge};
  const double n = static_cast<double>(scores.size());
  for (int y : labels) pr.w.push_back(opts.balance_priors ? (1.0 / num_present) / count[y] : 1.0 / n);

  // Free parameters theta = (a, b_P); (a, b) = A theta, where an absent language's offset is the mean
  // of the present ones (slid/calibration.h). Newton runs on theta with gradient A^T g and Hessian
  // A^T H A. With every language present A = I, and theta is (a, b) itself (no projection at all, so
  // the result is the one of the plain problem, bit for bit).
  const bool tied = num_present < L;
  MatrixD A;
  if (tied) {
    A.setZero(L + 1, num_present + 1);
    A(0, 0) = 1;
    for (int k = 0; k < num_present; ++k) A(1 + present[k], 1 + k) = 1;
    for (int l : rep.languages_without_data) A.block(1 + l, 1, 1, num_present).setConstant(1.0 / num_present);
  }
  double a = 1;
  VectorD b = VectorD::Zero(L);
  VectorD g;
  MatrixD h;
  // Objective, gradient and Hessian with respect to theta at (a, b).
  auto eval_theta = [&](double aa, const VectorD& bb, VectorD* gt, MatrixD* ht) {
    const double f = pr.Eval(aa, bb, gt, ht);
    if (tied && gt) {
      *gt = A.transpose() * *gt;
      *ht = A.transpose() * *ht * A;
    }
    return f;
  };
  double f = eval_theta(a, b, &g, &h);
  rep.cross_entropy_before = f - 0.5 * opts.ridge * (a * a);
  int it = 0;
  for (; it < opts.max_iters; ++it) {
    const VectorD step_theta = h.ldlt().solve(-g);
    if (!step_theta.allFinite()) break;
    const VectorD step = tied ? VectorD(A * step_theta) : step_theta;  // in (a, b)
    double t = 1, f_new = f;
    for (int ls = 0; ls < 50; ++ls, t *= 0.5) {
      f_new = pr.Eval(a + t * step[0], b + t * step.tail(L), nullptr, nullptr);
      if (f_new <= f + 1e-4 * t * g.dot(step_theta)) break;
    }
    if (!(f_new < f)) break;
    a += t * step[0];
    b += t * step.tail(L);
    const double gain = f - f_new;
    f = eval_theta(a, b, &g, &h);
    if (gain <= opts.tol * std::max(1.0, std::abs(f))) {
      ++it;
      break;
    }
  }
  Calibration c;
  c.weights = MatrixD::Identity(L, L) * a;
  c.bias = b;
  rep.scale = a;
  rep.iterations = it;
  rep.cross_entropy_after = pr.Eval(a, b, nullptr, nullptr) - 0.5 * opts.ridge * (a * a + b.squaredNorm());
  c.info = {{"method", "scalar scale + offsets (FoCal), Newton on prior-weighted cross-entropy"},
            {"balance_priors", opts.balance_priors},
            {"ridge", opts.ridge},
            {"recordings", scores.size()},
            {"cross_entropy_before", rep.cross_entropy_before},
            {"cross_entropy_after", rep.cross_entropy_after},
            {"iterations", it},
            {"languages_without_data", rep.languages_without_data},
            {"absent_language_offset", "mean of the trained offsets (tied)"}};
  if (report) *report = rep;
  return c;
}

}  // namespace slid
