// Output formatting shared by `slid identify` and `slid eval`: identify's TSV / JSON lines, the
// evaluation report (JSON, Markdown, a human table) and its pictures (confusion matrix and DET
// curve drawn by gnuplot as PNG or SVG).
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "slid/evaluate.h"
#include "slid/frontend.h"
#include "slid/metrics.h"
#include "slid/scorer.h"

namespace slid::tool {

// ---- identify output --------------------------------------------------------------------------
// TSV columns: path, language, score, status, speech_seconds, then either (top == 0) llk_<lang> and
// post_<lang> for every language in model order, or (top N) lang_i, llk_i, post_i for the N best.
// language is "unknown" (status unknown) when no posterior reached --unknown-threshold; language and score
// are "-" when there is no decision (status too_little_speech or no_speech), and every value
// that was not scored (no voiced frame at all) is "-" too: never "nan".
std::string IdentifyTsvHeader(const std::vector<std::string>& languages, int top);
std::string IdentifyTsvLine(const std::string& path, const std::vector<std::string>& languages,
                            const ScoreResult& r, int top);
// One JSON object per line: {"path", "language" (null if none), "score", "status", "speech_seconds",
// "audio_seconds", "scores": [{"language", "avg_loglik", "posterior"}, ...] best first (top N if top > 0)}.
std::string IdentifyJsonLine(const std::string& path, const std::vector<std::string>& languages,
                             const ScoreResult& r, int top);

// ---- windowed and streaming identify output ---------------------------------------------------
// TSV: "kind", then identify's columns with start_s and end_s after the path. kind is "window" (one
// window's decision), "run" (a merged run of the smoothed timeline: language = the run's label, the
// other columns "-"), "running" (a streamed decision over [0, end_s]), "final" or "early_stop" (the
// last streamed decision). JSON: identify's object plus "kind", "start_s", "end_s" (runs: "kind",
// "path", "start_s", "end_s", "language", "windows").
std::string WindowTsvHeader(const std::vector<std::string>& languages, int top);
std::string WindowTsvLine(const std::string& kind, const std::string& path, double start_s, double end_s,
                          const std::vector<std::string>& languages, const ScoreResult& r, int top);
std::string WindowJsonLine(const std::string& kind, const std::string& path, double start_s, double end_s,
                           const std::vector<std::string>& languages, const ScoreResult& r, int top);
std::string RunTsvLine(const std::string& path, double start_s, double end_s, const std::string& label,
                       const std::vector<std::string>& languages, int top);
std::string RunJsonLine(const std::string& path, double start_s, double end_s, const std::string& label,
                        int64_t num_windows);
// The decision column of a result, as the TSV prints it: a language, "unknown" or "-".
std::string DecisionLabel(const std::vector<std::string>& languages, const ScoreResult& r);

// ---- eval report ------------------------------------------------------------------------------
struct EvalReport {
  std::string model_path;              // the model evaluated
  std::string data_path;               // the test data
  std::vector<std::string> languages;  // candidate languages (score order)
  int64_t num_utterances = 0;          // listed in the data
  int64_t num_failed = 0;              // unreadable (reported on stderr)
  int64_t num_too_little_speech = 0;   // excluded from the metrics (speech, but too little)
  int64_t num_no_speech = 0;           // excluded from the metrics (status no_speech)
  EvalSummary overall;                 // all scored utterances
  std::vector<DurationBucket> buckets; // duration buckets
  std::vector<EvalSummary> by_bucket;  // one per bucket
  nlohmann::json extra = nlohmann::json::object();  // model summary, timing, ...
  // One DET curve per language (that language's targets against the other languages' utterances),
  // drawn beside the pooled one; empty: only the pooled curve. Indexed like `languages`.
  std::vector<std::vector<DetPoint>> det_per_language;
  OpenSetSummary open_set;             // threshold 0: closed-set evaluation only
};

nlohmann::json EvalReportJson(const EvalReport& r);     // report.json (DET points not included; see det.tsv)
std::string EvalReportMarkdown(const EvalReport& r, const std::vector<std::string>& pictures);
std::string EvalReportTable(const EvalReport& r);       // short human summary for standard output

// Draws confusion.<fmt>, det.<fmt> and reliability.<fmt> in out_dir with gnuplot (fmt "png" or "svg"),
// via data files and a script left beside them (confusion.dat, det.dat, reliability.dat, plots.gp) so
// they can be redrawn. The reliability diagram plots each non-empty bin of r.overall.reliability
// (accuracy against mean top posterior) beside the diagonal of perfect calibration. The DET
// axes run from 0.1 % to 99.5 % on a normal-deviate scale; operating points outside that range
// (and p = 0 or 1, which have no place on it) are left out, never drawn on the border. det.dat
// holds the pooled curve (gnuplot index 0), then one block per language in det_per_language.
// Returns the picture file names drawn. If gnuplot is not installed (or fails), returns none and sets
// *message to why; never throws for that reason.
std::vector<std::string> DrawEvalPictures(const EvalReport& r, const std::string& out_dir, const std::string& fmt,
                                          std::string* message);

// ---- provenance -------------------------------------------------------------------------------
std::string ProcessCommandLine();  // this process's argv joined with spaces (/proc/self/cmdline)
std::string UtcNow();              // "2026-11-23T01:40:00Z"

}  // namespace slid::tool
