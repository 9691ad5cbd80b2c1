// `slid calibrate --model M DEVDATA -o M2`: CalibrateOnDataset (slid/evaluate.h), then write the model
// with its calibration.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "frontend_flags.h"
#include "progress.h"
#include "progress_callbacks.h"
#include "report.h"
#include "slid/dataset.h"
#include "slid/evaluate.h"
#include "slid/io.h"
#include "slid/model.h"

namespace slid::tool {
namespace {

struct CalibrateArgs {
  std::string model;
  std::string data;
  std::string output;
  CalibrateOptions opts;
  bool no_balance = false;
  bool quiet = false;
};

int Run(CalibrateArgs& args) {
  args.opts.calibration.balance_priors = !args.no_balance;
  CheckOutputWritable(args.output);
  LanguageModelSet model = LanguageModelSet::Load(args.model);
  const Dataset dev = LoadDataset(args.data);
  Progress progress("slid calibrate", args.quiet);
  const CalibrateResult r = CalibrateOnDataset(model, dev, args.opts, ProgressCallbacksFor(progress));
  if (!r.languages_without_data.empty()) {
    std::string names;
    for (const std::string& l : r.languages_without_data) names += (names.empty() ? "" : ",") + l;
    // Not progress: printed with --quiet too.
    std::fprintf(stderr,
                 "slid calibrate: notice: no development data for %zu of %zu languages (%s): they keep the shared "
                 "scale and the mean offset (--require-all-languages makes this an error)\n",
                 r.languages_without_data.size(), model.languages.size(), names.c_str());
  }
  model.calibration = r.calibration;
  model.summary["calibration"] = {{"data", dev.root},
                                  {"recordings", r.num_used},
                                  {"failed_files", r.num_failed},
                                  {"too_little_speech", r.num_too_little_speech},
                                  {"languages_without_data", r.languages_without_data},
                                  {"date", UtcNow()},
                                  {"command_line", ProcessCommandLine()}};
  model.Save(args.output);
  char line[256];
  std::snprintf(line, sizeof line,
                "wrote %s: calibrated on %lld recordings, scale %.4g, cross-entropy %.4f -> %.4f nats (log %d = %.4f)",
                args.output.c_str(), static_cast<long long>(r.num_used), r.report.scale, r.report.cross_entropy_before,
                r.report.cross_entropy_after, static_cast<int>(model.languages.size()),
                std::log(static_cast<double>(model.languages.size())));
  progress.Line(line);
  if (r.num_failed > 0 || !dev.problems.empty()) {
    std::fprintf(stderr, "slid calibrate: %lld file(s) could not be read and %zu data problem(s) were skipped (listed above)\n",
                 static_cast<long long>(r.num_failed), dev.problems.size());
    return kExitSomeFailed;
  }
  return kExitOk;
}

CommandRegistration register_calibrate(
    "calibrate",
    "Calibrate a model's scores on labelled development data: an affine map (scale a and one offset per\n"
    "language, trained by multiclass logistic regression with equal language priors) stored in the model,\n"
    "so that identify/eval posteriors become calibrated probabilities. Use data not used for training\n"
    "(held-out speakers). A model language without development recordings keeps the shared scale and gets\n"
    "the mean of the trained offsets (its scores still compete in training, as in use); a notice names\n"
    "such languages, --require-all-languages makes them an error. At least 2 languages need recordings.\n"
    "DATA: as for slid train (folder of <lang>/ folders, Kaldi data dir, or TSV list).\n"
    "Example:\n"
    "  slid calibrate --model lid.slid data/dev -o lid-cal.slid --threads 2",
    [](CLI::App& app) -> Runner {
      auto args = std::make_shared<CalibrateArgs>();
      app.add_option("-m,--model", args->model, "Model file to calibrate")->required()->type_name("MODEL");
      app.add_option("data", args->data, "Development data with true languages")->required()->type_name("DATA");
      app.add_option("-o,--output", args->output, "Calibrated model to write (atomically)")->required()->type_name("MODEL");
      app.add_option("--min-speech-seconds", args->opts.scorer.min_speech_seconds,
                     "Recordings with less voiced speech are left out")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      app.add_flag("--require-all-languages", args->opts.require_all_languages,
                   "Fail if a model language has no usable development recording (default: mean offset)");
      app.add_flag("--no-balance", args->no_balance,
                   "Weigh languages by their number of development recordings instead of equally");
      app.add_option("--threads", args->opts.threads, "Files scored in parallel")
          ->check(CLI::Range(1, 256))
          ->capture_default_str();
      app.add_flag("-q,--quiet", args->quiet, "No progress output");
      return [args]() { return Run(*args); };
    });

}  // namespace
}  // namespace slid::tool
