// EM training of a diagonal GMM from a FrameSource: initialisation, E-step (GmmStats, threaded),
// M-step with a relative variance floor and handling of dying components.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "slid/feature_cache.h"
#include "slid/gmm.h"
#include "slid/gmm_stats.h"

namespace slid {

enum class GmmInit {
  kKMeansPlusPlus,  // default: k-means++ seeding + Lloyd iterations on a random subsample (in memory)
  kBinarySplit,     // start from one Gaussian, split every component, EM on all data, until num_gauss
};

struct EmOptions {
  int num_gauss = 256;              // K, target number of components (>= 1)
  int max_iters = 20;               // EM iterations (E-step + M-step) after initialisation (>= 0)
  double tol = 1e-4;                // stop when the relative gain of the average log-likelihood is below this
  float var_floor_rel = 1e-3f;      // variance floor per dimension = var_floor_rel x global variance of that dim
  float min_weight = 1e-5f;         // a component whose weight falls below this is replaced (split of the heaviest)
  int seed = 0;                     // seeds the subsample and k-means++ choices: same seed, same model
  int threads = 1;                  // threads for the E-step and k-means++; the model does not depend on it
  GmmInit init = GmmInit::kKMeansPlusPlus;  // initialisation method
  int init_max_frames = 50000;      // k-means++: size of the random subsample (the frames with the
                                    // smallest keys, see FrameSubsample; raised to num_gauss if smaller)
  int kmeans_iters = 5;             // k-means++: Lloyd iterations after seeding
  int split_em_iters = 3;           // binary split: EM iterations after each split
  int block_frames = 4096;          // frames per block read from the source and per thread task
  float min_posterior = 0.0f;       // E-step: drop posteriors below this from the statistics (0 = exact
                                    // dense GEMM statistics; e.g. 1e-4 is much faster on peaked data)
};

struct EmProgress {
  int iteration = 0;       // 1-based EM iteration
  double avg_loglik = 0;   // average log-likelihood per frame of the model entering this iteration
  double seconds = 0;      // wall-clock seconds of this iteration
  int num_gauss = 0;       // components of the model
  double num_frames = 0;   // frames seen in this iteration
};

struct EmResult {
  DiagGmm gmm;                        // the trained model
  std::vector<EmProgress> history;    // one entry per EM iteration, in order
  std::vector<std::string> warnings;  // degenerate data, replaced components, reduced K, ...
  bool converged = false;             // true if stopped by `tol` before max_iters
};

// Where the utterances of a FrameSource start and what they are called, so that the k-means++
// subsample is drawn per utterance (FrameSubsample: frame keys from the utterance key and the frame's
// index in it) and so does not depend on how utterances are grouped into sources, shards or processes.
struct UtteranceKeys {
  std::vector<int64_t> lengths;  // frames of each utterance, in source order; they sum to NumFrames()
  std::vector<uint64_t> keys;    // one per utterance, e.g. UtteranceKey(id) (slid/gmm_stats.h)
};

// Frames in the k-means++ subsample: max(init_max_frames, num_gauss), so that every component can be
// seeded; 0 for the binary-split initialisation (it needs no subsample).
int64_t InitSampleCapacity(const EmOptions& opts);

// The one pass over the data that starts EM: global moments, finiteness check and (k-means++) the
// keyed subsample of InitSampleCapacity(opts) frames seeded by opts.seed. utterances: nullptr takes the
// whole source as one utterance with key 0. Errors: non-finite frames, lengths that do not sum to the
// source's frames, invalid options.
GmmInitStats AccumulateInitStats(const FrameSource& data, const EmOptions& opts, const UtteranceKeys* utterances = nullptr);

// An initial model and what the M-steps after it need.
struct GmmStart {
  DiagGmm gmm;                        // the initial model
  Vector var_floor;                   // D absolute variance floors: var_floor_rel x global variance
  std::vector<std::string> warnings;  // constant dimensions, reduced K
};

// k-means++ initialisation from initialisation statistics (every frame of the data, possibly summed
// over shards): variance floor from the moments, K reduced to the number of frames or of distinct
// sampled frames (with a warning), then k-means++ seeding (opts.seed) and opts.kmeans_iters Lloyd
// iterations on the subsample. The same statistics give the same model, bit for bit. Errors: 0 frames,
// statistics without a subsample, invalid options.
GmmStart InitDiagGmm(const GmmInitStats& stats, const EmOptions& opts);

// The variance floor alone (as in GmmStart); constant dimensions append a note to *warnings.
Vector VarianceFloor(const MomentStats& moments, float var_floor_rel, std::vector<std::string>* warnings);

// The stopping rule of the EM loop: after iteration `iteration` (1-based), whose statistics gave the
// average log-likelihood avg_loglik, with prev_avg_loglik that of the iteration before: converged if
// iteration > 1 and avg_loglik - prev_avg_loglik < tol x max(|prev_avg_loglik|, 1e-30). The model that
// iteration estimated is kept (the update is applied, then the loop stops).
bool EmConverged(int iteration, double avg_loglik, double prev_avg_loglik, double tol);

// Trains a GMM on `data`: one pass for the initialisation statistics (AccumulateInitStats), then
// initialisation (opts.init; k-means++ by default, InitDiagGmm), then up to max_iters EM iterations,
// each one streaming pass over `data` (memory: blocks only, never frames x K).
// Errors (slid::Error): 0 frames, invalid options, non-finite frames.
// Degenerate data gives warnings in EmResult::warnings, never NaN: a constant dimension (its variances
// are floored at var_floor_rel), fewer frames than num_gauss (K is reduced to the number of frames),
// fewer distinct frames than K in the k-means++ subsample (K is reduced to that number), a component
// whose weight falls below min_weight (replaced by splitting the heaviest one).
// The average log-likelihood in history never decreases beyond float rounding, except in an iteration
// that replaced a dying component or with min_posterior > 0 (approximate statistics).
// on_progress, if set, is called after every EM iteration with the entry appended to history.
// utterances: as in AccumulateInitStats (the sharded trainer, slid/distributed.h, passes the same keys
// and so starts from the same model).
EmResult TrainDiagGmm(const FrameSource& data, const EmOptions& opts,
                      const std::function<void(const EmProgress&)>& on_progress = {},
                      const UtteranceKeys* utterances = nullptr);

// As TrainDiagGmm but starting from `init` (its K replaces opts.num_gauss; no initialisation step).
// With max_iters = 1 this is exactly one EM step from the given parameters.
EmResult TrainDiagGmmFrom(const FrameSource& data, const DiagGmm& init, const EmOptions& opts,
                          const std::function<void(const EmProgress&)>& on_progress = {});

// The M-step alone: maximum-likelihood update from statistics. var_floor: D values (absolute),
// applied to every component; components with weight < min_weight are replaced by splitting the
// heaviest component (a note is appended to *warnings if non-null). Error if stats hold no frames.
DiagGmm UpdateDiagGmm(const GmmStats& stats, const Vector& var_floor, float min_weight,
                      std::vector<std::string>* warnings);

// E-step over a whole source: statistics of all frames under gmm, computed with `threads` threads
// over blocks of block_frames and merged in block order (identical result for any thread count).
// The blocks are read by the calling thread, 4 per thread at a time, and taken by the threads one by
// one (std::thread; waits block, they do not spin). min_posterior: as in GmmStats.
GmmStats AccumulateStats(const DiagGmm& gmm, const FrameSource& data, int threads, int block_frames,
                         float min_posterior = 0.0f);

}  // namespace slid
