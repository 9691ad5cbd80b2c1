// Benchmark of i-vector extraction and total-variability training memory.
//
//   bench_ivector [--gauss 512] [--dim 56] [--ivector-dim 400] [--seconds 3,10,30] [--utts 64]
//                 [--baseline-utts 8] [--batch 32] [--mem-utts 100,400] [--mem-seconds 2] [--no-mem]
//
// Extraction: synthetic utterances (frames drawn from the UBM itself, 100 frames per second of speech)
// go through the whole per-utterance path on one thread: UBM log-likelihoods (batched GEMM), top-20 /
// min-posterior 0.025 Baum-Welch statistics, then the i-vector posterior mean in batches of --batch
// utterances. "x real time" = seconds of speech / CPU seconds of the benchmark thread. The same-run baseline is the
// straightforward implementation: a per-frame loop over every component for the log-likelihoods and
// posteriors (no GEMM), and the extractor called one utterance at a time (no batching, so the
// K x R(R+1)/2 and KD x R parameter matrices are streamed from memory for every utterance).
//
// Training memory: for each --mem-utts size, a child process (fork) trains one EM iteration of T from
// utterances generated on the fly (statistics are never stored) and reports its peak RSS (ru_maxrss).
// Flat memory means the two figures are equal up to noise.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "slid/gmm.h"
#include "slid/ivector.h"

using namespace slid;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU seconds of the calling thread: the machine may be shared, and "x real time per thread" is about
// the work one thread does, not about how long it waited for a core.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // Linux: KiB
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::atoi(item.c_str()));
  return v;
}

DiagGmm MakeUbm(int k, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> uni(0.3f, 1.5f);
  Vector w = Vector::Constant(k, 1.0f / k);
  Matrix mu(k, d), var(k, d);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < d; ++j) {
      mu(i, j) = 0.5f * normal(rng);
      var(i, j) = uni(rng);
    }
  return DiagGmm(w, mu, var);
}

// Frames from the UBM: component uniformly at random, then Gaussian around its mean.
Matrix MakeUtterance(const DiagGmm& ubm, int frames, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> pick(0, ubm.NumGauss() - 1);
  Matrix x(frames, ubm.Dim());
  for (int n = 0; n < frames; ++n) {
    const int c = pick(rng);
    for (int j = 0; j < ubm.Dim(); ++j)
      x(n, j) = ubm.means()(c, j) + std::sqrt(ubm.variances()(c, j)) * normal(rng);
  }
  return x;
}

// Baseline statistics: per frame, every component's log-likelihood by a plain loop, softmax, the same
// top-C / min-posterior pruning, accumulation. Returns the same UtteranceStats as the library.
UtteranceStats NaiveStats(const DiagGmm& ubm, const Matrix& x, int top_c, float min_post) {
  const int k = ubm.NumGauss(), d = ubm.Dim();
  UtteranceStats st;
  st.num_frames = x.rows();
  st.zeroth = VectorD::Zero(k);
  st.first = MatrixD::Zero(k, d);
  std::vector<double> ll(k);
  std::vector<int> order(k);
  const Vector& w = ubm.weights();
  for (int n = 0; n < x.rows(); ++n) {
    for (int c = 0; c < k; ++c) {
      double s = std::log(w[c]) - 0.5 * d * std::log(2 * M_PI);
      for (int j = 0; j < d; ++j) {
        const double v = ubm.variances()(c, j), diff = x(n, j) - ubm.means()(c, j);
        s -= 0.5 * (std::log(v) + diff * diff / v);
      }
      ll[c] = s;
    }
    for (int c = 0; c < k; ++c) order[c] = c;
    std::partial_sort(order.begin(), order.begin() + top_c, order.end(), [&](int a, int b) { return ll[a] > ll[b]; });
    double z = 0;
    for (int c = 0; c < top_c; ++c) z += std::exp(ll[order[c]] - ll[order[0]]);
    double kept = 0;
    for (int c = 0; c < top_c; ++c) {
      const double g = std::exp(ll[order[c]] - ll[order[0]]) / z;
      if (g >= min_post || c == 0) kept += g;
    }
    for (int c = 0; c < top_c; ++c) {
      const double g = std::exp(ll[order[c]] - ll[order[0]]) / z;
      if (g < min_post && c != 0) continue;
      st.zeroth[order[c]] += g / kept;
      for (int j = 0; j < d; ++j) st.first(order[c], j) += g / kept * (x(n, j) - ubm.means()(order[c], j));
    }
  }
  return st;
}

}  // namespace

