// `slid features`: audio in, feature matrices out (.npy per utterance, or one Kaldi archive + scp).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "command.h"
#include "frontend_flags.h"
#include "slid/audio.h"
#include "slid/dataset.h"
#include "slid/error.h"
#include "slid/feature_io.h"
#include "slid/frontend.h"
#include "slid/io.h"
#include "slid/kaldi_io.h"

namespace slid::tool {
namespace {

namespace fs = std::filesystem;

struct FeaturesArgs {
  std::vector<std::string> inputs;
  std::string list;
  std::string out_dir = ".";
  std::string ark;
  std::string stage = "full";
  bool quiet = false;
  FrontendFlags frontend;
};

// An utterance to process: its id (output name / archive key) and where its audio comes from.
struct Input {
  std::string id;
  DataEntry entry;  // a file path, or a piped command (wav.scp "<id> <cmd> |")
};

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// A list file holds one path per line, or Kaldi wav.scp lines "<utt-id> <path>" and
// "<utt-id> <command> |". A line with whitespace inside is read as wav.scp. Blank lines and '#'
// comments are skipped. Relative paths are relative to the working directory, as in Kaldi.
std::vector<Input> ReadList(const std::string& list_path) {
  std::istringstream in(ReadFileToString(list_path));
  std::vector<Input> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    Input item;
    const size_t ws = line.find_first_of(" \t");
    if (ws == std::string::npos) {
      item.entry.source = line;
      item.id = fs::path(line).stem().string();
    } else {
      item.id = line.substr(0, ws);
      std::string rest = Trim(line.substr(ws));
      if (!rest.empty() && rest.back() == '|') {
        item.entry.is_command = true;
        rest = Trim(rest.substr(0, rest.size() - 1));
      }
      if (rest.empty()) ThrowFileError(list_path, "line " + std::to_string(n) + ": no path or command after '" + item.id + "'");
      item.entry.source = rest;
    }
    item.entry.id = item.id;
    out.push_back(std::move(item));
  }
  return out;
}

FrontendStage ParseStage(const std::string& s) {
  if (s == "mfcc") return FrontendStage::kMfcc;
  if (s == "cmvn") return FrontendStage::kCmvn;
  if (s == "sdc") return FrontendStage::kSdc;
  return FrontendStage::kVoiced;
}

// Prints progress on stderr at most every two seconds, and a summary at the end.
class Progress {
 public:
  Progress(size_t total, bool enabled) : total_(total), enabled_(enabled && total > 1) {}
  void Done(double audio_seconds, bool failed) {
    ++done_;
    failed_ += failed;
    audio_ += audio_seconds;
    const double now = Elapsed();
    if (enabled_ && now - last_ >= 2.0 && done_ < total_) {
      last_ = now;
      std::fprintf(stderr, "slid features: %zu/%zu files, %zu failed, %.1f s of audio, %.0fx real time\n", done_,
                   total_, failed_, audio_, audio_ / std::max(now, 1e-9));
    }
  }
  void Finish() const {
    if (!enabled_) return;
    const double t = Elapsed();
    std::fprintf(stderr, "slid features: %zu files (%zu failed), %.1f s of audio in %.2f s (%.0fx real time)\n",
                 done_, failed_, audio_, t, audio_ / std::max(t, 1e-9));
  }
  size_t failed() const { return failed_; }

 private:
  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  size_t total_, done_ = 0, failed_ = 0;
  bool enabled_;
  double audio_ = 0, last_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

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
    // Library errors from reading already start with the path; others (frontend) get it prepended.
    const std::string what = e.what();
    if (what.rfind(name + ":", 0) == 0)
      std::fprintf(stderr, "slid: %s\n", what.c_str());
    else
      std::fprintf(stderr, "slid: %s: %s\n", name.c_str(), what.c_str());
    return false;
  }
}

