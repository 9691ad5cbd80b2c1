// TrainLanguageModelSet: features once per file into a bounded-memory frame store, then EM per
// language or UBM + MAP. See slid/train.h.
#include "slid/train.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "driver_util.h"
#include "train_util.h"
#include "ordered_parallel.h"
#include "slid/error.h"
#include "slid/feature_cache.h"
#include "slid/feature_io.h"
#include "slid/io.h"
#include "slid/ivector_backend.h"
#include "slid/number_text.h"
#include "slid/version.h"

namespace slid {

namespace {

namespace fs = std::filesystem;
using namespace internal;

// Features of one language: in memory until they outgrow the budget, then in a cache file.
class LanguageFrames {
 public:
  LanguageFrames(std::string cache_path, int dim, int64_t max_memory_frames)
      : cache_path_(std::move(cache_path)), dim_(dim), max_frames_(max_memory_frames) {}
  ~LanguageFrames() {
    writer_.reset();
    source_.reset();
    if (on_disk_) {
      std::error_code ec;
      fs::remove(cache_path_, ec);
      UnregisterTempFile(cache_path_);
    }
  }
  // Appends the frames of utterance `id` (its key draws the k-means++ subsample, see UtteranceKeys).
  void Append(const Matrix& m, const std::string& id) {
    if (m.rows() == 0) return;
    frames_ += m.rows();
    lengths_.push_back(m.rows());  // utterance boundaries (the ivector back-end needs them)
    keys_.push_back(UtteranceKey(id));
    if (!writer_ && frames_ > max_frames_) {
      // Spill: from now on every block goes to disk; memory stays at one file's features.
      RegisterTempFile(cache_path_);  // removed by a signal handler too
      on_disk_ = true;
      writer_ = std::make_unique<FeatureCacheWriter>(cache_path_, dim_);
      for (const Matrix& b : blocks_) writer_->Append(b);
      blocks_.clear();
      blocks_.shrink_to_fit();
    }
    if (writer_)
      writer_->Append(m);
    else
      blocks_.push_back(m);
  }
  int64_t frames() const { return frames_; }
  const std::vector<int64_t>& lengths() const { return lengths_; }  // frames of each appended file, in order
  UtteranceKeys keys() const { return {lengths_, keys_}; }           // their lengths and keys
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

 private:
  std::string cache_path_;
  int dim_;
  int64_t max_frames_;
  int64_t frames_ = 0;
  std::vector<int64_t> lengths_;
  std::vector<uint64_t> keys_;
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

// `keep` of the frames of `src`, evenly spread (row i is kept iff floor((i+1) keep / n) > floor(i keep / n)),
// in order; for a UBM that sees every language equally. Blocks may be shorter than block_frames (the
// consumer here, ConcatFrameSource, re-blocks).
class EvenSubsampleSource : public FrameSource {
 public:
  EvenSubsampleSource(const FrameSource& src, int64_t keep) : src_(src), keep_(std::min(keep, src.NumFrames())) {}
  int Dim() const override { return src_.Dim(); }
  int64_t NumFrames() const override { return keep_; }
  void ForEachBlock(int64_t block_frames, const std::function<void(const Matrix&)>& fn) const override {
    const int64_t n = src_.NumFrames();
    if (keep_ == n) return src_.ForEachBlock(block_frames, fn);
    int64_t row = 0;
    Matrix kept;
    src_.ForEachBlock(block_frames, [&](const Matrix& b) {
      kept.resize(b.rows(), b.cols());
      int64_t m = 0;
      for (int64_t i = 0; i < b.rows(); ++i, ++row)
        if ((row + 1) * keep_ / n > row * keep_ / n) kept.row(m++) = b.row(i);
      if (m > 0) {
        const Matrix part = kept.topRows(m);
        fn(part);
      }
    });
  }

