#include "slid/em.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <system_error>
#include <thread>

#include "slid/error.h"

namespace slid {

namespace {

using Clock = std::chrono::steady_clock;

// Uniform in [0, 1) from the top 53 bits: the same numbers on every platform for a seed
// (std::uniform_*_distribution are implementation-defined).
double Uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
int64_t UniformIndex(std::mt19937_64& rng, int64_t n) {
  return std::min<int64_t>(n - 1, static_cast<int64_t>(Uniform01(rng) * static_cast<double>(n)));
}

// Blocks per thread gathered before the threads start (see AccumulateStats), within a bound on the
// blocks held at once (memory: each holds block_frames x D floats and K x 2D doubles of statistics).
constexpr int kBlocksPerThread = 4;
constexpr int kMaxBatchBlocks = 64;

// Calls fn(thread, i) for every i in [0, n) on min(threads, n) threads, the caller being thread 0.
// Tasks are claimed one at a time from a shared counter (dynamic schedule). Waiting is passive
// (std::thread::join blocks in the kernel; no spinning barrier stealing a core from a busy thread).
// Fewer threads start if the system refuses more. The first exception thrown by fn stops further
// claims and is rethrown after every thread joined.
void ParallelFor(int threads, int64_t n, const std::function<void(int, int64_t)>& fn) {
  const int t = static_cast<int>(std::min<int64_t>(threads, n));
  if (t <= 1) {
    for (int64_t i = 0; i < n; ++i) fn(0, i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::mutex mu;
  std::exception_ptr error;
  auto work = [&](int thread) {
    for (;;) {
      const int64_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        fn(thread, i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        next = n;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  try {
    for (int j = 1; j < t; ++j) pool.emplace_back(work, j);
  } catch (const std::system_error&) {
    // Could not start another thread: the ones running (and this one) take the remaining tasks.
  }
  work(0);
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

void ValidateOptions(const EmOptions& o) {
  auto bad = [](const std::string& what) { throw Error("EmOptions: " + what); };
  if (o.num_gauss < 1) bad("num_gauss must be >= 1, got " + std::to_string(o.num_gauss));
  if (o.max_iters < 0) bad("max_iters must be >= 0, got " + std::to_string(o.max_iters));
  if (!(o.tol >= 0)) bad("tol must be >= 0");
  if (!(o.var_floor_rel > 0) || !std::isfinite(o.var_floor_rel)) bad("var_floor_rel must be > 0");
  if (!(o.min_weight >= 0) || !(o.min_weight < 1)) bad("min_weight must be in [0, 1)");
  if (o.threads < 1) bad("threads must be >= 1, got " + std::to_string(o.threads));
  if (o.block_frames < 1) bad("block_frames must be >= 1");
  if (o.init_max_frames < 1) bad("init_max_frames must be >= 1");
  if (o.kmeans_iters < 0) bad("kmeans_iters must be >= 0");
  if (o.split_em_iters < 0) bad("split_em_iters must be >= 0");
  if (!(o.min_posterior >= 0) || !(o.min_posterior < 1)) bad("min_posterior must be in [0, 1)");
}

// Squared distances of every row of x to every center: n x c.
Matrix SquaredDistances(const Matrix& x, const Matrix& centers) {
  Matrix d = x * (-2.0f * centers.transpose());
  d.colwise() += x.rowwise().squaredNorm();
  d.rowwise() += centers.rowwise().squaredNorm().transpose();
  return d.cwiseMax(0.0f);
}

// k-means++ seeding (Arthur & Vassilvitskii 2007) then Lloyd iterations on the subsample; the GMM
// gets cluster proportions, centers and within-cluster variances (floored). May return fewer than k
// components when the subsample has fewer distinct frames (with a warning).
DiagGmm KMeansPlusPlusInit(const Matrix& x, int k, const EmOptions& o, const VectorD& global_var, const Vector& floor,
                           std::vector<std::string>* warnings) {
  const int64_t n = x.rows();
  const int d = static_cast<int>(x.cols());
  std::mt19937_64 rng(static_cast<uint64_t>(o.seed) * 0x9E3779B97F4A7C15ull + 1);
  std::vector<int64_t> chosen;
  chosen.push_back(UniformIndex(rng, n));
  // The seeding stays on one thread: one pick costs about a millisecond at n = 50000, and a thread
  // start and join per pick measured slower than one thread on the loaded 2-core machine (bench_gmm
  // --scaling). The Lloyd assignments below are threaded.
  Eigen::VectorXd d2 = (x.rowwise() - x.row(chosen[0])).rowwise().squaredNorm().cast<double>();
  while (static_cast<int>(chosen.size()) < k) {
    const double total = d2.sum();
    if (!(total > 0)) break;  // every frame coincides with a center: no more distinct points
    double r = Uniform01(rng) * total;
    int64_t pick = -1;
    for (int64_t i = 0; i < n; ++i) {
      if (d2[i] <= 0) continue;
      pick = i;
      r -= d2[i];
      if (r < 0) break;
    }
    chosen.push_back(pick);
    d2 = d2.cwiseMin((x.rowwise() - x.row(pick)).rowwise().squaredNorm().cast<double>());
  }
  const int kk = static_cast<int>(chosen.size());
  if (kk < k) {
    warnings->push_back("only " + std::to_string(kk) + " distinct frames among the " + std::to_string(n) +
                        " sampled for initialisation (duplicate frames?): num_gauss reduced from " + std::to_string(k) +
                        " to " + std::to_string(kk));
  }
  Matrix centers(kk, d);
  for (int c = 0; c < kk; ++c) centers.row(c) = x.row(chosen[c]);

  std::vector<int> assign(n, 0);
  VectorD count;
  MatrixD sum, sum2;
  for (int it = 0; it <= o.kmeans_iters; ++it) {
    // Assignments by blocked GEMM, the blocks spread over threads (each frame's result is the same
    // whichever thread computes its block).
    ParallelFor(o.threads, (n + kGmmBlockFrames - 1) / kGmmBlockFrames, [&](int, int64_t blk) {
      const int64_t b = blk * kGmmBlockFrames, m = std::min<int64_t>(kGmmBlockFrames, n - b);
      const Matrix dist = SquaredDistances(x.middleRows(b, m), centers);
      for (int64_t i = 0; i < m; ++i) dist.row(i).minCoeff(&assign[b + i]);
    });
    count = VectorD::Zero(kk);
    sum = MatrixD::Zero(kk, d);
    sum2 = MatrixD::Zero(kk, d);
    for (int64_t i = 0; i < n; ++i) {
      const auto xi = x.row(i).cast<double>();
      count[assign[i]] += 1;
      sum.row(assign[i]) += xi;
      sum2.row(assign[i]) += xi.cwiseAbs2();
    }
    if (it == o.kmeans_iters) break;
    for (int c = 0; c < kk; ++c) {
      if (count[c] > 0) centers.row(c) = (sum.row(c) / count[c]).cast<float>();  // empty cluster keeps its center
    }
  }
  Vector w(kk);
  Matrix var(kk, d);
  for (int c = 0; c < kk; ++c) {
    // +1 pseudo-count keeps every weight positive; clusters with < 2 frames take the global variance.
    w[c] = static_cast<float>((count[c] + 1.0) / (static_cast<double>(n) + kk));
    for (int j = 0; j < d; ++j) {
      double v = global_var[j];
      if (count[c] >= 2) {
        const double m = sum(c, j) / count[c];
        v = sum2(c, j) / count[c] - m * m;
      }
      var(c, j) = std::max(static_cast<float>(v), floor[j]);
    }
  }
  w /= w.sum();
  return DiagGmm(w, centers, var);
}

// Splits component j into two, moving the means apart by +-0.2 standard deviations in every dimension
// and halving the weight. The new component goes to index `into` (which must be free).
void SplitInto(VectorD* w, MatrixD* mu, MatrixD* var, int j, int into) {
  (*w)[j] *= 0.5;
  (*w)[into] = (*w)[j];
  const Eigen::RowVectorXd delta = 0.2 * var->row(j).cwiseSqrt();
  mu->row(into) = mu->row(j) + delta;
  mu->row(j) -= delta;
  var->row(into) = var->row(j);
}

DiagGmm ToGmm(const VectorD& w, const MatrixD& mu, const MatrixD& var) {
  return DiagGmm((w / w.sum()).cast<float>(), mu.cast<float>(), var.cast<float>());
}

// Doubles the number of components (up to k): the heaviest components are split first.
DiagGmm SplitGmm(const DiagGmm& g, int k) {
  const int k0 = g.NumGauss(), k1 = std::min(k, 2 * k0);
  VectorD w = VectorD::Zero(k1);
  MatrixD mu = MatrixD::Zero(k1, g.Dim()), var = MatrixD::Ones(k1, g.Dim());
  w.head(k0) = g.weights().cast<double>();
  mu.topRows(k0) = g.means().cast<double>();
  var.topRows(k0) = g.variances().cast<double>();
  std::vector<int> order(k0);
  for (int i = 0; i < k0; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return w[a] > w[b]; });
  for (int i = 0; i < k1 - k0; ++i) SplitInto(&w, &mu, &var, order[i], k0 + i);
  return ToGmm(w, mu, var);
}

// The EM loop shared by both entry points.
void RunEm(const FrameSource& data, const Vector& floor, const EmOptions& o, int iters, bool report,
           const std::function<void(const EmProgress&)>& on_progress, EmResult* r) {
  double prev = 0;
  for (int it = 1; it <= iters; ++it) {
    const auto t0 = Clock::now();
    const GmmStats stats = AccumulateStats(r->gmm, data, o.threads, o.block_frames, o.min_posterior);
    const double avg = stats.TotalLogLikelihood() / stats.NumFrames();
    std::vector<std::string> notes;
    r->gmm = UpdateDiagGmm(stats, floor, o.min_weight, &notes);
    for (const auto& n : notes) r->warnings.push_back((report ? "EM iteration " : "split-init EM iteration ") + std::to_string(it) + ": " + n);
    if (!report) continue;
    EmProgress p;
    p.iteration = it;
    p.avg_loglik = avg;
    p.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    p.num_gauss = r->gmm.NumGauss();
    p.num_frames = stats.NumFrames();
    r->history.push_back(p);
    if (on_progress) on_progress(p);
    if (EmConverged(it, avg, prev, o.tol)) {
      r->converged = true;
      break;
    }
    prev = avg;
  }
}

}  // namespace

GmmStats AccumulateStats(const DiagGmm& gmm, const FrameSource& data, int threads, int block_frames,
                         float min_posterior) {
  if (gmm.NumGauss() == 0) throw Error("AccumulateStats: empty model");
  if (data.Dim() != gmm.Dim()) {
    throw Error("AccumulateStats: data has " + std::to_string(data.Dim()) + " dims, the model " + std::to_string(gmm.Dim()));
  }
  if (threads < 1 || block_frames < 1) throw Error("AccumulateStats: threads and block_frames must be >= 1");
  const int k = gmm.NumGauss(), d = gmm.Dim();
  GmmStats total(k, d, min_posterior);
  if (threads == 1) {  // no copy, no threads
    GmmStats part(k, d, min_posterior);
    data.ForEachBlock(block_frames, [&](const Matrix& block) {
      part.SetZero();
      part.Accumulate(gmm, block);
      total.Add(part);
    });
    return total;
  }
  // Every block is accumulated into zeroed statistics, which are added to the total in block order.
  // The arithmetic is therefore the same whatever the thread count: bit-identical models. Blocks are
  // gathered kBlocksPerThread per thread before the threads start, so each start and join is paid
  // once per several blocks, and the threads take blocks from a shared counter, so one slowed by
  // other load on the machine does not hold the rest back (a static split waits for the slowest).
  const int batch_blocks = std::max(threads, std::min(threads * kBlocksPerThread, kMaxBatchBlocks));
  std::vector<Matrix> batch(batch_blocks);
  std::vector<GmmStats> part(batch_blocks);          // per-block results, no work buffers
  std::vector<GmmStats> worker(threads, GmmStats(k, d, min_posterior));  // per-thread work buffers
  int filled = 0;
  auto flush = [&]() {
    ParallelFor(threads, filled, [&](int thread, int64_t i) {
      worker[thread].SetZero();
      worker[thread].Accumulate(gmm, batch[i]);
      part[i] = GmmStats(k, d, min_posterior);
      part[i].Add(worker[thread]);  // 0 + x == x: the same values as accumulating into part[i]
    });
    for (int i = 0; i < filled; ++i) total.Add(part[i]);
    filled = 0;
  };
  data.ForEachBlock(block_frames, [&](const Matrix& block) {
    batch[filled++] = block;
    if (filled == batch_blocks) flush();
  });
  if (filled > 0) flush();
  return total;
}

DiagGmm UpdateDiagGmm(const GmmStats& stats, const Vector& var_floor, float min_weight,
                      std::vector<std::string>* warnings) {
  const int k = stats.NumGauss(), d = stats.Dim();
  if (k == 0 || !(stats.NumFrames() > 0)) throw Error("UpdateDiagGmm: statistics hold no frames");
  if (var_floor.size() != d) throw Error("UpdateDiagGmm: variance floor has " + std::to_string(var_floor.size()) + " dims, expected " + std::to_string(d));
  const VectorD& occ = stats.occupancy();
  const double total = occ.sum();
  VectorD w(k);
  MatrixD mu(k, d), var(k, d);
  std::vector<int> dead;
  for (int c = 0; c < k; ++c) {
    w[c] = occ[c] / total;
    if (!(w[c] >= min_weight) || !(occ[c] > 0)) {
      dead.push_back(c);
      continue;
    }
    mu.row(c) = stats.first_order().row(c) / occ[c];
    var.row(c) = stats.second_order().row(c) / occ[c] - mu.row(c).cwiseAbs2();
    for (int j = 0; j < d; ++j) var(c, j) = std::max(var(c, j), static_cast<double>(var_floor[j]));
  }
  if (static_cast<int>(dead.size()) == k) throw Error("UpdateDiagGmm: every component has weight below min_weight");
  std::vector<bool> alive(k, true);
  for (int c : dead) alive[c] = false;
  for (int c : dead) {
    int heaviest = -1;
    for (int j = 0; j < k; ++j) {
      if (alive[j] && (heaviest < 0 || w[j] > w[heaviest])) heaviest = j;
    }
    if (warnings) {
      warnings->push_back("component " + std::to_string(c) + " had weight " + std::to_string(w[c]) +
                          " (< min_weight): replaced by splitting component " + std::to_string(heaviest));
    }
    SplitInto(&w, &mu, &var, heaviest, c);
    alive[c] = true;
  }
  return ToGmm(w, mu, var);
}

int64_t InitSampleCapacity(const EmOptions& opts) {
  return opts.init == GmmInit::kKMeansPlusPlus ? std::max(opts.init_max_frames, opts.num_gauss) : 0;
}

bool EmConverged(int iteration, double avg_loglik, double prev_avg_loglik, double tol) {
  return iteration > 1 && avg_loglik - prev_avg_loglik < tol * std::max(std::abs(prev_avg_loglik), 1e-30);
}

GmmInitStats AccumulateInitStats(const FrameSource& data, const EmOptions& opts, const UtteranceKeys* utterances) {
  ValidateOptions(opts);
  if (data.Dim() < 1) throw Error("training data has no dimensions");
  GmmInitStats st(data.Dim(), InitSampleCapacity(opts), static_cast<uint64_t>(opts.seed));
  if (!utterances) {
    int64_t seen = 0;
    data.ForEachBlock(opts.block_frames, [&](const Matrix& block) {
      st.Accumulate(block, 0, seen);
      seen += block.rows();
    });
    return st;
  }
  if (utterances->lengths.size() != utterances->keys.size())
    throw Error("AccumulateInitStats: " + std::to_string(utterances->lengths.size()) + " utterance lengths, " +
                std::to_string(utterances->keys.size()) + " keys");
  int64_t total = 0;
  for (int64_t n : utterances->lengths) {
    if (n < 0) throw Error("AccumulateInitStats: negative utterance length");
    total += n;
  }
  if (total != data.NumFrames())
    throw Error("AccumulateInitStats: utterance lengths sum to " + std::to_string(total) + " frames, the data has " +
                std::to_string(data.NumFrames()));
  // Blocks cut at utterance boundaries: every piece is offered with its utterance's key and its offset.
  size_t utt = 0;
  int64_t in_utt = 0;  // frames of utterance `utt` already seen
  data.ForEachBlock(opts.block_frames, [&](const Matrix& block) {
    for (int64_t row = 0; row < block.rows();) {
      while (utt < utterances->lengths.size() && in_utt == utterances->lengths[utt]) {
        ++utt;
        in_utt = 0;
      }
      const int64_t n = std::min<int64_t>(block.rows() - row, utterances->lengths[utt] - in_utt);
      st.Accumulate(block.middleRows(row, n), utterances->keys[utt], in_utt);
      in_utt += n;
      row += n;
    }
  });
  return st;
}

Vector VarianceFloor(const MomentStats& moments, float var_floor_rel, std::vector<std::string>* warnings) {
  // var_floor_rel x global variance per dimension. A constant dimension (zero global variance) gets
  // var_floor_rel x 1 and a warning, so that its variances stay positive.
  const VectorD var = moments.Variance();
  Vector floor(var.size());
  for (int j = 0; j < var.size(); ++j) {
    double g = var[j];
    if (!(g > 0)) {
      if (warnings)
        warnings->push_back("dimension " + std::to_string(j) + " is constant (value " + std::to_string(moments.Mean()[j]) +
                            "); its variances are floored at " + std::to_string(var_floor_rel));
      g = 1.0;
    }
    floor[j] = static_cast<float>(std::max<double>(var_floor_rel * g, std::numeric_limits<float>::min()));
  }
  return floor;
}

namespace {

// Floor, and K reduced to the number of frames: what both initialisations start with.
int StartCommon(const GmmInitStats& stats, const EmOptions& opts, GmmStart* start) {
  if (stats.moments.Dim() < 1 || !(stats.moments.Count() > 0)) throw Error("training data: 0 frames");
  start->var_floor = VarianceFloor(stats.moments, opts.var_floor_rel, &start->warnings);
  int k = opts.num_gauss;
  const double frames = stats.moments.Count();
  if (frames < k) {
    start->warnings.push_back("only " + std::to_string(static_cast<int64_t>(frames)) + " frames for " +
                              std::to_string(k) + " components: num_gauss reduced to " +
                              std::to_string(static_cast<int64_t>(frames)));
    k = static_cast<int>(frames);
  }
  return k;
}

}  // namespace

GmmStart InitDiagGmm(const GmmInitStats& stats, const EmOptions& opts) {
  ValidateOptions(opts);
  if (opts.init != GmmInit::kKMeansPlusPlus) throw Error("InitDiagGmm: only the k-means++ initialisation works from statistics");
  GmmStart start;
  const int k = StartCommon(stats, opts, &start);
  if (stats.sample.Capacity() == 0 || stats.sample.Size() == 0)
    throw Error("InitDiagGmm: the initialisation statistics hold no k-means++ subsample");
  if (stats.sample.Seed() != static_cast<uint64_t>(opts.seed))
    throw Error("InitDiagGmm: the subsample was drawn with seed " + std::to_string(stats.sample.Seed()) +
                ", the options say " + std::to_string(opts.seed));
  start.gmm = KMeansPlusPlusInit(stats.sample.Frames(), k, opts, stats.moments.Variance(), start.var_floor, &start.warnings);
  return start;
}

EmResult TrainDiagGmmFrom(const FrameSource& data, const DiagGmm& init, const EmOptions& opts,
                          const std::function<void(const EmProgress&)>& on_progress) {
  ValidateOptions(opts);
  if (init.NumGauss() == 0) throw Error("TrainDiagGmmFrom: empty initial model");
  if (init.Dim() != data.Dim()) {
    throw Error("TrainDiagGmmFrom: data has " + std::to_string(data.Dim()) + " dims, the model " + std::to_string(init.Dim()));
  }
  EmResult r;
  EmOptions moments_only = opts;
  moments_only.init = GmmInit::kBinarySplit;  // no subsample
  const GmmInitStats st = AccumulateInitStats(data, moments_only);
  if (!(st.moments.Count() > 0)) throw Error("training data: 0 frames");
  const Vector floor = VarianceFloor(st.moments, opts.var_floor_rel, &r.warnings);
  r.gmm = init;
  RunEm(data, floor, opts, opts.max_iters, true, on_progress, &r);
  return r;
}

EmResult TrainDiagGmm(const FrameSource& data, const EmOptions& opts,
                      const std::function<void(const EmProgress&)>& on_progress, const UtteranceKeys* utterances) {
  ValidateOptions(opts);
  if (data.Dim() < 1) throw Error("TrainDiagGmm: data has no dimensions");
  EmResult r;
  const GmmInitStats st = AccumulateInitStats(data, opts, utterances);
  GmmStart start;
  if (opts.init == GmmInit::kKMeansPlusPlus) {
    start = InitDiagGmm(st, opts);
    r.gmm = std::move(start.gmm);
  } else {
    const int k = StartCommon(st, opts, &start);
    Matrix var = st.moments.Variance().cast<float>().transpose();
    for (int j = 0; j < var.cols(); ++j) var(0, j) = std::max(var(0, j), start.var_floor[j]);
    r.gmm = DiagGmm(Vector::Ones(1), st.moments.Mean().cast<float>().transpose(), var);
    r.warnings = start.warnings;
    start.warnings.clear();
    while (r.gmm.NumGauss() < k) {
      r.gmm = SplitGmm(r.gmm, k);
      RunEm(data, start.var_floor, opts, opts.split_em_iters, false, {}, &r);
    }
  }
  for (auto& w : start.warnings) r.warnings.push_back(std::move(w));
  RunEm(data, start.var_floor, opts, opts.max_iters, true, on_progress, &r);
  return r;
}

}  // namespace slid
