// Formatting of identify lines and eval reports; pictures via gnuplot. See report.h.
#include "report.h"

#include "command.h"

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <sstream>

#include "slid/error.h"
#include "slid/io.h"
#include "slid/number_text.h"

namespace slid::tool {

namespace fs = std::filesystem;

std::string ProcessCommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out;
  for (char c : all) out += c == '\0' ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string UtcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

std::string Num(double v, int precision = 6) {
  if (!std::isfinite(v)) return "-";  // unscored values are "-", never "nan"
  return FormatGeneral(v, precision);  // '.' whatever the locale
}

std::string Pct(double v) {
  if (v < 0) return "n/a";
  return FormatFixed(100 * v, 2) + "%";
}

// Candidate indices sorted by average log-likelihood, best first (stable: model order on ties).
std::vector<int> Ranking(const ScoreResult& r) {
  std::vector<int> idx(r.avg_loglik.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return r.avg_loglik[a] > r.avg_loglik[b]; });
  return idx;
}

const char* Status(const ScoreResult& r) {
  return r.no_speech ? "no_speech" : r.too_little_speech ? "too_little_speech" : r.unknown ? "unknown" : "ok";
}

// The decision column: a language, "unknown", or "-" (no decision for lack of speech).
std::string Decision(const std::vector<std::string>& languages, const ScoreResult& r) {
  return r.best >= 0 ? languages[r.best] : r.unknown ? "unknown" : "-";
}

