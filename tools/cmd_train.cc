// `slid train DATA -o MODEL`: one diagonal GMM per language, trained with EM on the features of
// every file of that language (computed once per file, threads over files, spilled to an on-disk
// feature cache when a language's features outgrow --max-memory-mb).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "command.h"
#include "frontend_flags.h"
#include "ordered_parallel.h"
#include "progress.h"
#include "report.h"
#include "slid/dataset.h"
#include "slid/em.h"
#include "slid/error.h"
#include "slid/feature_cache.h"
#include "slid/frontend.h"
#include "slid/io.h"
#include "slid/map.h"
#include "slid/model.h"
#include "slid/version.h"

namespace slid::tool {

namespace {

namespace fs = std::filesystem;

struct TrainArgs {
  std::string data;
  std::string output;
  int num_gauss = 256;
  int iters = 20;
  int threads = 1;
  int seed = 0;
  double var_floor_rel = 1e-3;
  std::string init = "kmeans";
  std::string cache_dir;
  double max_memory_mb = 1024;
  bool ubm = false;             // GMM-UBM: one EM-trained UBM on all languages, MAP-adapted per language
  double map_relevance = 16;    // MAP relevance factor r (with ubm)
  bool map_weights = false;     // MAP-adapt the weights too (with ubm)
  bool quiet = false;
  FrontendFlags frontend;
};

// Features of one language: in memory until they outgrow the budget, then in a cache file.
class LanguageFrames {
 public:
  LanguageFrames(std::string cache_path, int dim, int64_t max_memory_frames)
      : cache_path_(std::move(cache_path)), dim_(dim), max_frames_(max_memory_frames) {}
  ~LanguageFrames() {
    writer_.reset();
    if (on_disk_) {
      std::error_code ec;
      fs::remove(cache_path_, ec);
      UnregisterTempFile(cache_path_);
    }
  }
  void Append(const Matrix& m) {
    if (m.rows() == 0) return;
    frames_ += m.rows();
    if (!writer_ && frames_ > max_frames_) {
      // Spill: from now on every block goes to disk; memory stays at one file's features.
      RegisterTempFile(cache_path_);  // removed by the Ctrl-C handler too
      writer_ = std::make_unique<FeatureCacheWriter>(cache_path_, dim_);
      for (const Matrix& b : blocks_) writer_->Append(b);
      blocks_.clear();
      blocks_.shrink_to_fit();
      on_disk_ = true;
    }
    if (writer_)
      writer_->Append(m);
    else
      blocks_.push_back(m);
  }
  int64_t frames() const { return frames_; }
  bool on_disk() const { return on_disk_; }
  // Ends appending; returns the frames as a source (streaming from disk if spilled), valid while
  // this object lives. Calling it again returns the same source.
  const FrameSource& Source() {
    if (source_) return *source_;
    if (writer_) {
      writer_->Close();
      writer_.reset();
      source_ = std::make_unique<FeatureCacheSource>(cache_path_);
      return *source_;
    }
    all_.resize(frames_, dim_);
    int64_t row = 0;
    for (const Matrix& b : blocks_) {
      all_.middleRows(row, b.rows()) = b;
      row += b.rows();
    }
    blocks_.clear();
    blocks_.shrink_to_fit();
    source_ = std::make_unique<MatrixFrameSource>(all_);
    return *source_;
  }
  // Trains on the frames, streaming from disk if spilled.
  EmResult Train(const EmOptions& opts, const std::function<void(const EmProgress&)>& cb) {
    return TrainDiagGmm(Source(), opts, cb);
  }

