// Benchmark of the GMM kernels: one EM iteration (E-step statistics + M-step) and scoring
// (per-frame log-likelihoods) on synthetic frames, compared with an Eigen float GEMM of the same
// shapes measured in the same run.
//
//   bench_gmm [--frames N] [--dim D] [--ks 64,256,1024] [--threads T] [--reps R] [--cache PATH]
//             [--min-posterior P] [--scaling 1,2,4] [--gemm-blocks 512,1024,2048,4096]
//
// --gemm-blocks B1,B2,...: instead of the table above, the E-step's inner block size: per K, the
// dense path of GmmStats::Accumulate (log-likelihoods of B frames by one GEMM, posteriors, then
// posteriors^T [x, x^2] by a second GEMM, added into double accumulators) run over all frames with
// blocks of B1, B2, ... frames, in alternating order within each repetition (forwards, then
// backwards), best of the repetitions, with the ratio to the block GmmBlockFrames(K) uses now; and
// GmmStats::Accumulate itself in the same repetitions (it must match its block's row).
//
// --scaling T1,T2,...: instead of the table above, the thread scaling: per K, the E-step
// (AccumulateStats) and the k-means++ initialisation (InitDiagGmm on an init_max_frames subsample)
// timed with each thread count, interleaved within each repetition so that every count sees the same
// machine load, with the speed-up over the first count beside the ideal min(T, cores) / min(T1, cores)
// and beside the speed-up of the same flops as plain GEMMs in T independent threads (the ceiling the
// machine offers under its current load; on a VM two vCPUs may share one physical core).
//
// --min-posterior P > 0: also time the E-step with posteriors below P pruned from the statistics
// (EmOptions::min_posterior); its GFLOP/s are dense-equivalent (the dense flop count / time).
//
// --cache PATH: the frames are generated block by block straight into a feature cache at PATH and EM
// streams them from disk, so no frames x dims matrix is ever held (out-of-core peak memory).
// Flop counts: our E-step is 2 GEMM calls with inner size 2D ([x, x^2] x packed params, and
// posteriors^T x [x, x^2]), i.e. 4 GEMMs of shape (frames x D) by (D x K): 8 N D K flops. Scoring is
// the first of these: 4 N D K flops. The reference is Eigen's float GEMM (frames x D) by (D x K) run
// over the same frames in blocks of GmmBlockFrames(K) rows; "ratio" = our flop rate / reference flop rate.
#include <sys/resource.h>

#include <algorithm>
#include <thread>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "slid/em.h"
#include "slid/feature_cache.h"
#include "slid/gmm.h"
#include "slid/gmm_stats.h"

using namespace slid;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // Linux: KiB
}

// Frames with some cluster structure (64 blob centers), unit-ish scale like CMVN'd features.
Matrix MakeBlock(int64_t n, int d, std::mt19937& rng, const Matrix& centers) {
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> pick(0, static_cast<int>(centers.rows()) - 1);
  Matrix x(n, d);
  for (int64_t i = 0; i < n; ++i) {
    const int c = pick(rng);
    for (int j = 0; j < d; ++j) x(i, j) = centers(c, j) + 0.6f * normal(rng);
  }
  return x;
}

DiagGmm MakeGmm(int k, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> uni(0.3f, 1.5f);
  Vector w = Vector::Constant(k, 1.0f / k);
  Matrix mu(k, d), var(k, d);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < d; ++j) {
      mu(i, j) = normal(rng);
      var(i, j) = uni(rng);
    }
  return DiagGmm(w, mu, var);
}

// Reference: Eigen float GEMM (rows x D) * (D x K) over `frames` rows, in blocks of GmmBlockFrames(K)
// rows, the blocking slid's kernels use (whole-shape or 4096-row products are slower at large K: their
// output no longer fits the caches). Best of reps.
double GemmSeconds(int64_t frames, int d, int k, int reps) {
  const int block = GmmBlockFrames(k);
  Matrix a = Matrix::Random(block, d), b = Matrix::Random(d, k), c(block, k);
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    for (int64_t f = 0; f < frames; f += block) {
      const int n = static_cast<int>(std::min<int64_t>(block, frames - f));
      c.topRows(n).noalias() = a.topRows(n) * b;
    }
    best = std::min(best, Seconds(t0));
  }
  if (c(0, 0) == 12345.f) std::printf(" ");  // keep the result alive
  return best;
}

