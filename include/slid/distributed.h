// Training across processes and machines, the way Kaldi recipes run on a job array (run.pl, queue.pl,
// slurm.pl): one EM iteration is a map over shards of the data (accumulate statistics, write them) and a
// reduce (read and add them, then one M-step). Kaldi's gmm-global-acc-stats -> gmm-global-sum-accs ->
// gmm-global-est, for slid's "gmm" back-end (one diagonal GMM per language):
//
//   AccumulateShardInit  (slid acc-init)   features of shard i/n (cached), GmmInitStats per language
//   TrainAccs::Read(add) (slid sum-accs)   the shards' accumulators added, in any order
//   InitModelFromAccs    (slid gmm-init)   variance floors and k-means++ per language -> model 0
//   AccumulateShardStats (slid acc-stats)  GmmStats per language of shard i/n under model m
//   EstimateModel        (slid est)        M-step per language -> model m+1
//
// The result equals TrainLanguageModelSet (`slid train --backend gmm`) on the same data to float
// rounding: both draw the k-means++ subsample by utterance key (FrameSubsample), initialise with
// InitDiagGmm, update with UpdateDiagGmm and stop a language with EmConverged; only the order in which
// statistics are added differs (double accumulators; per-block products in float).
//
// Augmentation (TrainOptions::augment, slid/augment.h): each shard makes the degraded copies of its own
// files after their features, as TrainLanguageModelSet does, and the shard feature cache records the
// augmentation options (a cache made with other options is recomputed). Every step must be given the
// same augment options (MPI training does so; the job-array tools do not augment).
//
// Sharding is by utterance, deterministic and stable: entry j (0-based) of the Dataset (sorted by
// language and id, see slid/dataset.h) belongs to shard (j mod n) + 1, so every shard gets a similar
// mix of languages and the same data always gives the same shards.
//
// State between iterations lives in files: accumulators (TrainAccs, checksummed, carrying which
// shards they hold and which model they were accumulated against, so that a missing, repeated or stale
// shard is an error rather than a silently wrong model) and the model, whose summary holds the EM state
// ("em_state": iteration, variance floors, convergence per language).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "slid/callbacks.h"
#include "slid/dataset.h"
#include "slid/em.h"
#include "slid/gmm_stats.h"
#include "slid/ivector.h"
#include "slid/model.h"
#include "slid/train.h"

namespace slid {

// Shard `index` of `count` (1-based like Kaldi's JOB).
struct ShardSpec {
  int index = 1;  // 1..count
  int count = 1;  // >= 1
};

// Parses "i/n" (1 <= i <= n). Throws slid::Error("--shard '<text>': ...") otherwise.
ShardSpec ParseShard(const std::string& text);
// "i/n".
std::string ShardName(const ShardSpec& shard);
// Indices j in [0, num_entries) with j mod count == index - 1, ascending. Error if the spec is invalid.
std::vector<size_t> ShardEntries(size_t num_entries, const ShardSpec& shard);

constexpr uint32_t kTrainAccsFormatVersion = 1;

// The accumulators of a whole language model set for one or more shards: what travels between the map
// and the reduce. Binary format, version kTrainAccsFormatVersion, little-endian:
//   "SLIDACC\0", uint32 version, uint32 zero, uint64 H, H bytes of JSON header {"kind", "languages",
//   "frontend", "feature_dim", "shard_count", "shards", "model_checksum", "iteration", "em",
//   "tally"}, then per language uint64 B and B bytes of GmmInitStats::ToBytes() (kind "init") or
//   GmmStats::ToBytes() (kind "em"), or for kind "ivector" one part, IvectorExtractorStats::ToBytes()
//   (the total-variability matrix is shared by all languages), each with its own checksum, then
//   uint64 FNV-1a of every byte before it.
struct TrainAccs {
  std::string kind;                    // "init", "em" or "ivector"
  FrontendOptions frontend;            // the features' options (init: from the options; em: the model's)
  bool frontend_external = false;      // never true here (audio only); kept for the model
  int feature_dim = 0;
  std::vector<std::string> languages;  // every language of the data, sorted (the model's order)
  int shard_count = 1;                 // n of the shards
  std::vector<int> shards;             // the shards added into these accumulators, ascending, each once
  uint64_t model_checksum = 0;         // em: ModelChecksum() of the model accumulated against;
                                       // ivector: IvectorExtractor::Checksum() of the extractor
  int iteration = 0;                   // em, ivector: the EM iteration these statistics serve (1-based)
  EmOptions em;                        // init: the EM options the subsample was drawn with
  // Per language (same order): files read, files failed, frames, audio seconds.
  std::vector<int64_t> files, failed_files, frames;
  std::vector<double> seconds;
  std::vector<GmmInitStats> init;      // kind "init": one per language
  std::vector<GmmStats> stats;         // kind "em": one per language
  IvectorExtractorStats ivector;       // kind "ivector": T-matrix EM statistics of every language's utterances

