// `slid eval --model M DATA --out-dir DIR`: score labelled test data and write the report.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "command.h"
#include "frontend_flags.h"
#include "ordered_parallel.h"
#include "progress.h"
#include "report.h"
#include "slid/dataset.h"
#include "slid/error.h"
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
  std::string out_dir;
  std::string plot_format = "png";
  double min_speech_seconds = 0.5;
  int threads = 1;
  bool quiet = false;
  FrontendFlags frontend;
  CLI::App* app = nullptr;
};

struct Outcome {
  ScoreResult result;
  std::string error;
};

int Run(EvalArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  const LanguageModelSet model = LanguageModelSet::Load(args.model);
  if (int rc = CheckFrontendFlagsMatchModel(*args.app, args.frontend.AnyGiven(), model.frontend, args.model))
    return rc;
  const Dataset data = LoadDataset(args.data);
  for (const auto& l : data.languages)
    if (model.LanguageIndex(l) < 0) {
      std::string known;
      for (const auto& m : model.languages) known += (known.empty() ? "" : ",") + m;
      throw Error(data.root + ": test language '" + l + "' is not in the model " + args.model + " (it has: " + known +
                  ")");
    }
  ScorerOptions so;
  so.min_speech_seconds = args.min_speech_seconds;
  const Scorer scorer(model, so);
  std::error_code ec;
  fs::create_directories(args.out_dir, ec);
  if (ec) ThrowFileError(args.out_dir, "cannot create the output folder: " + ec.message());

  Progress progress("slid eval", args.quiet);
  progress.StartPhase("scoring", static_cast<int64_t>(data.entries.size()), "files");
  EvalReport report;
  report.model_path = args.model;
  report.data_path = data.root;
  report.languages = scorer.languages();
  report.num_utterances = static_cast<int64_t>(data.entries.size());
  std::vector<Trial> trials;
  std::string scores_tsv = "utterance\ttruth\t" + IdentifyTsvHeader(report.languages, 0).substr(5);  // drop "path\t"
  double audio_seconds = 0;
  OrderedParallel<Outcome>(
      data.entries.size(), args.threads,
      [&](size_t i) {
        Outcome o;
        const DataEntry& e = data.entries[i];
        try {
          o.result = e.is_command ? scorer.ScoreWaveform(ReadEntryAudio(e, model.frontend.sample_rate_hz))
                                  : scorer.ScoreFile(e.source);
        } catch (const std::exception& ex) {
          const std::string name = EntryName(e), what = ex.what();
          o.error = what.rfind(name + ":", 0) == 0 ? what : name + ": " + what;
        }
        return o;
      },
      [&](size_t i, Outcome o) {
        const DataEntry& e = data.entries[i];
        if (!o.error.empty()) {
          ++report.num_failed;
          progress.Warn("skipped: " + o.error);
        } else {
          audio_seconds += o.result.audio_seconds;
          std::string line = IdentifyTsvLine(e.id, report.languages, o.result, 0);
          scores_tsv += line.substr(0, line.find('\t')) + "\t" + e.language + line.substr(line.find('\t'));
          if (o.result.too_little_speech) {
            ++report.num_too_little_speech;
          } else {
            Trial t;
            t.true_language = static_cast<int>(
                std::find(report.languages.begin(), report.languages.end(), e.language) - report.languages.begin());
            t.scores = o.result.avg_loglik;
            t.duration_seconds = o.result.audio_seconds;
            trials.push_back(std::move(t));
          }
        }
        progress.Advance(1, std::to_string(report.num_failed) + " failed, " +
                                std::to_string(report.num_too_little_speech) + " too little speech");
      });
  progress.EndPhase();

  const int n = static_cast<int>(report.languages.size());
  report.overall = Evaluate(trials, n);
  report.buckets = DefaultDurationBuckets();
  for (const DurationBucket& b : report.buckets) {
    std::vector<Trial> sub;
    for (const Trial& t : trials)
      if (t.duration_seconds > b.min_seconds && t.duration_seconds <= b.max_seconds) sub.push_back(t);
    report.by_bucket.push_back(Evaluate(sub, n));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report.extra = {{"date", UtcNow()},
                  {"command_line", ProcessCommandLine()},
                  {"audio_seconds_scored", audio_seconds},
                  {"wall_seconds", secs},
                  {"threads", args.threads},
                  {"min_speech_seconds", args.min_speech_seconds},
                  {"model_summary", model.summary}};

  const fs::path dir(args.out_dir);
  WriteFileAtomically((dir / "scores.tsv").string(), [&](std::ostream& o) { o << scores_tsv; });
  std::string message;
  const std::vector<std::string> pictures = DrawEvalPictures(report, args.out_dir, args.plot_format, &message);
  if (!message.empty()) std::fprintf(stderr, "slid eval: %s\n", message.c_str());
  nlohmann::json j = EvalReportJson(report);
  j["pictures"] = pictures;
  WriteFileAtomically((dir / "report.json").string(), [&](std::ostream& o) { o << j.dump(2) << "\n"; });
  WriteFileAtomically((dir / "report.md").string(), [&](std::ostream& o) { o << EvalReportMarkdown(report, pictures); });
  std::fputs(EvalReportTable(report).c_str(), stdout);
  std::printf("\nreport: %s, %s%s\n", (dir / "report.md").c_str(), (dir / "report.json").c_str(),
              pictures.empty() ? "" : (", pictures: " + pictures.front() + (pictures.size() > 1 ? ", " + pictures[1] : "")).c_str());
  if (report.num_failed > 0) {
    std::fprintf(stderr, "slid eval: %lld file(s) could not be read (listed above)\n",
                 static_cast<long long>(report.num_failed));
    return kExitSomeFailed;
  }
  return kExitOk;
}

CommandRegistration reg(
    "eval",
    "Evaluate a model on labelled test data: accuracy, per-language precision/recall, confusion matrix,\n"
    "EER and Cavg (NIST LRE 2007/2009), overall and by duration (<=3 s, 3-10 s, >10 s).\n"
    "Writes DIR/report.json, DIR/report.md, DIR/scores.tsv, DIR/confusion.png and DIR/det.png (gnuplot).\n"
    "DATA: as for slid train (folder of <lang>/ folders, Kaldi data dir, or TSV list).\n"
    "Example:\n"
    "  slid eval --model lid.slid data/test --out-dir exp/eval --threads 2",
    [](CLI::App& app) -> Runner {
      auto args = std::make_shared<EvalArgs>();
      args->app = &app;
      app.add_option("-m,--model", args->model, "Model file written by slid train")->required()->type_name("MODEL");
      app.add_option("data", args->data, "Test data with true languages")->required()->type_name("DATA");
      app.add_option("-o,--out-dir", args->out_dir, "Folder for the report files")->required()->type_name("DIR");
      app.add_option("--plot-format", args->plot_format, "Picture format")
          ->check(CLI::IsMember({"png", "svg"}))
          ->capture_default_str();
      app.add_option("--min-speech-seconds", args->min_speech_seconds,
                     "Utterances with less voiced speech are counted as too_little_speech and not scored")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      app.add_option("--threads", args->threads, "Files scored in parallel")
          ->check(CLI::Range(1, 256))
          ->capture_default_str();
      app.add_flag("-q,--quiet", args->quiet, "No progress output");
      args->frontend.Register(app, "Frontend options (must match the model's; only checked)");
      return [args]() { return Run(*args); };
    });

}  // namespace
}  // namespace slid::tool
