// Identification and detection measures; formulas are stated in include/slid/metrics.h.
#include "slid/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "slid/calibration.h"
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
  if (!trials.empty()) {
    s.cllr = MulticlassCllr(trials, num_languages);
    s.min_cllr = MinMulticlassCllr(trials, num_languages);
    s.reliability = Reliability(trials, num_languages);
  }
  const CllrSummary d = DetectionCllr(trials, num_languages);
  s.detection_cllr = d.cllr;
  s.detection_min_cllr = d.min_cllr;
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


// ---------------------------------------------------------------- Cllr

namespace {

// log(1 + e^z), stable; +inf -> inf, -inf -> 0.
double Softplus(double z) {
  if (z == -std::numeric_limits<double>::infinity()) return 0.0;
  if (z == std::numeric_limits<double>::infinity()) return z;
  return std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z)));
}

void CheckCllrInput(const std::vector<double>& tar, const std::vector<double>& non, const char* what) {
  if (tar.empty() || non.empty()) throw Error(std::string(what) + ": needs target and non-target scores");
  for (double v : tar)
    if (std::isnan(v)) throw Error(std::string(what) + ": NaN target score");
  for (double v : non)
    if (std::isnan(v)) throw Error(std::string(what) + ": NaN non-target score");
}

}  // namespace

double Cllr(const std::vector<double>& target_llrs, const std::vector<double>& nontarget_llrs) {
  CheckCllrInput(target_llrs, nontarget_llrs, "Cllr");
  double tar = 0, non = 0;
  for (double s : target_llrs) tar += Softplus(-s);
  for (double s : nontarget_llrs) non += Softplus(s);
  return (tar / target_llrs.size() + non / nontarget_llrs.size()) / (2.0 * std::log(2.0));
}

double MinCllr(const std::vector<double>& target_scores, const std::vector<double>& nontarget_scores) {
  CheckCllrInput(target_scores, nontarget_scores, "MinCllr");
  // (score, label) sorted by score, targets first among ties: PAV then pools every tie that mixes
  // labels (as BOSARIS's stable sort of [tar, non] does).
  std::vector<std::pair<double, int>> v;
  v.reserve(target_scores.size() + nontarget_scores.size());
  for (double s : target_scores) v.emplace_back(s, 1);
  for (double s : nontarget_scores) v.emplace_back(s, 0);
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.first < b.first || (a.first == b.first && a.second > b.second);
  });
  // PAV: blocks (sum of labels, count), merged while the block means decrease.
  std::vector<double> sum;
  std::vector<int64_t> count;
  for (const auto& e : v) {
    sum.push_back(e.second);
    count.push_back(1);
    while (sum.size() > 1 && sum[sum.size() - 2] * count.back() >= sum.back() * count[count.size() - 2]) {
      sum[sum.size() - 2] += sum.back();
      count[count.size() - 2] += count.back();
      sum.pop_back();
      count.pop_back();
    }
  }
  const double nt = static_cast<double>(target_scores.size()), nn = static_cast<double>(nontarget_scores.size());
  const double prior_logodds = std::log(nt / nn);
  std::vector<double> tar_llr, non_llr;
  size_t pos = 0;
  for (size_t b = 0; b < sum.size(); ++b) {
    const double p = sum[b] / count[b];
    const double llr = (p <= 0 ? -std::numeric_limits<double>::infinity()
                        : p >= 1 ? std::numeric_limits<double>::infinity()
                                 : std::log(p) - std::log1p(-p)) - prior_logodds;
    for (int64_t i = 0; i < count[b]; ++i, ++pos) (v[pos].second ? tar_llr : non_llr).push_back(llr);
  }
  return Cllr(tar_llr, non_llr);
}

CllrSummary DetectionCllr(const std::vector<Trial>& trials, int num_languages) {
  if (num_languages < 1) throw Error("DetectionCllr: num_languages must be >= 1");
  std::vector<std::vector<double>> tar(num_languages), non(num_languages);
  for (const Trial& t : trials) {
    if (static_cast<int>(t.scores.size()) != num_languages) throw Error("DetectionCllr: trial with wrong number of scores");
    if (t.true_language < 0 || t.true_language >= num_languages) throw Error("DetectionCllr: true language out of range");
    const std::vector<double> s = DetectionScores(t.scores);
    for (int l = 0; l < num_languages; ++l) (l == t.true_language ? tar : non)[l].push_back(s[l]);
  }
  CllrSummary out;
  double c = 0, m = 0;
  for (int l = 0; l < num_languages; ++l) {
    if (tar[l].empty() || non[l].empty()) continue;
    c += Cllr(tar[l], non[l]);
    m += MinCllr(tar[l], non[l]);
    ++out.num_languages;
  }
  if (out.num_languages > 0) {
    out.cllr = c / out.num_languages;
    out.min_cllr = m / out.num_languages;
  }
  return out;
}

