#include "slid/ivector.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include <Eigen/Cholesky>

#include "binary_format.h"
#include "slid/error.h"
#include "slid/io.h"
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

using internal::Get;
using internal::GetDoubles;
using internal::Put;
using internal::PutDoubles;

constexpr char kUttMagic[8] = {'S', 'L', 'I', 'D', 'U', 'S', 'T', '\0'};
constexpr size_t kUttHeaderBytes = 8 + 4 + 4 + 4 + 4 + 8 + 8;  // magic .. num_frames
constexpr char kIvsMagic[8] = {'S', 'L', 'I', 'D', 'I', 'V', 'S', '\0'};
constexpr size_t kIvsHeaderBytes = 8 + 4 + 4 + 4 + 4 + 8 + 8 + 8 + 8 + 8;  // magic .. second-order count

void WriteBytes(const std::string& path, const std::string& bytes) {
  WriteFileAtomically(path, [&](std::ostream& o) { o.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace

// ---------------------------------------------------------------- utterance statistics

uint64_t UbmChecksum(const DiagGmm& ubm) {
  std::string bytes;
  Put<uint32_t>(&bytes, static_cast<uint32_t>(ubm.NumGauss()));
  Put<uint32_t>(&bytes, static_cast<uint32_t>(ubm.Dim()));
  const uint64_t h = Fnv1a64(bytes.data(), bytes.size());
  const uint64_t hw = Fnv1a64(ubm.weights().data(), sizeof(float) * ubm.weights().size(), h);
  const uint64_t hm = Fnv1a64(ubm.means().data(), sizeof(float) * ubm.means().size(), hw);
  const uint64_t hv = Fnv1a64(ubm.variances().data(), sizeof(float) * ubm.variances().size(), hm);
  return hv == 0 ? 1 : hv;  // 0 means "not known"
}

void UtteranceStats::Add(const UtteranceStats& b) {
  if (zeroth.size() == 0) {
    *this = b;
    return;
  }
  if (zeroth.size() != b.zeroth.size() || first.rows() != b.first.rows() || first.cols() != b.first.cols() ||
      second.size() != b.second.size()) {
    throw Error("utterance statistics: cannot add " + Shape(b.first.rows(), b.first.cols()) +
                (b.second.size() ? " (with" : " (without") + " second order) to " + Shape(first.rows(), first.cols()) +
                (second.size() ? " (with" : " (without") + " second order)");
  }
  if (ubm_checksum != 0 && b.ubm_checksum != 0 && ubm_checksum != b.ubm_checksum)
    throw Error("utterance statistics: cannot add statistics computed against another UBM");
  num_frames += b.num_frames;
  zeroth += b.zeroth;
  first += b.first;
  if (second.size()) second += b.second;
  if (ubm_checksum == 0) ubm_checksum = b.ubm_checksum;
}

std::string UtteranceStats::ToBytes() const {
  const int64_t k = zeroth.size(), d = first.cols();
  if (k == 0 || first.rows() != k || d == 0 || (second.size() != 0 && (second.rows() != k || second.cols() != d)))
    throw Error("utterance statistics: nothing to write or inconsistent shapes (" + std::to_string(k) + " / " +
                Shape(first.rows(), first.cols()) + " / " + Shape(second.rows(), second.cols()) + ")");
  std::string out(kUttMagic, sizeof(kUttMagic));
  Put<uint32_t>(&out, kUtteranceStatsFormatVersion);
  Put<uint32_t>(&out, static_cast<uint32_t>(k));
  Put<uint32_t>(&out, static_cast<uint32_t>(d));
  Put<uint32_t>(&out, second.size() != 0 ? 1 : 0);
  Put<uint64_t>(&out, ubm_checksum);
  Put<double>(&out, num_frames);
  PutDoubles(&out, zeroth);
  PutDoubles(&out, first);
  if (second.size() != 0) PutDoubles(&out, second);
  internal::PutChecksum(&out);
  return out;
}

void UtteranceStats::FromBytes(const std::string& bytes, const std::string& name, bool add) {
  size_t pos = internal::ReadFormatHeader(bytes, name, kUttMagic, kUttHeaderBytes, kUtteranceStatsFormatVersion,
                                         "utterance statistics");
  const uint32_t k = Get<uint32_t>(bytes, &pos), d = Get<uint32_t>(bytes, &pos), has_second = Get<uint32_t>(bytes, &pos);
  if (k < 1 || d < 1 || k > (1u << 20) || d > (1u << 16) || has_second > 1)
    throw Error(name + ": bad utterance statistics shape " + Shape(k, d));
  const uint64_t expect = kUttHeaderBytes + 8ull * (k + (1ull + has_second) * k * d) + 8;
  internal::CheckFormatBody(bytes, name, expect, "utterance statistics");
  UtteranceStats r;
  r.ubm_checksum = Get<uint64_t>(bytes, &pos);
  r.num_frames = Get<double>(bytes, &pos);
  r.zeroth.resize(k);
  r.first.resize(k, d);
  GetDoubles(bytes, &pos, &r.zeroth);
  GetDoubles(bytes, &pos, &r.first);
  if (has_second) {
    r.second.resize(k, d);
    GetDoubles(bytes, &pos, &r.second);
  }
  if (!add) {
    *this = std::move(r);
    return;
  }
  try {
    Add(r);
  } catch (const Error& e) {
    throw Error(name + ": " + e.what());
  }
}

void UtteranceStats::Write(const std::string& path) const { WriteBytes(path, ToBytes()); }
void UtteranceStats::Read(const std::string& path, bool add) { FromBytes(ReadFileToString(path), path, add); }

UtteranceStatsComputer::UtteranceStatsComputer(const DiagGmm& ubm, const IvectorStatsOptions& opts)
    : ubm_(&ubm), ubm_checksum_(ubm.NumGauss() > 0 ? UbmChecksum(ubm) : 0), opts_(opts) {
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
  st.ubm_checksum = ubm_checksum_;
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
  std::string shape;
  for (int v : {k, d, r}) Put<uint32_t>(&shape, static_cast<uint32_t>(v));
  uint64_t h = Fnv1a64(shape.data(), shape.size());
  for (const MatrixD* m : {&projection_, &variances_, &mean_offsets_})
    h = Fnv1a64(m->data(), sizeof(double) * static_cast<size_t>(m->size()), h);
  checksum_ = h == 0 ? 1 : h;
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
  extractor_checksum_ = e.Checksum();
}

double IvectorExtractorStats::Accumulate(const IvectorExtractor& e, const std::vector<UtteranceStats>& batch) {
  if (c_.rows() != static_cast<int64_t>(e.NumGauss()) * e.FeatDim() || c_.cols() != e.IvectorDim()) {
    throw Error("IvectorExtractorStats: statistics and extractor shapes differ");
  }
  if (e.Checksum() != extractor_checksum_)
    throw Error("IvectorExtractorStats: these statistics serve another extractor (another iteration or model)");
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
  if (c_.size() == 0) {
    *this = o;
    return;
  }
  if (c_.rows() != o.c_.rows() || c_.cols() != o.c_.cols() || s_.cols() != o.s_.cols()) {
    throw Error("IvectorExtractorStats::Add: shapes differ");
  }
  if (o.extractor_checksum_ != extractor_checksum_)
    throw Error("IvectorExtractorStats::Add: the statistics were accumulated against different extractors");
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
  if (e->Checksum() != extractor_checksum_)
    throw Error("IvectorExtractorStats::Update: the statistics were accumulated against another extractor");
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

std::string IvectorExtractorStats::ToBytes() const {
  if (c_.size() == 0) throw Error("IvectorExtractorStats: nothing to write (no shape)");
  const int64_t k = n_.size(), d = s_.cols(), r = c_.cols();
  std::string out(kIvsMagic, sizeof(kIvsMagic));
  out.reserve(kIvsHeaderBytes + 8 * static_cast<size_t>(c_.size() + a_.size() + k + s_.size() + r + r * r) + 8);
  Put<uint32_t>(&out, kIvectorStatsFormatVersion);
  for (int64_t v : {k, d, r}) Put<uint32_t>(&out, static_cast<uint32_t>(v));
  Put<uint64_t>(&out, extractor_checksum_);
  std::vector<double> flat;
  AppendFlat(&flat);
  Put<double>(&out, flat[0]);
  Put<double>(&out, flat[1]);
  Put<double>(&out, flat[2]);
  Put<int64_t>(&out, second_order_utts_);
  out.append(reinterpret_cast<const char*>(flat.data() + 4), 8 * (flat.size() - 4));
  internal::PutChecksum(&out);
  return out;
}

void IvectorExtractorStats::FromBytes(const std::string& bytes, const std::string& name, bool add) {
  size_t pos = internal::ReadFormatHeader(bytes, name, kIvsMagic, kIvsHeaderBytes, kIvectorStatsFormatVersion,
                                         "i-vector extractor statistics");
  const uint64_t k = Get<uint32_t>(bytes, &pos), d = Get<uint32_t>(bytes, &pos), r = Get<uint32_t>(bytes, &pos);
  if (k < 1 || d < 1 || r < 1 || k > (1u << 20) || d > (1u << 16) || r > (1u << 12))
    throw Error(name + ": bad i-vector extractor statistics shape K " + std::to_string(k) + ", D " + std::to_string(d) +
                ", R " + std::to_string(r));
  const uint64_t doubles = k * d * r + k * static_cast<uint64_t>(PackedSize(static_cast<int>(r))) + k + k * d + r + r * r;
  const uint64_t expect = kIvsHeaderBytes + 8 * doubles + 8;
  internal::CheckFormatBody(bytes, name, expect, "i-vector extractor statistics");
  IvectorExtractorStats st;
  st.extractor_checksum_ = Get<uint64_t>(bytes, &pos);
  st.c_.resize(static_cast<int64_t>(k * d), static_cast<int64_t>(r));
  st.a_.resize(static_cast<int64_t>(k), PackedSize(static_cast<int>(r)));
  st.n_.resize(static_cast<int64_t>(k));
  st.s_.resize(static_cast<int64_t>(k), static_cast<int64_t>(d));
  st.w_sum_.resize(static_cast<int64_t>(r));
  st.ww_sum_.resize(static_cast<int64_t>(r), static_cast<int64_t>(r));
  std::vector<double> flat(4 + doubles);
  flat[0] = Get<double>(bytes, &pos);
  flat[1] = Get<double>(bytes, &pos);
  flat[2] = Get<double>(bytes, &pos);
  const int64_t second = Get<int64_t>(bytes, &pos);
  flat[3] = static_cast<double>(second);
  std::memcpy(flat.data() + 4, bytes.data() + pos, 8 * doubles);
  st.SetFlat(flat.data());
  st.second_order_utts_ = second;
  if (!(st.num_utts_ >= 0) || !(st.num_frames_ >= 0) || second < 0 || !st.c_.allFinite() || !st.a_.allFinite() ||
      !st.n_.allFinite() || !st.s_.allFinite())
    throw Error(name + ": i-vector extractor statistics hold invalid values");
  if (!add) {
    *this = std::move(st);
    return;
  }
  try {
    Add(st);
  } catch (const Error& e) {
    throw Error(name + ": " + e.what());
  }
}

void IvectorExtractorStats::Write(const std::string& path) const { WriteBytes(path, ToBytes()); }
void IvectorExtractorStats::Read(const std::string& path, bool add) { FromBytes(ReadFileToString(path), path, add); }

void IvectorExtractorStats::AppendFlat(std::vector<double>* out) const {
  for (double v : {num_utts_, num_frames_, loglik_, static_cast<double>(second_order_utts_)}) out->push_back(v);
  // Row-major (MatrixD), as the file format.
  for (const MatrixD* m : {&c_, &a_}) out->insert(out->end(), m->data(), m->data() + m->size());
  out->insert(out->end(), n_.data(), n_.data() + n_.size());
  out->insert(out->end(), s_.data(), s_.data() + s_.size());
  out->insert(out->end(), w_sum_.data(), w_sum_.data() + w_sum_.size());
  out->insert(out->end(), ww_sum_.data(), ww_sum_.data() + ww_sum_.size());
}

const double* IvectorExtractorStats::SetFlat(const double* in) {
  num_utts_ = *in++;
  num_frames_ = *in++;
  loglik_ = *in++;
  second_order_utts_ = static_cast<int64_t>(*in++);
  for (MatrixD* m : {&c_, &a_}) {
    *m = Eigen::Map<const MatrixD>(in, m->rows(), m->cols());
    in += m->size();
  }
  n_ = Eigen::Map<const VectorD>(in, n_.size());
  in += n_.size();
  s_ = Eigen::Map<const MatrixD>(in, s_.rows(), s_.cols());
  in += s_.size();
  w_sum_ = Eigen::Map<const VectorD>(in, w_sum_.size());
  in += w_sum_.size();
  ww_sum_ = Eigen::Map<const MatrixD>(in, ww_sum_.rows(), ww_sum_.cols());
  return in + ww_sum_.size();
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
