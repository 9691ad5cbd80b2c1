// Job-array training, as Kaldi's gmm-global-acc-stats / gmm-global-sum-accs / gmm-global-est:
// `slid acc-init`, `slid sum-accs`, `slid gmm-init`, `slid acc-stats`, `slid est`. Each parses, calls
// one function of slid/distributed.h and writes one file.
#include <cstdio>
#include <memory>

#include "command.h"
#include "frontend_flags.h"
#include "progress.h"
#include "progress_callbacks.h"
#include "report.h"
#include "slid/dataset.h"
#include "slid/distributed.h"
#include "slid/error.h"
#include "slid/io.h"
#include "slid/number_text.h"

namespace slid::tool {

namespace {

constexpr const char* kWorkflow =
    "One EM iteration is a map over shards and a reduce (run each map step as a job array, e.g.\n"
    "with Kaldi's run.pl/queue.pl/slurm.pl and JOB=1:N; see recipes/jobarray/run.sh):\n"
    "  slid acc-init data/train --shard JOB/3 --cache-dir exp/feats -o exp/init.JOB.acc\n"
    "  slid sum-accs exp/init.*.acc -o exp/init.acc\n"
    "  slid gmm-init exp/init.acc -o exp/0.slid\n"
    "  slid acc-stats --model exp/0.slid data/train --shard JOB/3 --cache-dir exp/feats -o exp/1.JOB.acc\n"
    "  slid sum-accs exp/1.*.acc -o exp/1.acc\n"
    "  slid est --model exp/0.slid exp/1.acc -o exp/1.slid\n"
    "The final model equals `slid train` (gmm back-end, k-means++) on the same data to float rounding.";

// Options shared by the two map steps.
struct ShardArgs {
  std::string data, shard, output, model;
  TrainOptions train;
  ShardCacheOptions cache;
  bool quiet = false;
  FrontendFlags frontend;
};

void AddShardOptions(CLI::App& app, ShardArgs* a) {
  app.add_option("data", a->data, "Training data: folder of <lang>/ folders, Kaldi data dir, or TSV list")
      ->required()
      ->type_name("DATA");
  app.add_option("--shard", a->shard, "This job's shard of the utterances, i/n (1 <= i <= n)")
      ->required()
      ->type_name("I/N");
  app.add_option("-o,--output", a->output, "Accumulator file to write (atomically)")->required()->type_name("ACC");
  app.add_option("--cache-dir", a->cache.dir,
                 "Keep this shard's features here (feats.I.N.feats/.json) for the next iterations "
                 "(default: none, computed on every call)")
      ->type_name("DIR");
  app.add_option("--threads", a->train.threads, "Threads for feature extraction (over files) and the E-step (over utterances)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_flag("-q,--quiet", a->quiet, "No progress output");
}

// Runs a map step: loads the data, checks the output, calls `acc`, writes, reports.
int RunShard(ShardArgs& a, const std::string& name,
             const std::function<TrainAccs(const Dataset&, const ShardSpec&, const ProgressCallbacks&, ShardReport*)>& acc) {
  ShardSpec shard;
  try {
    shard = ParseShard(a.shard);
  } catch (const Error& e) {
    std::fprintf(stderr, "slid: error: %s\n", e.what());
    return kExitUsage;
  }
  CheckOutputWritable(a.output);
  const Dataset data = LoadDataset(a.data);
  CheckOutputIsNotInput(a.output, {data.root});
  Progress progress("slid " + name, a.quiet);
  ShardReport report;
  const TrainAccs accs = acc(data, shard, ProgressCallbacksFor(progress), &report);
  accs.Write(a.output);
  progress.Line("wrote " + a.output + " (shard " + ShardName(shard) + ": " + std::to_string(report.files) + " files, " +
                std::to_string(report.frames) + " frames" + (report.from_cache ? ", features from the cache" : "") + ")");
  if (!report.skipped.empty() || !data.problems.empty()) {
    std::fprintf(stderr, "slid %s: %zu file(s) failed and %zu data problem(s) were skipped (listed above)\n",
                 name.c_str(), report.skipped.size(), data.problems.size());
    return kExitSomeFailed;
  }
  return kExitOk;
}

CommandRegistration acc_init(
    "acc-init",
    "Accumulate the statistics that start EM (global moments, k-means++ subsample) for one shard of the\n"
    "data, per language: the map step of the initialisation (job-array training, gmm back-end).\n"
    "Features are computed once per shard and kept with --cache-dir for acc-stats.\n" +
        std::string(kWorkflow),
    [](CLI::App& app) -> Runner {
      auto a = std::make_shared<ShardArgs>();
      AddShardOptions(app, a.get());
      app.add_option("--num-gauss", a->train.em.num_gauss, "Gaussians per language (as slid train)")
          ->check(CLI::Range(1, 1 << 16))
          ->capture_default_str();
      app.add_option("--seed", a->train.em.seed, "Seed of the EM initialisation (as slid train)")->capture_default_str();
      app.add_option("--init-max-frames", a->train.em.init_max_frames,
                     "Frames per language sampled for k-means++ (raised to --num-gauss)")
          ->check(CLI::Range(1, 1 << 30))
          ->capture_default_str();
      a->frontend.Register(app);
      return [a]() {
        std::vector<std::string> notes;
        try {
          a->train.frontend = a->frontend.Resolve(&notes);
        } catch (const Error& e) {
          std::fprintf(stderr, "slid: error: %s\n", e.what());
          return static_cast<int>(kExitUsage);
        }
        for (const std::string& n : notes) std::fprintf(stderr, "slid: %s\n", n.c_str());
        return RunShard(*a, "acc-init", [&](const Dataset& d, const ShardSpec& s, const ProgressCallbacks& cb, ShardReport* r) {
          return AccumulateShardInit(d, s, a->train, a->cache, cb, r);
        });
      };
    });

CommandRegistration acc_stats(
    "acc-stats",
    "Accumulate EM statistics (occupancy, first and second order, per language) of one shard of the\n"
    "data under a model: the map step of one EM iteration (Kaldi's gmm-global-acc-stats).\n"
    "The model (from gmm-init or est) gives the frontend; languages it marks converged are skipped.\n" +
        std::string(kWorkflow),
    [](CLI::App& app) -> Runner {
      auto a = std::make_shared<ShardArgs>();
      app.add_option("--model", a->model, "Model of this iteration (from slid gmm-init or slid est)")
          ->required()
          ->type_name("MODEL");
      AddShardOptions(app, a.get());
      return [a]() {
        const LanguageModelSet model = LanguageModelSet::Load(a->model);
        return RunShard(*a, "acc-stats", [&](const Dataset& d, const ShardSpec& s, const ProgressCallbacks& cb, ShardReport* r) {
          return AccumulateShardStats(d, s, model, a->train, a->cache, cb, r);
        });
      };
    });

struct SumArgs {
  std::vector<std::string> inputs;
  std::string output;
};

CommandRegistration sum_accs(
    "sum-accs",
    "Add accumulator files (of acc-init or acc-stats; any order) into one: the reduce step (Kaldi's\n"
    "gmm-global-sum-accs). Partial sums may be summed again (a tree); a shard given twice, or files of\n"
    "other models, options or shard counts are an error. gmm-init and est check that every shard is in.\n"
    "Example:\n"
    "  slid sum-accs exp/1.*.acc -o exp/1.acc",
    [](CLI::App& app) -> Runner {
      auto a = std::make_shared<SumArgs>();
      app.add_option("inputs", a->inputs, "Accumulator files")->required()->type_name("ACC...");
      app.add_option("-o,--output", a->output, "Sum to write (atomically)")->required()->type_name("ACC");
      return [a]() {
        CheckOutputWritable(a->output);
        CheckOutputIsNotInput(a->output, a->inputs);
        TrainAccs sum;
        for (const std::string& p : a->inputs) sum.Read(p, /*add=*/true);
        sum.Write(a->output);
        std::string shards;
        for (int s : sum.shards) shards += (shards.empty() ? "" : ",") + std::to_string(s);
        std::fprintf(stderr, "slid sum-accs: wrote %s (%s accumulators, shards %s of %d)\n", a->output.c_str(),
                     sum.kind.c_str(), shards.c_str(), sum.shard_count);
        return static_cast<int>(kExitOk);
      };
    });

struct InitArgs {
  std::string input, output;
  EmOptions em;
  double var_floor_rel = 1e-3;
};

CommandRegistration gmm_init(
    "gmm-init",
    "Initial model from summed acc-init accumulators: variance floors, then k-means++ and Lloyd\n"
    "iterations per language, exactly as slid train initialises (the number of Gaussians, seed and\n"
    "subsample size are those given to acc-init). Writes iteration 0 of job-array training.\n"
    "Example:\n"
    "  slid gmm-init exp/init.acc -o exp/0.slid",
    [](CLI::App& app) -> Runner {
      auto a = std::make_shared<InitArgs>();
      app.add_option("input", a->input, "Summed initialisation accumulators (every shard)")->required()->type_name("ACC");
      app.add_option("-o,--output", a->output, "Model file to write (atomically)")->required()->type_name("MODEL");
      app.add_option("--var-floor", a->var_floor_rel, "Variance floor relative to the global variance")
          ->check(CLI::Range(0.0, 1.0))
          ->capture_default_str();
      return [a]() {
        CheckOutputWritable(a->output);
        CheckOutputIsNotInput(a->output, {a->input});
        TrainAccs accs;
        accs.Read(a->input);
        a->em.var_floor_rel = static_cast<float>(a->var_floor_rel);
        std::vector<std::string> warnings;
        LanguageModelSet m = InitModelFromAccs(accs, a->em, &warnings);
        for (const std::string& w : warnings) std::fprintf(stderr, "slid gmm-init: warning: %s\n", w.c_str());
        m.summary["date"] = UtcNow();
        m.Save(a->output);
        std::fprintf(stderr, "slid gmm-init: wrote %s (%zu languages, %d Gaussians)\n", a->output.c_str(),
                     m.languages.size(), accs.em.num_gauss);
        return static_cast<int>(kExitOk);
      };
    });

struct EstArgs {
  std::string model, input, output;
};

CommandRegistration est(
    "est",
    "One M-step: the next model from a model and its summed acc-stats accumulators (Kaldi's\n"
    "gmm-global-est). Languages converge as in slid train (relative gain below the tolerance), after\n"
    "which they keep their GMM. Prints the average log-likelihood per frame of each language.\n"
    "Example:\n"
    "  slid est --model exp/0.slid exp/1.acc -o exp/1.slid",
    [](CLI::App& app) -> Runner {
      auto a = std::make_shared<EstArgs>();
      app.add_option("--model", a->model, "Model the statistics were accumulated against")->required()->type_name("MODEL");
      app.add_option("input", a->input, "Summed EM accumulators (every shard)")->required()->type_name("ACC");
      app.add_option("-o,--output", a->output, "Model file to write (atomically)")->required()->type_name("MODEL");
      return [a]() {
        CheckOutputWritable(a->output);
        CheckOutputIsNotInput(a->output, {a->input});
        const LanguageModelSet model = LanguageModelSet::Load(a->model);
        TrainAccs accs;
        accs.Read(a->input);
        std::vector<std::string> notes;
        LanguageModelSet m = EstimateModel(model, accs, &notes);
        for (const std::string& n : notes) std::fprintf(stderr, "slid est: %s\n", n.c_str());
        m.summary["date"] = UtcNow();
        m.Save(a->output);
        const int it = m.summary["em_state"]["iteration"].get<int>();
        for (size_t l = 0; l < m.languages.size(); ++l) {
          const auto& avg = m.summary["em_state"]["avg_loglik"][m.languages[l]];
          std::printf("%s iteration %d avg-loglik %s%s\n", m.languages[l].c_str(), it,
                      avg.is_null() ? "-" : FormatFixed(avg.get<double>(), 6).c_str(),
                      m.summary["em_state"]["converged"][m.languages[l]].get<bool>() ? " converged" : "");
        }
        std::fprintf(stderr, "slid est: wrote %s (iteration %d)\n", a->output.c_str(), it);
        return static_cast<int>(kExitOk);
      };
    });

}  // namespace
}  // namespace slid::tool
