// `slid identify --model M AUDIO...`: which language is each recording in.
#include <algorithm>
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
#include "slid/feature_io.h"
#include "slid/io.h"
#include "slid/model.h"
#include "slid/scorer.h"

namespace slid::tool {
namespace {

struct IdentifyArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string list;
  std::string feats;  // precomputed features (rspecifier or .npy folder) instead of audio
  std::string scp;
  std::string data;
  bool json = false;
  int top = 0;
  std::string languages;
  double min_speech_seconds = slid::ScorerOptions{}.min_speech_seconds;
  double segment_seconds = 600;
  double posterior_scale = 1.0;
  double unknown_threshold = 0;
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

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!Trim(item).empty()) out.push_back(Trim(item));
  return out;
}

// --feats: scores precomputed final features, one line per utterance id (bounded memory).
int RunFeats(const IdentifyArgs& args, const Scorer& scorer, int top) {
  FeatureReader reader(args.feats);
  const std::vector<std::string>& langs = scorer.languages();
  bool header = args.json;  // printed with the first line, once the first batch passed its checks
  ScoreFeatureStream(scorer, reader, args.threads, [&](const std::string& id, const ScoreResult& r) {
    if (!header) std::fputs(IdentifyTsvHeader(langs, top).c_str(), stdout);
    header = true;
    const std::string line = args.json ? IdentifyJsonLine(id, langs, r, top) : IdentifyTsvLine(id, langs, r, top);
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
  });
  if (!header) std::fputs(IdentifyTsvHeader(langs, top).c_str(), stdout);  // no utterances
  return kExitOk;
}