int main(int argc, char** argv) {
  int k = 512, dim = 56, r = 400, utts = 64, baseline_utts = 8, batch = 32;
  double mem_seconds = 2;
  std::vector<int> seconds = {3, 10, 30}, mem_utts = {100, 400};
  bool mem = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_ivector: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--gauss") k = std::atoi(next().c_str());
    else if (a == "--dim") dim = std::atoi(next().c_str());
    else if (a == "--ivector-dim") r = std::atoi(next().c_str());
    else if (a == "--seconds") seconds = ParseList(next());
    else if (a == "--utts") utts = std::atoi(next().c_str());
    else if (a == "--baseline-utts") baseline_utts = std::atoi(next().c_str());
    else if (a == "--batch") batch = std::atoi(next().c_str());
    else if (a == "--mem-utts") mem_utts = ParseList(next());
    else if (a == "--mem-seconds") mem_seconds = std::atof(next().c_str());
    else if (a == "--no-mem") mem = false;
    else {
      std::fprintf(stderr, "bench_ivector: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (k < 1 || dim < 1 || r < 1 || utts < 1 || baseline_utts < 1 || batch < 1) {
    std::fprintf(stderr, "bench_ivector: sizes must be >= 1\n");
    return 2;
  }

  const DiagGmm ubm = MakeUbm(k, dim, 1);
  // Memory first, while this process holds only the UBM (a forked child starts from the parent's RSS).
  if (mem) {
    std::printf("T training memory (1 EM iteration, utterances of %.1f s made on the fly, peak RSS of a child process):\n",
                mem_seconds);
    for (int n : mem_utts) {
      std::fflush(stdout);
      const pid_t pid = fork();
      if (pid == 0) {
        std::mt19937 rng(7);
        IvectorStatsOptions mso;
        mso.second_order = true;
        IvectorTrainOptions to;
        to.ivector_dim = r;
        to.num_iters = 1;
        const auto ts = Clock::now();
        TrainIvectorExtractor(ubm, [&](const std::function<void(const UtteranceStats&)>& visit) {
          UtteranceStatsComputer c(ubm, mso);
          for (int u = 0; u < n; ++u) visit(c.Compute(MakeUtterance(ubm, static_cast<int>(mem_seconds * 100), rng)));
        }, to);
        std::printf("  %6d utterances: peak RSS %8.1f MiB  (%.1f s)\n", n, PeakRssMiB(), Seconds(ts));
        std::fflush(stdout);
        _exit(0);
      }
      int status = 0;
      waitpid(pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "bench_ivector: training child failed\n");
        return 1;
      }
    }
  }
  const IvectorStatsOptions so;  // top-20, min-post 0.025 (the defaults)
  std::printf("i-vector extraction, 1 thread: UBM %d x %d dims, i-vector dim %d, top-%d / min-post %g, batch %d\n",
              k, dim, r, so.top_c, so.min_posterior, batch);
  auto t0 = Clock::now();
  const IvectorExtractor ext(ubm, r, 2);
  std::printf("  extractor set-up (random T, cached products): %.2f s\n", Seconds(t0));
  std::printf("  %-8s %12s %12s %12s %10s\n", "speech", "slid x RT", "stats share", "baseline xRT", "ratio");
  for (int sec : seconds) {
    std::mt19937 rng(100 + sec);
    const int frames = sec * 100;
    std::vector<Matrix> data;
    for (int u = 0; u < utts; ++u) data.push_back(MakeUtterance(ubm, frames, rng));
    // slid: computer with reused buffers, batched extraction.
    UtteranceStatsComputer comp(ubm, so);
    double stats_s = 0, total_s = 0, checksum = 0;
    double c0 = ThreadCpuSeconds();
    std::vector<UtteranceStats> buf;
    for (int u = 0; u < utts; ++u) {
      const double ts = ThreadCpuSeconds();
      buf.push_back(comp.Compute(data[u]));
      stats_s += ThreadCpuSeconds() - ts;
      if (static_cast<int>(buf.size()) == batch || u + 1 == utts) {
        for (const IvectorPosterior& p : ext.Extract(buf)) checksum += p.mean[0];
        buf.clear();
      }
    }
    total_s = ThreadCpuSeconds() - c0;
    // Baseline on fewer utterances (it is slow).
    const int nb = std::min(baseline_utts, utts);
    c0 = ThreadCpuSeconds();
    double checksum_b = 0;
    for (int u = 0; u < nb; ++u) checksum_b += ext.Extract(NaiveStats(ubm, data[u], so.top_c, so.min_posterior)).mean[0];
    const double base_s = ThreadCpuSeconds() - c0;
    const double xrt = utts * sec / total_s, xrt_b = nb * sec / base_s;
    std::printf("  %5d s  %12.0f %11.0f%% %12.0f %9.1fx\n", sec, xrt, 100.0 * stats_s / total_s, xrt_b, xrt / xrt_b);
    if (checksum == 12345.0 || checksum_b == 12345.0) std::printf(" ");  // keep results alive
  }

  return 0;
}