  // this += other. A default-constructed (empty kind) this takes other. Error (naming both shard sets)
  // if the kind, languages, frontend, shard count, model or iteration differ, or a shard is in both.
  void Add(const TrainAccs& other);
  std::string ToBytes() const;
  void FromBytes(const std::string& bytes, const std::string& name, bool add = false);
  void Write(const std::string& path) const;  // atomically
  void Read(const std::string& path, bool add = false);
  // Error unless shards == {1, ..., shard_count}: names the missing ones.
  void CheckComplete(const std::string& name) const;
};

// Identity of a model's parameters (FNV-1a of its back-end payload and languages), for TrainAccs.
uint64_t ModelChecksum(const LanguageModelSet& model);

// Where the features of a shard are kept between iterations: "<dir>/feats.<i>.<n>.feats" (a feature
// cache file, slid/feature_cache.h) and "<dir>/feats.<i>.<n>.json" (its index: frontend options, the
// shard's entries with their frames, the files that failed). Written by the first command that
// computes them, reused while the frontend options and the shard's entries are the same, otherwise
// recomputed. "" keeps nothing: features are computed again on every call.
struct ShardCacheOptions {
  std::string dir;  // the cache folder (created if missing), or ""
};

// What a shard command did, for the tool's report.
struct ShardReport {
  std::vector<SkippedFile> skipped;  // files of this shard that failed (this run, or when cached)
  bool from_cache = false;           // features were read from the cache
  int64_t files = 0, frames = 0;     // utterances used, voiced frames
};

// The map step of the initialisation: shard `shard` of `data`, features with opts.frontend (threads:
// opts.threads, over files), GmmInitStats per language with opts.em (seed, init_max_frames, num_gauss).
// Step 0 as in TrainLanguageModelSet (labels, >= 2 languages). A file that cannot be read is skipped
// (listed in report->skipped and through entry_error). Errors: bad options, unusable data, a cache
// that cannot be written, opts.backend other than "gmm" or opts.em.init other than k-means++.
TrainAccs AccumulateShardInit(const Dataset& data, const ShardSpec& shard, const TrainOptions& opts,
                              const ShardCacheOptions& cache, const ProgressCallbacks& callbacks = {},
                              ShardReport* report = nullptr);

// The map step of EM iteration model.summary["em_state"]["iteration"] + 1: GmmStats per language of
// the shard under `model` (made by InitModelFromAccs or EstimateModel), with the model's frontend.
// Languages the model marks converged get zero statistics (nothing is computed for them). The E-step
// runs opts.threads threads over utterances; the statistics do not depend on the thread count.
TrainAccs AccumulateShardStats(const Dataset& data, const ShardSpec& shard, const LanguageModelSet& model,
                               const TrainOptions& opts, const ShardCacheOptions& cache,
                               const ProgressCallbacks& callbacks = {}, ShardReport* report = nullptr);

// Reads and adds accumulator files (any order), then CheckComplete. Errors name the file.
TrainAccs SumAccs(const std::vector<std::string>& paths);

// The reduce step of the initialisation: from summed "init" accumulators (complete), InitDiagGmm per
// language with `em`, except num_gauss, seed, init_max_frames and min_posterior, which are those the
// accumulators were drawn with (var_floor_rel, kmeans_iters, tol and min_weight come from `em`). The
// model's summary holds "em_state" {"iteration": 0, "em": {...}, "var_floor": {lang: [D]},
// "converged": {lang: false}, "avg_loglik": {lang: null}} and the per-language tallies. Warnings
// (constant dimensions, reduced K) are appended to *warnings. Error if a language has no frames.
LanguageModelSet InitModelFromAccs(const TrainAccs& accs, const EmOptions& em, std::vector<std::string>* warnings);

// The reduce step of EM: one M-step per language that has not converged (UpdateDiagGmm with the
// model's floors and min_weight), then EmConverged with the model's tol; the state advances one
// iteration. `stats` must be complete "em" accumulators made against `model` for its next iteration
// (Error otherwise). Notes (replaced components, convergence) are appended to *notes.
LanguageModelSet EstimateModel(const LanguageModelSet& model, const TrainAccs& stats, std::vector<std::string>* notes);

// ---------------------------------------------------------------------------------------------------
// Total-variability (T-matrix) EM of the i-vector back-end over shards: the same map and reduce, with
// accumulators of kind "ivector" (one IvectorExtractorStats, model_checksum = the extractor's
// Checksum()), so that a missing, repeated or stale shard is refused as for the GMMs. An iteration from
// the summed shards equals TrainIvectorExtractor's iteration on all the utterances to float rounding:
// the per-batch products are single precision and batches are cut per shard (see
// IvectorExtractorStats; test_distributed states the tolerance).

// The map step from per-utterance statistics: every UtteranceStats that `source` hands over (once),
// in batches of batch_utterances (>= 1), for EM iteration `iteration` (>= 1) of `extractor`, as shard
// `shard`. languages, frontend and tallies are left empty (AccumulateShardIvectorStats fills them).
TrainAccs AccumulateIvectorAccs(const IvectorExtractor& extractor, int iteration, const ShardSpec& shard,
                                const UtteranceStatsSource& source, int batch_utterances = 32);

// The map step on a data set: shard `shard` of `data`, features with opts.frontend (cached in `cache`
// as AccumulateShardStats does), one UtteranceStats per utterance against `ubm` with opts.ivector.stats
// (second order when opts.ivector.extractor.update.update_variances, as TrainIvectorModel), batches of
// opts.ivector.extractor.batch_utterances. Step 0 and file errors as AccumulateShardInit.
TrainAccs AccumulateShardIvectorStats(const Dataset& data, const ShardSpec& shard, const DiagGmm& ubm,
                                      const IvectorExtractor& extractor, int iteration, const TrainOptions& opts,
                                      const ShardCacheOptions& cache, const ProgressCallbacks& callbacks = {},
                                      ShardReport* report = nullptr);

// The reduce step: IvectorExtractorStats::Update(update) of `extractor` from complete "ivector"
// accumulators made against it for iteration `iteration`. Error (naming the problem) otherwise.
IvectorExtractor EstimateIvectorExtractor(const IvectorExtractor& extractor, int iteration, const TrainAccs& accs,
                                          const IvectorExtractorStats::UpdateOptions& update);

// ---------------------------------------------------------------------------------------------------
// Training inside one job over several processes (MPI ranks): the same map and reduce, with the
// accumulators exchanged in memory every iteration instead of through files.

// The processes that train together. The library knows no MPI: the `slid` program implements this
// with MPI (tools/mpi_communicator.cc, built when CMake finds MPI); SingleProcess is the trivial one.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int Rank() const = 0;  // 0 .. Size() - 1
  virtual int Size() const = 0;  // >= 1
  // Every process passes its bytes and gets every process's, in rank order (a collective: every
  // process must call it, the same number of times).
  virtual std::vector<std::string> AllGather(const std::string& mine) = 0;
  // Element-wise sum over the processes of *values (the same length on every process), in place; a
  // collective. Every process must end with the same bits (the training loop's stopping decisions are
  // made from them on every process). This default adds AllGather's parts in rank order; MPI overrides
  // it with MPI_Reduce (MPI_SUM) to rank 0 and MPI_Bcast.
  virtual void AllReduceSum(std::vector<double>* values);
};