 private:
  std::string cache_path_;
  int dim_;
  int64_t max_frames_;
  int64_t frames_ = 0;
  bool on_disk_ = false;
  std::vector<Matrix> blocks_;
  std::unique_ptr<FeatureCacheWriter> writer_;
  Matrix all_;                           // in-memory frames once Source() was called
  std::unique_ptr<FrameSource> source_;  // set by Source()
};

// The frames of several sources one after another (for the UBM, trained on all languages), re-blocked
// so that every block but the last has exactly block_frames rows.
class ConcatFrameSource : public FrameSource {
 public:
  ConcatFrameSource(std::vector<const FrameSource*> parts, int dim) : parts_(std::move(parts)), dim_(dim) {}
  int Dim() const override { return dim_; }
  int64_t NumFrames() const override {
    int64_t n = 0;
    for (const FrameSource* p : parts_) n += p->NumFrames();
    return n;
  }
  void ForEachBlock(int64_t block_frames, const std::function<void(const Matrix&)>& fn) const override {
    Matrix buf(block_frames, dim_);
    int64_t filled = 0;
    for (const FrameSource* p : parts_) {
      p->ForEachBlock(block_frames, [&](const Matrix& b) {
        for (int64_t i = 0; i < b.rows();) {
          const int64_t n = std::min<int64_t>(b.rows() - i, block_frames - filled);
          buf.middleRows(filled, n) = b.middleRows(i, n);
          filled += n;
          i += n;
          if (filled == block_frames) {
            fn(buf);
            filled = 0;
          }
        }
      });
    }
    if (filled > 0) {
      const Matrix last = buf.topRows(filled);
      fn(last);
    }
  }

