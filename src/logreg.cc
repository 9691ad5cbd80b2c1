#include "slid/logreg.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <string>

#include "slid/error.h"

namespace slid {

namespace {

// Row-wise log-sum-exp of an N x C matrix.
Eigen::VectorXd RowLogSumExp(const Eigen::MatrixXd& z) {
  const Eigen::VectorXd m = z.rowwise().maxCoeff();
  return m.array() + (z.colwise() - m).array().exp().rowwise().sum().log();
}

struct Problem {
  const Eigen::MatrixXd& x;
  const std::vector<int>& y;
  Eigen::VectorXd weight;  // per sample
  double total_weight = 0;
  double l2 = 0;
  int c = 0, d = 0;

  // theta = [W row-major (C x D), b (C)]. Returns the objective / total weight and its gradient.
  double Evaluate(const Eigen::VectorXd& theta, Eigen::VectorXd* grad) const {
    const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> w(theta.data(), c, d);
    const Eigen::Map<const Eigen::VectorXd> b(theta.data() + static_cast<int64_t>(c) * d, c);
    Eigen::MatrixXd z = x * w.transpose();
    z.rowwise() += b.transpose();
    const Eigen::VectorXd lse = RowLogSumExp(z);
    double f = 0;
    for (int n = 0; n < z.rows(); ++n) f += weight[n] * (lse[n] - z(n, y[n]));
    f += 0.5 * l2 * w.squaredNorm();
    // G = v_n (P - Y): N x C.
    Eigen::MatrixXd g = (z.colwise() - lse).array().exp();
    for (int n = 0; n < z.rows(); ++n) {
      g(n, y[n]) -= 1.0;
      g.row(n) *= weight[n];
    }
    grad->resize(theta.size());
    Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> gw(grad->data(), c, d);
    gw = g.transpose() * x + l2 * w;
    grad->tail(c) = g.colwise().sum().transpose();
    *grad /= total_weight;
    return f / total_weight;
  }
};

}  // namespace

LogRegModel TrainLogReg(const Eigen::MatrixXd& X, const std::vector<int>& labels, int num_classes,
                        const LogRegOptions& opts) {
  const int64_t n = X.rows();
  const int d = static_cast<int>(X.cols());
  if (num_classes < 2) throw Error("TrainLogReg: num_classes must be >= 2, got " + std::to_string(num_classes));
  if (n < 1 || d < 1) throw Error("TrainLogReg: no samples or no dimensions");
  if (static_cast<int64_t>(labels.size()) != n) {
    throw Error("TrainLogReg: " + std::to_string(labels.size()) + " labels for " + std::to_string(n) + " samples");
  }
  if (!(opts.l2 >= 0) || !std::isfinite(opts.l2)) throw Error("TrainLogReg: l2 must be finite and >= 0");
  if (opts.max_iters < 0 || !(opts.tol > 0)) throw Error("TrainLogReg: max_iters must be >= 0 and tol > 0");
  if (!X.allFinite()) throw Error("TrainLogReg: non-finite sample value");
  std::vector<int64_t> count(num_classes, 0);
  for (int64_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      throw Error("TrainLogReg: label " + std::to_string(labels[i]) + " of sample " + std::to_string(i) +
                  " is outside [0, " + std::to_string(num_classes) + ")");
    }
    ++count[labels[i]];
  }
  const int present = static_cast<int>(std::count_if(count.begin(), count.end(), [](int64_t c) { return c > 0; }));
  Problem p{X, labels, Eigen::VectorXd::Ones(n), 0, opts.l2, num_classes, d};
  if (opts.balance_priors)
    for (int64_t i = 0; i < n; ++i) p.weight[i] = static_cast<double>(n) / (present * static_cast<double>(count[labels[i]]));
  p.total_weight = p.weight.sum();

