#include "slid/gmm_stats.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>
#include <string>

#include "slid/error.h"
#include "slid/io.h"
#include "slid/model.h"  // Fnv1a64
#include "binary_format.h"

namespace slid {

using internal::Get;
using internal::Put;

GmmStats::GmmStats(int num_gauss, int dim, float min_posterior) : min_posterior_(min_posterior) {
  if (num_gauss < 1 || dim < 1) {
    throw Error("GmmStats: bad shape " + std::to_string(num_gauss) + " components x " + std::to_string(dim) + " dims");
  }
  if (!(min_posterior >= 0 && min_posterior < 1)) {
    throw Error("GmmStats: min_posterior must be in [0, 1), got " + std::to_string(min_posterior));
  }
  occupancy_ = VectorD::Zero(num_gauss);
  first_ = MatrixD::Zero(num_gauss, dim);
  second_ = MatrixD::Zero(num_gauss, dim);
}

void GmmStats::SetZero() {
  num_frames_ = 0;
  total_loglik_ = 0;
  occupancy_.setZero();
  first_.setZero();
  second_.setZero();
}

double GmmStats::Accumulate(const DiagGmm& gmm, const Matrix& frames) {
  const int k = NumGauss(), d = Dim();
  if (gmm.NumGauss() != k || gmm.Dim() != d) {
    throw Error("GmmStats: statistics are " + std::to_string(k) + " x " + std::to_string(d) + ", model is " +
                std::to_string(gmm.NumGauss()) + " x " + std::to_string(gmm.Dim()));
  }
  if (frames.cols() != d) {
    throw Error("GmmStats: frames have " + std::to_string(frames.cols()) + " dims, expected " + std::to_string(d));
  }
  double total = 0;
  const int block_frames = GmmBlockFrames(k);
  for (int64_t b = 0; b < frames.rows(); b += block_frames) {
    const int n = static_cast<int>(std::min<int64_t>(block_frames, frames.rows() - b));
    gmm.BlockLogLikelihoods(frames, b, n, &xx_, &loglik_);
    post_sums_.setZero(k);
    if (min_posterior_ > 0) {
      LogSumExpRowsToPosteriors(n, &loglik_, &frame_loglik_, nullptr);
      AccumulatePruned(n);
    } else {
      LogSumExpRowsToPosteriors(n, &loglik_, &frame_loglik_, &post_sums_);
      // Statistics of the block by one GEMM: gamma^T [x, x^2] (K x 2D), single precision over at most
      // GmmBlockFrames(K) frames, then added into the double accumulators.
      block_stats_.noalias() = loglik_.topRows(n).transpose() * xx_.topRows(n);
    }
    first_ += block_stats_.leftCols(d).cast<double>();
    second_ += block_stats_.rightCols(d).cast<double>();
    occupancy_ += post_sums_.cast<double>();
    total += frame_loglik_.head(n).cast<double>().sum();
  }
  num_frames_ += static_cast<double>(frames.rows());
  total_loglik_ += total;
  return total;
}

void GmmStats::AccumulatePruned(int n) {
  const int k = NumGauss(), w = 2 * Dim();
  block_stats_.setZero(k, w);
  const float tau = min_posterior_;
  active_.resize(k);
  int* active = active_.data();
  float* sums = post_sums_.data();
  for (int i = 0; i < n; ++i) {
    const float* g = loglik_.data() + static_cast<int64_t>(i) * k;
    const float* x = xx_.data() + static_cast<int64_t>(i) * w;
    // Branch-free gather of the surviving components (a branch per posterior mispredicts badly).
    int count = 0;
    for (int c = 0; c < k; ++c) {
      active[count] = c;
      count += g[c] >= tau;
    }
    for (int a = 0; a < count; ++a) {
      const int c = active[a];
      const float gc = g[c];
      float* row = block_stats_.data() + static_cast<int64_t>(c) * w;
      for (int j = 0; j < w; ++j) row[j] += gc * x[j];  // vectorised by the compiler
      sums[c] += gc;
    }
  }
}

void GmmStats::Add(const GmmStats& other) {
  if (other.NumGauss() != NumGauss() || other.Dim() != Dim()) {
    throw Error("GmmStats::Add: shapes differ (" + std::to_string(NumGauss()) + " x " + std::to_string(Dim()) + " vs " +
                std::to_string(other.NumGauss()) + " x " + std::to_string(other.Dim()) + ")");
  }
  num_frames_ += other.num_frames_;
  total_loglik_ += other.total_loglik_;
  occupancy_ += other.occupancy_;
  first_ += other.first_;
  second_ += other.second_;
}

void GmmStats::AppendFlat(std::vector<double>* out) const {
  out->push_back(num_frames_);
  out->push_back(total_loglik_);
  out->insert(out->end(), occupancy_.data(), occupancy_.data() + occupancy_.size());
  for (const MatrixD* m : {&first_, &second_}) out->insert(out->end(), m->data(), m->data() + m->size());
}

const double* GmmStats::SetFlat(const double* in) {
  num_frames_ = *in++;
  total_loglik_ = *in++;
  occupancy_ = Eigen::Map<const VectorD>(in, occupancy_.size());
  in += occupancy_.size();
  for (MatrixD* m : {&first_, &second_}) {
    *m = Eigen::Map<const MatrixD>(in, m->rows(), m->cols());
    in += m->size();
  }
  return in;
}

namespace {

constexpr char kStatsMagic[8] = {'S', 'L', 'I', 'D', 'G', 'S', 'T', '\0'};
constexpr size_t kStatsHeaderBytes = 8 + 4 + 4 + 4 + 4 + 8 + 8;

}  // namespace

std::string GmmStats::ToBytes() const {
  static_assert(sizeof(double) == 8 && std::numeric_limits<double>::is_iec559, "IEEE doubles needed");
  const int64_t k = NumGauss(), d = Dim();
  std::string out;
  out.reserve(kStatsHeaderBytes + 8 * static_cast<size_t>(k + 2 * k * d) + 8);
  out.append(kStatsMagic, sizeof(kStatsMagic));
  Put<uint32_t>(&out, kGmmStatsFormatVersion);
  Put<uint32_t>(&out, static_cast<uint32_t>(k));
  Put<uint32_t>(&out, static_cast<uint32_t>(d));
  Put<float>(&out, min_posterior_);
  Put<double>(&out, num_frames_);
  Put<double>(&out, total_loglik_);
  for (int64_t i = 0; i < k; ++i) Put<double>(&out, occupancy_[i]);
  for (const MatrixD* m : {&first_, &second_}) {
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < d; ++j) Put<double>(&out, (*m)(i, j));
  }
  internal::PutChecksum(&out);
  return out;
}