 private:
  std::vector<const FrameSource*> parts_;
  int dim_;
};

struct FileResult {
  Matrix features;
  double seconds = 0;
  std::string error;  // non-empty: the file failed
};

std::string OneLineError(const std::string& name, const std::string& what) {
  return what.rfind(name + ":", 0) == 0 ? what : name + ": " + what;
}

int Run(TrainArgs& args) {
  FrontendOptions fopts;
  try {
    fopts = args.frontend.Resolve();
  } catch (const Error& e) {
    std::fprintf(stderr, "slid: error: %s\n", e.what());
    return kExitUsage;
  }
  CheckOutputWritable(args.output);  // fail now, not after hours of training
  const Dataset data = LoadDataset(args.data);
  const Frontend frontend(fopts);
  const int dim = frontend.Dim();
  Progress progress("slid train", args.quiet);
  progress.Line(std::to_string(data.entries.size()) + " files in " + std::to_string(data.languages.size()) +
                " languages (" + data.format + " data at " + data.root + "), " + std::to_string(dim) +
                "-dim features, " + std::to_string(args.num_gauss) + " Gaussians, " + std::to_string(args.threads) +
                (args.threads == 1 ? " thread" : " threads"));

  std::string cache_dir = args.cache_dir;
  bool made_cache_dir = false;
  if (cache_dir.empty()) {
    cache_dir = (fs::temp_directory_path() / ("slid-train-" + std::to_string(::getpid()))).string();
  }
  if (!fs::exists(cache_dir)) {
    std::error_code ec;
    fs::create_directories(cache_dir, ec);
    if (ec) ThrowFileError(cache_dir, "cannot create the feature cache folder: " + ec.message());
    made_cache_dir = true;
    RegisterTempFile(cache_dir);  // the Ctrl-C handler removes it once emptied
  }
  struct CleanUp {
    std::string dir;
    bool remove;
    ~CleanUp() {
      std::error_code ec;
      if (remove) fs::remove_all(dir, ec);
      if (remove) UnregisterTempFile(dir);
    }
  } cleanup{cache_dir, made_cache_dir};

  const int64_t max_frames =
      static_cast<int64_t>(args.max_memory_mb * 1024 * 1024 / (sizeof(float) * dim) / data.languages.size());
  std::map<std::string, std::unique_ptr<LanguageFrames>> frames;
  std::map<std::string, int> files_ok, files_failed, files_silent;
  std::map<std::string, double> seconds;
  for (const auto& l : data.languages)
    frames[l] = std::make_unique<LanguageFrames>(
        (fs::path(cache_dir) / (l + "." + std::to_string(::getpid()) + ".feats")).string(), dim, max_frames);

  // Phase 1: features, once per file, threads over files, appended in data order.
  int failed = 0;
  double total_seconds = 0;
  int64_t total_frames = 0;
  progress.StartPhase("features", static_cast<int64_t>(data.entries.size()), "files");
  OrderedParallel<FileResult>(
      data.entries.size(), args.threads,
      [&](size_t i) {
        FileResult r;
        const DataEntry& e = data.entries[i];
        try {
          const Waveform wav = ReadEntryAudio(e, fopts.sample_rate_hz);
          r.seconds = wav.Seconds();
          r.features = frontend.Compute(wav);
        } catch (const std::exception& ex) {
          r.error = OneLineError(EntryName(e), ex.what());
        }
        return r;
      },
      [&](size_t i, FileResult r) {
        const DataEntry& e = data.entries[i];
        if (!r.error.empty()) {
          ++failed;
          ++files_failed[e.language];
          progress.Warn("skipped: " + r.error);
        } else {
          if (r.features.rows() == 0) {
            ++files_silent[e.language];
            progress.Warn("warning: " + EntryName(e) + ": no voiced frames, nothing to train on");
          }
          ++files_ok[e.language];
          seconds[e.language] += r.seconds;
          total_seconds += r.seconds;
          total_frames += r.features.rows();
          frames[e.language]->Append(r.features);
        }
        char detail[160];
        std::snprintf(detail, sizeof detail, "%.2f h of audio, %lld frames, %d failed", total_seconds / 3600,
                      static_cast<long long>(total_frames), failed);
        progress.Advance(1, detail);
      });
  progress.EndPhase();

  for (const auto& l : data.languages)
    if (frames[l]->frames() == 0)
      throw Error("language '" + l + "' has no usable audio (" + std::to_string(files_ok[l]) + " files read, " +
                  std::to_string(files_failed[l]) + " failed, " + std::to_string(files_silent[l]) +
                  " without voiced frames)");

  // Phase 2: one GMM per language.
  EmOptions em;
  em.num_gauss = args.num_gauss;
  em.max_iters = args.iters;
  em.seed = args.seed;
  em.threads = args.threads;
  em.var_floor_rel = static_cast<float>(args.var_floor_rel);
  em.init = args.init == "split" ? GmmInit::kBinarySplit : GmmInit::kKMeansPlusPlus;

  LanguageModelSet model;
  model.frontend = fopts;
  nlohmann::json per_lang = nlohmann::json::object();
  const int num_lang = static_cast<int>(data.languages.size());
  double em_seconds = 0, em_frame_iters = 0;  // for the overall time-left estimate

  // --ubm: one GMM on the frames of all languages, then each language's GMM is its MAP adaptation
  // (Reynolds et al. 2000; see slid/map.h) from one E-step of that language's frames against it.
  nlohmann::json ubm_summary = nullptr;
  if (args.ubm) {
    std::vector<const FrameSource*> parts;
    for (const auto& l : data.languages) parts.push_back(&frames[l]->Source());
    const ConcatFrameSource pooled(parts, dim);
    progress.StartPhase("EM UBM (all languages)", args.iters, "iterations");
    EmResult u = TrainDiagGmm(pooled, em, [&](const EmProgress& p) {
      char detail[160];
      std::snprintf(detail, sizeof detail, "avg log-likelihood %.4f, %d Gaussians, %.1f s/iteration", p.avg_loglik,
                    p.num_gauss, p.seconds);
      progress.Advance(1, detail, true);
    });
    for (const std::string& w : u.warnings) progress.Warn("warning: UBM: " + w);
    progress.EndPhase(std::to_string(pooled.NumFrames()) + " frames" + (u.converged ? ", converged" : ""));
    MapOptions mo;
    mo.relevance = args.map_relevance;
    mo.update_weights = args.map_weights;
    progress.StartPhase("MAP adaptation", num_lang, "languages");
    for (int li = 0; li < num_lang; ++li) {
      const std::string& l = data.languages[li];
      const GmmStats st = AccumulateStats(u.gmm, frames[l]->Source(), args.threads, em.block_frames);
      nlohmann::json s;
      s["files"] = files_ok[l];
      s["failed_files"] = files_failed[l];
      s["audio_hours"] = seconds[l] / 3600;
      s["frames"] = frames[l]->frames();
      s["num_gauss"] = u.gmm.NumGauss();
      s["ubm_avg_loglik"] = st.TotalLogLikelihood() / std::max(1.0, st.NumFrames());
      per_lang[l] = s;
      model.languages.push_back(l);
      model.gmms.push_back(MapAdapt(u.gmm, st, mo));
      progress.Advance(1, l);
    }
    progress.EndPhase();
    ubm_summary = {{"num_gauss", u.gmm.NumGauss()},
                   {"iterations", u.history.size()},
                   {"converged", u.converged},
                   {"final_avg_loglik", u.history.empty() ? nlohmann::json(nullptr) : nlohmann::json(u.history.back().avg_loglik)},
                   {"warnings", u.warnings},
                   {"map_relevance", args.map_relevance},
                   {"map_means", true},
                   {"map_weights", args.map_weights}};
  }
  for (int li = 0; li < num_lang && !args.ubm; ++li) {
    const std::string& l = data.languages[li];
    LanguageFrames& lf = *frames[l];
    progress.StartPhase("EM " + l + " (" + std::to_string(li + 1) + "/" + std::to_string(num_lang) + ")", args.iters,
                        "iterations");
    const int64_t n = lf.frames();
    const bool disk = lf.on_disk();
    EmResult r = lf.Train(em, [&](const EmProgress& p) {
      // Overall estimate: seconds per frame-iteration so far, times the frame-iterations still to do
      // in this language and the ones after it (EM may stop earlier when it converges).
      em_seconds += p.seconds;
      em_frame_iters += static_cast<double>(n);
      double remaining = static_cast<double>(n) * std::max(0, args.iters - p.iteration);
      for (int lj = li + 1; lj < num_lang; ++lj)
        remaining += static_cast<double>(frames[data.languages[lj]]->frames()) * args.iters;
      char detail[200];
      std::snprintf(detail, sizeof detail, "avg log-likelihood %.4f, %d Gaussians, %.1f s/iteration, all languages ~%s left",
                    p.avg_loglik, p.num_gauss, p.seconds,
                    FormatDuration(em_seconds / std::max(1.0, em_frame_iters) * remaining).c_str());
      progress.Advance(1, detail, true);
    });
    for (const std::string& w : r.warnings) progress.Warn("warning: " + l + ": " + w);
    progress.EndPhase(std::to_string(n) + " frames" + (disk ? " (streamed from the disk cache)" : "") +
                      (r.converged ? ", converged" : ""));
    nlohmann::json s;
    s["files"] = files_ok[l];
    s["failed_files"] = files_failed[l];
    s["audio_hours"] = seconds[l] / 3600;
    s["frames"] = n;
    s["num_gauss"] = r.gmm.NumGauss();
    s["iterations"] = r.history.size();
    s["converged"] = r.converged;
    // avg log-likelihood of the model entering the last iteration (EmProgress convention).
    s["final_avg_loglik"] = r.history.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.history.back().avg_loglik);
    s["warnings"] = r.warnings;
    per_lang[l] = s;
    model.languages.push_back(l);
    model.gmms.push_back(std::move(r.gmm));
  }

