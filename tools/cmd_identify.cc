// `slid identify --model M AUDIO...`: which language is each recording in.
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>
#include <sstream>

#include "command.h"
#include "frontend_flags.h"
#include "report.h"
#include "slid/dataset.h"
#include "slid/error.h"
#include "slid/evaluate.h"
#include "slid/io.h"
#include "slid/model.h"
#include "slid/scorer.h"

namespace slid::tool {
namespace {

struct IdentifyArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string list;
  bool json = false;
  int top = 0;
  std::string languages;
  double min_speech_seconds = 0.5;
  double segment_seconds = 600;
  double posterior_scale = 1.0;
  int threads = 1;
  bool quiet = false;
  FrontendFlags frontend;
  CLI::App* app = nullptr;
};

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// A list holds one audio path per line (anything after a tab is ignored, so a "path<TAB>lang" list
// works), or a command ending in '|' whose output is an audio file. Blank lines and '#' lines are skipped.
void ReadList(std::istream& in, std::vector<DataEntry>* out) {
  std::string line;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    DataEntry e;
    if (line.back() == '|') {
      e.is_command = true;
      e.source = Trim(line.substr(0, line.size() - 1));
    } else {
      e.source = line.substr(0, line.find('\t'));  // a "path<TAB>lang" list works too
    }
    e.id = e.source;
    out->push_back(std::move(e));
  }
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!Trim(item).empty()) out.push_back(Trim(item));
  return out;
}

int Run(IdentifyArgs& args) {
  const LanguageModelSet model = LanguageModelSet::Load(args.model);
  if (int rc = CheckFrontendFlagsMatchModel(*args.app, args.frontend.AnyGiven(), model.frontend, args.model))
    return rc;
  ScorerOptions so;
  so.languages = SplitCommas(args.languages);
  so.min_speech_seconds = args.min_speech_seconds;
  so.segment_seconds = args.segment_seconds;
  so.posterior_scale = args.posterior_scale;
  std::unique_ptr<Scorer> scorer;
  try {
    scorer = std::make_unique<Scorer>(model, so);
  } catch (const Error& e) {
    std::fprintf(stderr, "slid: error: %s\n", e.what());
    return kExitUsage;
  }

  std::vector<DataEntry> inputs;
  for (const std::string& p : args.inputs) {
    if (p == "-") {
      ReadList(std::cin, &inputs);
    } else {
      DataEntry e;
      e.id = e.source = p;
      inputs.push_back(e);
    }
  }
  if (!args.list.empty()) {
    std::istringstream in(ReadFileToString(args.list));
    ReadList(in, &inputs);
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "slid: error: no input: give audio files, --list FILE, or '-' to read paths from standard input\n");
    return kExitUsage;
  }

  const std::vector<std::string>& langs = scorer->languages();
  const int top = args.top > 0 ? std::min<int>(args.top, static_cast<int>(langs.size())) : 0;
  if (!args.json) std::fputs(IdentifyTsvHeader(langs, top).c_str(), stdout);
  ScoreEntriesCallbacks cb;
  cb.on_result = [&](size_t i, const ScoreResult& r) {
    const std::string name = EntryName(inputs[i]);
    const std::string line = args.json ? IdentifyJsonLine(name, langs, r, top) : IdentifyTsvLine(name, langs, r, top);
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
  };
  cb.on_error = [&](size_t, const std::string& message) {
    std::fflush(stdout);
    std::fprintf(stderr, "slid: %s\n", message.c_str());
  };
  const int64_t failed = ScoreEntries(*scorer, inputs, args.threads, cb);
  if (failed > 0) {
    std::fprintf(stderr, "slid identify: %lld of %zu file(s) failed (listed above)\n", static_cast<long long>(failed), inputs.size());
    return kExitSomeFailed;
  }
  return kExitOk;
}

CommandRegistration reg(
    "identify",
    "Identify the language of audio files with a trained model.\n"
    "Prints one line per file: path, best language, its score (average frame log-likelihood), status,\n"
    "speech seconds, then every language's average log-likelihood and posterior (equal priors).\n"
    "Examples:\n"
    "  slid identify --model models/default.slid models/samples/*.wav\n"
    "  find audio -name '*.flac' | slid identify --model lid.slid --json --top 3 -\n"
    "A file with less than --min-speech-seconds of voiced speech gets language '-' and status\n"
    "too_little_speech. Unreadable files are reported on standard error; exit code 3 if any failed.",
    [](CLI::App& app) -> Runner {
      auto args = std::make_shared<IdentifyArgs>();
      args->app = &app;
      app.add_option("-m,--model", args->model, "Model file written by slid train")
          ->required()
          ->type_name("MODEL");
      app.add_option("audio", args->inputs, "Audio files; '-' reads a list of paths from standard input")
          ->type_name("AUDIO...");
      app.add_option("--list", args->list, "File with one audio path per line (or path<TAB>anything, or a command ending in '|')")
          ->type_name("FILE")
          ->check(CLI::ExistingFile);
      app.add_flag("--json", args->json, "JSON lines instead of TSV");
      app.add_option("--top", args->top, "List only the N best languages, best first (0: all, in model order)")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      app.add_option("--languages", args->languages, "Comma-separated candidate languages (default: all in the model)")
          ->type_name("en,fr,...");
      app.add_option("--min-speech-seconds", args->min_speech_seconds,
                     "Voiced speech needed for a decision; below it the file is reported as too_little_speech")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      app.add_option("--segment-seconds", args->segment_seconds,
                     "Long files are read and featurised in segments of this length (bounded memory)")
          ->check(CLI::PositiveNumber)
          ->capture_default_str();
      app.add_option("--posterior-scale", args->posterior_scale,
                     "Posteriors = softmax(scale x average log-likelihood)")
          ->check(CLI::PositiveNumber)
          ->capture_default_str();
      app.add_option("--threads", args->threads, "Files processed in parallel (output order is kept)")
          ->check(CLI::Range(1, 256))
          ->capture_default_str();
      app.add_flag("-q,--quiet", args->quiet, "Accepted for symmetry; identify prints no progress");
      args->frontend.Register(app, "Frontend options (must match the model's; only checked)");
      return [args]() { return Run(*args); };
    });

}  // namespace
}  // namespace slid::tool
