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
//
// Languages without development recordings ("absent"; e.g. a language with one speaker, all of whose
// speech went into training). Their scores still compete in every softmax above, as they do when the
// model is used, and they keep the shared scale a; only their offset has nothing to learn from. Left
// free, it would run to -infinity (a language that never occurs is best made impossible), which says
// nothing about the language, only about the development set. So an absent language's offset is tied
// to the mean offset of the present languages,
//
//   b_l = (1/|P|) sum_{k in P} b_k      for l not in P (P: languages with development recordings),
//
// and the objective is minimised over (a, b_P) with that tie in place (a linear reparametrisation: the
// problem stays convex, and shifting every offset by one constant still changes nothing). An absent
// language is thus calibrated "as an average language": its calibrated scores are finite and on the
// same scale as the others, its posteriors are neither boosted nor suppressed by the missing data.
// The sum above then runs over present languages only, with P_l = 1/|P| (balance_priors). With every
// language present the tie is void and the result is the plain problem above, computed the same way.
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
  std::vector<int> languages_without_data;  // absent languages (no recording), ascending; tied offsets
};

// Trains the scalar calibration above on development scores: scores[i] has L entries, labels[i] in
// [0, L). Languages without recordings get the tied offset above (listed in the report and in
// info["languages_without_data"]); at least 2 languages need recordings. Error on bad shapes/labels,
// non-finite scores or fewer than 2 languages with recordings.
Calibration TrainCalibration(const std::vector<std::vector<double>>& scores, const std::vector<int>& labels,
                             int num_languages, const CalibrationOptions& opts = {},
                             CalibrationReport* report = nullptr);

}  // namespace slid