class SingleProcess : public Communicator {
 public:
  int Rank() const override { return 0; }
  int Size() const override { return 1; }
  std::vector<std::string> AllGather(const std::string& mine) override { return {mine}; }
  void AllReduceSum(std::vector<double>*) override {}
};

// Adds the accumulators of every process, so that every process holds the same sum, bit for bit.
// Kinds "em" and "ivector" (sums): the headers (model, iteration, shapes, shards: a few hundred bytes)
// are all-gathered and checked as TrainAccs::Add checks files, then the statistics travel as doubles
// through one AllReduceSum (each process sends and receives the K x (2D + 1) doubles per language
// once, whatever the number of processes). Kind "init" (the k-means++ subsample is a set, the moments
// a pairwise merge): AllGather of the accumulators, then TrainAccs::Add in rank order.
TrainAccs AllSum(const TrainAccs& mine, Communicator& comm);

// `slid train` (gmm back-end, k-means++) across the processes of `comm`: process r takes shard r+1 of
// Size() (ShardEntries), computes its features once (kept in opts.cache_dir, else in a temporary folder
// removed at the end), then AccumulateShardInit / AllSum / InitModelFromAccs (each rank sends only the
// part of its k-means++ subsample that can be in the merged one: FrameSubsample::KeepBelow with a
// limit from the summed frame counts, the same sample at about 1/P of the traffic) and, every EM iteration,
// AccumulateShardStats / AllSum / EstimateModel until opts.em.max_iters or every language converged.
// Every process returns the same model (the caller saves it from rank 0). Equals TrainLanguageModelSet
// on the same data to float rounding (see the top of this file). Progress goes to `callbacks` of every
// process (the caller gives rank 0's to the terminal). result.skipped lists this process's failed files.
TrainResult TrainLanguageModelSetDistributed(const Dataset& data, const TrainOptions& opts, Communicator& comm,
                                             const ProgressCallbacks& callbacks = {});

}  // namespace slid
