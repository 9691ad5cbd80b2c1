// Identification and detection measures; formulas are stated in include/slid/metrics.h.
#include "slid/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "slid/error.h"

namespace slid {

int ArgMax(const std::vector<double>& scores) {
  if (scores.empty()) throw Error("ArgMax: no scores");
  int best = 0;
  for (size_t i = 1; i < scores.size(); ++i)
    if (scores[i] > scores[best]) best = static_cast<int>(i);
  return best;
}

std::vector<double> DetectionScores(const std::vector<double>& scores) {
  const size_t n = scores.size();
  if (n == 0) throw Error("DetectionScores: no scores");
  std::vector<double> out(n, 0.0);
  if (n == 1) return out;
  for (size_t l = 0; l < n; ++l) {
    // log of the mean of exp(a_j) over j != l, computed stably around its maximum.
    double m = -std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < n; ++j)
      if (j != l) m = std::max(m, scores[j]);
    double sum = 0;
    for (size_t j = 0; j < n; ++j)
      if (j != l) sum += std::exp(scores[j] - m);
    out[l] = scores[l] - (m + std::log(sum / static_cast<double>(n - 1)));
  }
  return out;
}

std::vector<std::vector<int64_t>> ConfusionMatrix(const std::vector<int>& truth,
                                                  const std::vector<int>& decided, int num_languages) {
  if (truth.size() != decided.size())
    throw Error("ConfusionMatrix: " + std::to_string(truth.size()) + " true labels but " +
                std::to_string(decided.size()) + " decisions");
  if (num_languages < 0) throw Error("ConfusionMatrix: negative number of languages");
  std::vector<std::vector<int64_t>> m(num_languages, std::vector<int64_t>(num_languages, 0));
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || truth[i] >= num_languages || decided[i] < 0 || decided[i] >= num_languages)
      throw Error("ConfusionMatrix: language index out of range at trial " + std::to_string(i));
    ++m[truth[i]][decided[i]];
  }
  return m;
}

std::vector<DetPoint> DetCurve(const std::vector<double>& target_scores,
                               const std::vector<double>& nontarget_scores) {
  if (target_scores.empty() || nontarget_scores.empty())
    throw Error("DetCurve: needs at least one target and one non-target score");
  std::vector<std::pair<double, bool>> all;  // (score, is_target)
  all.reserve(target_scores.size() + nontarget_scores.size());
  for (double s : target_scores) all.emplace_back(s, true);
  for (double s : nontarget_scores) all.emplace_back(s, false);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  const double nt = static_cast<double>(target_scores.size());
  const double nn = static_cast<double>(nontarget_scores.size());
  std::vector<DetPoint> points;
  points.push_back({std::numeric_limits<double>::infinity(), 1.0, 0.0});
  int64_t accepted_targets = 0, accepted_nontargets = 0;
  size_t i = 0;
  while (i < all.size()) {
    const double v = all[i].first;
    // Accept every score equal to v at once: tied scores share one threshold.
    while (i < all.size() && all[i].first == v) {
      (all[i].second ? accepted_targets : accepted_nontargets)++;
      ++i;
    }
    points.push_back({v, (nt - accepted_targets) / nt, accepted_nontargets / nn});
  }
  return points;
}

double EqualErrorRate(const std::vector<double>& target_scores,
                      const std::vector<double>& nontarget_scores) {
  const std::vector<DetPoint> pts = DetCurve(target_scores, nontarget_scores);
  // d = p_miss - p_fa is 1 at the first point, -1 at the last (everything accepted) and never rises.
  for (size_t i = 1; i < pts.size(); ++i) {
    const double d1 = pts[i].p_miss - pts[i].p_fa;
    if (d1 > 0) continue;
    if (d1 == 0) return pts[i].p_miss;
    const double d0 = pts[i - 1].p_miss - pts[i - 1].p_fa;
    const double t = d0 / (d0 - d1);  // fraction of the segment where p_miss == p_fa
    return pts[i - 1].p_fa + t * (pts[i].p_fa - pts[i - 1].p_fa);
  }
  return 0.0;  // unreachable: the last point always has p_miss 0, p_fa 1
}

