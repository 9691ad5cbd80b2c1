// Benchmark of the GMM kernels: one EM iteration (E-step statistics + M-step) and scoring
// (per-frame log-likelihoods) on synthetic frames, compared with an Eigen float GEMM of the same
// shapes measured in the same run.
//
//   bench_gmm [--frames N] [--dim D] [--ks 64,256,1024] [--threads T] [--reps R] [--cache PATH]
//             [--min-posterior P]
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

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::atoi(item.c_str()));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t frames = 1000000;
  int dim = 56, threads = 1, reps = 3;
  std::vector<int> ks = {64, 256, 1024};
  std::string cache;
  float min_posterior = 0;
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
    else {
      std::fprintf(stderr, "usage: bench_gmm [--frames N] [--dim D] [--ks 64,256,1024] [--threads T] [--reps R] [--cache PATH] [--min-posterior P]\n");
      return 2;
    }
  }
  if (frames < 1 || dim < 1 || threads < 1 || reps < 1 || ks.empty()) {
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