void GmmStats::FromBytes(const std::string& bytes, const std::string& name, bool add) {
  size_t pos = internal::ReadFormatHeader(bytes, name, kStatsMagic, kStatsHeaderBytes, kGmmStatsFormatVersion,
                                         "GMM statistics");
  const uint32_t k = Get<uint32_t>(bytes, &pos), d = Get<uint32_t>(bytes, &pos);
  // Shapes far beyond any GMM slid trains are refused before any size arithmetic can overflow.
  if (k < 1 || d < 1 || k > (1u << 20) || d > (1u << 16)) {
    throw Error(name + ": bad GMM statistics shape " + std::to_string(k) + " x " + std::to_string(d));
  }
  const uint64_t expect = kStatsHeaderBytes + 8ull * (k + 2ull * k * d) + 8;
  internal::CheckFormatBody(bytes, name, expect, "GMM statistics");
  const float min_posterior = Get<float>(bytes, &pos);
  GmmStats read(static_cast<int>(k), static_cast<int>(d), min_posterior >= 0 && min_posterior < 1 ? min_posterior : 0.0f);
  read.num_frames_ = Get<double>(bytes, &pos);
  read.total_loglik_ = Get<double>(bytes, &pos);
  for (uint32_t i = 0; i < k; ++i) read.occupancy_[i] = Get<double>(bytes, &pos);
  for (MatrixD* m : {&read.first_, &read.second_}) {
    for (uint32_t i = 0; i < k; ++i)
      for (uint32_t j = 0; j < d; ++j) (*m)(i, j) = Get<double>(bytes, &pos);
  }
  if (add && NumGauss() > 0) {
    if (read.NumGauss() != NumGauss() || read.Dim() != Dim()) {
      throw Error(name + ": statistics are " + std::to_string(k) + " x " + std::to_string(d) + ", adding to " +
                  std::to_string(NumGauss()) + " x " + std::to_string(Dim()));
    }
    Add(read);
  } else {
    *this = std::move(read);
  }
}

