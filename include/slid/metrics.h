// Evaluation measures for closed-set language identification and detection.
//
// Conventions shared by everything here:
//  - Languages are indices 0..N-1 into a list the caller owns; a "trial" is one test utterance with
//    its true language and one score per language (higher = more likely that language).
//  - Identification decision = argmax of the scores (ties go to the lower index).
//  - Detection: every utterance is a trial for every language L: a *target* trial if the utterance is
//    in L, a *non-target* trial otherwise. Its detection score is a log-likelihood ratio
//        s_L = a_L - log( 1/(N-1) * sum_{j != L} exp(a_j) )
//    where a_j are the per-language scores read as log-likelihoods: hypothesis "L" against "one of the
//    other N-1 languages, equally likely" (Brümmer & van Leeuwen 2006; NIST LRE 2007/2009 plan).
//    With N == 1 there are no non-target trials and s_L = 0.
//  - Detection decision for language L: "yes" iff s_L > threshold (default 0, the Bayes threshold for
//    P_target = 0.5 and C_miss = C_fa = 1 when s_L is a calibrated LLR).
//
// Cavg (NIST LRE 2007 / 2009 evaluation plans, closed set):
//    Cavg = 1/N * sum_{L_T} [ C_miss * P_target * P_miss(L_T)
//                             + sum_{L_N != L_T} C_fa * (1 - P_target)/(N - 1) * P_fa(L_T, L_N) ]
//  with P_target = 0.5, C_miss = C_fa = 1, where
//    P_miss(L_T)     = fraction of utterances of language L_T whose detection decision for L_T is "no",
//    P_fa(L_T, L_N)  = fraction of utterances of language L_N whose detection decision for L_T is "yes".
//  Languages without any test utterance are left out of the outer and inner sums (N becomes the number
//  of languages that do have test utterances). Cavg is in [0, 1]; chance-level random guessing gives ~0.5.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace slid {

// One scored test utterance.
struct Trial {
  int true_language = -1;       // index of the true language, 0..N-1
  std::vector<double> scores;   // one per language (e.g. average frame log-likelihoods); size N
  double duration_seconds = 0;  // length of the test audio (for duration buckets)
};

// Argmax of `scores` (lowest index on ties). Error if empty.
int ArgMax(const std::vector<double>& scores);

// Per-language detection LLRs s_L as defined above. Error if empty.
std::vector<double> DetectionScores(const std::vector<double>& scores);

// Row = true language, column = decided language, counts. N x N. Error on an out-of-range index.
std::vector<std::vector<int64_t>> ConfusionMatrix(const std::vector<int>& truth,
                                                  const std::vector<int>& decided, int num_languages);

// A point on the DET curve: error rates at one threshold ("yes" iff score >= threshold).
struct DetPoint {
  double threshold = 0;  // the decision threshold
  double p_miss = 0;     // fraction of target scores below the threshold
  double p_fa = 0;       // fraction of non-target scores at or above the threshold
};

// All operating points of the pooled detector, from threshold +inf (p_miss 1, p_fa 0) down through
// every distinct score to the lowest (p_miss 0 at the lowest target). Tied scores move together.
// Error if either list is empty.
std::vector<DetPoint> DetCurve(const std::vector<double>& target_scores,
                               const std::vector<double>& nontarget_scores);

// Equal error rate: where the DET step curve (its successive operating points joined by straight
// lines in (p_fa, p_miss)) crosses p_miss == p_fa. Exactly the common value when some threshold has
// p_miss == p_fa. Error if either list is empty.
double EqualErrorRate(const std::vector<double>& target_scores,
                      const std::vector<double>& nontarget_scores);

// Cost parameters of Cavg; defaults are those of NIST LRE 2007/2009.
struct CavgOptions {
  double p_target = 0.5;   // prior of the target language
  double c_miss = 1.0;     // cost of a miss
  double c_fa = 1.0;       // cost of a false alarm
  double threshold = 0.0;  // detection decision: "yes" iff s_L > threshold
};

// Cavg from explicit detection decisions: decisions[u][L] is the "yes"/"no" for utterance u and
// language L; truth[u] its true language. Error on shape mismatch or fewer than 2 languages present.
double Cavg(const std::vector<int>& truth, const std::vector<std::vector<bool>>& decisions,
            int num_languages, const CavgOptions& opts = {});

// One bin of a top-label reliability diagram (Guo et al. 2017, "On calibration of modern neural
// networks"): trials whose highest posterior (the confidence of the decision) falls in (lo, hi]
// (the first bin also takes lo itself), their mean confidence and the fraction decided correctly.
struct ReliabilityBin {
  double lo = 0, hi = 0;        // confidence range of the bin
  int64_t count = 0;            // trials in the bin
  double mean_confidence = 0;   // mean highest posterior of those trials (0 if count == 0)
  double accuracy = 0;          // fraction of them whose decision (argmax) is the true language (0 if empty)
};

