#include "slid/em.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <random>
#include <string>

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

// One pass over the data: exact global moments (double, shifted by the first frame so that a constant
// dimension gives exactly zero variance), a finiteness check and optionally a reservoir subsample.
struct DataScan {
  int64_t frames = 0;
  VectorD mean, var;  // D
  Matrix sample;      // min(frames, sample_max) x D, in data order of arrival for the reservoir
};

DataScan ScanData(const FrameSource& data, int block_frames, int64_t sample_max, uint64_t seed) {
  const int d = data.Dim();
  DataScan s;
  VectorD shift, sum = VectorD::Zero(d), sum2 = VectorD::Zero(d);
  std::mt19937_64 rng(seed);
  if (sample_max > 0) s.sample.resize(std::min<int64_t>(sample_max, data.NumFrames()), d);
  int64_t seen = 0;
  data.ForEachBlock(block_frames, [&](const Matrix& block) {
    if (!block.allFinite()) {
      for (int64_t i = 0; i < block.rows(); ++i) {
        if (!block.row(i).allFinite()) throw Error("training data: frame " + std::to_string(seen + i) + " is not finite");
      }
    }
    if (seen == 0) shift = block.row(0).cast<double>().transpose();
    const MatrixD c = block.cast<double>().rowwise() - shift.transpose();
    sum += c.colwise().sum().transpose();
    sum2 += c.array().square().colwise().sum().matrix().transpose();
    if (sample_max > 0) {
      for (int64_t i = 0; i < block.rows(); ++i, ++seen) {
        if (seen < s.sample.rows()) {
          s.sample.row(seen) = block.row(i);
        } else {
          const int64_t j = UniformIndex(rng, seen + 1);  // Vitter's algorithm R
          if (j < s.sample.rows()) s.sample.row(j) = block.row(i);
        }
      }
    } else {
      seen += block.rows();
    }
  });
  s.frames = seen;
  if (seen == 0) throw Error("training data: 0 frames");
  const VectorD m = sum / static_cast<double>(seen);
  s.mean = m + shift;
  s.var = (sum2 / static_cast<double>(seen) - m.cwiseAbs2()).cwiseMax(0.0);
  if (s.sample.rows() > seen) s.sample.conservativeResize(seen, d);
  return s;
}