double Cavg(const std::vector<int>& truth, const std::vector<std::vector<bool>>& decisions,
            int num_languages, const CavgOptions& opts) {
  if (truth.size() != decisions.size())
    throw Error("Cavg: " + std::to_string(truth.size()) + " true labels but " +
                std::to_string(decisions.size()) + " decision rows");
  std::vector<int64_t> count(num_languages, 0);
  // yes[t][l]: utterances of language l whose detection decision for language t is "yes".
  std::vector<std::vector<int64_t>> yes(num_languages, std::vector<int64_t>(num_languages, 0));
  for (size_t u = 0; u < truth.size(); ++u) {
    if (truth[u] < 0 || truth[u] >= num_languages)
      throw Error("Cavg: language index out of range at trial " + std::to_string(u));
    if (static_cast<int>(decisions[u].size()) != num_languages)
      throw Error("Cavg: trial " + std::to_string(u) + " has " + std::to_string(decisions[u].size()) +
                  " decisions, expected " + std::to_string(num_languages));
    ++count[truth[u]];
    for (int t = 0; t < num_languages; ++t)
      if (decisions[u][t]) ++yes[t][truth[u]];
  }
  std::vector<int> present;
  for (int l = 0; l < num_languages; ++l)
    if (count[l] > 0) present.push_back(l);
  const int n = static_cast<int>(present.size());
  if (n < 2) throw Error("Cavg: needs test utterances of at least 2 languages, got " + std::to_string(n));
  double total = 0;
  for (int t : present) {
    const double p_miss = 1.0 - static_cast<double>(yes[t][t]) / count[t];
    double cost = opts.c_miss * opts.p_target * p_miss;
    for (int l : present) {
      if (l == t) continue;
      const double p_fa = static_cast<double>(yes[t][l]) / count[l];
      cost += opts.c_fa * (1.0 - opts.p_target) / (n - 1) * p_fa;
    }
    total += cost;
  }
  return total / n;
}

EvalSummary Evaluate(const std::vector<Trial>& trials, int num_languages, const CavgOptions& opts) {
  EvalSummary s;
  s.num_trials = static_cast<int64_t>(trials.size());
  s.per_language.assign(num_languages, {});
  std::vector<int> truth, decided;
  std::vector<std::vector<bool>> decisions;
  std::vector<double> tar, non;
  for (size_t u = 0; u < trials.size(); ++u) {
    const Trial& tr = trials[u];
    if (static_cast<int>(tr.scores.size()) != num_languages)
      throw Error("Evaluate: trial " + std::to_string(u) + " has " + std::to_string(tr.scores.size()) +
                  " scores, expected " + std::to_string(num_languages));
    truth.push_back(tr.true_language);
    decided.push_back(ArgMax(tr.scores));
    const std::vector<double> llr = DetectionScores(tr.scores);
    std::vector<bool> row(num_languages);
    for (int l = 0; l < num_languages; ++l) {
      row[l] = llr[l] > opts.threshold;
      if (num_languages > 1) (l == tr.true_language ? tar : non).push_back(llr[l]);
    }
    decisions.push_back(std::move(row));
  }
  s.confusion = ConfusionMatrix(truth, decided, num_languages);
  int64_t correct = 0;
  for (int l = 0; l < num_languages; ++l) {
    LanguageStats& ls = s.per_language[l];
    for (int k = 0; k < num_languages; ++k) {
      ls.num_trials += s.confusion[l][k];
      ls.num_decided += s.confusion[k][l];
    }
    correct += s.confusion[l][l];
    ls.precision = ls.num_decided ? static_cast<double>(s.confusion[l][l]) / ls.num_decided : 0.0;
    ls.recall = ls.num_trials ? static_cast<double>(s.confusion[l][l]) / ls.num_trials : 0.0;
  }
  s.accuracy = s.num_trials ? static_cast<double>(correct) / s.num_trials : 0.0;
  if (!tar.empty() && !non.empty()) {
    s.det = DetCurve(tar, non);
    s.eer = EqualErrorRate(tar, non);
  }
  int present = 0;
  for (const auto& ls : s.per_language) present += ls.num_trials > 0;
  if (present >= 2) s.cavg = Cavg(truth, decisions, num_languages, opts);
  return s;
}

const std::vector<DurationBucket>& DefaultDurationBuckets() {
  static const std::vector<DurationBucket> buckets = {
      {"<=3s", -1.0, 3.0},
      {"3-10s", 3.0, 10.0},
      {">10s", 10.0, std::numeric_limits<double>::infinity()},
  };
  return buckets;
}

}  // namespace slid