double MulticlassCllr(const std::vector<Trial>& trials, int num_languages) {
  if (num_languages < 1) throw Error("MulticlassCllr: num_languages must be >= 1");
  std::vector<double> sum(num_languages, 0.0);
  std::vector<int64_t> count(num_languages, 0);
  for (const Trial& t : trials) {
    if (static_cast<int>(t.scores.size()) != num_languages) throw Error("MulticlassCllr: trial with wrong number of scores");
    if (t.true_language < 0 || t.true_language >= num_languages) throw Error("MulticlassCllr: true language out of range");
    const double m = *std::max_element(t.scores.begin(), t.scores.end());
    double z = 0;
    for (double s : t.scores) z += std::exp(s - m);
    sum[t.true_language] += (m + std::log(z) - t.scores[t.true_language]) / std::log(2.0);
    ++count[t.true_language];
  }
  double total = 0;
  int present = 0;
  for (int l = 0; l < num_languages; ++l)
    if (count[l] > 0) {
      total += sum[l] / count[l];
      ++present;
    }
  return present > 0 ? total / present : -1.0;
}

// ---------------------------------------------------------------- min-Cllr (multiclass), reliability

double MinMulticlassCllr(const std::vector<Trial>& trials, int num_languages) {
  if (num_languages < 1) throw Error("MinMulticlassCllr: num_languages must be >= 1");
  std::vector<int> column(num_languages, -1);  // model language -> index among the languages with trials
  for (const Trial& t : trials) {
    if (static_cast<int>(t.scores.size()) != num_languages) throw Error("MinMulticlassCllr: trial with wrong number of scores");
    if (t.true_language < 0 || t.true_language >= num_languages) throw Error("MinMulticlassCllr: true language out of range");
    column[t.true_language] = 0;
  }
  int present = 0;
  for (int& c : column)
    if (c == 0) c = present++;
  if (present == 0) return -1.0;
  for (const Trial& t : trials)
    for (double s : t.scores)
      if (!std::isfinite(s)) return -1.0;  // no calibration can be fitted to infinite scores
  if (present == 1) return 0.0;  // one class left: its posterior is 1 whatever the scores
  // Restrict the scores to the languages with trials and fit the calibration family on them.
  std::vector<std::vector<double>> scores;
  std::vector<int> labels;
  scores.reserve(trials.size());
  for (const Trial& t : trials) {
    std::vector<double> r(present);
    for (int l = 0; l < num_languages; ++l)
      if (column[l] >= 0) r[column[l]] = t.scores[l];
    scores.push_back(std::move(r));
    labels.push_back(column[t.true_language]);
  }
  CalibrationOptions co;
  co.balance_priors = true;  // every language 1/C': the objective is MulticlassCllr x ln 2 (+ ridge)
  const Calibration cal = TrainCalibration(scores, labels, present, co);
  std::vector<Trial> calibrated(trials.size());
  for (size_t i = 0; i < trials.size(); ++i) {
    calibrated[i].true_language = labels[i];
    calibrated[i].scores = cal.Apply(scores[i]);
  }
  return MulticlassCllr(calibrated, present);
}

std::vector<ReliabilityBin> Reliability(const std::vector<Trial>& trials, int num_languages, int num_bins) {
  if (num_bins < 1) throw Error("Reliability: num_bins must be >= 1");
  std::vector<ReliabilityBin> bins(num_bins);
  std::vector<double> conf_sum(num_bins, 0.0);
  std::vector<int64_t> correct(num_bins, 0);
  for (int b = 0; b < num_bins; ++b) {
    bins[b].lo = static_cast<double>(b) / num_bins;
    bins[b].hi = static_cast<double>(b + 1) / num_bins;
  }
  for (const Trial& t : trials) {
    if (static_cast<int>(t.scores.size()) != num_languages) throw Error("Reliability: trial with wrong number of scores");
    const int best = ArgMax(t.scores);
    // Highest posterior of softmax(scores) = 1 / sum_l exp(s_l - s_best).
    double z = 0;
    for (double s : t.scores) z += std::exp(s - t.scores[best]);
    const double conf = 1.0 / z;
    // Bin b holds (b/B, (b+1)/B]; confidence 1 goes to the last bin, anything <= 1/B to the first.
    int b = static_cast<int>(std::ceil(conf * num_bins)) - 1;
    b = std::min(std::max(b, 0), num_bins - 1);
    ++bins[b].count;
    conf_sum[b] += conf;
    correct[b] += best == t.true_language;
  }
  for (int b = 0; b < num_bins; ++b)
    if (bins[b].count > 0) {
      bins[b].mean_confidence = conf_sum[b] / bins[b].count;
      bins[b].accuracy = static_cast<double>(correct[b]) / bins[b].count;
    }
  return bins;
}

}  // namespace slid