// Variance floor per dimension: var_floor_rel x global variance. A constant dimension (zero global
// variance) gets var_floor_rel x 1 and a warning, so that its variances stay positive.
Vector VarianceFloor(const DataScan& s, float var_floor_rel, std::vector<std::string>* warnings) {
  Vector floor(s.var.size());
  for (int j = 0; j < s.var.size(); ++j) {
    double g = s.var[j];
    if (!(g > 0)) {
      warnings->push_back("dimension " + std::to_string(j) + " is constant (value " + std::to_string(s.mean[j]) +
                          "); its variances are floored at " + std::to_string(var_floor_rel));
      g = 1.0;
    }
    floor[j] = static_cast<float>(std::max<double>(var_floor_rel * g, std::numeric_limits<float>::min()));
  }
  return floor;
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
DiagGmm KMeansPlusPlusInit(const Matrix& x, int k, const EmOptions& o, const DataScan& scan, const Vector& floor,
                           std::vector<std::string>* warnings) {
  const int64_t n = x.rows();
  const int d = static_cast<int>(x.cols());
  std::mt19937_64 rng(static_cast<uint64_t>(o.seed) * 0x9E3779B97F4A7C15ull + 1);
  std::vector<int64_t> chosen;
  chosen.push_back(UniformIndex(rng, n));
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
    for (int64_t b = 0; b < n; b += kGmmBlockFrames) {
      const int64_t m = std::min<int64_t>(kGmmBlockFrames, n - b);
      const Matrix dist = SquaredDistances(x.middleRows(b, m), centers);
      for (int64_t i = 0; i < m; ++i) dist.row(i).minCoeff(&assign[b + i]);
    }
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
      double v = scan.var[j];
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
    if (it > 1 && avg - prev < o.tol * std::max(std::abs(prev), 1e-30)) {
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
  // Every block is accumulated into zeroed statistics, which are added to the total in block order.
  // The arithmetic is therefore the same whatever the thread count: bit-identical models.
  std::vector<GmmStats> part(threads, GmmStats(k, d, min_posterior));
  std::vector<Matrix> batch(threads);
  int filled = 0;
  auto flush = [&]() {
    if (filled == 1) {
      part[0].SetZero();
      part[0].Accumulate(gmm, batch[0]);
    } else {
      std::exception_ptr error;
#pragma omp parallel for num_threads(filled) schedule(static, 1)
      for (int i = 0; i < filled; ++i) {
        try {
          part[i].SetZero();
          part[i].Accumulate(gmm, batch[i]);
        } catch (...) {
#pragma omp critical
          error = std::current_exception();
        }
      }
      if (error) std::rethrow_exception(error);
    }
    for (int i = 0; i < filled; ++i) total.Add(part[i]);
    filled = 0;
  };
  data.ForEachBlock(block_frames, [&](const Matrix& block) {
    if (threads == 1) {  // no copy needed
      part[0].SetZero();
      part[0].Accumulate(gmm, block);
      total.Add(part[0]);
      return;
    }
    batch[filled++] = block;
    if (filled == threads) flush();
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

EmResult TrainDiagGmmFrom(const FrameSource& data, const DiagGmm& init, const EmOptions& opts,
                          const std::function<void(const EmProgress&)>& on_progress) {
  ValidateOptions(opts);
  if (init.NumGauss() == 0) throw Error("TrainDiagGmmFrom: empty initial model");
  if (init.Dim() != data.Dim()) {
    throw Error("TrainDiagGmmFrom: data has " + std::to_string(data.Dim()) + " dims, the model " + std::to_string(init.Dim()));
  }
  EmResult r;
  const DataScan scan = ScanData(data, opts.block_frames, 0, 0);
  const Vector floor = VarianceFloor(scan, opts.var_floor_rel, &r.warnings);
  r.gmm = init;
  RunEm(data, floor, opts, opts.max_iters, true, on_progress, &r);
  return r;
}

EmResult TrainDiagGmm(const FrameSource& data, const EmOptions& opts,
                      const std::function<void(const EmProgress&)>& on_progress) {
  ValidateOptions(opts);
  if (data.Dim() < 1) throw Error("TrainDiagGmm: data has no dimensions");
  EmResult r;
  const bool kmeans = opts.init == GmmInit::kKMeansPlusPlus;
  // The subsample holds at least num_gauss frames, so that k-means++ can seed every component.
  const int64_t sample = std::max(opts.init_max_frames, opts.num_gauss);
  const DataScan scan = ScanData(data, opts.block_frames, kmeans ? sample : 0, static_cast<uint64_t>(opts.seed));
  const Vector floor = VarianceFloor(scan, opts.var_floor_rel, &r.warnings);
  int k = opts.num_gauss;
  if (scan.frames < k) {
    r.warnings.push_back("only " + std::to_string(scan.frames) + " frames for " + std::to_string(k) +
                         " components: num_gauss reduced to " + std::to_string(scan.frames));
    k = static_cast<int>(scan.frames);
  }
  if (kmeans) {
    r.gmm = KMeansPlusPlusInit(scan.sample, k, opts, scan, floor, &r.warnings);
  } else {
    Matrix var = scan.var.cast<float>().transpose();
    for (int j = 0; j < var.cols(); ++j) var(0, j) = std::max(var(0, j), floor[j]);
    r.gmm = DiagGmm(Vector::Ones(1), scan.mean.cast<float>().transpose(), var);
    while (r.gmm.NumGauss() < k) {
      r.gmm = SplitGmm(r.gmm, k);
      RunEm(data, floor, opts, opts.split_em_iters, false, {}, &r);
    }
  }
  RunEm(data, floor, opts, opts.max_iters, true, on_progress, &r);
  return r;
}

}  // namespace slid
