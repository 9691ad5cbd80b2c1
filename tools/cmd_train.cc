// `slid train DATA -o MODEL`: parse the options, TrainLanguageModelSet (slid/train.h), write the model.
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "command.h"
#include "frontend_flags.h"
#include "mpi_communicator.h"
#include "progress.h"
#include "progress_callbacks.h"
#include "report.h"
#include "slid/dataset.h"
#include "slid/distributed.h"
#include "slid/error.h"
#include "slid/io.h"
#include "slid/number_text.h"
#include "slid/train.h"

namespace slid::tool {

namespace {

namespace fs = std::filesystem;

struct TrainArgs {
  std::string data;
  std::string feats;     // --feats: precomputed features (rspecifier, data dir, .npy folder) instead of audio
  std::string utt2lang;  // --utt2lang: their labels
  std::string output;
  TrainOptions train;
  std::string init = "kmeans";
  double var_floor_rel = 1e-3;
  bool ubm = false;  // --ubm: alias of --backend ubm-map
  std::string augment_snr_db = "0:15";  // --augment-snr-db MIN:MAX
  std::string augment_vad = "original";  // --augment-vad original|own
  bool quiet = false;
  FrontendFlags frontend;
  CLI::App* app = nullptr;
};

// The labels of --feats: --utt2lang, or the utt2lang beside a data directory's feats.scp.
std::string Utt2LangFor(const TrainArgs& args) {
  if (!args.utt2lang.empty()) return args.utt2lang;
  std::error_code ec;
  if (fs::is_directory(args.feats, ec) && fs::exists(fs::path(args.feats) / "utt2lang", ec))
    return (fs::path(args.feats) / "utt2lang").string();
  return {};
}

// `mpirun -np N slid train DATA -o MODEL`: rank r trains on shard r+1 of N (features once per rank,
// statistics all-reduced every EM iteration, slid/distributed.h); rank 0 shows progress and writes
// the model. An error on any rank ends every rank (MPI_Abort), never a hang.
int RunMpi(TrainArgs& args, const Dataset& data, MpiCommunicator& comm) {
  const bool lead = comm.Rank() == 0;
  Progress progress(lead ? std::string("slid train") : "slid train [rank " + std::to_string(comm.Rank()) + "]",
                    args.quiet || !lead);
  TrainResult r;
  try {
    r = TrainLanguageModelSetDistributed(data, args.train, comm, ProgressCallbacksFor(progress));
    r.model.summary["date"] = UtcNow();
    r.model.summary["command_line"] = ProcessCommandLine();
    if (lead) r.model.Save(args.output);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "slid: error (rank %d of %d): %s\n", comm.Rank(), comm.Size(), e.what());
    comm.Abort(kExitError);
  }
  if (lead)
    progress.Line("wrote " + args.output + " (" + std::to_string(r.model.languages.size()) + " languages, " +
                  FormatGeneral(r.audio_seconds / 3600, 4) + " h of audio, " + std::to_string(comm.Size()) +
                  " MPI processes)");
  if (!r.skipped.empty() || !data.problems.empty()) {
    std::fprintf(stderr, "slid train [rank %d]: %zu file(s) failed and %zu data problem(s) were skipped (listed above)\n",
                 comm.Rank(), r.skipped.size(), data.problems.size());
    return kExitSomeFailed;
  }
  return kExitOk;
}

int Run(TrainArgs& args) {
  TrainOptions& opts = args.train;
  if (args.data.empty() == args.feats.empty()) {
    std::fprintf(stderr, "slid: error: give DATA (audio) or --feats RSPECIFIER with --utt2lang FILE (precomputed features)\n");
    return kExitUsage;
  }
  const std::string utt2lang = args.feats.empty() ? std::string() : Utt2LangFor(args);
  if (!args.feats.empty() && utt2lang.empty()) {
    std::fprintf(stderr, "slid: error: --feats needs --utt2lang FILE ('<utt-id> <language>' per line)\n");
    return kExitUsage;
  }
  std::vector<std::string> notes;
  try {
    opts.frontend = args.frontend.Resolve(&notes);
  } catch (const Error& e) {
    std::fprintf(stderr, "slid: error: %s\n", e.what());
    return kExitUsage;
  }
  for (const std::string& n : notes) std::fprintf(stderr, "slid: %s\n", n.c_str());
  if (args.ubm) opts.backend = "ubm-map";
  for (const char* o : {"--map-relevance", "--map-weights", "--map-variances", "--top-c", "--ubm-unbalanced"})
    if (args.app->count(o) > 0 && opts.backend != "ubm-map") {
      std::fprintf(stderr, "slid: error: %s needs --backend ubm-map\n", o);
      return kExitUsage;
    }
  for (const char* o : {"--ivector-dim", "--ivector-iters", "--ivector-classifier"})
    if (args.app->count(o) > 0 && opts.backend != "ivector") {
      std::fprintf(stderr, "slid: error: %s needs --backend ivector\n", o);
      return kExitUsage;
    }
  {  // --augment-snr-db MIN:MAX
    const std::string& t = args.augment_snr_db;
    const size_t colon = t.find(':');
    auto parse = [](const std::string& text, double* v) {  // whole text, '.' in any locale
      const auto r = std::from_chars(text.data(), text.data() + text.size(), *v);
      return !text.empty() && r.ec == std::errc() && r.ptr == text.data() + text.size();
    };
    const bool ok = colon != std::string::npos && parse(t.substr(0, colon), &opts.augment.snr_min_db) &&
                    parse(t.substr(colon + 1), &opts.augment.snr_max_db);
    if (!ok) {
      std::fprintf(stderr, "slid: error: --augment-snr-db '%s': expected MIN:MAX in dB, e.g. 0:15\n", t.c_str());
      return kExitUsage;
    }
  }
  if (!args.feats.empty()) {  // precomputed features cannot be degraded: the default does not apply to them
    if (args.app->count("--augment") > 0 && opts.augment.copies > 0) {
      std::fprintf(stderr, "slid: error: --augment needs audio (DATA); precomputed features (--feats) cannot be degraded\n");
      return kExitUsage;
    }
    opts.augment.copies = 0;
  }
  opts.augment.original_vad = args.augment_vad == "original";
  for (const char* o : {"--augment-kinds", "--augment-noise", "--augment-snr-db", "--augment-speeds", "--augment-seed",
                        "--augment-vad"})
    if (args.app->count(o) > 0 && opts.augment.copies == 0) {
      std::fprintf(stderr, "slid: error: %s needs --augment N (N > 0 copies)\n", o);
      return kExitUsage;
    }
  try {
    opts.augment.Validate();
  } catch (const Error& e) {
    std::fprintf(stderr, "slid: error: %s\n", e.what());
    return kExitUsage;
  }
  opts.em.init = args.init == "split" ? GmmInit::kBinarySplit : GmmInit::kKMeansPlusPlus;
  opts.em.var_floor_rel = static_cast<float>(args.var_floor_rel);
  CheckOutputWritable(args.output);  // fail now, not after hours of training
  if (!args.feats.empty() && MpiLaunched()) {
    std::fprintf(stderr, "slid: error: MPI training (mpirun) reads audio data (DATA), not --feats\n");
    return kExitUsage;
  }
  if (!args.feats.empty()) {
    // Precomputed features: the model records the frontend given by --config/flags, or else an
    // external one (it then scores such features only).
    const bool external = !args.frontend.AnyGiven();
    const Dataset labels = LoadUtt2Lang(utt2lang);
    std::vector<std::string> inputs = {utt2lang};
    const std::string feats_file = args.feats.substr(args.feats.find(':') + 1);
    if (args.feats.find(':') != std::string::npos) inputs.push_back(feats_file);
    CheckOutputIsNotInput(args.output, inputs);
    Progress progress("slid train", args.quiet);
    TrainResult r = TrainLanguageModelSetOnFeatures(args.feats, labels, external, opts, ProgressCallbacksFor(progress));
    r.model.summary["date"] = UtcNow();
    r.model.summary["command_line"] = ProcessCommandLine();
    r.model.Save(args.output);
    progress.Line("wrote " + args.output + " (" + std::to_string(r.model.languages.size()) + " languages, " +
                  std::to_string(r.frames) + " frames, " + (external ? "external" : "slid") + " frontend)");
    if (!r.skipped.empty() || !labels.problems.empty()) {
      std::fprintf(stderr, "slid train: %zu utterance(s) and %zu label problem(s) were skipped (listed above)\n",
                   r.skipped.size(), labels.problems.size());
      return kExitSomeFailed;
    }
    return kExitOk;
  }
  const Dataset data = LoadDataset(args.data);
  {  // -o onto a training file, the list or a file of the data dir would destroy it: refuse now
    std::vector<std::string> inputs = {data.root};
    std::error_code ec;
    if (fs::is_directory(data.root, ec))
      for (const auto& f : fs::directory_iterator(data.root, ec)) inputs.push_back(f.path().string());
    for (const DataEntry& e : data.entries)
      if (!e.is_command) inputs.push_back(e.source);
    CheckOutputIsNotInput(args.output, inputs);
  }
  if (MpiLaunched()) {
    MpiCommunicator comm;
    return RunMpi(args, data, comm);
  }
  Progress progress("slid train", args.quiet);
  TrainResult r = TrainLanguageModelSet(data, opts, ProgressCallbacksFor(progress));
  r.model.summary["date"] = UtcNow();
  r.model.summary["command_line"] = ProcessCommandLine();
  r.model.Save(args.output);
  progress.Line("wrote " + args.output + " (" + std::to_string(r.model.languages.size()) + " languages, " +
                FormatGeneral(r.audio_seconds / 3600, 4) + " h of audio)");
  if (!r.skipped.empty() || !data.problems.empty()) {
    std::fprintf(stderr, "slid train: %zu file(s) failed and %zu data problem(s) were skipped (listed above)\n",
                 r.skipped.size(), data.problems.size());
    return kExitSomeFailed;
  }
  return kExitOk;
}

CommandRegistration register_train(
    "train",
    "Train one diagonal-covariance GMM per language and write a model file.\n"
    "DATA is a folder of <lang>/ sub-folders of audio, a Kaldi data dir (wav.scp + utt2lang, optional\n"
    "segments and utt2spk; wav.scp entries may be commands ending in '|'), or a TSV list "
    "'path<TAB>lang'.\n"
    "Examples:\n"
    "  slid train data/train -o lid.slid --num-gauss 256 --iters 20 --threads 2 --config conf/frontend.conf\n"
    "  slid train --feats scp:data/train/feats.scp --utt2lang data/train/utt2lang -o lid.slid\n"
    "Before any work, every bad list line, empty language folder and missing file is reported and\n"
    "skipped, as is later a file that cannot be read (exit code 3 at the end); bad language labels, a\n"
    "language left without usable audio, or fewer than 2 languages are an error naming every reason.\n"
    "Under MPI (slid built with it): mpirun -np N slid train DATA -o M splits the files over the N\n"
    "processes (gmm back-end, kmeans init), each computing its features once, and sums the statistics\n"
    "of every EM iteration over them; the model equals the one-process model to float rounding.",
    [](CLI::App& app) -> Runner {
      auto args = std::make_shared<TrainArgs>();
      args->app = &app;
      auto* data = app.add_option("data", args->data, "Training data: folder of <lang>/ folders, Kaldi data dir, or TSV list")
          ->type_name("DATA");
      app.add_option("--feats", args->feats,
                     "Train on precomputed final features instead of audio: scp:feats.scp, ark:f.ark (Kaldi "
                     "binary, text or compressed), a data dir with feats.scp, or a folder of .npy; labels from "
                     "--utt2lang. Without frontend options the model records an external frontend and scores "
                     "such features only; with --config/flags it records those and scores audio too")
          ->type_name("RSPECIFIER")
          ->excludes(data);
      app.add_option("--utt2lang", args->utt2lang,
                     "Labels of --feats: '<utt-id> <language>' per line (default: utt2lang beside a data "
                     "dir's feats.scp)")
          ->type_name("FILE");
      app.add_option("-o,--output", args->output, "Model file to write (atomically)")->required()->type_name("MODEL");
      app.add_option("--num-gauss", args->train.em.num_gauss, "Gaussians per language")
          ->check(CLI::Range(1, 1 << 16))
          ->capture_default_str();
      app.add_option("--iters", args->train.em.max_iters, "EM iterations after initialisation")
          ->check(CLI::Range(0, 10000))
          ->capture_default_str();
      app.add_option("--threads", args->train.threads, "Threads (feature extraction over files, and the EM E-step)")
          ->check(CLI::Range(1, 256))
          ->capture_default_str();
      app.add_option("--seed", args->train.em.seed, "Seed of the EM initialisation")->capture_default_str();
      app.add_option("--init-max-frames", args->train.em.init_max_frames,
                     "kmeans: frames per language sampled for k-means++ (by utterance id and frame index; "
                     "raised to --num-gauss)")
          ->check(CLI::Range(1, 1 << 30))
          ->capture_default_str();
      app.add_option("--var-floor", args->var_floor_rel, "Variance floor relative to the global variance")
          ->check(CLI::Range(0.0, 1.0))
          ->capture_default_str();
      app.add_option("--init", args->init, "GMM initialisation: kmeans (k-means++) or split (binary splitting)")
          ->check(CLI::IsMember({"kmeans", "split"}))
          ->capture_default_str();
      app.add_option("--cache-dir", args->train.cache_dir,
                     "Folder for on-disk feature caches (default: a temporary folder, removed at the end)")
          ->type_name("DIR");
      app.add_option("--max-memory-mb", args->train.max_memory_mb,
                     "Features kept in memory (all languages); beyond it they are streamed from the disk cache")
          ->check(CLI::PositiveNumber)
          ->capture_default_str();
      app.add_option("--backend", args->train.backend,
                     "gmm: one GMM per language, each trained with EM on its own frames;\n"
                     "ubm-map: one GMM (the UBM) trained on all languages' frames, MAP-adapted to each language\n"
                     "(means; Reynolds et al. 2000), scored with the top-C UBM components per frame;\n"
                     "ivector: the same UBM, total-variability i-vectors per file, LDA, WCCN and a classifier")
          ->check(CLI::IsMember({"gmm", "ubm-map", "ivector"}))
          ->capture_default_str();
      app.add_flag("--ubm", args->ubm, "Same as --backend ubm-map");
      app.add_option("--map-relevance", args->train.map.relevance, "ubm-map: MAP relevance factor r (>= 0)")
          ->check(CLI::Range(0.0, 1e9))
          ->capture_default_str();
      app.add_flag("--map-weights", args->train.map.update_weights, "ubm-map: MAP-adapt the weights too");
      app.add_flag("--map-variances", args->train.map.update_variances, "ubm-map: MAP-adapt the variances too");
      app.add_flag("!--ubm-unbalanced", args->train.ubm_balance_languages,
                   "ubm-map: train the UBM on all frames pooled (default: the same number of frames per language)");
      app.add_option("--top-c", args->train.ubm_scoring.top_c,
                     "ubm-map: UBM components scored per frame (0: all, i.e. full scoring)")
          ->check(CLI::Range(0, 1 << 16))
          ->capture_default_str();
      app.add_option("--ivector-dim", args->train.ivector.extractor.ivector_dim, "ivector: i-vector dimension")
          ->check(CLI::Range(1, 4096))
          ->capture_default_str();
      app.add_option("--ivector-iters", args->train.ivector.extractor.num_iters,
                     "ivector: EM iterations of the total-variability matrix")
          ->check(CLI::Range(0, 1000))
          ->capture_default_str();
      app.add_option("--ivector-classifier", args->train.ivector.classifier,
                     "ivector: gaussian (shared-covariance Gaussian back-end), cosine, or logreg")
          ->check(CLI::IsMember({"gaussian", "cosine", "logreg"}))
          ->capture_default_str();
      app.add_option("--augment", args->train.augment.copies,
                     "Multi-condition training: degraded copies of every training file, trained on besides it "
                     "(0: off). Each copy draws one of --augment-kinds")
          ->check(CLI::Range(0, 100))
          ->capture_default_str();
      app.add_option("--augment-kinds", args->train.augment.kinds,
                     "Kinds of copy, comma-separated; each is steps joined by '+': noise (additive noise at an SNR "
                     "drawn from --augment-snr-db), telephone (8 kHz round trip, 300-3400 Hz band), mulaw "
                     "(G.711 8-bit coding), speed (factor drawn from --augment-speeds)")
          ->delimiter(',')
          ->type_name("LIST")
          ->capture_default_str();
      app.add_option("--augment-noise", args->train.augment.noise_types,
                     "Noise types drawn for noisy copies: white, pink, brown (synthetic Gaussian noise)")
          ->delimiter(',')
          ->check(CLI::IsMember({"white", "pink", "brown"}))
          ->type_name("LIST")
          ->capture_default_str();
      app.add_option("--augment-snr-db", args->augment_snr_db,
                     "SNR range MIN:MAX in dB of the added noise (on the whole utterance's mean square)")
          ->type_name("MIN:MAX")
          ->capture_default_str();
      app.add_option("--augment-speeds", args->train.augment.speed_factors,
                     "Speed factors drawn for the speed step, comma-separated (each in [0.5, 2])")
          ->delimiter(',')
          ->type_name("LIST")
          ->capture_default_str();
      app.add_option("--augment-seed", args->train.augment.seed, "Seed of the degraded copies")->capture_default_str();
      app.add_option("--augment-vad", args->augment_vad,
                     "Voiced frames of a copy: original (those of the file it was made from, as Kaldi's "
                     "sre16/voxceleb recipes do; copies changed in speed decide their own) or own (the VAD "
                     "run on the degraded copy)")
          ->check(CLI::IsMember({"original", "own"}))
          ->capture_default_str();
      app.add_flag("-q,--quiet", args->quiet, "No progress output");
      args->frontend.Register(app);
      return [args]() { return Run(*args); };
    });

}  // namespace
}  // namespace slid::tool