  // L-BFGS (Nocedal & Wright, Algorithm 7.4) with a backtracking Armijo line search; the objective is
  // convex and smooth, so this converges to the unique minimiser in W (b up to a common constant).
  const int64_t np = static_cast<int64_t>(num_classes) * (d + 1);
  constexpr int kMemory = 10;
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(np), grad, new_grad;
  double f = p.Evaluate(theta, &grad);
  std::deque<Eigen::VectorXd> s_hist, y_hist;
  std::deque<double> rho_hist;
  LogRegModel model;
  int it = 0;
  for (; it < opts.max_iters; ++it) {
    if (grad.cwiseAbs().maxCoeff() < opts.tol) {
      model.converged = true;
      break;
    }
    // Two-loop recursion: direction = -H grad.
    Eigen::VectorXd q = grad;
    std::vector<double> alpha(s_hist.size());
    for (int i = static_cast<int>(s_hist.size()) - 1; i >= 0; --i) {
      alpha[i] = rho_hist[i] * s_hist[i].dot(q);
      q -= alpha[i] * y_hist[i];
    }
    double gamma = 1.0;
    if (!s_hist.empty()) gamma = s_hist.back().dot(y_hist.back()) / y_hist.back().squaredNorm();
    else gamma = 1.0 / std::max(1.0, grad.norm());
    q *= gamma;
    for (size_t i = 0; i < s_hist.size(); ++i) {
      const double beta = rho_hist[i] * y_hist[i].dot(q);
      q += (alpha[i] - beta) * s_hist[i];
    }
    Eigen::VectorXd dir = -q;
    double slope = grad.dot(dir);
    if (!(slope < 0)) {  // not a descent direction (numerical trouble): restart from steepest descent
      s_hist.clear(); y_hist.clear(); rho_hist.clear();
      dir = -grad / std::max(1.0, grad.norm());
      slope = grad.dot(dir);
    }
    double step = 1.0, f_new = f;
    Eigen::VectorXd theta_new;
    bool accepted = false;
    for (int ls = 0; ls < 60; ++ls) {
      theta_new = theta + step * dir;
      f_new = p.Evaluate(theta_new, &new_grad);
      if (std::isfinite(f_new) && f_new <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;  // no decrease possible at double precision: at the minimum
    Eigen::VectorXd s = theta_new - theta, yv = new_grad - grad;
    const double sy = s.dot(yv);
    const double f_old = f;
    theta = std::move(theta_new);
    grad = new_grad;
    f = f_new;
    if (sy > 1e-16 * s.norm() * yv.norm()) {
      s_hist.push_back(std::move(s));
      y_hist.push_back(std::move(yv));
      rho_hist.push_back(1.0 / sy);
      if (static_cast<int>(s_hist.size()) > kMemory) {
        s_hist.pop_front(); y_hist.pop_front(); rho_hist.pop_front();
      }
    }
    if (f_old - f <= 1e-15 * std::max(1.0, std::abs(f))) {  // stalled at double precision
      model.converged = true;
      ++it;
      break;
    }
  }
  if (!model.converged && grad.cwiseAbs().maxCoeff() < opts.tol) model.converged = true;
  model.W = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(theta.data(), num_classes, d);
  model.b = theta.tail(num_classes);
  model.b.array() -= model.b.mean();
  model.iterations = it;
  model.objective = f;
  return model;
}

Eigen::MatrixXd LogPosteriors(const LogRegModel& model, const Eigen::MatrixXd& X) {
  if (model.W.rows() < 1 || model.b.size() != model.W.rows()) throw Error("LogPosteriors: empty or inconsistent model");
  if (X.cols() != model.W.cols()) {
    throw Error("LogPosteriors: samples have " + std::to_string(X.cols()) + " dims, the model " +
                std::to_string(model.W.cols()));
  }
  Eigen::MatrixXd z = X * model.W.transpose();
  z.rowwise() += model.b.transpose();
  const Eigen::VectorXd lse = RowLogSumExp(z);
  return z.colwise() - lse;
}

}  // namespace slid
