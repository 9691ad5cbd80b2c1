// Multinomial (multiclass) logistic regression: a linear classifier on i-vectors and the calibrator
// of score vectors (Brümmer's FoCal multiclass; Kaldi's LogisticRegression and egs/lre07/v1
// run_logistic_regression.sh). The model gives
//     log P(c | x) = (W x + b)_c - log sum_j exp((W x + b)_j).
// Training minimises the weighted negative log-likelihood plus an L2 penalty on W (not on b):
//     sum_n v_n * (-log P(y_n | x_n)) + 0.5 * l2 * ||W||_F^2
// which is scikit-learn's LogisticRegression(multi_class='multinomial') objective with C = 1 / l2.
// With balance_priors, v_n = N / (C' n_{y_n}) (C' = classes present, n_c = samples of class c): every
// class carries the same total weight, so the trained posteriors assume equal class priors whatever the
// training proportions (FoCal's prior re-balancing; scikit-learn's class_weight='balanced').
#pragma once
#include <functional>
#include <vector>

#include <Eigen/Core>

namespace slid {

struct LogRegOptions {
  double l2 = 1e-2;            // L2 penalty weight on W (scikit-learn C = 1 / l2); > 0 keeps separable data finite
  int max_iters = 500;         // L-BFGS iterations at most
  double tol = 1e-8;           // stop when the largest gradient entry of the objective divided by the total
                               // sample weight falls below this
  bool balance_priors = true;  // weight every class equally (see above); false: every sample weight 1
};

struct LogRegModel {
  Eigen::MatrixXd W;   // num_classes x D
  Eigen::VectorXd b;   // num_classes (centred: sums to 0, which leaves the posteriors unchanged)
  int iterations = 0;  // L-BFGS iterations used in training
  double objective = 0;  // final objective divided by the total sample weight
  bool converged = false;  // the gradient test was met (or the objective stopped decreasing at double
                           // precision) within max_iters
};

// X: N x D samples (finite), labels: N class indices in [0, num_classes), num_classes >= 2, N >= 1.
// Throws slid::Error on a shape mismatch, bad label, non-finite value or bad option.
LogRegModel TrainLogReg(const Eigen::MatrixXd& X, const std::vector<int>& labels, int num_classes,
                        const LogRegOptions& opts = {});

// N x num_classes log posteriors of X (N x D, D == model.W.cols(), else slid::Error).
Eigen::MatrixXd LogPosteriors(const LogRegModel& model, const Eigen::MatrixXd& X);

}  // namespace slid
