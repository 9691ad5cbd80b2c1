// Score calibration: an affine map of a recording's back-end scores (one per language) to calibrated
// log-likelihoods, so that softmax(calibrated) are posterior probabilities under equal priors.
//
//   calibrated = W s + b        (W: L x L, b: L; stored in the model, applied by Scorer)
//
// Training (TrainCalibration) fits the FoCal-style "scalar scale + offset" special case,
// W = a I, i.e. calibrated_l = a s_l + b_l (Brümmer & du Preez 2006; Brümmer's FoCal Multiclass), by
// minimising the prior-weighted multiclass cross-entropy on development scores:
//
//   C(a, b) = sum_l  P_l / N_l  sum_{i: y_i = l}  -log softmax(a s_i + b)_l     + (lambda/2) (a^2 + |b|^2)
//
// with P_l = 1/L (balance_priors: every language weighs the same however many development recordings it
// has, as Kaldi's lre07 logistic-regression back-end re-balances priors) or P_l = N_l / N (not balanced),
// by Newton's method with a backtracking line search (the objective is convex in (a, b)). lambda is a
// tiny ridge term that fixes the offsets' common level (softmax ignores it) and keeps the Hessian
// invertible. A full L x L W could be trained the same way; with the few development recordings
// languages usually have, the L + 1 parameters of the scalar form generalise better (FoCal's default).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slid/matrix.h"

namespace slid {

struct Calibration {
  MatrixD weights;  // W, L x L (empty: no calibration)
  VectorD bias;     // b, L
  nlohmann::json info = nlohmann::json::object();  // how it was trained (free-form; stored in the model)

  bool empty() const { return weights.size() == 0; }
  int NumLanguages() const { return static_cast<int>(bias.size()); }
  // W s + b. Error if scores.size() != NumLanguages().
  std::vector<double> Apply(const std::vector<double>& scores) const;
  // Throws slid::Error unless W is L x L and b has L entries, all finite (an empty calibration is valid).
  void Validate() const;
  // {"weights": [[...], ...], "bias": [...], "info": {...}} (null when empty); numbers as JSON doubles
  // (exact round trip).
  nlohmann::json ToJson() const;
  static Calibration FromJson(const nlohmann::json& j);  // null gives an empty calibration
};

struct CalibrationOptions {
  bool balance_priors = true;  // weigh every language equally (P_l = 1/L) rather than by its count
  double ridge = 1e-6;         // lambda above, times the number of recordings' total weight (1)
  int max_iters = 100;         // Newton iterations
  double tol = 1e-10;          // stop when the objective improves by less than this (relative)
};

struct CalibrationReport {
  double cross_entropy_before = 0;  // prior-weighted cross-entropy (nats) of softmax(s)
  double cross_entropy_after = 0;   // of softmax(a s + b)
  double scale = 0;                 // a
  int iterations = 0;               // Newton iterations run
};

// Trains the scalar calibration above on development scores: scores[i] has L entries, labels[i] in
// [0, L). Every language needs at least one recording. Error on bad shapes/labels or non-finite scores.
Calibration TrainCalibration(const std::vector<std::vector<double>>& scores, const std::vector<int>& labels,
                             int num_languages, const CalibrationOptions& opts = {},
                             CalibrationReport* report = nullptr);

}  // namespace slid
