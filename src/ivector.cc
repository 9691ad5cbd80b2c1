#include "slid/ivector.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include <Eigen/Cholesky>

#include "slid/error.h"
#include "util.h"

namespace slid {

namespace {

using ColMatrixD = Eigen::MatrixXd;

int PackedSize(int r) { return r * (r + 1) / 2; }

// Lower triangle of the symmetric r x r matrix m, column by column (j = 0..r-1, i = j..r-1).
template <typename Out, typename In>
void PackLower(const In& m, int r, Out* out) {
  int idx = 0;
  for (int j = 0; j < r; ++j)
    for (int i = j; i < r; ++i) out[idx++] = static_cast<Out>(m(i, j));
}

// Adds the packed lower triangle `p` into both triangles of the r x r matrix *m.
template <typename In>
void AddUnpacked(const In* p, int r, ColMatrixD* m) {
  int idx = 0;
  for (int j = 0; j < r; ++j) {
    (*m)(j, j) += p[idx++];
    for (int i = j + 1; i < r; ++i) {
      const double v = p[idx++];
      (*m)(i, j) += v;
      (*m)(j, i) += v;
    }
  }
}

std::string Shape(int64_t r, int64_t c) { return std::to_string(r) + " x " + std::to_string(c); }

}  // namespace

// ---------------------------------------------------------------- utterance statistics

UtteranceStatsComputer::UtteranceStatsComputer(const DiagGmm& ubm, const IvectorStatsOptions& opts)
    : ubm_(&ubm), opts_(opts) {
  if (ubm.NumGauss() == 0) throw Error("i-vector statistics: empty UBM");
  if (opts.top_c < 0) throw Error("i-vector statistics: top_c must be >= 0, got " + std::to_string(opts.top_c));
  if (!(opts.min_posterior >= 0.0f && opts.min_posterior < 1.0f)) {
    throw Error("i-vector statistics: min_posterior must be in [0, 1), got " + std::to_string(opts.min_posterior));
  }
}

UtteranceStats UtteranceStatsComputer::Compute(const Matrix& frames) {
  const DiagGmm& ubm = *ubm_;
  const int k = ubm.NumGauss(), d = ubm.Dim();
  if (frames.cols() != d) {
    throw Error("i-vector statistics: frames have " + std::to_string(frames.cols()) + " dims, the UBM " +
                std::to_string(d));
  }
  UtteranceStats st;
  st.num_frames = static_cast<double>(frames.rows());
  st.zeroth = VectorD::Zero(k);
  MatrixD first_raw = MatrixD::Zero(k, d);  // sum gamma x; centred at the end
  MatrixD second_raw;                       // sum gamma x^2
  if (opts_.second_order) second_raw = MatrixD::Zero(k, d);
  last_loglik_ = 0;
  const int top_c = (opts_.top_c == 0 || opts_.top_c > k) ? k : opts_.top_c;
  const bool pruned = top_c < k || opts_.min_posterior > 0.0f;
  const int block_frames = GmmBlockFrames(k);
  if (static_cast<int>(order_.size()) != k) order_.resize(k);

  for (int64_t b = 0; b < frames.rows(); b += block_frames) {
    const int n = static_cast<int>(std::min<int64_t>(block_frames, frames.rows() - b));
    ubm.BlockLogLikelihoods(frames, b, n, &xx_, &loglik_);
    if (!pruned) {
      // Dense: posteriors in place, then one GEMM posteriors' x [x, x^2] (K x 2D) for the block.
      post_sums_ = Vector::Zero(k);
      LogSumExpRowsToPosteriors(n, &loglik_, &frame_loglik_, &post_sums_);
      st.zeroth += post_sums_.cast<double>();
      const int cols = opts_.second_order ? 2 * d : d;
      block_first_.noalias() = loglik_.topRows(n).transpose() * xx_.topLeftCorner(n, cols);
      first_raw += block_first_.leftCols(d).cast<double>();
      if (opts_.second_order) second_raw += block_first_.rightCols(d).cast<double>();
      for (int i = 0; i < n; ++i) last_loglik_ += frame_loglik_[i];
      continue;
    }
    // Pruned (Kaldi gmm-gselect --n=C then --min-post): per frame, the C most likely components,
    // posteriors renormalised over them, those below min_posterior dropped (never the best one) and
    // the rest renormalised. Full posteriors first (vectorised, and the unpruned log p(x) for the
    // likelihood); renormalising a subset of them equals a softmax over that subset.
    LogSumExpRowsToPosteriors(n, &loglik_, &frame_loglik_, nullptr);
    for (int i = 0; i < n; ++i) {
      last_loglik_ += frame_loglik_[i];
      const float* row = loglik_.data() + static_cast<int64_t>(i) * k;
      int num = 0;
      if (top_c < k) {
        // Candidates: components that can be in the top C. Posteriors are peaked, so first keep those
        // above a small fraction of the best and fall back to all K when fewer than C pass.
        float best_p = 0;
        for (int c = 0; c < k; ++c) best_p = std::max(best_p, row[c]);
        const float cut = best_p * 1e-7f;
        for (int c = 0; c < k; ++c)
          if (row[c] >= cut) order_[num++] = c;
        if (num < top_c) {
          num = k;
          for (int c = 0; c < k; ++c) order_[c] = c;
        }
        if (num > top_c) {
          std::nth_element(order_.begin(), order_.begin() + (top_c - 1), order_.begin() + num,
                           [row](int a, int bb) { return row[a] > row[bb] || (row[a] == row[bb] && a < bb); });
          num = top_c;
        }
      } else {
        num = k;
        for (int c = 0; c < k; ++c) order_[c] = c;
      }
      int best = order_[0];
      double s_top = 0;
      for (int c = 0; c < num; ++c) {
        s_top += row[order_[c]];
        if (row[order_[c]] > row[best] || (row[order_[c]] == row[best] && order_[c] < best)) best = order_[c];
      }
      double kept = 0;
      for (int c = 0; c < num; ++c) {
        const double g = row[order_[c]] / s_top;
        if (g >= opts_.min_posterior || order_[c] == best) kept += g;
      }
      const float* x = xx_.data() + static_cast<int64_t>(i) * xx_.cols();
      for (int c = 0; c < num; ++c) {
        const int comp = order_[c];
        double g = row[comp] / s_top;
        if (g < opts_.min_posterior && comp != best) continue;
        g /= kept;
        st.zeroth[comp] += g;
        for (int j = 0; j < d; ++j) first_raw(comp, j) += g * x[j];
        if (opts_.second_order)
          for (int j = 0; j < d; ++j) second_raw(comp, j) += g * x[d + j];
      }
    }
  }
  // Centre on the UBM means: F = sum g x - N mu, S = sum g x^2 - 2 mu sum g x + N mu^2.
  const MatrixD mu = ubm.means().cast<double>();
  if (opts_.second_order) {
    st.second = second_raw - 2.0 * (mu.array() * first_raw.array()).matrix() +
                (mu.array().square().colwise() * st.zeroth.array()).matrix();
    st.second = st.second.cwiseMax(0.0);  // rounding can leave tiny negatives
  }
  st.first = first_raw - (mu.array().colwise() * st.zeroth.array()).matrix();
  return st;
}

UtteranceStats ComputeUtteranceStats(const DiagGmm& ubm, const Matrix& frames, const IvectorStatsOptions& opts) {
  UtteranceStatsComputer c(ubm, opts);
  return c.Compute(frames);
}

// ---------------------------------------------------------------- extractor

IvectorExtractor::IvectorExtractor(const DiagGmm& ubm, int ivector_dim, uint64_t seed) {
  if (ubm.NumGauss() == 0) throw Error("IvectorExtractor: empty UBM");
  if (ivector_dim < 1) throw Error("IvectorExtractor: ivector_dim must be >= 1, got " + std::to_string(ivector_dim));
  const int k = ubm.NumGauss(), d = ubm.Dim(), r = ivector_dim;
  variances_ = ubm.variances().cast<double>();
  mean_offsets_ = MatrixD::Zero(k, d);
  projection_.resize(static_cast<int64_t>(k) * d, r);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  const double scale = 1.0 / std::sqrt(static_cast<double>(r));
  for (int c = 0; c < k; ++c)
    for (int j = 0; j < d; ++j) {
      const double sd = std::sqrt(variances_(c, j)) * scale;
      for (int q = 0; q < r; ++q) projection_(static_cast<int64_t>(c) * d + j, q) = sd * normal(rng);
    }
  Precompute();
}

IvectorExtractor::IvectorExtractor(MatrixD projection, MatrixD variances, MatrixD mean_offsets)
    : projection_(std::move(projection)), variances_(std::move(variances)), mean_offsets_(std::move(mean_offsets)) {
  const int64_t k = variances_.rows(), d = variances_.cols();
  if (k < 1 || d < 1) throw Error("IvectorExtractor: variances are " + Shape(k, d));
  if (projection_.rows() != k * d || projection_.cols() < 1) {
    throw Error("IvectorExtractor: projection is " + Shape(projection_.rows(), projection_.cols()) + ", expected " +
                std::to_string(k * d) + " x R (R >= 1)");
  }
  if (mean_offsets_.rows() != k || mean_offsets_.cols() != d) {
    throw Error("IvectorExtractor: mean offsets are " + Shape(mean_offsets_.rows(), mean_offsets_.cols()) +
                ", expected " + Shape(k, d));
  }
  if (!projection_.allFinite() || !mean_offsets_.allFinite()) throw Error("IvectorExtractor: non-finite parameters");
  for (int64_t c = 0; c < k; ++c)
    for (int64_t j = 0; j < d; ++j)
      if (!(variances_(c, j) > 0.0) || !std::isfinite(1.0 / variances_(c, j))) {
        throw Error("IvectorExtractor: variance of component " + std::to_string(c) + " dim " + std::to_string(j) +
                    " is not positive and finite");
      }
  Precompute();
}

void IvectorExtractor::Precompute() {
  const int k = NumGauss(), d = FeatDim(), r = IvectorDim();
  prec_projection_.resize(static_cast<int64_t>(k) * d, r);
  quad_packed_.resize(k, PackedSize(r));
  gconst_.resize(k);
  MatrixD pt(d, r);
  ColMatrixD scaled_t(r, d), quad(r, r);
  for (int c = 0; c < k; ++c) {
    auto tk = projection_.middleRows(static_cast<int64_t>(c) * d, d);
    const VectorD inv = variances_.row(c).transpose().cwiseInverse();
    pt = inv.asDiagonal() * tk;
    prec_projection_.middleRows(static_cast<int64_t>(c) * d, d) = pt.cast<float>();
    // T_k' Sigma_k^-1 T_k as a symmetric rank-D update (lower triangle only: half the work of a GEMM).
    scaled_t = (inv.cwiseSqrt().asDiagonal() * tk).transpose();
    quad.setZero();
    quad.selfadjointView<Eigen::Lower>().rankUpdate(scaled_t);
    PackLower(quad, r, quad_packed_.row(c).data());
    gconst_[c] = -0.5 * (d * kLog2Pi + variances_.row(c).array().log().sum());
  }
}

std::vector<IvectorPosterior> IvectorExtractor::Extract(const std::vector<UtteranceStats>& batch,
                                                        bool want_covariance) const {
  return ExtractBatch(batch, want_covariance, nullptr);
}

IvectorPosterior IvectorExtractor::Extract(const UtteranceStats& stats, bool want_covariance) const {
  return ExtractBatch({stats}, want_covariance, nullptr).front();
}

std::vector<IvectorPosterior> IvectorExtractor::ExtractBatch(const std::vector<UtteranceStats>& batch,
                                                             bool want_covariance, MatrixD* centred_first) const {
  if (variances_.size() == 0) throw Error("IvectorExtractor: empty extractor");
  const int k = NumGauss(), d = FeatDim(), r = IvectorDim();
  const int64_t kd = static_cast<int64_t>(k) * d;
  const int nb = static_cast<int>(batch.size());
  Matrix zeroth(nb, k), first(nb, kd);
  if (centred_first) centred_first->resize(nb, kd);
  for (int u = 0; u < nb; ++u) {
    const UtteranceStats& s = batch[u];
    if (s.zeroth.size() != k || s.first.rows() != k || s.first.cols() != d) {
      throw Error("IvectorExtractor: utterance statistics are " + std::to_string(s.zeroth.size()) + " / " +
                  Shape(s.first.rows(), s.first.cols()) + ", the extractor has " + Shape(k, d));
    }
    if (s.second.size() != 0 && (s.second.rows() != k || s.second.cols() != d)) {
      throw Error("IvectorExtractor: second-order statistics are " + Shape(s.second.rows(), s.second.cols()));
    }
    // F~ = F - N offset (the stats are centred on the UBM means, the model's means are UBM + offset).
    MatrixD fc = s.first - (mean_offsets_.array().colwise() * s.zeroth.array()).matrix();
    Eigen::Map<const Eigen::Matrix<double, 1, Eigen::Dynamic>> flat(fc.data(), kd);
    first.row(u) = flat.cast<float>();
    if (centred_first) centred_first->row(u) = flat;
    zeroth.row(u) = s.zeroth.transpose().cast<float>();
  }
  // The two products that read the big parameter matrices, once for the whole batch.
  const Matrix quad = zeroth * quad_packed_;        // nb x R(R+1)/2
  const Matrix linear = first * prec_projection_;   // nb x R

  std::vector<IvectorPosterior> out(nb);
  ColMatrixD precision(r, r);
  for (int u = 0; u < nb; ++u) {
    const UtteranceStats& s = batch[u];
    precision.setIdentity();
    AddUnpacked(quad.row(u).data(), r, &precision);
    Eigen::LLT<ColMatrixD> llt(precision);
    if (llt.info() != Eigen::Success) throw Error("IvectorExtractor: posterior precision is not positive definite");
    const VectorD b = linear.row(u).transpose().cast<double>();
    IvectorPosterior& p = out[u];
    p.mean = llt.solve(b);
    if (want_covariance) p.covariance = llt.solve(ColMatrixD::Identity(r, r));
    const double logdet = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
    double ll = 0.5 * b.dot(p.mean) - 0.5 * logdet + s.zeroth.dot(gconst_);
    if (s.second.size() != 0) {
      // tr(Sigma^-1 S~) with S~ = S - 2 offset F + N offset^2 (S, F centred on the UBM means).
      const auto& o = mean_offsets_.array();
      const Eigen::ArrayXXd st = s.second.array() - 2.0 * o * s.first.array() + o.square().colwise() * s.zeroth.array();
      ll -= 0.5 * (st / variances_.array()).sum();
    }
    p.log_likelihood = ll;
  }
  return out;
}

// ---------------------------------------------------------------- training statistics

IvectorExtractorStats::IvectorExtractorStats(const IvectorExtractor& e) {
  const int k = e.NumGauss(), d = e.FeatDim(), r = e.IvectorDim();
  if (k == 0) throw Error("IvectorExtractorStats: empty extractor");
  c_ = MatrixD::Zero(static_cast<int64_t>(k) * d, r);
  a_ = MatrixD::Zero(k, PackedSize(r));
  n_ = VectorD::Zero(k);
  s_ = MatrixD::Zero(k, d);
  w_sum_ = VectorD::Zero(r);
  ww_sum_ = MatrixD::Zero(r, r);
}

double IvectorExtractorStats::Accumulate(const IvectorExtractor& e, const std::vector<UtteranceStats>& batch) {
  if (c_.rows() != static_cast<int64_t>(e.NumGauss()) * e.FeatDim() || c_.cols() != e.IvectorDim()) {
    throw Error("IvectorExtractorStats: statistics and extractor shapes differ");
  }
  if (batch.empty()) return 0;
  const int k = e.NumGauss(), d = e.FeatDim(), r = e.IvectorDim();
  const int nb = static_cast<int>(batch.size());
  MatrixD centred;
  const std::vector<IvectorPosterior> post = e.ExtractBatch(batch, true, &centred);
  MatrixD means(nb, r), second_moments(nb, PackedSize(r)), zeroth(nb, k);
  double ll = 0;
  for (int u = 0; u < nb; ++u) {
    const IvectorPosterior& p = post[u];
    const UtteranceStats& s = batch[u];
    means.row(u) = p.mean.transpose();
    const MatrixD ww = p.covariance + p.mean * p.mean.transpose();
    PackLower(ww, r, second_moments.row(u).data());
    zeroth.row(u) = s.zeroth.transpose();
    w_sum_ += p.mean;
    ww_sum_ += ww;
    n_ += s.zeroth;
    if (s.second.size() != 0) {
      const auto& o = e.mean_offsets_.array();
      s_.array() += s.second.array() - 2.0 * o * s.first.array() + o.square().colwise() * s.zeroth.array();
      ++second_order_utts_;
    }
    ll += p.log_likelihood;
    num_frames_ += s.num_frames;
  }
  c_.noalias() += centred.transpose() * means;        // KD x R
  a_.noalias() += zeroth.transpose() * second_moments;  // K x R(R+1)/2
  num_utts_ += nb;
  loglik_ += ll;
  (void)d;
  return ll;
}

void IvectorExtractorStats::Add(const IvectorExtractorStats& o) {
  if (c_.rows() != o.c_.rows() || c_.cols() != o.c_.cols() || s_.cols() != o.s_.cols()) {
    throw Error("IvectorExtractorStats::Add: shapes differ");
  }
  num_utts_ += o.num_utts_;
  num_frames_ += o.num_frames_;
  loglik_ += o.loglik_;
  second_order_utts_ += o.second_order_utts_;
  c_ += o.c_;
  a_ += o.a_;
  n_ += o.n_;
  s_ += o.s_;
  w_sum_ += o.w_sum_;
  ww_sum_ += o.ww_sum_;
}

void IvectorExtractorStats::Update(const UpdateOptions& opts, IvectorExtractor* e) const {
  const int k = e->NumGauss(), d = e->FeatDim(), r = e->IvectorDim();
  if (c_.rows() != static_cast<int64_t>(k) * d || c_.cols() != r) {
    throw Error("IvectorExtractorStats::Update: statistics and extractor shapes differ");
  }
  if (num_utts_ <= 0) throw Error("IvectorExtractorStats::Update: no utterances accumulated");
  if (opts.update_variances && second_order_utts_ != static_cast<int64_t>(num_utts_)) {
    throw Error("IvectorExtractorStats::Update: update_variances needs second-order statistics from every "
                "utterance (IvectorStatsOptions::second_order)");
  }
  MatrixD t_new = e->projection_;
  MatrixD var_new = e->variances_;
  ColMatrixD a(r, r);
  // New T first (it does not depend on Sigma), then Sigma given the new T.
  MatrixD resid = MatrixD::Zero(k, d);  // S~_k - diag(T_k C_k')
  for (int c = 0; c < k; ++c) {
    if (n_[c] < opts.min_count) continue;
    a.setZero();
    AddUnpacked(a_.row(c).data(), r, &a);
    Eigen::LDLT<ColMatrixD> ldlt(a);
    if (ldlt.info() != Eigen::Success) continue;
    const auto ck = c_.middleRows(static_cast<int64_t>(c) * d, d);  // D x R
    const ColMatrixD tk_t = ldlt.solve(ColMatrixD(ck.transpose()));  // R x D
    if (!tk_t.allFinite()) continue;
    t_new.middleRows(static_cast<int64_t>(c) * d, d) = tk_t.transpose();
    if (opts.update_variances)
      for (int j = 0; j < d; ++j) resid(c, j) = s_(c, j) - tk_t.col(j).dot(ck.row(j).transpose());
  }
  if (opts.update_variances) {
    // Floor: variance_floor_factor x the occupancy-weighted average within-component variance.
    const double total = n_.sum();
    const VectorD floor = opts.variance_floor_factor * resid.colwise().sum().transpose() / std::max(total, 1e-300);
    for (int c = 0; c < k; ++c) {
      if (n_[c] < opts.min_count) continue;
      for (int j = 0; j < d; ++j) var_new(c, j) = std::max(resid(c, j) / n_[c], std::max(floor[j], 1e-10));
    }
  }
  if (opts.min_divergence) {
    // w ~ N(m, C) in the current model is the same model as w' ~ N(0, I) with means + T m and T chol(C)
    // (Kaldi IvectorExtractorStats minimum-divergence update).
    const VectorD m = w_sum_ / num_utts_;
    const MatrixD cov = ww_sum_ / num_utts_ - m * m.transpose();
    Eigen::LLT<ColMatrixD> llt{ColMatrixD(cov)};
    if (llt.info() == Eigen::Success) {
      const ColMatrixD l = llt.matrixL();
      for (int c = 0; c < k; ++c) {
        auto tk = t_new.middleRows(static_cast<int64_t>(c) * d, d);
        e->mean_offsets_.row(c) += (tk * m).transpose();
        tk = MatrixD(tk * l);
      }
    }
  }
  e->projection_ = std::move(t_new);
  e->variances_ = std::move(var_new);
  e->Precompute();
}

// ---------------------------------------------------------------- driver

IvectorExtractor TrainIvectorExtractor(const DiagGmm& ubm, const UtteranceStatsSource& source,
                                       const IvectorTrainOptions& opts,
                                       const std::function<void(const IvectorTrainProgress&)>& progress) {
  if (opts.num_iters < 0) throw Error("TrainIvectorExtractor: num_iters must be >= 0");
  if (opts.batch_utterances < 1) throw Error("TrainIvectorExtractor: batch_utterances must be >= 1");
  IvectorExtractor e(ubm, opts.ivector_dim, opts.seed);
  for (int it = 1; it <= opts.num_iters; ++it) {
    IvectorExtractorStats stats(e);
    std::vector<UtteranceStats> buf;
    buf.reserve(opts.batch_utterances);
    source([&](const UtteranceStats& s) {
      buf.push_back(s);
      if (static_cast<int>(buf.size()) == opts.batch_utterances) {
        stats.Accumulate(e, buf);
        buf.clear();
      }
    });
    if (!buf.empty()) stats.Accumulate(e, buf);
    if (stats.NumUtterances() == 0) throw Error("TrainIvectorExtractor: no training utterances");
    stats.Update(opts.update, &e);
    if (progress) {
      IvectorTrainProgress p;
      p.iteration = it;
      p.num_iters = opts.num_iters;
      p.num_utterances = stats.NumUtterances();
      p.log_likelihood_per_frame = stats.LogLikelihood() / std::max(stats.NumFrames(), 1.0);
      progress(p);
    }
  }
  return e;
}

}  // namespace slid