 private:
  const FrameSource& src_;
  int64_t keep_;
};

// The cache folder: the one given (created if missing), or a fresh temporary one. Removed at the end
// if this run created it.
class CacheFolder {
 public:
  explicit CacheFolder(const std::string& requested) : path_(requested) {
    // What killed runs left (SIGKILL cannot be caught): their temporary cache folders, and their
    // cache files in a folder given with --cache-dir.
    if (path_.empty()) {
      const std::string tmp = fs::temp_directory_path().string();
      RemoveDeadProcessLeftovers(tmp, "slid-train-([0-9]+)");
      path_ = (fs::path(tmp) / ("slid-train-" + std::to_string(::getpid()))).string();
    } else {
      RemoveDeadProcessLeftovers(path_, "[^/]+\\.([0-9]+)\\.feats(?:\\.tmp\\.[0-9]+)?");
    }
    if (!fs::exists(path_)) {
      std::error_code ec;
      fs::create_directories(path_, ec);
      if (ec) ThrowFileError(path_, "cannot create the feature cache folder: " + ec.message());
      made_ = true;
      RegisterTempFile(path_);  // a signal handler removes it once emptied
    }
  }
  ~CacheFolder() {
    if (!made_) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
    UnregisterTempFile(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool made_ = false;
};

// Per-language bookkeeping of phase 1.
struct LanguageTally {
  int files_ok = 0, files_failed = 0, files_silent = 0;
  double seconds = 0;
};

std::string Fixed(double v, int digits) { return FormatFixed(v, digits); }  // '.' in any locale

std::string EmDetail(const EmProgress& p) {
  return "avg log-likelihood " + Fixed(p.avg_loglik, 4) + ", " + std::to_string(p.num_gauss) + " Gaussians, " +
         Fixed(p.seconds, 1) + " s/iteration";
}

nlohmann::json FinalLoglik(const EmResult& r) {
  // avg log-likelihood of the model entering the last iteration (EmProgress convention).
  return r.history.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.history.back().avg_loglik);
}

}  // namespace

namespace internal {

// Bad options: an Error before any work.
void CheckTrainOptions(const TrainOptions& opts) {
  if (opts.backend != "gmm" && opts.backend != "ubm-map" && opts.backend != "ivector")
    throw Error("train: unknown back-end '" + opts.backend + "' (known: gmm, ubm-map, ivector)");
  if (opts.threads < 1) throw Error("train: threads must be >= 1");
  if (!(opts.max_memory_mb > 0)) throw Error("train: max_memory_mb must be > 0");
  if (!(opts.map.relevance >= 0)) throw Error("train: MAP relevance factor must be >= 0");
  opts.frontend.Validate();
  opts.augment.Validate();
  if (opts.augment.copies > 0 && opts.frontend.sample_rate_hz < 8000)
    for (const std::string& k : opts.augment.kinds)
      if (k.find("telephone") != std::string::npos)
        throw Error("train: augmentation kind '" + k + "' needs a frontend rate of 8000 Hz or more");
}

std::string AugmentedId(const std::string& id, int copy) { return id + "/aug" + std::to_string(copy); }

EntryFeatures ComputeEntryFeatures(const Frontend& frontend, const DataEntry& entry, int rate_hz,
                                   const AugmentOptions& augment) {
  EntryFeatures r;
  try {
    const Waveform wav = ReadEntryAudio(entry, rate_hz);
    r.seconds = wav.Seconds();
    if (augment.copies == 0) {
      r.features = frontend.Compute(wav);
      return r;
    }
    // Frontend::Compute, spelled out so that the voiced flags can be reused.
    std::vector<float> energy;
    const Matrix mfcc = frontend.ComputeMfcc(wav, &energy);
    const Matrix all = frontend.ComputeFeatures(mfcc);
    const std::vector<bool> voiced = frontend.ComputeVoiced(mfcc, energy);
    r.features = all.rows() == 0 ? all : SelectVoicedFrames(all, voiced);
    for (int c = 0; c < augment.copies; ++c) {
      const AugmentedCopy copy = AugmentUtterance(wav, augment, entry.id, c);
      r.copy_seconds += copy.wav.Seconds();
      if (augment.original_vad) {
        const Matrix cm = frontend.ComputeMfcc(copy.wav);
        if (cm.rows() == mfcc.rows()) {
          const Matrix cf = frontend.ComputeFeatures(cm);
          r.copies.push_back(cf.rows() == 0 ? cf : SelectVoicedFrames(cf, voiced));
          continue;
        }
      }
      r.copies.push_back(frontend.Compute(copy.wav));
    }
  } catch (const std::exception& ex) {
    r = EntryFeatures();
    r.error = EntryErrorLine(entry, ex.what());
  }
  return r;
}

// Refuses data that cannot make a model, with one Error naming every reason: labels that cannot name a
// model entry and cache files, languages without any item left (`present`, of `listed`), fewer than 2
// languages. `unit` names the items ("file(s)", "utterance(s)").
void RefuseUnusableData(const Dataset& data, const std::map<std::string, int64_t>& listed,
                        const std::map<std::string, int64_t>& present, const std::string& unit) {
  std::vector<std::string> fatal;
  std::string bad;
  for (const std::string& l : data.languages)
    if (l.empty() || l == "." || l == ".." || l.find_first_of(std::string(" \t\r\n\v\f,/\\\0", 10)) != std::string::npos)
      bad += (bad.empty() ? "'" : ", '") + l + "'";
  if (!bad.empty())
    fatal.push_back("bad language label(s) " + bad +
                    ": a label must be non-empty, without spaces, commas or slashes (it names a model entry and files)");
  std::string usable;
  int num_usable = 0;
  for (const std::string& l : data.languages) {
    const auto p = present.find(l);
    if (p != present.end() && p->second > 0) {
      usable += (usable.empty() ? "" : ", ") + l;
      ++num_usable;
    } else {
      const auto n = listed.find(l);
      fatal.push_back("language '" + l + "' has no usable " + (unit == "file(s)" ? "audio" : "features") + " (" +
                      std::to_string(n == listed.end() ? 0 : n->second) + " " + unit + " listed, none of them " +
                      (unit == "file(s)" ? "a readable file" : "found") + ")");
    }
  }
  if (num_usable < 2)
    fatal.push_back("a language-ID model needs at least 2 languages with " +
                    std::string(unit == "file(s)" ? "audio" : "features") + "; the data has " +
                    std::to_string(num_usable) + (usable.empty() ? "" : " (" + usable + ")"));
  if (fatal.empty()) return;
  std::string what;
  for (const std::string& f : fatal) what += (what.empty() ? "" : "; ") + f;
  if (!data.problems.empty())
    what += " (after leaving out " + std::to_string(data.problems.size()) + " problem(s) reported above)";
  throw Error(data.root + ": " + what);
}

}  // namespace internal

namespace {

// Phase 2: the back-end, from each language's frames (`languages` in model order, every one with
// frames). Fills result->model and its summary (the caller adds where the data came from).
void TrainBackEnd(const std::vector<std::string>& languages, int dim,
                  std::map<std::string, std::unique_ptr<LanguageFrames>>& frames,
                  std::map<std::string, LanguageTally>& tally, const TrainOptions& opts, const ProgressCallbacks& cb,
                  TrainResult* result) {
  const int num_lang = static_cast<int>(languages.size());
  const bool ubm = opts.backend == "ubm-map" || opts.backend == "ivector";  // both start from a UBM
  EmOptions em = opts.em;
  em.threads = opts.threads;
  LanguageModelSet& model = result->model;
  model.frontend = opts.frontend;
  model.languages = languages;
  std::vector<DiagGmm> gmms;
  nlohmann::json per_lang = nlohmann::json::object();
  auto language_summary = [&](const std::string& l) {
    return nlohmann::json{{"files", tally[l].files_ok},
                          {"failed_files", tally[l].files_failed},
                          {"audio_hours", tally[l].seconds / 3600},
                          {"frames", frames[l]->frames()}};
  };
  nlohmann::json ubm_summary = nullptr;
  if (ubm) {
    // Balanced: every language gives the UBM as many frames as the smallest one has.
    int64_t per_lang_frames = std::numeric_limits<int64_t>::max();
    for (const auto& l : languages) per_lang_frames = std::min(per_lang_frames, frames[l]->frames());
    std::vector<std::unique_ptr<EvenSubsampleSource>> subsampled;
    std::vector<const FrameSource*> parts;
    for (const auto& l : languages) {
      subsampled.push_back(std::make_unique<EvenSubsampleSource>(
          frames[l]->Source(), opts.ubm_balance_languages ? per_lang_frames : frames[l]->frames()));
      parts.push_back(subsampled.back().get());
    }
    const ConcatFrameSource pooled(parts, dim);
    PhaseStart(cb, "EM UBM (all languages)", em.max_iters, "iterations");
    EmResult u = TrainDiagGmm(pooled, em, [&](const EmProgress& p) { Advance(cb, 1, EmDetail(p), true); });
    for (const std::string& w : u.warnings) Warning(cb, "UBM: " + w);
    PhaseEnd(cb, std::to_string(pooled.NumFrames()) + " frames" + (u.converged ? ", converged" : ""));
    if (opts.backend == "ivector") {
      // Utterance by utterance (files in data order), from memory or the disk cache; see slid/ivector_backend.h.
      int64_t num_utts = 0;
      for (const auto& l : languages) num_utts += static_cast<int64_t>(frames[l]->lengths().size());
      const LabelledUtteranceSource utterances = [&](const std::function<void(const Matrix&, int)>& visit) {
        for (int li = 0; li < num_lang; ++li) {
          LanguageFrames& lf = *frames[languages[li]];
          ForEachUtterance(lf.Source(), lf.lengths(), [&](const Matrix& m) { visit(m, li); });
        }
      };
      std::string phase;
      int64_t done = 0;
      IvectorModel im = TrainIvectorModel(u.gmm, num_lang, utterances, opts.ivector, [&](const IvectorTrainReport& r) {
        if (r.phase != phase) {
          if (!phase.empty()) PhaseEnd(cb);
          phase = r.phase;
          if (phase == "extractor")
            PhaseStart(cb, "i-vector extractor (T) on " + std::to_string(num_utts) + " utterances",
                       opts.ivector.extractor.num_iters, "iterations");
          else if (phase == "ivectors") PhaseStart(cb, "training i-vectors", num_utts, "utterances");
          else PhaseStart(cb, "LDA, WCCN, " + opts.ivector.classifier + " classifier", 1, "steps");
        }
        if (phase == "extractor") {
          Advance(cb, 1, "log-likelihood " + Fixed(r.em.log_likelihood_per_frame, 4) + " per frame", true);
        } else if (phase == "ivectors") {
          Advance(cb, r.utterances_done - done, "");
          done = r.utterances_done;
        }
      });
      PhaseEnd(cb);
      for (const std::string& l : languages) per_lang[l] = language_summary(l);
      ubm_summary = {{"num_gauss", u.gmm.NumGauss()},
                     {"iterations", u.history.size()},
                     {"converged", u.converged},
                     {"final_avg_loglik", FinalLoglik(u)},
                     {"warnings", u.warnings},
                     {"ivector_dim", opts.ivector.extractor.ivector_dim},
                     {"ivector_iters", opts.ivector.extractor.num_iters},
                     {"ivector_classifier", opts.ivector.classifier},
                     {"ivector_top_c", opts.ivector.stats.top_c},
                     {"ivector_utterances", num_utts}};
      model.backend = std::make_shared<IvectorBackend>(std::move(im));
    } else {
      PhaseStart(cb, "MAP adaptation", num_lang, "languages");
      for (const std::string& l : languages) {
        const GmmStats st = AccumulateStats(u.gmm, frames[l]->Source(), opts.threads, em.block_frames);
        nlohmann::json s = language_summary(l);
        s["num_gauss"] = u.gmm.NumGauss();
        s["ubm_avg_loglik"] = st.TotalLogLikelihood() / std::max(1.0, st.NumFrames());
        per_lang[l] = s;
        gmms.push_back(MapAdapt(u.gmm, st, opts.map));
        Advance(cb, 1, l);
      }
      PhaseEnd(cb);
      model.backend = std::make_shared<UbmMapBackend>(u.gmm, std::move(gmms), opts.ubm_scoring);
      ubm_summary = {{"num_gauss", u.gmm.NumGauss()},
                     {"iterations", u.history.size()},
                     {"converged", u.converged},
                     {"final_avg_loglik", FinalLoglik(u)},
                     {"warnings", u.warnings},
                     {"map_relevance", opts.map.relevance},
                     {"map_means", opts.map.update_means},
                     {"map_weights", opts.map.update_weights},
                     {"map_variances", opts.map.update_variances},
                     {"balanced_languages", opts.ubm_balance_languages},
                     {"frames", pooled.NumFrames()},
                     {"top_c", opts.ubm_scoring.top_c}};
    }
  } else {
    double em_seconds = 0, em_frame_iters = 0;  // for the overall time-left estimate
    int num_converged = 0;
    const auto em_start = std::chrono::steady_clock::now();
    for (int li = 0; li < num_lang; ++li) {
      const std::string& l = languages[li];
      LanguageFrames& lf = *frames[l];
      PhaseStart(cb, "EM " + l + " (" + std::to_string(li + 1) + "/" + std::to_string(num_lang) + ")", em.max_iters,
                 "iterations");
      const int64_t n = lf.frames();
      // Keyed by utterance id, so that the sharded trainer (slid/distributed.h) draws the same subsample.
      const UtteranceKeys keys = lf.keys();
      EmResult r = TrainDiagGmm(lf.Source(), em, [&](const EmProgress& p) {
        // Overall estimate: seconds per frame-iteration so far, times the frame-iterations still to do
        // in this language and the ones after it (EM may stop earlier when it converges).
        em_seconds += p.seconds;
        em_frame_iters += static_cast<double>(n);
        double remaining = static_cast<double>(n) * std::max(0, em.max_iters - p.iteration);
        for (int lj = li + 1; lj < num_lang; ++lj)
          remaining += static_cast<double>(frames[languages[lj]]->frames()) * em.max_iters;
        Advance(cb, 1, EmDetail(p), true, em_seconds / std::max(1.0, em_frame_iters) * remaining);
      }, &keys);
      for (const std::string& w : r.warnings) Warning(cb, l + ": " + w);
      PhaseEnd(cb, std::to_string(n) + " frames" + (lf.on_disk() ? " (streamed from the disk cache)" : "") +
                       (r.converged ? ", converged" : ""));
      nlohmann::json s = language_summary(l);
      s["num_gauss"] = r.gmm.NumGauss();
      s["iterations"] = r.history.size();
      s["converged"] = r.converged;
      s["final_avg_loglik"] = FinalLoglik(r);
      s["warnings"] = r.warnings;
      per_lang[l] = s;
      num_converged += r.converged ? 1 : 0;
      gmms.push_back(std::move(r.gmm));
    }
    model.backend = std::make_shared<GmmBackend>(std::move(gmms));
    // One summary line after the per-language lines.
    Info(cb, "EM done: " + std::to_string(num_lang) + " languages, " + std::to_string(result->frames) + " frames in " +
                 Fixed(std::chrono::duration<double>(std::chrono::steady_clock::now() - em_start).count(), 1) + " s, " +
                 std::to_string(num_converged) + " converged");
  }

  model.summary = {
      {"audio_hours", result->audio_seconds / 3600},
      {"frames", result->frames},
      {"files", result->files_used},
      {"failed_files", result->skipped.size()},
      {"backend", opts.backend},
      {"em",
       {{"num_gauss", em.num_gauss},
        {"max_iters", em.max_iters},
        {"seed", em.seed},
        {"var_floor_rel", em.var_floor_rel},
        {"init", GmmInitName(em.init)}}},
      {"ubm", ubm_summary},
      {"languages", per_lang},
      {"slid_version", Version()},
  };
}

}  // namespace

std::string GmmInitName(GmmInit init) { return init == GmmInit::kBinarySplit ? "split" : "kmeans"; }

TrainResult TrainLanguageModelSet(const Dataset& data, const TrainOptions& opts, const ProgressCallbacks& cb) {
  CheckTrainOptions(opts);
  TrainResult result;

  // Before any work: report everything the data set left out, check that every listed file is a
  // regular file (a missing one is skipped like an unreadable one, but now, not hours later) and every
  // label can name a model entry and cache files, then refuse data that cannot make a model, giving
  // every reason at once.
  for (const std::string& p : data.problems) EntryError(cb, p);
  for (const std::string& w : data.ignored) Warning(cb, w);
  std::vector<size_t> todo;  // entries to read, in data order
  std::map<std::string, int64_t> listed, present;
  std::map<std::string, LanguageTally> tally;
  for (size_t i = 0; i < data.entries.size(); ++i) {
    const DataEntry& e = data.entries[i];
    ++listed[e.language];
    if (!e.is_command && !e.temp_file) {
      try {
        CheckRegularFile(e.source, "an audio file");
      } catch (const Error& ex) {
        const std::string line = EntryErrorLine(e, ex.what());
        result.skipped.push_back({EntryName(e), e.language, line});
        ++tally[e.language].files_failed;
        EntryError(cb, line);
        continue;
      }
    }
    ++present[e.language];
    todo.push_back(i);
  }
  RefuseUnusableData(data, listed, present, "file(s)");

  const Frontend frontend(opts.frontend);
  const int dim = frontend.Dim();
  const int num_lang = static_cast<int>(data.languages.size());
  Info(cb, std::to_string(todo.size()) + " files in " + std::to_string(num_lang) + " languages (" +
               data.format + " data at " + data.root + "), " + std::to_string(dim) + "-dim features, " +
               std::to_string(opts.em.num_gauss) + " Gaussians, " + std::to_string(opts.threads) +
               (opts.threads == 1 ? " thread" : " threads"));

  const CacheFolder cache(opts.cache_dir);
  const int64_t max_frames = static_cast<int64_t>(opts.max_memory_mb * 1024 * 1024 / (sizeof(float) * dim) / num_lang);
  std::map<std::string, std::unique_ptr<LanguageFrames>> frames;
  for (const auto& l : data.languages)
    frames[l] = std::make_unique<LanguageFrames>(
        (fs::path(cache.path()) / (l + "." + std::to_string(::getpid()) + ".feats")).string(), dim, max_frames);

  // Phase 1: features, once per file, threads over files, appended in data order.
  PhaseStart(cb, "features", static_cast<int64_t>(todo.size()), "files");
  OrderedParallel<EntryFeatures>(
      todo.size(), opts.threads,
      [&](size_t k) { return ComputeEntryFeatures(frontend, data.entries[todo[k]], opts.frontend.sample_rate_hz, opts.augment); },
      [&](size_t k, EntryFeatures r) {
        const DataEntry& e = data.entries[todo[k]];
        LanguageTally& t = tally[e.language];
        if (!r.error.empty()) {
          ++t.files_failed;
          result.skipped.push_back({EntryName(e), e.language, r.error});
          EntryError(cb, r.error);
        } else {
          if (r.features.rows() == 0) {
            ++t.files_silent;
            Warning(cb, EntryName(e) + ": no voiced frames, nothing to train on");
          }
          ++t.files_ok;
          ++result.files_used;
          t.seconds += r.seconds;
          result.audio_seconds += r.seconds;
          result.frames += r.features.rows();
          frames[e.language]->Append(r.features, e.id);
          for (size_t c = 0; c < r.copies.size(); ++c) {
            ++result.augmented_copies;
            result.augmented_seconds += r.copy_seconds / static_cast<double>(r.copies.size());
            if (r.copies[c].rows() == 0) ++result.augmented_silent_copies;
            result.frames += r.copies[c].rows();
            frames[e.language]->Append(r.copies[c], AugmentedId(e.id, static_cast<int>(c)));
          }
        }
        Advance(cb, 1,
                Fixed(result.audio_seconds / 3600, 2) + " h of audio, " + std::to_string(result.frames) + " frames, " +
                    std::to_string(result.skipped.size()) + " failed");
      });
  PhaseEnd(cb);
  if (opts.augment.copies > 0)
    Info(cb, "augmentation: " + std::to_string(result.augmented_copies) + " degraded copies (" +
                 Fixed(result.augmented_seconds / 3600, 2) + " h), " + std::to_string(result.augmented_silent_copies) +
                 " of them without voiced frames");

  for (const auto& l : data.languages)
    if (frames[l]->frames() == 0)
      throw Error("language '" + l + "' has no usable audio (" + std::to_string(tally[l].files_ok) + " files read, " +
                  std::to_string(tally[l].files_failed) + " failed, " + std::to_string(tally[l].files_silent) +
                  " without voiced frames)");

  TrainBackEnd(data.languages, dim, frames, tally, opts, cb, &result);
  nlohmann::json& summary = result.model.summary;
  summary["data_problems"] = data.problems.size();
  summary["data"] = data.root;
  summary["data_format"] = data.format;
  if (opts.augment.copies > 0) {
    summary["augment"] = opts.augment.ToJson();
    summary["augment"]["copies_made"] = result.augmented_copies;
    summary["augment"]["audio_hours"] = result.augmented_seconds / 3600;
    summary["augment"]["copies_without_voiced_frames"] = result.augmented_silent_copies;
  }
  return result;
}

TrainResult TrainLanguageModelSetOnFeatures(const std::string& features, const Dataset& labels, bool frontend_external,
                                            const TrainOptions& opts, const ProgressCallbacks& cb) {
  CheckTrainOptions(opts);
  if (opts.augment.copies > 0)
    throw Error("train: augmentation (" + std::to_string(opts.augment.copies) +
                " copies) needs audio; precomputed features cannot be degraded (set copies to 0)");
  TrainResult result;
  for (const std::string& p : labels.problems) EntryError(cb, p);
  for (const std::string& w : labels.ignored) Warning(cb, w);
  std::map<std::string, int64_t> listed;
  std::map<std::string, const DataEntry*> label_of;
  for (const DataEntry& e : labels.entries) {
    ++listed[e.language];
    label_of[e.id] = &e;
  }
  RefuseUnusableData(labels, listed, listed, "utterance(s)");
  FeatureReader reader(features);  // opened before any work: a bad specifier fails here
  const int num_lang = static_cast<int>(labels.languages.size());
  int dim = frontend_external ? 0 : Frontend(opts.frontend).Dim();
  Info(cb, std::to_string(labels.entries.size()) + " labelled utterances in " + std::to_string(num_lang) +
               " languages (labels " + labels.root + ", features " + features + ", " +
               (frontend_external ? std::string("external frontend") : std::to_string(dim) + "-dim slid frontend") +
               "), " + std::to_string(opts.em.num_gauss) + " Gaussians");

  const CacheFolder cache(opts.cache_dir);
  std::map<std::string, std::unique_ptr<LanguageFrames>> frames;
  std::map<std::string, LanguageTally> tally;
  auto make_frames = [&] {
    const int64_t max_frames = static_cast<int64_t>(opts.max_memory_mb * 1024 * 1024 / (sizeof(float) * dim) / num_lang);
    for (const auto& l : labels.languages)
      frames[l] = std::make_unique<LanguageFrames>(
          (fs::path(cache.path()) / (l + "." + std::to_string(::getpid()) + ".feats")).string(), dim, max_frames);
  };
  if (dim > 0) make_frames();

  // Phase 1: one pass over the features, in reader order.
  std::set<std::string> seen;
  PhaseStart(cb, "features", static_cast<int64_t>(labels.entries.size()), "utterances");
  std::string id;
  Matrix m;
  auto skip = [&](const std::string& language, const std::string& line) {
    result.skipped.push_back({id, language, line});
    EntryError(cb, line);
  };
  while (reader.Next(&id, &m)) {
    auto it = label_of.find(id);
    if (it == label_of.end()) {
      skip("", reader.source() + ": utterance '" + id + "' has no label in " + labels.root + "; skipped");
      continue;
    }
    const std::string& lang = it->second->language;
    if (!seen.insert(id).second) {
      skip(lang, reader.source() + ": utterance '" + id + "' appears again; skipped");
      continue;
    }
    LanguageTally& t = tally[lang];
    if (m.rows() > 0 && dim == 0) {
      dim = static_cast<int>(m.cols());
      make_frames();
    }
    if (m.rows() > 0 && m.cols() != dim) {
      const std::string what = reader.source() + ": utterance '" + id + "' has " + std::to_string(m.cols()) +
                               "-dimensional features, " +
                               (frontend_external ? "the first utterance had " + std::to_string(dim)
                                                  : "the frontend options give " + std::to_string(dim));
      if (!frontend_external && result.frames == 0)
        throw Error(what + " (features for a slid frontend must be what `slid features` writes with the same options; "
                           "without frontend options the features are taken as external)");
      ++t.files_failed;
      skip(lang, what + "; skipped");
      continue;
    }
    if (m.rows() == 0) {
      ++t.files_silent;
      Warning(cb, reader.source() + ": utterance '" + id + "' has no frames, nothing to train on");
    } else {
      frames[lang]->Append(m, id);
    }
    ++t.files_ok;
    ++result.files_used;
    result.frames += m.rows();
    Advance(cb, 1, std::to_string(result.frames) + " frames, " + std::to_string(result.skipped.size()) + " skipped");
  }
  PhaseEnd(cb);
  for (const DataEntry& e : labels.entries)
    if (!seen.count(e.id)) {
      ++tally[e.language].files_failed;
      result.skipped.push_back({e.id, e.language, e.origin + ": utterance '" + e.id + "' is not in " + features + "; skipped"});
      EntryError(cb, result.skipped.back().error);
    }
  if (dim == 0) throw Error(features + ": no utterance with frames");
  for (const auto& l : labels.languages)
    if (frames[l]->frames() == 0)
      throw Error("language '" + l + "' has no usable features (" + std::to_string(tally[l].files_ok) + " utterances read, " +
                  std::to_string(tally[l].files_failed) + " skipped, " + std::to_string(tally[l].files_silent) +
                  " without frames)");

  TrainBackEnd(labels.languages, dim, frames, tally, opts, cb, &result);
  result.model.frontend_external = frontend_external;
  nlohmann::json& summary = result.model.summary;
  summary["audio_hours"] = nullptr;  // unknown
  summary["data_problems"] = labels.problems.size();
  summary["data"] = labels.root;
  summary["data_format"] = "features";
  summary["features"] = features;
  summary["frontend"] = frontend_external ? "external" : "slid";
  for (auto& [l, s] : summary["languages"].items()) s["audio_hours"] = nullptr;
  return result;
}

}  // namespace slid
