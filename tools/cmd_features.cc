// `slid features`: audio in, feature matrices out (.npy per utterance, or one Kaldi archive + scp).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "command.h"
#include "frontend_flags.h"
#include "progress.h"
#include "slid/audio.h"
#include "slid/dataset.h"
#include "slid/error.h"
#include "slid/feature_io.h"
#include "slid/frontend.h"
#include "slid/io.h"
#include "slid/kaldi_io.h"
#include "slid/model.h"

namespace slid::tool {
namespace {

namespace fs = std::filesystem;

struct FeaturesArgs {
  std::vector<std::string> inputs;
  std::string list;
  std::string scp;
  std::string segments;  // --segments: Kaldi segments over the --scp recordings
  std::string out_dir = ".";
  std::string ark;
  bool compress = false;  // Kaldi compressed matrices in the archive
  std::string stage = "full";
  std::string model;  // --model: the frontend options of this model instead of flags
  bool quiet = false;
  FrontendFlags frontend;
};

// An utterance to process: its id (output name / archive key) and where its audio comes from.
struct Input {
  std::string id;
  DataEntry entry;  // a file path, or a piped command (wav.scp "<id> <cmd> |")
};

// An input from a plain path list or a file name is keyed by the file name's stem; a wav.scp entry
// keeps its utterance id.
Input FromPath(DataEntry e) {
  Input item;
  item.id = fs::path(e.source).stem().string();
  e.id = item.id;
  item.entry = std::move(e);
  return item;
}

FrontendStage ParseStage(const std::string& s) {
  if (s == "mfcc") return FrontendStage::kMfcc;
  if (s == "cmvn") return FrontendStage::kCmvn;
  if (s == "sdc") return FrontendStage::kSdc;
  return FrontendStage::kVoiced;
}

// Reads, computes and hands the matrix to `sink`; reports a failure on one line and returns false.
bool ProcessOne(const Input& in, const Frontend& frontend, FrontendStage stage,
                const std::function<void(const std::string&, const Matrix&)>& sink, double* audio_seconds) {
  const std::string name = EntryName(in.entry);
  try {
    if (in.id.empty() || in.id == "." || in.id == ".." || in.id.find('/') != std::string::npos)
      throw Error("'" + in.id + "' cannot be used as an utterance id (output file name)");
    const Waveform wav = ReadEntryAudio(in.entry, frontend.options().sample_rate_hz);
    *audio_seconds = wav.Seconds();
    const Matrix feats = frontend.Compute(wav, stage);
    if (feats.rows() == 0)
      std::fprintf(stderr, "slid: warning: %s: no %sframes (%.2f s of audio); writing an empty 0x%d matrix\n",
                   name.c_str(), stage == FrontendStage::kVoiced ? "voiced " : "", wav.Seconds(),
                   static_cast<int>(feats.cols()));
    sink(in.id, feats);
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "slid: %s\n", EntryErrorMessage(in.entry, e.what()).c_str());
    return false;
  }
}

int Run(FeaturesArgs& args) {
  FrontendOptions opts;
  std::vector<std::string> notes;
  try {
    if (!args.model.empty()) {
      // Exactly the features the model expects: its frontend options, with nothing on top.
      if (args.frontend.AnyGiven())
        throw Error("--model sets every frontend option (those the model was trained with); drop --config and the "
                    "frontend flags");
      const LanguageModelSet model = LanguageModelSet::Load(args.model);
      if (model.frontend_external)
        throw Error(args.model + ": trained on external features (slid train --feats without frontend options); slid "
                                 "does not know how they were computed");
      opts = model.frontend;
      notes = args.frontend.Notes();
    } else {
      opts = args.frontend.Resolve(&notes);
    }
    if (!args.ark.empty() && !ParseKaldiWspecifier(args.ark).binary && args.compress)  // refuses "f.ark" too
      throw Error("--compress needs a binary archive (ark:, not ark,t:)");
  } catch (const Error& e) {
    std::fprintf(stderr, "slid: error: %s\n", e.what());
    return kExitUsage;
  }
  for (const std::string& n : notes) std::fprintf(stderr, "slid: %s\n", n.c_str());
  std::vector<Input> inputs;
  for (const std::string& path : args.inputs) {
    DataEntry e;
    e.source = path;
    inputs.push_back(FromPath(std::move(e)));
  }
  if (!args.list.empty())
    for (DataEntry& e : ReadPathList(ReadFileToString(args.list), args.list)) inputs.push_back(FromPath(std::move(e)));
  if (!args.scp.empty())
    for (DataEntry& e : ReadWavScp(args.scp, args.segments))
      inputs.push_back({e.id, e});
  if (inputs.empty()) {
    std::fprintf(stderr, "slid: error: no input: give audio files, --list FILE or --scp FILE (see slid features --help)\n");
    return kExitUsage;
  }
  std::map<std::string, std::string> seen;  // id -> source, to refuse two utterances writing one output
  for (const Input& in : inputs) {
    auto [it, fresh] = seen.emplace(in.id, EntryName(in.entry));
    if (!fresh) {
      std::fprintf(stderr, "slid: error: utterance id '%s' used twice (%s and %s); use a wav.scp list with unique ids\n",
                   in.id.c_str(), it->second.c_str(), EntryName(in.entry).c_str());
      return kExitUsage;
    }
  }

  const Frontend frontend(opts);
  const FrontendStage stage = ParseStage(args.stage);
  // Progress only for several files (one file's features need no count).
  Progress progress("slid features", args.quiet || inputs.size() < 2);
  size_t failed = 0;
  double audio_seconds = 0;
  const auto start = std::chrono::steady_clock::now();
  auto detail = [&] {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char text[160];
    std::snprintf(text, sizeof text, "%zu failed, %.1f s of audio (%.0fx real time)", failed, audio_seconds,
                  audio_seconds / std::max(t, 1e-9));
    return std::string(text);
  };
  progress.StartPhase("features", static_cast<int64_t>(inputs.size()), "files");
  auto run_all = [&](const std::function<void(const std::string&, const Matrix&)>& sink) {
    for (const Input& in : inputs) {
      double seconds = 0;
      failed += !ProcessOne(in, frontend, stage, sink, &seconds);
      audio_seconds += seconds;
      progress.Advance(1, detail());
    }
  };

  if (!args.ark.empty()) {
    // Written atomically: the archive (and scp) appear only once every input has been processed.
    KaldiWriteOptions wo;
    wo.compress = args.compress;
    KaldiMatrixWriter writer(args.ark, wo);
    run_all([&](const std::string& id, const Matrix& m) { writer.Write(id, m); });
    writer.Close();
  } else {
    std::error_code ec;
    fs::create_directories(args.out_dir, ec);
    if (ec) ThrowFileError(args.out_dir, "cannot create output folder: " + ec.message());
    run_all([&](const std::string& id, const Matrix& m) { WriteNpyFile((fs::path(args.out_dir) / (id + ".npy")).string(), m); });
  }
  progress.EndPhase(detail());
  return failed > 0 ? kExitSomeFailed : kExitOk;
}

CommandRegistration register_features(
    "features",
    "Compute features (MFCC -> CMVN -> SDC -> VAD by default) from audio files or a list, and write them as\n"
    ".npy files (one per utterance, named <utt-id>.npy) or a Kaldi archive (binary or text, optionally with an scp).\n"
    "Examples:\n"
    "  slid features models/samples/*.wav --out-dir feats/\n"
    "  slid features --scp data/wav.scp --ark ark,scp:feats.ark,feats.scp --stage mfcc --config conf/mfcc.conf\n"
    "  slid features a.wav --ark ark,t:- --stage mfcc --num-ceps 13\n"
    "  slid features --scp wav.scp --model lid.slid --ark ark,scp:f.ark,f.scp   (what lid.slid expects)\n"
    "  slid features --scp data/wav.scp --segments data/segments --ark ark,scp:f.ark,f.scp\n"
    "--list holds one path per line, taken literally; commands ('<cmd> |') run only from a wav.scp (--scp).\n"
    "A file that cannot be read is reported on one line and skipped; the exit code is then 3.",
    [](CLI::App& app) -> Runner {
      auto args = std::make_shared<FeaturesArgs>();
      app.add_option("audio", args->inputs, "Audio files (any format libsndfile reads); utterance id = file name stem")
          ->type_name("FILE...");
      app.add_option("--list", args->list,
                     "File with one audio path per line, taken literally (nothing is run); utterance id = file name stem")
          ->type_name("FILE");
      app.add_option("--scp", args->scp,
                     "Kaldi wav.scp: '<utt-id> <path>' or '<utt-id> <command> |' per line (the command is run by "
                     "/bin/sh, as in Kaldi)")
          ->type_name("FILE");
      app.add_option("--segments", args->segments,
                     "Kaldi segments ('<utt-id> <recording-id> <start> <end>', seconds): one utterance per line, a "
                     "time range of a --scp recording (only that range is decoded)")
          ->type_name("FILE")
          ->needs("--scp");
      auto* out_dir = app.add_option("--out-dir", args->out_dir, "Folder for one <utt-id>.npy per utterance (float32, frames x dims)")
                          ->type_name("DIR")
                          ->capture_default_str();
      app.add_option("--ark", args->ark,
                     "Write a Kaldi archive instead, named by a Kaldi wspecifier: ark:FILE (binary, as Kaldi), "
                     "ark,t:FILE (text), ark,scp:ARK,SCP (archive + scp with byte offsets), ark:- (standard output)")
          ->type_name("WSPECIFIER")
          ->excludes(out_dir);
      app.add_flag("--compress", args->compress,
                   "Write Kaldi compressed matrices, byte for byte as copy-feats --compress=true (lossy: errors up to "
                   "1/126 of each column's range)")
          ->needs("--ark");
      app.add_option("--stage", args->stage,
                     "Where to stop: mfcc (raw MFCC), cmvn (normalised MFCC), sdc (all frames), full (voiced frames: "
                     "what the models see)")
          ->check(CLI::IsMember({"mfcc", "cmvn", "sdc", "full"}))
          ->capture_default_str();
      app.add_option("--model", args->model,
                     "Use the frontend options MODEL was trained with: the features it expects (identify --feats, "
                     "eval --feats); no --config or frontend flags with it")
          ->type_name("MODEL");
      app.add_flag("-q,--quiet", args->quiet, "No progress lines on standard error");
      args->frontend.Register(app);
      return [args]() { return Run(*args); };
    });

}  // namespace
}  // namespace slid::tool
