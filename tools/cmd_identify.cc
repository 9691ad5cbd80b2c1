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
#include "slid/windowed.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace slid::tool {
namespace {

struct IdentifyArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string list;
  std::string feats;  // precomputed features (rspecifier or .npy folder) instead of audio
  std::string scp;
  std::string segments;  // --segments: Kaldi segments over the --scp recordings
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
  // Windowed and streaming identification (slid/windowed.h).
  double window_seconds = 0;  // 0: one decision per file
  double hop_seconds = 1.0;
  int smooth_windows = TimelineOptions{}.smooth_windows;
  double min_run_seconds = TimelineOptions{}.min_run_seconds;
  bool stream = false;
  std::string stream_format;
  int stream_rate = 0;
  int stream_channels = 1;
  double early_stop = 0;
  int early_stop_decisions = StreamOptions{}.early_stop_decisions;
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

// --window: per-window lines, then the file's smoothed timeline, file by file (bad files are reported
// and skipped: exit 3).
int RunWindows(const IdentifyArgs& args, const Scorer& scorer, int top) {
  WindowOptions wo;
  wo.window_seconds = args.window_seconds;
  wo.hop_seconds = args.hop_seconds;
  TimelineOptions to;
  to.smooth_windows = args.smooth_windows;
  to.min_run_seconds = args.min_run_seconds;
  const std::vector<std::string>& langs = scorer.languages();
  if (!args.json) std::fputs(WindowTsvHeader(langs, top).c_str(), stdout);
  size_t failed = 0;
  for (const std::string& path : args.inputs) {
    std::vector<TimelineWindow> timeline;  // one label per window (the timeline needs them all)
    double seconds = 0;
    try {
      seconds = IdentifyWindows(scorer, path, wo, [&](const WindowResult& w) {
        const std::string line = args.json ? WindowJsonLine("window", path, w.start_seconds, w.end_seconds, langs, w.result, top)
                                           : WindowTsvLine("window", path, w.start_seconds, w.end_seconds, langs, w.result, top);
        std::fputs(line.c_str(), stdout);
        std::fflush(stdout);
        timeline.push_back({w.start_seconds, w.end_seconds, DecisionLabel(langs, w.result)});
      });
    } catch (const Error& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "slid: %s\n", e.what());
      ++failed;
      continue;
    }
    for (const TimelineRun& r : SmoothTimeline(timeline, seconds, to)) {
      const std::string line = args.json ? RunJsonLine(path, r.start_seconds, r.end_seconds, r.label, r.num_windows)
                                         : RunTsvLine(path, r.start_seconds, r.end_seconds, r.label, langs, top);
      std::fputs(line.c_str(), stdout);
    }
    std::fflush(stdout);
  }
  if (failed > 0) {
    std::fprintf(stderr, "slid identify: %zu of %zu file(s) failed (listed above)\n", failed, args.inputs.size());
    return kExitSomeFailed;
  }
  return kExitOk;
}