// The dense path of GmmStats::Accumulate with blocks of `block` frames (the statistics are returned
// through *occupancy_sum so that nothing is optimised away).
double DenseEStepSeconds(const DiagGmm& g, const Matrix& x, int block, double* occupancy_sum) {
  const int k = g.NumGauss(), d = g.Dim();
  Matrix xx, loglik, block_stats;
  Vector frame_loglik, post_sums;
  VectorD occupancy = VectorD::Zero(k);
  MatrixD first = MatrixD::Zero(k, d), second = MatrixD::Zero(k, d);
  double total = 0;
  const auto t0 = Clock::now();
  for (int64_t b = 0; b < x.rows(); b += block) {
    const int n = static_cast<int>(std::min<int64_t>(block, x.rows() - b));
    g.BlockLogLikelihoods(x, b, n, &xx, &loglik);
    post_sums.setZero(k);
    LogSumExpRowsToPosteriors(n, &loglik, &frame_loglik, &post_sums);
    block_stats.noalias() = loglik.topRows(n).transpose() * xx.topRows(n);
    first += block_stats.leftCols(d).cast<double>();
    second += block_stats.rightCols(d).cast<double>();
    occupancy += post_sums.cast<double>();
    total += frame_loglik.head(n).cast<double>().sum();
  }
  const double sec = Seconds(t0);
  *occupancy_sum = occupancy.sum() + 0 * total + 0 * first.sum() + 0 * second.sum();
  return sec;
}

int GemmBlocks(const Matrix& x, const std::vector<int>& ks, const std::vector<int>& blocks, int reps) {
  std::printf("E-step inner block (dense path of GmmStats::Accumulate), %lld frames x %d dims, best of %d, orders alternating\n",
              static_cast<long long>(x.rows()), static_cast<int>(x.cols()), reps);
  for (int k : ks) {
    const DiagGmm g = MakeGmm(k, static_cast<int>(x.cols()), 2 + k);
    std::vector<double> best(blocks.size(), 1e30);
    double accumulate_best = 1e30;
    for (int r = 0; r < reps; ++r) {
      for (size_t i = 0; i < blocks.size(); ++i) {
        const size_t j = r % 2 == 0 ? i : blocks.size() - 1 - i;
        double occ = 0;
        best[j] = std::min(best[j], DenseEStepSeconds(g, x, blocks[j], &occ));
        if (std::abs(occ - static_cast<double>(x.rows())) > 1e-3 * x.rows()) std::printf("bad occupancy %f\n", occ);
      }
      GmmStats st(k, static_cast<int>(x.cols()));
      const auto t0 = Clock::now();
      st.Accumulate(g, x);
      accumulate_best = std::min(accumulate_best, Seconds(t0));
    }
    const int now = GmmBlockFrames(k);
    double ref = 0;
    for (size_t j = 0; j < blocks.size(); ++j)
      if (blocks[j] == now) ref = best[j];
    for (size_t j = 0; j < blocks.size(); ++j)
      std::printf("K=%5d block %5d: %.3f s, %10.0f frames/s, %6.1f GFLOP/s, ratio to block %d: %s\n", k, blocks[j],
                  best[j], x.rows() / best[j], 8.0 * x.rows() * x.cols() * k / best[j] / 1e9, now,
                  ref > 0 ? std::to_string(ref / best[j]).substr(0, 5).c_str() : "-");
    std::printf("K=%5d GmmStats::Accumulate (block %d): %.3f s\n", k, now, accumulate_best);
    std::fflush(stdout);
  }
  return 0;
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::atoi(item.c_str()));
  return v;
}

