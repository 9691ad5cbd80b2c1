// `slid eval --model M DATA --out-dir DIR`: Evaluate (slid/evaluate.h), then write the report files.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "command.h"
#include "frontend_flags.h"
#include "progress.h"
#include "progress_callbacks.h"
#include "report.h"
#include "slid/dataset.h"
#include "slid/error.h"
#include "slid/evaluate.h"
#include "slid/io.h"
#include "slid/metrics.h"
#include "slid/model.h"
#include "slid/scorer.h"

namespace slid::tool {
namespace {

namespace fs = std::filesystem;

struct EvalArgs {
  std::string model;
  std::string data;
  std::string feats;     // --feats: precomputed features instead of audio, labelled by --utt2lang
  std::string utt2lang;
  std::string out_dir;
  std::string plot_format = "png";
  double min_speech_seconds = slid::ScorerOptions{}.min_speech_seconds;
  double unknown_threshold = 0;
  int threads = 1;
  bool quiet = false;
  FrontendFlags frontend;
  CLI::App* app = nullptr;
};

// The report of `r` for the tool's writers, with provenance.
EvalReport MakeReport(const EvalArgs& args, const std::string& data_root, const LanguageModelSet& model,
                      const EvaluateResult& r, double wall_seconds) {
  EvalReport report;
  report.model_path = args.model;
  report.data_path = data_root;
  report.languages = r.languages;
  report.num_utterances = r.num_utterances;
  report.num_failed = r.num_failed;
  report.num_too_little_speech = r.num_too_little_speech;
  report.num_no_speech = r.num_no_speech;
  report.open_set = r.open_set;
  report.overall = r.overall;
  report.buckets = r.buckets;
  report.by_bucket = r.by_bucket;
  report.extra = {{"date", UtcNow()},
                  {"command_line", ProcessCommandLine()},
                  {"audio_seconds_scored", r.audio_seconds_scored},
                  {"wall_seconds", wall_seconds},
                  {"threads", args.threads},
                  {"min_speech_seconds", args.min_speech_seconds},
                  {"unknown_threshold", args.unknown_threshold},
                  {"model_summary", model.summary}};
  return report;
}

// scores.tsv: identify's TSV columns with the true language after the utterance id, and the audio
// seconds last (the duration buckets count speech seconds, as NIST LRE does).
std::string ScoresTsv(const Dataset& data, const EvaluateResult& r) {
  std::string header = "utterance\ttruth\t" + IdentifyTsvHeader(r.languages, 0).substr(5);  // drop "path\t"
  header.pop_back();
  std::string tsv = header + "\taudio_seconds\n";
  for (const EvaluatedEntry& e : r.entries) {
    const DataEntry& d = data.entries[e.index];
    std::string line = IdentifyTsvLine(d.id, r.languages, e.result, 0);
    line.pop_back();
    char secs[32];
    std::snprintf(secs, sizeof secs, "\t%.2f\n", e.result.audio_seconds);
    tsv += line.substr(0, line.find('\t')) + "\t" + d.language + line.substr(line.find('\t')) + secs;
  }
  return tsv;
}

// scores.llr: NIST LRE / Kaldi style, one line "<utterance> <language> <detection LLR>" per scored
// utterance and language (the LLR s_L of slid/metrics.h); utterances with too little speech are left out.
std::string ScoresLlr(const Dataset& data, const EvaluateResult& r) {
  std::string out;
  char buf[64];
  for (const EvaluatedEntry& e : r.entries) {
    if (e.result.too_little_speech || e.result.avg_loglik.size() != r.languages.size()) continue;
    const std::vector<double> llr = DetectionScores(e.result.avg_loglik);
    for (size_t l = 0; l < llr.size(); ++l) {
      std::snprintf(buf, sizeof buf, " %.6g\n", llr[l]);
      out += data.entries[e.index].id + " " + r.languages[l] + buf;
    }
  }
  return out;
}

// One DET curve per language: its utterances' detection LLRs against those of the other languages.
std::vector<std::vector<DetPoint>> DetPerLanguage(const EvaluateResult& r) {
  const size_t n = r.languages.size();
  std::vector<std::vector<double>> target(n), nontarget(n);
  for (const EvaluatedEntry& e : r.entries) {
    if (e.result.too_little_speech || e.true_language < 0 || e.result.avg_loglik.size() != n) continue;
    const std::vector<double> llr = DetectionScores(e.result.avg_loglik);
    for (size_t l = 0; l < n; ++l) (static_cast<int>(l) == e.true_language ? target : nontarget)[l].push_back(llr[l]);
  }
  std::vector<std::vector<DetPoint>> det(n);
  if (n < 2) return det;
  for (size_t l = 0; l < n; ++l)
    if (!target[l].empty() && !nontarget[l].empty()) det[l] = DetCurve(target[l], nontarget[l]);
  return det;
}

int Run(EvalArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  const LanguageModelSet model = LanguageModelSet::Load(args.model);
  if (int rc = args.frontend.CheckModel(model.frontend, model.frontend_external, args.model)) return rc;
  if (args.data.empty() == args.feats.empty() || (!args.feats.empty() && args.utt2lang.empty())) {
    std::fprintf(stderr, "slid: error: give DATA (audio), or --feats RSPECIFIER with --utt2lang FILE (precomputed features)\n");
    return kExitUsage;
  }
  const Dataset data = args.feats.empty() ? LoadDataset(args.data) : LoadUtt2Lang(args.utt2lang);
  EvaluateOptions opts;
  opts.scorer.min_speech_seconds = args.min_speech_seconds;
  opts.scorer.unknown_threshold = args.unknown_threshold;
  opts.threads = args.threads;
  // The report set replaces DIR as a whole (slid/io.h ReplaceFolderAtomically): a re-run killed half-way
  // cannot leave report.json of one run beside scores.tsv of another. Checked before scoring.
  const std::vector<std::string> outputs = {"report.json", "report.md",     "scores.tsv", "scores.llr",
                                            "confusion.dat", "confusion.png", "confusion.svg", "det.dat",
                                            "det.png",      "det.svg",       "plots.gp",   "plots.log",
                                            "reliability.dat", "reliability.png", "reliability.svg"};
  std::error_code ec;
  if (fs::exists(args.out_dir, ec) && !fs::is_directory(args.out_dir, ec))
    ThrowFileError(args.out_dir, "exists and is not a folder");
  if (!fs::path(args.out_dir).parent_path().empty() && !fs::is_directory(fs::path(args.out_dir).parent_path(), ec))
    ThrowFileError(args.out_dir, "cannot create the output folder: " + fs::path(args.out_dir).parent_path().string() +
                                     " is not a folder");
  Progress progress("slid eval", args.quiet);
  const EvaluateResult r = args.feats.empty() ? Evaluate(model, data, opts, ProgressCallbacksFor(progress))
                                              : EvaluateFeatures(model, args.feats, data, opts, ProgressCallbacksFor(progress));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EvalReport report = MakeReport(args, data.root, model, r, secs);

  report.det_per_language = DetPerLanguage(r);
  std::vector<std::string> pictures;
  std::string message;
  ReplaceFolderAtomically(args.out_dir, outputs, [&](const std::string& tmp) {
    const fs::path d(tmp);
    WriteFileAtomically((d / "scores.tsv").string(), [&](std::ostream& o) { o << ScoresTsv(data, r); });
    WriteFileAtomically((d / "scores.llr").string(), [&](std::ostream& o) { o << ScoresLlr(data, r); });
    pictures = DrawEvalPictures(report, tmp, args.plot_format, &message);
    nlohmann::json j = EvalReportJson(report);
    j["pictures"] = pictures;
    WriteFileAtomically((d / "report.json").string(), [&](std::ostream& o) { o << j.dump(2) << "\n"; });
    WriteFileAtomically((d / "report.md").string(), [&](std::ostream& o) { o << EvalReportMarkdown(report, pictures); });
  });
  if (!message.empty()) std::fprintf(stderr, "slid eval: %s\n", message.c_str());
  const fs::path dir(args.out_dir);
  std::fputs(EvalReportTable(report).c_str(), stdout);
  std::string drawn;
  for (const std::string& p : pictures) drawn += (drawn.empty() ? ", pictures: " : ", ") + p;
  std::printf("\nreport: %s, %s%s\n", (dir / "report.md").c_str(), (dir / "report.json").c_str(), drawn.c_str());
  if (report.num_failed > 0 || !data.problems.empty()) {
    std::fprintf(stderr, "slid eval: %lld file(s) could not be read and %zu data problem(s) were skipped (listed above)\n",
                 static_cast<long long>(report.num_failed), data.problems.size());
    return kExitSomeFailed;
  }
  return kExitOk;
}

CommandRegistration register_eval(
    "eval",
    "Evaluate a model on labelled test data: accuracy, per-language precision/recall, confusion matrix,\n"
    "EER and Cavg (NIST LRE 2007/2009), Cllr and min-Cllr (multiclass, bits), overall and by seconds of\n"
    "speech (<=3 s, 3-10 s, >10 s).\n"
    "Writes DIR/report.json, DIR/report.md, DIR/scores.tsv, DIR/scores.llr ('utt lang llr' lines),\n"
    "DIR/confusion.png, DIR/det.png and DIR/reliability.png (gnuplot). DIR is replaced as a whole; it\n"
    "may hold only the files of an earlier report.\n"
    "DATA: as for slid train (folder of <lang>/ folders, Kaldi data dir, or TSV list).\n"
    "With --unknown-threshold P (open set), DATA may hold languages the model lacks: report.md/json add\n"
    "how many were called unknown, and how many of the model's languages were (false rejections).\n"
    "Examples:\n"
    "  slid eval --model lid.slid data/test --out-dir exp/eval --threads 2\n"
    "  slid eval --model lid.slid --feats scp:data/test/feats.scp --utt2lang data/test/utt2lang -o exp/eval",
    [](CLI::App& app) -> Runner {
      auto args = std::make_shared<EvalArgs>();
      args->app = &app;
      app.add_option("-m,--model", args->model, "Model file written by slid train")->required()->type_name("MODEL");
      auto* data = app.add_option("data", args->data, "Test data with true languages")->type_name("DATA");
      app.add_option("--feats", args->feats,
                     "Score precomputed final features instead of audio (as identify --feats), true languages "
                     "from --utt2lang")
          ->type_name("RSPECIFIER")
          ->excludes(data);
      app.add_option("--utt2lang", args->utt2lang, "True languages of --feats: '<utt-id> <language>' per line")
          ->type_name("FILE");
      app.add_option("-o,--out-dir", args->out_dir, "Folder for the report files")->required()->type_name("DIR");
      app.add_option("--plot-format", args->plot_format, "Picture format")
          ->check(CLI::IsMember({"png", "svg"}))
          ->capture_default_str();
      app.add_option("--min-speech-seconds", args->min_speech_seconds,
                     "Utterances with less voiced speech are counted as too_little_speech and not scored")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      app.add_option("--unknown-threshold", args->unknown_threshold,
                     "Open set: decision 'unknown' when no language's posterior reaches P (0: off); then test "
                     "languages the model lacks are accepted and their rejection is reported")
          ->check(CLI::Range(0.0, 1.0))
          ->type_name("P")
          ->capture_default_str();
      app.add_option("--threads", args->threads, "Files scored in parallel")
          ->check(CLI::Range(1, 256))
          ->capture_default_str();
      app.add_flag("-q,--quiet", args->quiet, "No progress output");
      args->frontend.RegisterCheck(app);
      return [args]() { return Run(*args); };
    });

}  // namespace
}  // namespace slid::tool