// --stream: one stream (standard input, or a FIFO/file path), a running decision per hop.
int RunStream(const IdentifyArgs& args, const Scorer& scorer, int top) {
  const std::string path = args.inputs.empty() ? "-" : args.inputs.front();
  const std::string name = path == "-" ? "<stdin>" : path;
  int fd = 0;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) {
      std::fprintf(stderr, "slid: %s: cannot open: %s\n", path.c_str(), std::strerror(errno));
      return kExitError;
    }
  }
  StreamOptions so;
  so.hop_seconds = args.hop_seconds;
  so.early_stop_posterior = args.early_stop;
  so.early_stop_decisions = args.early_stop_decisions;
  PcmStreamOptions po;
  po.raw_format = args.stream_format;
  po.raw_rate_hz = args.stream_rate;
  po.raw_channels = args.stream_channels;
  const std::vector<std::string>& langs = scorer.languages();
  int rc = kExitOk;
  try {
    PcmStreamReader reader(fd, name, po, scorer.frontend().options().sample_rate_hz);
    if (!args.json) std::fputs(WindowTsvHeader(langs, top).c_str(), stdout);
    std::fflush(stdout);
    IdentifyStream(scorer, reader, so, [&](const StreamDecision& d) {
      const char* kind = d.early_stop ? "early_stop" : d.final ? "final" : "running";
      const std::string line = args.json ? WindowJsonLine(kind, name, 0, d.end_seconds, langs, d.result, top)
                                         : WindowTsvLine(kind, name, 0, d.end_seconds, langs, d.result, top);
      std::fputs(line.c_str(), stdout);
      std::fflush(stdout);
    });
  } catch (const Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "slid: %s\n", e.what());
    rc = kExitError;
  }
  if (fd != 0) ::close(fd);
  return rc;
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
  // --top N: the N best languages on every line (0: none; at most the number of languages).
  const int top = args.top > 0 ? std::min<int>(args.top, static_cast<int>(scorer->languages().size())) : 0;
  const bool windowed = args.window_seconds != 0 || args.app->count("--window") > 0;
  if (windowed || args.stream) {
    auto usage = [](const std::string& m) {
      std::fprintf(stderr, "slid: error: %s\n", m.c_str());
      return static_cast<int>(kExitUsage);
    };
    if (windowed && args.stream) return usage("--window and --stream cannot be combined (a stream gets one running decision)");
    if (!args.feats.empty() || !args.list.empty() || !args.scp.empty() || !args.data.empty())
      return usage(std::string(windowed ? "--window" : "--stream") + " takes audio paths only (not --feats, --list, --scp or --data)");
    if (model.frontend_external)
      return usage(args.model + " was trained on external features and cannot score audio");
    try {
      if (windowed) {
        ValidateWindowOptions({args.window_seconds, args.hop_seconds});
        ValidateTimelineOptions({args.smooth_windows, args.min_run_seconds});
        if (args.inputs.empty()) return usage("no input: give audio files");
        for (const std::string& p : args.inputs)
          if (p == "-") return usage("--window reads files; for standard input use --stream");
        IncrementalFrontend check(model.frontend, false);  // refuses options it cannot follow
      } else {
        ValidateStreamOptions({args.hop_seconds, args.early_stop, args.early_stop_decisions});
        if (args.inputs.size() > 1) return usage("--stream reads one stream: '-' (standard input) or one path");
        StreamingIdentifier check(*scorer, StreamOptions{args.hop_seconds, args.early_stop, args.early_stop_decisions});
      }
    } catch (const Error& e) {
      return usage(e.what());
    }
    return windowed ? RunWindows(args, *scorer, top) : RunStream(args, *scorer, top);
  }
  if (args.app->count("--hop") > 0 || args.app->count("--early-stop") > 0 || args.app->count("--stream-format") > 0)
    return [] {
      std::fprintf(stderr, "slid: error: --hop, --early-stop and --stream-* need --window or --stream\n");
      return static_cast<int>(kExitUsage);
    }();
  if (!args.feats.empty()) return RunFeats(args, *scorer, top);
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
    for (DataEntry& e : ReadWavScp(args.scp, args.segments))
      inputs.push_back(std::move(e));
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