  model.summary = {
      {"audio_hours", total_seconds / 3600},
      {"frames", total_frames},
      {"files", static_cast<int64_t>(data.entries.size()) - failed},
      {"failed_files", failed},
      {"data", data.root},
      {"data_format", data.format},
      {"em",
       {{"num_gauss", args.num_gauss},
        {"max_iters", args.iters},
        {"seed", args.seed},
        {"var_floor_rel", args.var_floor_rel},
        {"init", args.init}}},
      {"ubm", ubm_summary},
      {"languages", per_lang},
      {"date", UtcNow()},
      {"slid_version", Version()},
      {"command_line", ProcessCommandLine()},
  };
  model.Save(args.output);
  progress.Line("wrote " + args.output + " (" + std::to_string(num_lang) + " languages, " +
                std::to_string(total_seconds / 3600).substr(0, 6) + " h of audio)");
  if (failed > 0) {
    std::fprintf(stderr, "slid train: %d file(s) failed and were skipped (listed above)\n", failed);
    return kExitSomeFailed;
  }
  return kExitOk;
}

CommandRegistration reg(
    "train",
    "Train one diagonal-covariance GMM per language and write a model file.\n"
    "DATA is a folder of <lang>/ sub-folders of audio, a Kaldi data dir (wav.scp + utt2lang; wav.scp\n"
    "entries may be commands ending in '|'), or a TSV list 'path<TAB>lang'.\n"
    "Example:\n"
    "  slid train data/train -o lid.slid --num-gauss 256 --iters 20 --threads 2 --config conf/frontend.conf\n"
    "A file that cannot be read is reported and skipped (exit code 3 at the end); a language left\n"
    "without usable audio is an error.",
    [](CLI::App& app) -> Runner {
      auto args = std::make_shared<TrainArgs>();
      app.add_option("data", args->data, "Training data: folder of <lang>/ folders, Kaldi data dir, or TSV list")
          ->required()
          ->type_name("DATA");
      app.add_option("-o,--output", args->output, "Model file to write (atomically)")->required()->type_name("MODEL");
      app.add_option("--num-gauss", args->num_gauss, "Gaussians per language")
          ->check(CLI::Range(1, 1 << 16))
          ->capture_default_str();
      app.add_option("--iters", args->iters, "EM iterations after initialisation")
          ->check(CLI::Range(0, 10000))
          ->capture_default_str();
      app.add_option("--threads", args->threads, "Threads (feature extraction over files, and the EM E-step)")
          ->check(CLI::Range(1, 256))
          ->capture_default_str();
      app.add_option("--seed", args->seed, "Seed of the EM initialisation")->capture_default_str();
      app.add_option("--var-floor", args->var_floor_rel, "Variance floor relative to the global variance")
          ->check(CLI::Range(0.0, 1.0))
          ->capture_default_str();
      app.add_option("--init", args->init, "GMM initialisation: kmeans (k-means++) or split (binary splitting)")
          ->check(CLI::IsMember({"kmeans", "split"}))
          ->capture_default_str();
      app.add_option("--cache-dir", args->cache_dir,
                     "Folder for on-disk feature caches (default: a temporary folder, removed at the end)")
          ->type_name("DIR");
      app.add_option("--max-memory-mb", args->max_memory_mb,
                     "Features kept in memory (all languages); beyond it they are streamed from the disk cache")
          ->check(CLI::PositiveNumber)
          ->capture_default_str();
      CLI::Option* ubm = app.add_flag("--ubm", args->ubm,
                   "GMM-UBM: train one GMM (the UBM) on all languages' frames with EM, then MAP-adapt it to each\n"
                   "language (means; Reynolds et al. 2000) instead of training each language separately");
      app.add_option("--map-relevance", args->map_relevance, "With --ubm: MAP relevance factor r (>= 0)")
          ->check(CLI::Range(0.0, 1e9))
          ->capture_default_str()
          ->needs(ubm);
      app.add_flag("--map-weights", args->map_weights, "With --ubm: MAP-adapt the weights too")->needs(ubm);
      app.add_flag("-q,--quiet", args->quiet, "No progress output");
      args->frontend.Register(app);
      return [args]() { return Run(*args); };
    });

}  // namespace
}  // namespace slid::tool