int Run(IdentifyArgs& args) {
  const LanguageModelSet model = LanguageModelSet::Load(args.model);
  if (int rc = args.frontend.CheckModel(model.frontend, model.frontend_external, args.model)) return rc;
  ScorerOptions so;
  so.languages = SplitCommas(args.languages);
  so.min_speech_seconds = args.min_speech_seconds;
  so.segment_seconds = args.segment_seconds;
  so.posterior_scale = args.posterior_scale;
  so.unknown_threshold = args.unknown_threshold;
  std::unique_ptr<Scorer> scorer;
  try {
    scorer = std::make_unique<Scorer>(model, so);
  } catch (const Error& e) {
    std::fprintf(stderr, "slid: error: %s\n", e.what());
    return kExitUsage;
  }
  if (!args.feats.empty()) {
    const int top = args.top > 0 ? std::min<int>(args.top, static_cast<int>(scorer->languages().size())) : 0;
    return RunFeats(args, *scorer, top);
  }
  if (model.frontend_external) {
    std::fprintf(stderr, "slid: error: %s was trained on external features (slid train --feats without frontend "
                         "options) and cannot score audio; give it such features with --feats\n", args.model.c_str());
    return kExitUsage;
  }

  // Inputs: file names as given, '-' (standard input: one audio recording, or a list of paths),
  // --list (a list of paths) and --scp (a Kaldi wav.scp, the only place where "<command> |" runs).
  std::vector<DataEntry> inputs;
  for (const std::string& p : args.inputs) {
    if (p == "-") {
      for (DataEntry& e : ReadStandardInput(std::cin)) inputs.push_back(std::move(e));
    } else {
      DataEntry e;
      e.id = e.source = p;
      inputs.push_back(e);
    }
  }
  if (!args.list.empty())
    for (DataEntry& e : ReadPathList(ReadFileToString(args.list), args.list)) inputs.push_back(std::move(e));
  if (!args.scp.empty())
    for (DataEntry& e : ReadWavScp(args.scp)) inputs.push_back(std::move(e));
  size_t data_problems = 0;
  if (!args.data.empty()) {
    Dataset data = LoadDataset(args.data);
    for (const std::string& p : data.problems) std::fprintf(stderr, "slid: skipped: %s\n", p.c_str());
    for (const std::string& w : data.ignored) std::fprintf(stderr, "slid: warning: %s\n", w.c_str());
    data_problems = data.problems.size();
    for (DataEntry& e : data.entries) inputs.push_back(std::move(e));
  }
  if (inputs.empty() && data_problems > 0) return kExitSomeFailed;  // every entry was a reported problem
  if (inputs.empty()) {
    std::fprintf(stderr, "slid: error: no input: give audio files, --list FILE, --scp FILE, or '-' (standard "
                         "input: audio, or a list of paths)\n");
    return kExitUsage;
  }

  const std::vector<std::string>& langs = scorer->languages();
  const int top = args.top > 0 ? std::min<int>(args.top, static_cast<int>(langs.size())) : 0;
  if (!args.json) std::fputs(IdentifyTsvHeader(langs, top).c_str(), stdout);
  ScoreEntriesCallbacks cb;
  cb.on_result = [&](size_t i, const ScoreResult& r) {
    const std::string& name = inputs[i].id;  // the path as given, the wav.scp utterance id, or <stdin>
    const std::string line = args.json ? IdentifyJsonLine(name, langs, r, top) : IdentifyTsvLine(name, langs, r, top);
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
  };
  cb.on_error = [&](size_t i, const std::string& message) {
    std::fflush(stdout);
    const bool tsv_line = inputs[i].source.find('\t') != std::string::npos && message.find("o such file") != std::string::npos;
    std::fprintf(stderr, "slid: %s%s\n", message.c_str(),
                 tsv_line ? " (a 'path<TAB>language' list? give it with --data, not --list)" : "");
  };
  const int64_t failed = ScoreEntries(*scorer, inputs, args.threads, cb);
  if (failed > 0) {
    std::fprintf(stderr, "slid identify: %lld of %zu file(s) failed (listed above)\n", static_cast<long long>(failed), inputs.size());
    return kExitSomeFailed;
  }
  if (data_problems > 0) {
    std::fprintf(stderr, "slid identify: %zu data problem(s) were skipped (listed above)\n", data_problems);
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
    "  sox in.mp3 -t wav - | slid identify --model lid.slid -\n"
    "  slid identify --model lid.slid --scp data/test/wav.scp\n"
    "Standard input ('-') holding audio is one recording named <stdin>; otherwise it is a list of paths,\n"
    "one per line, taken literally. Commands ('<cmd> |') run only from a Kaldi wav.scp given with --scp.\n"
    "A file with less than --min-speech-seconds of voiced speech gets language '-' and status\n"
    "too_little_speech; one without speech at all (noise, tones, silence: the VAD's speech check,\n"
    "--vad-min-snr-db) gets '-' and status no_speech. With --unknown-threshold P, a file where no\n"
    "language's posterior reaches P gets language and status unknown (use a calibrated model).\n"
    "Unreadable files are reported on standard error; exit code 3 if any failed.",
    [](CLI::App& app) -> Runner {
      auto args = std::make_shared<IdentifyArgs>();
      args->app = &app;
      app.add_option("-m,--model", args->model, "Model file written by slid train")
          ->required()
          ->type_name("MODEL");
      app.add_option("audio", args->inputs,
                     "Audio files; '-' reads standard input: audio (one recording) or a list of paths")
          ->type_name("AUDIO...");
      auto* list = app.add_option("--list", args->list, "File with one audio path per line, taken literally (nothing is run)")
          ->type_name("FILE")
          ->check(CLI::ExistingFile);
      app.add_option("--data", args->data,
                     "Labelled data as slid train/eval read it (folder of <lang>/ folders, Kaldi data dir, "
                     "'path<TAB>lang' TSV list); the labels are ignored, output is keyed by utterance id")
          ->type_name("DATA");
      app.add_option("--scp", args->scp,
                     "Kaldi wav.scp: '<utt-id> <path>' or '<utt-id> <command> |' per line (the command is run "
                     "by /bin/sh, as in Kaldi); output is keyed by utterance id")
          ->type_name("FILE")
          ->check(CLI::ExistingFile);
      app.add_option("--feats", args->feats,
                     "Score precomputed final features instead of audio: scp:feats.scp, ark:f.ark, ark:- (Kaldi "
                     "binary, text or compressed), a data dir with feats.scp, or a folder of .npy; one line per "
                     "utterance id")
          ->type_name("RSPECIFIER")
          ->excludes(list)
          ->excludes("audio");
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
      app.add_option("--unknown-threshold", args->unknown_threshold,
                     "Open set: language 'unknown' when no language's posterior reaches P (0: off)")
          ->check(CLI::Range(0.0, 1.0))
          ->type_name("P")
          ->capture_default_str();
      app.add_option("--threads", args->threads, "Files processed in parallel (output order is kept)")
          ->check(CLI::Range(1, 256))
          ->capture_default_str();
      app.add_flag("-q,--quiet", args->quiet, "Accepted for symmetry; identify prints no progress");
      args->frontend.RegisterCheck(app);
      return [args]() { return Run(*args); };
    });

}  // namespace
}  // namespace slid::tool