// Everything `slid eval` reports for one set of trials.
struct LanguageStats {
  int64_t num_trials = 0;   // test utterances of this language
  int64_t num_decided = 0;  // utterances identified as this language
  double precision = 0;     // correct / decided (0 if nothing was decided as this language)
  double recall = 0;        // correct / trials (0 if no trials)
};
struct EvalSummary {
  int64_t num_trials = 0;                          // utterances counted
  double accuracy = 0;                             // fraction identified correctly (0 if no trials)
  std::vector<LanguageStats> per_language;         // size N
  std::vector<std::vector<int64_t>> confusion;     // N x N, row = truth, column = decision
  double eer = -1;                                 // pooled detection EER; -1 if undefined
  double cavg = -1;                                // Cavg as above; -1 if undefined (< 2 languages present)
  std::vector<DetPoint> det;                       // pooled DET curve; empty if undefined
  // Calibration-sensitive measures (defined below), in bits; -1 if undefined (no trials, or for the
  // detection ones no language with both target and non-target trials).
  double cllr = -1;                // MulticlassCllr
  double min_cllr = -1;            // MinMulticlassCllr
  double detection_cllr = -1;      // DetectionCllr(...).cllr
  double detection_min_cllr = -1;  // DetectionCllr(...).min_cllr
  std::vector<ReliabilityBin> reliability;  // Reliability(trials, N), 10 bins; empty if no trials
};

// Summarises `trials` (every one must have N scores). Zero trials gives num_trials 0, accuracy 0,
// eer/cavg -1. EER/DET need both target and non-target trials, Cavg at least 2 languages present.
EvalSummary Evaluate(const std::vector<Trial>& trials, int num_languages, const CavgOptions& opts = {});

// Duration buckets used by `slid eval`: [0, 3], (3, 10], (10, inf) seconds; a duration d is in a
// bucket iff min_seconds < d <= max_seconds.
struct DurationBucket {
  std::string name;          // "<=3s", "3-10s", ">10s"
  double min_seconds = 0;    // exclusive lower bound (-1 for the first bucket, so 0 s counts)
  double max_seconds = 0;    // inclusive upper bound (infinity for the last)
};
const std::vector<DurationBucket>& DefaultDurationBuckets();


// --- Calibration-sensitive measures (Brümmer & du Preez 2006; BOSARIS toolkit cllr.m, min_cllr.m).
// Cllr of a binary detector whose scores are read as natural-log likelihood ratios, in bits:
//   Cllr = 1/(2 log 2) * [ mean_tar log(1 + e^-s) + mean_non log(1 + e^s) ]
// 0 for perfect and perfectly calibrated LLRs, 1 for the uninformative s = 0, unbounded above.
// Error if either list is empty or a score is NaN.
double Cllr(const std::vector<double>& target_llrs, const std::vector<double>& nontarget_llrs);
// Cllr after the best monotone recalibration of the scores: pool-adjacent-violators (PAV) on the
// target/non-target labels sorted by score (ties pooled), posterior -> LLR by removing the empirical
// prior log-odds log(N_tar / N_non) (BOSARIS opt_loglr.m). min-Cllr <= Cllr; the difference is the
// calibration loss. Error as for Cllr.
double MinCllr(const std::vector<double>& target_scores, const std::vector<double>& nontarget_scores);

// Cllr and min-Cllr of the per-language detection tasks (scores s_L = DetectionScores(trial.scores),
// targets = trials of L, non-targets = the others), averaged over the languages that have both.
// -1 if no language has both.
struct CllrSummary {
  double cllr = -1;      // mean over languages of Cllr
  double min_cllr = -1;  // mean over languages of MinCllr
  int num_languages = 0; // languages averaged
};
CllrSummary DetectionCllr(const std::vector<Trial>& trials, int num_languages);

// num_bins equal-width bins over [0, 1] of max_l softmax(scores)_l (flat prior over the N languages;
// confidence is always >= 1/N, so the low bins stay empty). A calibrated system has accuracy ~
// mean_confidence in every well-filled bin. Error if num_bins < 1 or a trial has != N scores.
std::vector<ReliabilityBin> Reliability(const std::vector<Trial>& trials, int num_languages, int num_bins = 10);

// Multiclass Cllr (Brümmer & van Leeuwen 2006; FoCal multiclass), in bits: with posteriors
// P(c | x) = softmax(scores) (scores read as log-likelihoods, flat prior),
//   Cllr_mc = -1/C' sum_c mean_{trials of c} log2 P(c | x)
// over the C' languages with trials. log2(N) for uninformative scores. -1 with no trials.
double MulticlassCllr(const std::vector<Trial>& trials, int num_languages);

// Multiclass min-Cllr (FoCal Multiclass's "Cllr after optimal calibration"): the MulticlassCllr of the
// trials after the best affine calibration of the family `slid calibrate` trains, fitted on these very
// trials (an oracle, so it measures discrimination only; Cllr - min-Cllr is the calibration loss):
//   min_{a, b} MulticlassCllr(a s + b)   (scalar scale a, one offset b_l per language),
// found with TrainCalibration(balance_priors = true: every language weighs 1/C', which makes its
// objective MulticlassCllr x ln 2, plus a 1e-6 ridge). Languages without trials are dropped from the
// softmax first (the infimum sends their offsets to -inf). <= MulticlassCllr up to the ridge;
// 0 if only one language has trials; -1 with no trials or a score that is not finite.
double MinMulticlassCllr(const std::vector<Trial>& trials, int num_languages);

}  // namespace slid