CommandRegistration register_identify(
    "identify",
    "Identify the language of audio files with a trained model.\n"
    "Prints one line per file: path, best language, its score (average frame log-likelihood), status,\n"
    "speech seconds, then every language's average log-likelihood and posterior (equal priors).\n"
    "Examples:\n"
    "  slid identify --model models/default.slid models/samples/*.wav\n"
    "  find audio -name '*.flac' | slid identify --model lid.slid --json --top 3 -\n"
    "  sox in.mp3 -t wav - | slid identify --model lid.slid -\n"
    "  slid identify --model lid.slid --scp data/test/wav.scp\n"
    "  slid identify --model lid.slid --scp data/wav.scp --segments data/segments\n"
    "Standard input ('-') holding audio is one recording named <stdin>; otherwise it is a list of paths,\n"
    "one per line, taken literally. Commands ('<cmd> |') run only from a Kaldi wav.scp given with --scp.\n"
    "A file with less than --min-speech-seconds of voiced speech gets language '-' and status\n"
    "too_little_speech; one without speech at all (noise, tones, silence: the VAD's speech check,\n"
    "--vad-min-snr-db) gets '-' and status no_speech. With --unknown-threshold P, a file where no\n"
    "language's posterior reaches P gets language and status unknown (use a calibrated model).\n"
    "Unreadable files are reported on standard error; exit code 3 if any failed.\n"
    "Windowed (language diarisation of long or code-switched audio):\n"
    "  slid identify --model lid.slid --window 3 --hop 1 long.wav\n"
    "prints a line per window (kind 'window', start_s, end_s, then the columns above)\n"
    "and the smoothed timeline (kind 'run'): a majority vote over --smooth-windows\n"
    "windows, equal neighbours merged, runs shorter than --min-run absorbed.\n"
    "Streaming (a WAV stream or raw PCM from standard input or a FIFO):\n"
    "  arecord -f S16_LE -r 16000 | slid identify --model lid.slid --stream -\n"
    "  ... | slid identify --model lid.slid --stream --stream-format s16le \\\n"
    "        --stream-rate 8000 --early-stop 0.9 -\n"
    "prints a decision over the audio so far every --hop seconds (kind 'running'),\n"
    "then 'final' at the end of input or 'early_stop' once one language's posterior\n"
    "stayed above P for --early-stop-decisions decisions (exit 0). The stream uses a\n"
    "causal frontend (CMN over past frames, running VAD threshold), so its scores can\n"
    "differ a little from identify on the same file.",
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
      app.add_option("--segments", args->segments,
                     "Kaldi segments ('<utt-id> <recording-id> <start> <end>', seconds) over the --scp recordings: "
                     "one utterance per line (only its range is decoded)")
          ->type_name("FILE")
          ->check(CLI::ExistingFile)
          ->needs("--scp");
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
      app.add_option("--window", args->window_seconds,
                     "Windowed: a decision per window of S seconds, then a smoothed timeline")
          ->type_name("S");
      app.add_option("--hop", args->hop_seconds, "Windows start (or --stream decides) every H seconds")
          ->type_name("H")
          ->capture_default_str();
      app.add_option("--smooth-windows", args->smooth_windows,
                     "Timeline: majority vote over N windows (odd; 1: off)")
          ->type_name("N")
          ->capture_default_str();
      app.add_option("--min-run", args->min_run_seconds,
                     "Timeline: runs shorter than S join a neighbour (0: off)")
          ->type_name("S")
          ->capture_default_str();
      app.add_flag("--stream", args->stream,
                   "Read one WAV or raw PCM stream (AUDIO '-', a FIFO) as it arrives")
          ->excludes("--threads");
      app.add_option("--stream-format", args->stream_format, "Raw stream samples without a WAV header")
          ->type_name("s16le|f32le")
          ->check(CLI::IsMember({"s16le", "f32le"}));
      app.add_option("--stream-rate", args->stream_rate, "Raw stream sample rate, Hz")->type_name("HZ");
      app.add_option("--stream-channels", args->stream_channels, "Raw stream channels (mixed to mono)")
          ->type_name("N")
          ->capture_default_str();
      app.add_option("--early-stop", args->early_stop,
                     "Stream: stop once a language's posterior stays above P (0: off)")
          ->type_name("P")
          ->capture_default_str();
      app.add_option("--early-stop-decisions", args->early_stop_decisions,
                     "Stream: ... for this many decisions in a row")
          ->type_name("N")
          ->capture_default_str();
      args->frontend.RegisterCheck(app);
      return [args]() { return Run(*args); };
    });

}  // namespace
}  // namespace slid::tool