// The --scaling table (see the top of the file).
int Scaling(const FrameSource& src, int dim, const std::vector<int>& ks, const std::vector<int>& counts, int reps) {
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  std::printf("# thread scaling, %d cores; E-step = AccumulateStats over all frames (block_frames 4096); "
              "init = InitDiagGmm (k-means++ seeding + 5 Lloyd iterations on 50000 frames); seeding = the same without Lloyd; best of %d\n",
              cores, reps);
  std::printf("# ideal = min(T, cores) / min(T1, cores); GEMM = speed-up of the E-step's flops as plain float GEMMs\n"
              "# in T independent threads, measured in the same repetitions: what the machine gives under its load now\n");
  std::printf("%6s %7s | %10s %8s %8s %8s | %10s %8s | %10s %8s\n", "K", "threads", "E-step s", "speed-up", "ideal",
              "GEMM", "init s", "speed-up", "seeding s", "speed-up");
  for (int k : ks) {
    const DiagGmm g = MakeGmm(k, dim, 2 + k);
    EmOptions o;
    o.num_gauss = k;
    const GmmInitStats init_stats = AccumulateInitStats(src, o);
    std::vector<double> estep(counts.size(), 1e30), init(counts.size(), 1e30), gemm(counts.size(), 1e30),
        seeding(counts.size(), 1e30);
    std::vector<DiagGmm> init_models(counts.size());
    std::vector<GmmStats> first(counts.size());
    for (int r = 0; r < reps; ++r) {
      for (size_t c = 0; c < counts.size(); ++c) {
        auto t0 = Clock::now();
        GmmStats s = AccumulateStats(g, src, counts[c], 4096);
        estep[c] = std::min(estep[c], Seconds(t0));
        if (r == 0) first[c] = std::move(s);
        // The machine's own ceiling now: the same float GEMM work split over counts[c] independent
        // threads with nothing shared (E-step flops: 4 GEMMs of (frames x D) by (D x K)).
        t0 = Clock::now();
        {
          std::vector<std::thread> pool;
          const int64_t share = (4 * src.NumFrames() + counts[c] - 1) / counts[c];
          for (int t = 0; t < counts[c]; ++t) pool.emplace_back([&]() { GemmSeconds(share, dim, k, 1); });
          for (auto& th : pool) th.join();
        }
        gemm[c] = std::min(gemm[c], Seconds(t0));
        o.threads = counts[c];
        t0 = Clock::now();
        const GmmStart start = InitDiagGmm(init_stats, o);
        init[c] = std::min(init[c], Seconds(t0));
        if (!start.gmm.means().allFinite()) std::printf("non-finite model!\n");
        if (r == 0) init_models[c] = start.gmm;
        // The seeding alone: no Lloyd iteration.
        EmOptions seed_only = o;
        seed_only.kmeans_iters = 0;
        t0 = Clock::now();
        const GmmStart seeded = InitDiagGmm(init_stats, seed_only);
        seeding[c] = std::min(seeding[c], Seconds(t0));
        if (!seeded.gmm.means().allFinite()) std::printf("non-finite model!\n");
      }
    }
    for (size_t c = 0; c < counts.size(); ++c) {
      const double ideal = static_cast<double>(std::min(counts[c], cores)) / std::min(counts[0], cores);
      // The thread count must not change the statistics (bit-identical by construction).
      const bool same = first[c].first_order() == first[0].first_order() &&
                        first[c].second_order() == first[0].second_order() &&
                        first[c].occupancy() == first[0].occupancy();
      const bool same_init = init_models[c].means() == init_models[0].means() &&
                             init_models[c].variances() == init_models[0].variances();
      std::printf("%6d %7d | %10.3f %8.2f %8.2f %8.2f | %10.3f %8.2f | %10.3f %8.2f%s%s\n", k, counts[c], estep[c],
                  estep[0] / estep[c], ideal, gemm[0] / gemm[c], init[c], init[0] / init[c], seeding[c],
                  seeding[0] / seeding[c], same ? "" : "  STATISTICS DIFFER", same_init ? "" : "  INIT DIFFERS");
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t frames = 1000000;
  int dim = 56, threads = 1, reps = 3;
  std::vector<int> ks = {64, 256, 1024};
  std::string cache;
  float min_posterior = 0;
  std::vector<int> scaling, gemm_blocks;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_gmm: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--frames") frames = std::atoll(next().c_str());
    else if (a == "--dim") dim = std::atoi(next().c_str());
    else if (a == "--ks") ks = ParseList(next());
    else if (a == "--threads") threads = std::atoi(next().c_str());
    else if (a == "--reps") reps = std::atoi(next().c_str());
    else if (a == "--cache") cache = next();
    else if (a == "--min-posterior") min_posterior = std::atof(next().c_str());
    else if (a == "--scaling") scaling = ParseList(next());
    else if (a == "--gemm-blocks") gemm_blocks = ParseList(next());
    else {
      std::fprintf(stderr, "usage: bench_gmm [--frames N] [--dim D] [--ks 64,256,1024] [--threads T] [--reps R] [--cache PATH] [--min-posterior P] [--scaling 1,2,4] [--gemm-blocks 512,1024]\n");
      return 2;
    }
  }
  if (frames < 1 || dim < 1 || threads < 1 || reps < 1 || ks.empty() ||
      std::any_of(scaling.begin(), scaling.end(), [](int t) { return t < 1; }) ||
      std::any_of(gemm_blocks.begin(), gemm_blocks.end(), [](int b) { return b < 1; })) {
    std::fprintf(stderr, "bench_gmm: bad arguments\n");
    return 2;
  }

  std::mt19937 rng(1);
  const Matrix centers = 1.5f * Matrix::Random(64, dim);
  Matrix x;
  std::unique_ptr<FrameSource> src;
  const auto tgen = Clock::now();
  if (cache.empty()) {
    x = MakeBlock(frames, dim, rng, centers);
    src = std::make_unique<MatrixFrameSource>(x);
  } else {
    FeatureCacheWriter w(cache, dim);
    for (int64_t f = 0; f < frames; f += 65536) w.Append(MakeBlock(std::min<int64_t>(65536, frames - f), dim, rng, centers));
    w.Close();
    src = std::make_unique<FeatureCacheSource>(cache);
  }
  std::printf("bench_gmm: %lld frames x %d dims, threads %d, source %s, best of %d; data made in %.1f s; peak RSS so far %.0f MiB\n",
              static_cast<long long>(frames), dim, threads, cache.empty() ? "memory" : cache.c_str(), reps,
              Seconds(tgen), PeakRssMiB());
  if (!scaling.empty()) return Scaling(*src, dim, ks, scaling, reps);
  if (!gemm_blocks.empty()) {
    if (!cache.empty()) {
      std::fprintf(stderr, "bench_gmm: --gemm-blocks needs the frames in memory (no --cache)\n");
      return 2;
    }
    return GemmBlocks(x, ks, gemm_blocks, reps);
  }
  std::printf("%6s | %-10s %12s %9s %9s %8s | %-8s %12s %9s %8s | %10s\n", "K", "EM iter", "frames/s", "GFLOP/s",
              "GEMM GF/s", "ratio", "score", "frames/s", "GFLOP/s", "ratio", "peak MiB");
  for (int k : ks) {
    const DiagGmm g = MakeGmm(k, dim, 2 + k);
    Vector floor = Vector::Constant(dim, 1e-3f);
    double em_best = 1e30, score_best = 1e30, gemm = 1e30, pruned_best = 1e30;
    // The three measurements alternate within each repetition so that they see the same machine load.
    for (int r = 0; r < reps; ++r) {
      gemm = std::min(gemm, GemmSeconds(frames, dim, k, 1));
      auto t0 = Clock::now();
      const GmmStats s = AccumulateStats(g, *src, threads, 4096);
      const DiagGmm next = UpdateDiagGmm(s, floor, 1e-5f, nullptr);
      em_best = std::min(em_best, Seconds(t0));
      if (!next.means().allFinite()) std::printf("non-finite model!\n");
      if (min_posterior > 0) {
        t0 = Clock::now();
        const GmmStats sp = AccumulateStats(g, *src, threads, 4096, min_posterior);
        const DiagGmm pn = UpdateDiagGmm(sp, floor, 1e-5f, nullptr);
        pruned_best = std::min(pruned_best, Seconds(t0));
        if (r == 0) {
          std::printf("# K=%d pruned at %g: occupancy kept %.6f of %.0f; max |mean difference| to dense %.2e\n", k,
                      min_posterior, sp.occupancy().sum() / s.occupancy().sum(), s.occupancy().sum(),
                      (pn.means() - next.means()).cwiseAbs().maxCoeff());
        }
      }
      t0 = Clock::now();
      double sum = 0;
      src->ForEachBlock(4096, [&](const Matrix& b) { sum += g.FrameLogLikelihoods(b).cast<double>().sum(); });
      score_best = std::min(score_best, Seconds(t0));
      if (!std::isfinite(sum)) std::printf("non-finite score!\n");
    }
    const double one_gemm_flops = 2.0 * frames * dim * k;
    const double gemm_rate = one_gemm_flops / gemm / 1e9;
    const double em_rate = 4 * one_gemm_flops / em_best / 1e9, score_rate = 2 * one_gemm_flops / score_best / 1e9;
    std::printf("%6d | %-10s %12.0f %9.1f %9.1f %8.2f | %-8s %12.0f %9.1f %8.2f | %10.0f\n", k, "", frames / em_best,
                em_rate, gemm_rate, em_rate / gemm_rate, "", frames / score_best, score_rate, score_rate / gemm_rate,
                PeakRssMiB());
    if (min_posterior > 0) {
      const double pr = 4 * one_gemm_flops / pruned_best / 1e9;
      std::printf("%6s | %-10s %12.0f %9.1f %9s %8.2f |\n", "", "pruned", frames / pruned_best, pr, "", pr / gemm_rate);
    }
    std::fflush(stdout);
  }
  return 0;
}