// Paths may hold tabs or newlines; keep the TSV one record per line.
std::string TsvField(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

std::string IdentifyTsvHeader(const std::vector<std::string>& languages, int top) {
  std::string h = "path\tlanguage\tscore\tstatus\tspeech_seconds";
  if (top > 0) {
    for (int i = 1; i <= top; ++i) {
      const std::string n = std::to_string(i);
      h += "\tlang_" + n + "\tllk_" + n + "\tpost_" + n;
    }
  } else {
    for (const auto& l : languages) h += "\tllk_" + l;
    for (const auto& l : languages) h += "\tpost_" + l;
  }
  return h + "\n";
}

std::string IdentifyTsvLine(const std::string& path, const std::vector<std::string>& languages,
                            const ScoreResult& r, int top) {
  std::string s = TsvField(path);
  s += "\t" + Decision(languages, r);
  s += "\t" + (r.best >= 0 ? Num(r.avg_loglik[r.best]) : std::string("-"));
  s += std::string("\t") + Status(r) + "\t" + FormatFixed(r.speech_seconds, 2);
  const bool have = !r.avg_loglik.empty();
  if (top > 0) {
    const std::vector<int> rank = Ranking(r);
    for (int i = 0; i < top; ++i) {
      if (have && i < static_cast<int>(rank.size()))
        s += "\t" + languages[rank[i]] + "\t" + Num(r.avg_loglik[rank[i]]) + "\t" + Num(r.posteriors[rank[i]], 4);
      else
        s += "\t-\t-\t-";
    }
  } else {
    for (size_t l = 0; l < languages.size(); ++l) s += "\t" + (have ? Num(r.avg_loglik[l]) : std::string("-"));
    for (size_t l = 0; l < languages.size(); ++l) s += "\t" + (have ? Num(r.posteriors[l], 4) : std::string("-"));
  }
  return s + "\n";
}

std::string IdentifyJsonLine(const std::string& path, const std::vector<std::string>& languages,
                             const ScoreResult& r, int top) {
  nlohmann::json j;
  j["path"] = path;
  j["language"] = r.best >= 0 || r.unknown ? nlohmann::json(Decision(languages, r)) : nlohmann::json(nullptr);
  j["score"] = r.best >= 0 ? nlohmann::json(r.avg_loglik[r.best]) : nlohmann::json(nullptr);
  j["status"] = Status(r);
  j["speech_seconds"] = r.speech_seconds;
  j["audio_seconds"] = r.audio_seconds;
  nlohmann::json scores = nlohmann::json::array();
  const std::vector<int> rank = Ranking(r);
  const int n = top > 0 ? std::min<int>(top, static_cast<int>(rank.size())) : static_cast<int>(rank.size());
  for (int i = 0; i < n; ++i)
    scores.push_back({{"language", languages[rank[i]]},
                      {"avg_loglik", r.avg_loglik[rank[i]]},
                      {"posterior", r.posteriors[rank[i]]}});
  j["scores"] = scores;
  return j.dump() + "\n";
}

std::string WindowTsvHeader(const std::vector<std::string>& languages, int top) {
  return "kind\tpath\tstart_s\tend_s" + IdentifyTsvHeader(languages, top).substr(4);  // after "path"
}

std::string WindowTsvLine(const std::string& kind, const std::string& path, double start_s, double end_s,
                          const std::vector<std::string>& languages, const ScoreResult& r, int top) {
  const std::string line = IdentifyTsvLine(path, languages, r, top);
  const size_t tab = line.find('\t');  // the path field holds no tab (TsvField)
  return kind + "\t" + line.substr(0, tab) + "\t" + FormatFixed(start_s, 2) + "\t" + FormatFixed(end_s, 2) +
         line.substr(tab);
}

std::string WindowJsonLine(const std::string& kind, const std::string& path, double start_s, double end_s,
                           const std::vector<std::string>& languages, const ScoreResult& r, int top) {
  nlohmann::json j = nlohmann::json::parse(IdentifyJsonLine(path, languages, r, top));
  j["kind"] = kind;
  j["start_s"] = start_s;
  j["end_s"] = end_s;
  return j.dump() + "\n";
}

std::string RunTsvLine(const std::string& path, double start_s, double end_s, const std::string& label,
                       const std::vector<std::string>& languages, int top) {
  std::string s = "run\t" + TsvField(path) + "\t" + FormatFixed(start_s, 2) + "\t" + FormatFixed(end_s, 2) + "\t" +
                  label + "\t-\t-\t-";
  const size_t rest = top > 0 ? 3 * static_cast<size_t>(top) : 2 * languages.size();
  for (size_t i = 0; i < rest; ++i) s += "\t-";
  return s + "\n";
}

std::string RunJsonLine(const std::string& path, double start_s, double end_s, const std::string& label,
                        int64_t num_windows) {
  nlohmann::json j;
  j["kind"] = "run";
  j["path"] = path;
  j["start_s"] = start_s;
  j["end_s"] = end_s;
  j["language"] = label;
  j["windows"] = num_windows;
  return j.dump() + "\n";
}

std::string DecisionLabel(const std::vector<std::string>& languages, const ScoreResult& r) {
  return Decision(languages, r);
}

namespace {

const char* const kMetricsDefinitions =
    "a_L = the model's score for language L (calibrated if the model has a calibration, else the back-end "
    "score, e.g. average frame log-likelihood); decision = argmax_L a_L; posteriors P(L|x) = softmax(a) "
    "(equal priors). EER and Cavg from detection LLRs s_L = a_L - log(mean_{j!=L} exp(a_j)); Cavg per NIST "
    "LRE 2007/2009 with P_target=0.5, C_miss=C_fa=1, 'yes' iff s_L > 0. cllr = multiclass Cllr in bits, "
    "-1/C sum_c mean_{trials of c} log2 P(c|x) over the C languages with trials (log2 N for uninformative "
    "scores, 0 for perfect ones); min_cllr = the same after the best scalar-scale + per-language-offset "
    "calibration a*a_L + b_L fitted on this test data itself (what slid calibrate could reach at best; "
    "cllr - min_cllr = calibration loss). detection_cllr / detection_min_cllr = binary Cllr of s_L per "
    "language and its PAV minimum (BOSARIS), averaged over languages. reliability: top-label bins of "
    "max_L P(L|x): count, mean confidence, accuracy (see include/slid/metrics.h)";

nlohmann::json SummaryJson(const EvalSummary& s, const std::vector<std::string>& languages) {
  nlohmann::json j;
  j["num_trials"] = s.num_trials;
  j["accuracy"] = s.num_trials ? nlohmann::json(s.accuracy) : nlohmann::json(nullptr);
  j["eer"] = s.eer >= 0 ? nlohmann::json(s.eer) : nlohmann::json(nullptr);
  j["cavg"] = s.cavg >= 0 ? nlohmann::json(s.cavg) : nlohmann::json(nullptr);
  auto opt = [](double v) { return v >= 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
  j["cllr"] = opt(s.cllr);
  j["min_cllr"] = opt(s.min_cllr);
  j["detection_cllr"] = opt(s.detection_cllr);
  j["detection_min_cllr"] = opt(s.detection_min_cllr);
  nlohmann::json rel = nlohmann::json::array();
  for (const ReliabilityBin& b : s.reliability)
    rel.push_back({{"lo", b.lo}, {"hi", b.hi}, {"count", b.count},
                   {"mean_confidence", b.count ? nlohmann::json(b.mean_confidence) : nlohmann::json(nullptr)},
                   {"accuracy", b.count ? nlohmann::json(b.accuracy) : nlohmann::json(nullptr)}});
  j["reliability"] = rel;
  nlohmann::json per = nlohmann::json::object();
  for (size_t l = 0; l < languages.size(); ++l) {
    const LanguageStats& ls = s.per_language[l];
    per[languages[l]] = {{"trials", ls.num_trials},
                         {"decided", ls.num_decided},
                         {"precision", ls.num_decided ? nlohmann::json(ls.precision) : nlohmann::json(nullptr)},
                         {"recall", ls.num_trials ? nlohmann::json(ls.recall) : nlohmann::json(nullptr)}};
  }
  j["per_language"] = per;
  j["confusion"] = s.confusion;
  return j;
}

}  // namespace

nlohmann::json EvalReportJson(const EvalReport& r) {
  nlohmann::json j;
  j["model"] = r.model_path;
  j["data"] = r.data_path;
  j["languages"] = r.languages;
  j["num_utterances"] = r.num_utterances;
  j["num_scored"] = r.overall.num_trials;
  j["num_failed"] = r.num_failed;
  j["num_too_little_speech"] = r.num_too_little_speech;
  j["num_no_speech"] = r.num_no_speech;
  j["metrics_definitions"] = kMetricsDefinitions;
  j["overall"] = SummaryJson(r.overall, r.languages);
  nlohmann::json b = nlohmann::json::object();
  for (size_t i = 0; i < r.buckets.size(); ++i) b[r.buckets[i].name] = SummaryJson(r.by_bucket[i], r.languages);
  j["by_duration"] = b;
  if (r.open_set.threshold > 0) {
    const OpenSetSummary& os = r.open_set;
    auto rate = [](double v) { return v >= 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
    nlohmann::json per = nlohmann::json::object();
    for (const OpenSetLanguage& ol : os.languages)
      per[ol.language] = {{"in_set", ol.in_set}, {"trials", ol.num_trials}, {"unknown", ol.num_unknown},
                          {"correct", ol.num_correct}};
    j["open_set"] = {{"unknown_threshold", os.threshold},
                     {"in_set_trials", os.in_set_trials},
                     {"in_set_unknown", os.in_set_unknown},
                     {"in_set_correct", os.in_set_correct},
                     {"false_rejection_rate", rate(os.false_rejection_rate)},
                     {"out_of_set_trials", os.out_of_set_trials},
                     {"out_of_set_unknown", os.out_of_set_unknown},
                     {"rejection_rate", rate(os.rejection_rate)},
                     {"open_set_accuracy", rate(os.open_set_accuracy)},
                     {"per_language", per},
                     {"definitions",
                      "decision 'unknown' when no posterior reaches unknown_threshold; in-set = languages of the "
                      "model, out-of-set = the others; false_rejection_rate = in-set called unknown / in-set; "
                      "rejection_rate = out-of-set called unknown / out-of-set; open_set_accuracy = (in-set given "
                      "their language + out-of-set called unknown) / all; recordings with too little or no speech "
                      "are not counted. The closed-set figures use in-set recordings and the argmax decision."}};
  } else {
    j["open_set"] = nullptr;
  }
  j["info"] = r.extra;
  return j;
}

namespace {

void ConfusionMarkdown(std::ostringstream& o, const EvalSummary& s, const std::vector<std::string>& langs) {
  o << "| truth \\ decided |";
  for (const auto& l : langs) o << " " << l << " |";
  o << " recall |\n|---|";
  for (size_t i = 0; i <= langs.size(); ++i) o << "---:|";
  o << "\n";
  for (size_t t = 0; t < langs.size(); ++t) {
    o << "| **" << langs[t] << "** |";
    for (size_t d = 0; d < langs.size(); ++d) {
      if (t == d)
        o << " **" << s.confusion[t][d] << "** |";
      else
        o << " " << s.confusion[t][d] << " |";
    }
    o << " " << (s.per_language[t].num_trials ? Pct(s.per_language[t].recall) : "n/a") << " |\n";
  }
}

}  // namespace

std::string EvalReportMarkdown(const EvalReport& r, const std::vector<std::string>& pictures) {
  std::ostringstream o;
  o << "# slid evaluation report\n\n";
  o << "- model: `" << r.model_path << "`\n- data: `" << r.data_path << "`\n";
  o << "- utterances: " << r.num_utterances << " listed, " << r.overall.num_trials << " scored, "
    << r.num_too_little_speech << " with too little speech and " << r.num_no_speech
    << " without speech (not scored), " << r.num_failed << " unreadable\n";
  if (r.extra.contains("date")) o << "- date: " << r.extra["date"].get<std::string>() << "\n";
  o << "\nScores a_L: the model's per-language scores (calibrated if the model has a calibration). "
       "Decision = argmax a_L; posteriors = softmax(a) (equal priors). EER and Cavg use detection LLRs "
       "s_L = a_L - log(mean over other languages of exp(a_j)); Cavg follows NIST LRE 2007/2009 "
       "(P_target = 0.5, C_miss = C_fa = 1, 'yes' iff s_L > 0). Cllr = multiclass Cllr in bits, "
       "-(1/C) sum over languages c of the mean log2 P(c | x) over the utterances of c (log2 N = "
       << Num(r.languages.empty() ? 0.0 : std::log2(static_cast<double>(r.languages.size())), 3)
    << " bits for uninformative scores, 0 for perfect ones); min-Cllr = the same after the best calibration "
       "a x a_L + b_L fitted on this test data itself (Cllr - min-Cllr is the calibration loss).\n\n";
  o << "## Summary\n\n| subset | utterances | accuracy | EER | Cavg | Cllr | min-Cllr |\n"
       "|---|---:|---:|---:|---:|---:|---:|\n";
  auto row = [&](const std::string& name, const EvalSummary& s) {
    o << "| " << name << " | " << s.num_trials << " | " << (s.num_trials ? Pct(s.accuracy) : "n/a") << " | "
      << Pct(s.eer) << " | " << (s.cavg >= 0 ? Num(s.cavg, 4) : "n/a") << " | "
      << (s.cllr >= 0 ? Num(s.cllr, 4) : "n/a") << " | " << (s.min_cllr >= 0 ? Num(s.min_cllr, 4) : "n/a") << " |\n";
  };
  row("all", r.overall);
  for (size_t i = 0; i < r.buckets.size(); ++i) row(r.buckets[i].name, r.by_bucket[i]);
  if (r.overall.detection_cllr >= 0)
    o << "\nPer-language detection (binary, s_L): Cllr " << Num(r.overall.detection_cllr, 4) << ", min-Cllr (PAV) "
      << Num(r.overall.detection_min_cllr, 4) << " bits, averaged over languages.\n";
  if (!r.overall.reliability.empty()) {
    o << "\n## Reliability (all durations; top posterior of each utterance)\n\n"
         "| confidence | utterances | mean confidence | accuracy |\n|---|---:|---:|---:|\n";
    for (const ReliabilityBin& b : r.overall.reliability) {
      if (b.count == 0) continue;
      o << "| " << Num(b.lo, 2) << "-" << Num(b.hi, 2) << " | " << b.count << " | " << Pct(b.mean_confidence) << " | "
        << Pct(b.accuracy) << " |\n";
    }
  }
  if (r.open_set.threshold > 0) {
    const OpenSetSummary& os = r.open_set;
    o << "\n## Open set (unknown threshold " << Num(os.threshold, 4) << ")\n\n"
      << "Decision `unknown` when no posterior reaches the threshold. In-set: the model's languages; "
         "out-of-set: the others. The figures above are closed-set (in-set recordings, argmax decision).\n\n"
      << "| | recordings | called unknown | rate |\n|---|---:|---:|---:|\n"
      << "| out-of-set (rejection) | " << os.out_of_set_trials << " | " << os.out_of_set_unknown << " | "
      << Pct(os.rejection_rate) << " |\n"
      << "| in-set (false rejection) | " << os.in_set_trials << " | " << os.in_set_unknown << " | "
      << Pct(os.false_rejection_rate) << " |\n\n"
      << "Open-set accuracy (in-set given their language + out-of-set called unknown, over all): "
      << Pct(os.open_set_accuracy) << " (" << os.in_set_correct << " + " << os.out_of_set_unknown << " of "
      << os.in_set_trials + os.out_of_set_trials << ").\n\n"
      << "| test language | in model | recordings | called unknown | given their language |\n"
         "|---|---|---:|---:|---:|\n";
    for (const OpenSetLanguage& ol : os.languages)
      o << "| " << ol.language << " | " << (ol.in_set ? "yes" : "no") << " | " << ol.num_trials << " | "
        << ol.num_unknown << " | " << (ol.in_set ? std::to_string(ol.num_correct) : "-") << " |\n";
  }
  o << "\n## Per language (all durations)\n\n| language | utterances | decided as | precision | recall |\n"
       "|---|---:|---:|---:|---:|\n";
  for (size_t l = 0; l < r.languages.size(); ++l) {
    const LanguageStats& ls = r.overall.per_language[l];
    o << "| " << r.languages[l] << " | " << ls.num_trials << " | " << ls.num_decided << " | "
      << (ls.num_decided ? Pct(ls.precision) : "n/a") << " | " << (ls.num_trials ? Pct(ls.recall) : "n/a") << " |\n";
  }
  o << "\n## Confusion matrix (all durations; rows = truth, columns = decision)\n\n";
  ConfusionMarkdown(o, r.overall, r.languages);
  for (size_t i = 0; i < r.buckets.size(); ++i) {
    if (r.by_bucket[i].num_trials == 0) continue;
    o << "\n### Confusion matrix, " << r.buckets[i].name << "\n\n";
    ConfusionMarkdown(o, r.by_bucket[i], r.languages);
  }
  if (!pictures.empty()) {
    o << "\n## Pictures\n\n";
    for (const auto& p : pictures) o << "![" << p << "](" << p << ")\n\n";
  }
  return o.str();
}

std::string EvalReportTable(const EvalReport& r) {
  std::ostringstream o;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-10s %10s %10s %8s %8s %8s %8s\n", "subset", "utterances", "accuracy", "EER", "Cavg",
                "Cllr", "minCllr");
  o << buf;
  auto row = [&](const std::string& name, const EvalSummary& s) {
    std::snprintf(buf, sizeof buf, "%-10s %10lld %10s %8s %8s %8s %8s\n", name.c_str(), static_cast<long long>(s.num_trials),
                  s.num_trials ? Pct(s.accuracy).c_str() : "n/a", Pct(s.eer).c_str(),
                  s.cavg >= 0 ? Num(s.cavg, 4).c_str() : "n/a", s.cllr >= 0 ? Num(s.cllr, 4).c_str() : "n/a",
                  s.min_cllr >= 0 ? Num(s.min_cllr, 4).c_str() : "n/a");
    o << buf;
  };
  row("all", r.overall);
  for (size_t i = 0; i < r.buckets.size(); ++i) row(r.buckets[i].name, r.by_bucket[i]);
  o << "\n";
  std::snprintf(buf, sizeof buf, "%-10s %10s %10s %10s\n", "language", "utterances", "precision", "recall");
  o << buf;
  for (size_t l = 0; l < r.languages.size(); ++l) {
    const LanguageStats& ls = r.overall.per_language[l];
    std::snprintf(buf, sizeof buf, "%-10s %10lld %10s %10s\n", r.languages[l].c_str(),
                  static_cast<long long>(ls.num_trials), ls.num_decided ? Pct(ls.precision).c_str() : "n/a",
                  ls.num_trials ? Pct(ls.recall).c_str() : "n/a");
    o << buf;
  }
  if (r.open_set.threshold > 0) {
    const OpenSetSummary& os = r.open_set;
    o << "\nopen set (unknown threshold " << Num(os.threshold, 4) << "): out-of-set called unknown "
      << os.out_of_set_unknown << "/" << os.out_of_set_trials << " (" << Pct(os.rejection_rate) << "), in-set called unknown "
      << os.in_set_unknown << "/" << os.in_set_trials << " (" << Pct(os.false_rejection_rate) << "), open-set accuracy "
      << Pct(os.open_set_accuracy) << "\n";
  }
  if (r.num_too_little_speech || r.num_no_speech || r.num_failed)
    o << "\n(" << r.num_too_little_speech << " utterance(s) with too little speech, " << r.num_no_speech
      << " without speech and " << r.num_failed << " unreadable were not scored)\n";
  return o.str();
}

namespace {

std::string GnuplotString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

int RunShell(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  if (status == -1) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::vector<std::string> DrawEvalPictures(const EvalReport& r, const std::string& out_dir, const std::string& fmt,
                                          std::string* message) {
  std::vector<std::string> drawn;
  if (RunShell("command -v gnuplot >/dev/null 2>&1") != 0) {
    *message = "gnuplot is not installed (Debian: apt-get install gnuplot-nox); pictures skipped";
    return drawn;
  }
  const std::vector<std::string>& langs = r.languages;
  const size_t n = langs.size();
  const fs::path dir(out_dir);
  // Confusion data: x = decided, y = truth, row-normalised fraction, count.
  WriteFileAtomically((dir / "confusion.dat").string(), [&](std::ostream& o) {
    o << "# decided truth fraction_of_truth_row count\n";
    for (size_t t = 0; t < n; ++t) {
      const double row = static_cast<double>(r.overall.per_language[t].num_trials);
      for (size_t d = 0; d < n; ++d)
        o << d << " " << t << " " << (row > 0 ? r.overall.confusion[t][d] / row : 0.0) << " "
          << r.overall.confusion[t][d] << "\n";
      o << "\n";
    }
  });
  const bool have_det = !r.overall.det.empty();
  if (have_det) {
    WriteFileAtomically((dir / "det.dat").string(), [&](std::ostream& o) {
      o << "# p_fa p_miss threshold; index 0: pooled detection LLRs, then one block per language\n";
      for (const DetPoint& p : r.overall.det) o << p.p_fa << " " << p.p_miss << " " << p.threshold << "\n";
      for (size_t l = 0; l < r.det_per_language.size(); ++l) {
        o << "\n\n# " << langs[l] << "\n";
        for (const DetPoint& p : r.det_per_language[l]) o << p.p_fa << " " << p.p_miss << " " << p.threshold << "\n";
        if (r.det_per_language[l].empty()) o << "nan nan nan\n";  // keeps the block numbering
      }
    });
  }
  const bool have_rel = r.overall.num_trials > 0 && !r.overall.reliability.empty();
  if (have_rel) {
    WriteFileAtomically((dir / "reliability.dat").string(), [&](std::ostream& o) {
      o << "# bin_lo bin_hi count mean_confidence accuracy (top posterior of each utterance; empty bins left out)\n";
      for (const ReliabilityBin& b : r.overall.reliability)
        if (b.count > 0)
          o << b.lo << " " << b.hi << " " << b.count << " " << b.mean_confidence << " " << b.accuracy << "\n";
    });
  }
  std::ostringstream gp;
  const std::string ext = fmt == "svg" ? "svg" : "png";
  const int size = std::max<int>(500, 60 * static_cast<int>(n) + 200);
  auto terminal = [&](int px) {
    if (ext == "svg")
      gp << "set terminal svg size " << px << "," << px << " noenhanced font 'sans,11'\n";
    else
      gp << "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size " << px << "," << px
         << " noenhanced font 'sans,10' } else { set terminal png size " << px << "," << px << " noenhanced }\n";
  };
  terminal(size);
  gp << "set output 'confusion." << ext << "'\n"
     << "set title " << GnuplotString("Confusion matrix (rows: truth, normalised; accuracy " +
                                      Pct(r.overall.accuracy) + ")") << "\n"
     << "set xlabel 'decided'\nset ylabel 'truth'\nset cbrange [0:1]\nset palette defined (0 'white', 1 '#2060c0')\n"
     << "set xrange [-0.5:" << n - 0.5 << "]\nset yrange [" << n - 0.5 << ":-0.5]\nset size square\n"
     << "set xtics rotate by 45 right (";
  for (size_t i = 0; i < n; ++i) gp << (i ? ", " : "") << GnuplotString(langs[i]) << " " << i;
  gp << ")\nset ytics (";
  for (size_t i = 0; i < n; ++i) gp << (i ? ", " : "") << GnuplotString(langs[i]) << " " << i;
  gp << ")\nset tics scale 0\nunset key\n"
     << "plot 'confusion.dat' using 1:2:3 with image, '' using 1:2:(($4 > 0) ? sprintf('%d', $4) : '') "
        "with labels font ',9'\n";
  if (have_det) {
    gp << "reset\nset output 'det." << ext << "'\n"
       << "set title " << GnuplotString("DET curves: pooled over languages (EER " + Pct(r.overall.eer) + ") and per language") << "\n"
       << "lo = 0.001; hi = 0.995\n"
       << "# a point outside [lo, hi] (p = 0 or 1 included) is undefined and not drawn, never clipped onto the border\n"
       << "det(p) = (p >= lo && p <= hi) ? invnorm(p) : 1/0\n"
       << "set xrange [invnorm(lo):invnorm(hi)]\nset yrange [invnorm(lo):invnorm(hi)]\nset size square\n"
       << "set xlabel 'false alarm probability (%)'\nset ylabel 'miss probability (%)'\n";
    const std::string tics =
        "('0.1' invnorm(0.001), '0.5' invnorm(0.005), '2' invnorm(0.02), '5' invnorm(0.05), '10' invnorm(0.1), "
        "'20' invnorm(0.2), '40' invnorm(0.4), '60' invnorm(0.6), '80' invnorm(0.8), '95' invnorm(0.95), "
        "'99' invnorm(0.99), '99.5' invnorm(0.995))";
    gp << "set xtics rotate by 45 right " << tics << "\nset ytics " << tics << "\n"
       << "set grid\nset key outside right top\n"
       << "plot 'det.dat' index 0 using (det($1)):(det($2)) with lines lw 3 lc 'black' title 'pooled'";
    for (size_t l = 0; l < r.det_per_language.size(); ++l)
      gp << ", '' index " << l + 1 << " using (det($1)):(det($2)) with lines lw 1 title " << GnuplotString(langs[l]);
    gp << ", x with lines dt 2 lc 'gray' title 'p_miss = p_fa'\n";
  }
  if (have_rel) {
    gp << "reset\n";
    terminal(600);
    gp << "set output 'reliability." << ext << "'\n"
       << "set title " << GnuplotString("Reliability: accuracy against confidence (top posterior); Cllr " +
                                        Num(r.overall.cllr, 3) + ", min-Cllr " + Num(r.overall.min_cllr, 3) + " bits")
       << "\n"
       << "set xrange [0:1]\nset yrange [0:1]\nset size square\nset grid\nset key left top\n"
       << "set xlabel 'confidence (mean top posterior in the bin)'\nset ylabel 'accuracy in the bin'\n"
       << "plot x with lines dt 2 lc 'gray' title 'perfectly calibrated', "
          "'reliability.dat' using 4:5 with linespoints lw 2 pt 7 lc '#2060c0' title 'slid', "
          "'' using 4:5:(sprintf('%d', $3)) with labels offset 0,1 font ',8' notitle\n";
  }
  WriteFileAtomically((dir / "plots.gp").string(), [&](std::ostream& o) { o << gp.str(); });
  const std::string cmd = "cd '" + out_dir + "' && gnuplot plots.gp > plots.log 2>&1";
  if (out_dir.find('\'') != std::string::npos || RunShell(cmd) != 0) {
    *message = "gnuplot failed (see " + (dir / "plots.log").string() + "); pictures skipped";
    return drawn;
  }
  drawn.push_back("confusion." + ext);
  if (have_det) drawn.push_back("det." + ext);
  if (have_rel) drawn.push_back("reliability." + ext);
  return drawn;
}

}  // namespace slid::tool