void GmmStats::Write(const std::string& path) const {
  const std::string bytes = ToBytes();
  WriteFileAtomically(path, [&](std::ostream& o) { o.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

void GmmStats::Read(const std::string& path, bool add) { FromBytes(ReadFileToString(path), path, add); }

}  // namespace slid

// ---------------------------------------------------------------------------------------------------
// MomentStats

namespace slid {

using internal::Get;
using internal::Put;

MomentStats::MomentStats(int dim) {
  if (dim < 1) throw Error("MomentStats: dimension must be >= 1, got " + std::to_string(dim));
  mean_ = VectorD::Zero(dim);
  m2_ = VectorD::Zero(dim);
}

void MomentStats::Set(double count, VectorD mean, VectorD m2) {
  if (!(count >= 0) || mean.size() != m2.size()) throw Error("MomentStats: bad parts");
  count_ = count;
  mean_ = std::move(mean);
  m2_ = std::move(m2);
}

void MomentStats::Accumulate(const Matrix& frames) {
  if (frames.cols() != Dim()) {
    throw Error("MomentStats: frames have " + std::to_string(frames.cols()) + " dims, expected " + std::to_string(Dim()));
  }
  if (frames.rows() == 0) return;
  if (!frames.allFinite()) {
    for (int64_t i = 0; i < frames.rows(); ++i)
      if (!frames.row(i).allFinite())
        throw Error("training data: frame " + std::to_string(static_cast<int64_t>(count_) + i) + " is not finite");
  }
  // The block's own mean and M2 (centred on that mean, so no cancellation), then the pairwise merge.
  MomentStats block;
  block.count_ = static_cast<double>(frames.rows());
  block.mean_ = frames.cast<double>().colwise().sum().transpose() / block.count_;
  block.m2_ = (frames.cast<double>().rowwise() - block.mean_.transpose()).array().square().colwise().sum().transpose();
  Add(block);
}

void MomentStats::Add(const MomentStats& other) {
  if (other.Dim() == 0) return;
  if (Dim() == 0) {
    *this = other;
    return;
  }
  if (other.Dim() != Dim()) {
    throw Error("MomentStats::Add: dimensions differ (" + std::to_string(Dim()) + " vs " + std::to_string(other.Dim()) + ")");
  }
  if (other.count_ == 0) return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  // Chan, Golub & LeVeque (1979): mean and M2 of the union of two sets.
  const double n = count_ + other.count_;
  const VectorD delta = other.mean_ - mean_;
  mean_ += delta * (other.count_ / n);
  m2_ += other.m2_ + delta.cwiseAbs2() * (count_ * other.count_ / n);
  count_ = n;
}

VectorD MomentStats::Variance() const {
  if (count_ == 0) return VectorD::Zero(Dim());
  return (m2_ / count_).cwiseMax(0.0);
}

// ---------------------------------------------------------------------------------------------------
// FrameSubsample

uint64_t FrameSampleKey(uint64_t seed, uint64_t utterance_key, int64_t frame) {
  // SplitMix64 finaliser (Steele, Lea & Flood 2014) over a combination of the three inputs.
  auto mix = [](uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  return mix(mix(mix(seed) ^ utterance_key) ^ static_cast<uint64_t>(frame));
}

uint64_t UtteranceKey(const std::string& id) { return Fnv1a64(id.data(), id.size()); }

FrameSubsample::FrameSubsample(int64_t capacity, int dim, uint64_t seed) : capacity_(capacity), dim_(dim), seed_(seed) {
  if (capacity < 1 || dim < 1) {
    throw Error("FrameSubsample: bad shape, capacity " + std::to_string(capacity) + " x " + std::to_string(dim) + " dims");
  }
}

void FrameSubsample::Offer(const Matrix& frames, uint64_t utterance_key, int64_t first_frame) {
  if (capacity_ == 0) throw Error("FrameSubsample: Offer on an empty placeholder");
  if (frames.cols() != dim_) {
    throw Error("FrameSubsample: frames have " + std::to_string(frames.cols()) + " dims, expected " + std::to_string(dim_));
  }
  // Once pruned to a full sample, only keys up to its largest can enter: most frames stop here.
  uint64_t limit = std::numeric_limits<uint64_t>::max();
  if (pruned_ && static_cast<int64_t>(keys_.size()) == capacity_) limit = keys_.back();
  for (int64_t i = 0; i < frames.rows(); ++i) {
    const uint64_t key = FrameSampleKey(seed_, utterance_key, first_frame + i);
    if (key > limit) continue;
    keys_.push_back(key);
    for (int j = 0; j < dim_; ++j) rows_.push_back(frames(i, j));
    pruned_ = false;
    if (static_cast<int64_t>(keys_.size()) >= 2 * capacity_ + 1024) {
      Prune();
      if (static_cast<int64_t>(keys_.size()) == capacity_) limit = keys_.back();
    }
  }
}

void FrameSubsample::Prune() const {
  if (pruned_) return;
  const size_t n = keys_.size(), d = static_cast<size_t>(dim_);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  // Key order; equal keys (a 64-bit collision, or the same frame offered twice) by the frame values,
  // so the result never depends on arrival order.
  auto less = [&](size_t a, size_t b) {
    if (keys_[a] != keys_[b]) return keys_[a] < keys_[b];
    return std::lexicographical_compare(rows_.begin() + a * d, rows_.begin() + (a + 1) * d, rows_.begin() + b * d,
                                        rows_.begin() + (b + 1) * d);
  };
  const size_t keep = std::min(n, static_cast<size_t>(capacity_));
  if (keep < n) std::nth_element(order.begin(), order.begin() + keep, order.end(), less);
  order.resize(keep);
  std::sort(order.begin(), order.end(), less);
  std::vector<uint64_t> keys(keep);
  std::vector<float> rows(keep * d);
  for (size_t i = 0; i < keep; ++i) {
    keys[i] = keys_[order[i]];
    std::copy(rows_.begin() + order[i] * d, rows_.begin() + (order[i] + 1) * d, rows.begin() + i * d);
  }
  keys_.swap(keys);
  rows_.swap(rows);
  pruned_ = true;
}

void FrameSubsample::Add(const FrameSubsample& other) {
  if (other.capacity_ == 0) return;
  if (capacity_ == 0) {
    *this = other;
    return;
  }
  if (other.capacity_ != capacity_ || other.dim_ != dim_ || other.seed_ != seed_) {
    throw Error("FrameSubsample::Add: samples differ (capacity " + std::to_string(capacity_) + " vs " +
                std::to_string(other.capacity_) + ", dims " + std::to_string(dim_) + " vs " + std::to_string(other.dim_) +
                ", seed " + std::to_string(seed_) + " vs " + std::to_string(other.seed_) + ")");
  }
  keys_.insert(keys_.end(), other.keys_.begin(), other.keys_.end());
  rows_.insert(rows_.end(), other.rows_.begin(), other.rows_.end());
  pruned_ = false;
  Prune();
}

void FrameSubsample::KeepBelow(uint64_t limit) {
  Prune();  // sorted by key
  size_t keep = 0;
  while (keep < keys_.size() && keys_[keep] < limit) ++keep;
  keys_.resize(keep);
  rows_.resize(keep * static_cast<size_t>(dim_));
}

int64_t FrameSubsample::Size() const {
  Prune();
  return static_cast<int64_t>(keys_.size());
}

Matrix FrameSubsample::Frames() const {
  Prune();
  Matrix m(static_cast<int64_t>(keys_.size()), dim_);
  for (int64_t i = 0; i < m.rows(); ++i)
    for (int j = 0; j < dim_; ++j) m(i, j) = rows_[static_cast<size_t>(i) * dim_ + j];
  return m;
}

std::vector<uint64_t> FrameSubsample::Keys() const {
  Prune();
  return keys_;
}

void FrameSubsample::Set(const std::vector<uint64_t>& keys, const Matrix& rows) {
  if (rows.cols() != dim_ || rows.rows() != static_cast<int64_t>(keys.size()) ||
      static_cast<int64_t>(keys.size()) > capacity_) {
    throw Error("FrameSubsample::Set: " + std::to_string(keys.size()) + " keys and " + std::to_string(rows.rows()) +
                " x " + std::to_string(rows.cols()) + " rows for capacity " + std::to_string(capacity_) + " x " +
                std::to_string(dim_));
  }
  keys_ = keys;
  rows_.resize(keys.size() * static_cast<size_t>(dim_));
  for (int64_t i = 0; i < rows.rows(); ++i)
    for (int j = 0; j < dim_; ++j) rows_[static_cast<size_t>(i) * dim_ + j] = rows(i, j);
  pruned_ = false;
  Prune();
}

// ---------------------------------------------------------------------------------------------------
// GmmInitStats

GmmInitStats::GmmInitStats(int dim, int64_t sample_capacity, uint64_t seed) : moments(dim) {
  if (sample_capacity < 0) throw Error("GmmInitStats: negative sample capacity");
  if (sample_capacity > 0) sample = FrameSubsample(sample_capacity, dim, seed);
}

void GmmInitStats::Accumulate(const Matrix& frames, uint64_t utterance_key, int64_t first_frame) {
  moments.Accumulate(frames);  // checks dims and finiteness first
  if (sample.Capacity() > 0) sample.Offer(frames, utterance_key, first_frame);
}

void GmmInitStats::Add(const GmmInitStats& other) {
  if (moments.Dim() > 0 && other.moments.Dim() > 0 && (sample.Capacity() == 0) != (other.sample.Capacity() == 0))
    throw Error("GmmInitStats::Add: one side has a subsample, the other none");
  moments.Add(other.moments);
  sample.Add(other.sample);
}

namespace {
constexpr char kInitMagic[8] = {'S', 'L', 'I', 'D', 'G', 'I', 'N', '\0'};
constexpr size_t kInitHeaderBytes = 8 + 4 + 4 + 8 + 8 + 8;
}  // namespace

std::string GmmInitStats::ToBytes() const {
  const int d = moments.Dim();
  if (d == 0) throw Error("GmmInitStats: nothing to write (no shape)");
  const std::vector<uint64_t> keys = sample.Capacity() > 0 ? sample.Keys() : std::vector<uint64_t>();
  const Matrix rows = sample.Capacity() > 0 ? sample.Frames() : Matrix();
  std::string out;
  out.append(kInitMagic, sizeof(kInitMagic));
  Put<uint32_t>(&out, kGmmInitStatsFormatVersion);
  Put<uint32_t>(&out, static_cast<uint32_t>(d));
  Put<uint64_t>(&out, static_cast<uint64_t>(sample.Capacity()));
  Put<uint64_t>(&out, sample.Seed());
  Put<double>(&out, moments.Count());
  for (int j = 0; j < d; ++j) Put<double>(&out, moments.Mean()[j]);
  for (int j = 0; j < d; ++j) Put<double>(&out, moments.M2()[j]);
  Put<uint64_t>(&out, keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    Put<uint64_t>(&out, keys[i]);
    for (int j = 0; j < d; ++j) Put<float>(&out, rows(static_cast<int64_t>(i), j));
  }
  internal::PutChecksum(&out);
  return out;
}

void GmmInitStats::FromBytes(const std::string& bytes, const std::string& name, bool add) {
  size_t pos = internal::ReadFormatHeader(bytes, name, kInitMagic, kInitHeaderBytes, kGmmInitStatsFormatVersion,
                                         "GMM initialisation statistics");
  const uint32_t d = Get<uint32_t>(bytes, &pos);
  const uint64_t capacity = Get<uint64_t>(bytes, &pos), seed = Get<uint64_t>(bytes, &pos);
  if (d < 1 || d > (1u << 16) || capacity > (1ull << 32))
    throw Error(name + ": bad GMM initialisation statistics shape (dim " + std::to_string(d) + ", capacity " +
                std::to_string(capacity) + ")");
  const uint64_t fixed = kInitHeaderBytes + 16ull * d;  // magic .. M2; the sample size follows
  if (bytes.size() < fixed + 8) throw Error(name + ": truncated GMM initialisation statistics");
  uint64_t size;
  std::memcpy(&size, bytes.data() + fixed, 8);
  if (size > capacity) throw Error(name + ": GMM initialisation statistics hold more sampled frames than their capacity");
  const uint64_t expect = fixed + 8 + size * (8 + 4ull * d) + 8;
  internal::CheckFormatBody(bytes, name, expect, "GMM initialisation statistics");
  const double count = Get<double>(bytes, &pos);
  VectorD mean(d), m2(d);
  for (uint32_t j = 0; j < d; ++j) mean[j] = Get<double>(bytes, &pos);
  for (uint32_t j = 0; j < d; ++j) m2[j] = Get<double>(bytes, &pos);
  pos += 8;  // size, read above
  GmmInitStats read(static_cast<int>(d), static_cast<int64_t>(capacity), seed);
  if (!(count >= 0) || !mean.allFinite() || !m2.allFinite())
    throw Error(name + ": GMM initialisation statistics hold invalid moments");
  read.moments.Set(count, std::move(mean), std::move(m2));
  if (capacity > 0) {
    std::vector<uint64_t> keys(size);
    Matrix rows(static_cast<int64_t>(size), static_cast<int64_t>(d));
    for (uint64_t i = 0; i < size; ++i) {
      keys[i] = Get<uint64_t>(bytes, &pos);
      for (uint32_t j = 0; j < d; ++j) rows(static_cast<int64_t>(i), j) = Get<float>(bytes, &pos);
    }
    read.sample.Set(keys, rows);
  }
  if (add && moments.Dim() > 0) {
    try {
      Add(read);
    } catch (const Error& e) {
      throw Error(name + ": cannot add to the statistics read before: " + e.what());
    }
  } else {
    *this = std::move(read);
  }
}

void GmmInitStats::Write(const std::string& path) const {
  const std::string bytes = ToBytes();
  WriteFileAtomically(path, [&](std::ostream& o) { o.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

void GmmInitStats::Read(const std::string& path, bool add) { FromBytes(ReadFileToString(path), path, add); }

}  // namespace slid