int Run(FeaturesArgs& args) {
  FrontendOptions opts;
  try {
    opts = args.frontend.Resolve();
    if (!args.ark.empty()) ParseKaldiWspecifier(args.ark);  // refuse "f.ark", "ark,scp:f" before any work
  } catch (const Error& e) {
    std::fprintf(stderr, "slid: error: %s\n", e.what());
    return kExitUsage;
  }
  std::vector<Input> inputs;
  for (const std::string& path : args.inputs) {
    Input item;
    item.id = fs::path(path).stem().string();
    item.entry.id = item.id;
    item.entry.source = path;
    inputs.push_back(std::move(item));
  }
  if (!args.list.empty()) {
    std::vector<Input> listed = ReadList(args.list);
    inputs.insert(inputs.end(), listed.begin(), listed.end());
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "slid: error: no input: give audio files or --list FILE (see slid features --help)\n");
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
  Progress progress(inputs.size(), !args.quiet);
  auto run_all = [&](const std::function<void(const std::string&, const Matrix&)>& sink) {
    for (const Input& in : inputs) {
      double seconds = 0;
      const bool ok = ProcessOne(in, frontend, stage, sink, &seconds);
      progress.Done(seconds, !ok);
    }
  };

  if (!args.ark.empty()) {
    // Written atomically: the archive (and scp) appear only once every input has been processed.
    KaldiMatrixWriter writer(args.ark);
    run_all([&](const std::string& id, const Matrix& m) { writer.Write(id, m); });
    writer.Close();
  } else {
    std::error_code ec;
    fs::create_directories(args.out_dir, ec);
    if (ec) ThrowFileError(args.out_dir, "cannot create output folder: " + ec.message());
    run_all([&](const std::string& id, const Matrix& m) { WriteNpyFile((fs::path(args.out_dir) / (id + ".npy")).string(), m); });
  }
  progress.Finish();
  return progress.failed() > 0 ? kExitSomeFailed : kExitOk;
}

CommandRegistration reg(
    "features",
    "Compute features (MFCC -> CMVN -> SDC -> VAD by default) from audio files or a list, and write them as\n"
    ".npy files (one per utterance, named <utt-id>.npy) or a Kaldi archive (binary or text, optionally with an scp).\n"
    "Examples:\n"
    "  slid features models/samples/*.wav --out-dir feats/\n"
    "  slid features --list data/wav.scp --ark ark,scp:feats.ark,feats.scp --stage mfcc --config conf/mfcc.conf\n"
    "  slid features a.wav --ark ark,t:- --stage mfcc --num-ceps 13\n"
    "A file that cannot be read is reported on one line and skipped; the exit code is then 3.",
    [](CLI::App& app) -> Runner {
      auto args = std::make_shared<FeaturesArgs>();
      app.add_option("audio", args->inputs, "Audio files (any format libsndfile reads); utterance id = file name stem")
          ->type_name("FILE...");
      app.add_option("--list", args->list,
                     "File listing inputs: one audio path per line, or Kaldi wav.scp lines "
                     "'<utt-id> <path>' / '<utt-id> <command> |'")
          ->type_name("FILE");
      auto* out_dir = app.add_option("--out-dir", args->out_dir, "Folder for one <utt-id>.npy per utterance (float32, frames x dims)")
                          ->type_name("DIR")
                          ->capture_default_str();
      app.add_option("--ark", args->ark,
                     "Write a Kaldi archive instead, named by a Kaldi wspecifier: ark:FILE (binary, as Kaldi), "
                     "ark,t:FILE (text), ark,scp:ARK,SCP (archive + scp with byte offsets), ark:- (standard output)")
          ->type_name("WSPECIFIER")
          ->excludes(out_dir);
      app.add_option("--stage", args->stage,
                     "Where to stop: mfcc (raw MFCC), cmvn (normalised MFCC), sdc (all frames), full (voiced frames: "
                     "what the models see)")
          ->check(CLI::IsMember({"mfcc", "cmvn", "sdc", "full"}))
          ->capture_default_str();
      app.add_flag("-q,--quiet", args->quiet, "No progress lines on standard error");
      args->frontend.Register(app);
      return [args]() { return Run(*args); };
    });

}  // namespace
}  // namespace slid::tool
