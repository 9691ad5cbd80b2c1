#include "slid/gmm_stats.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "slid/error.h"
#include "slid/io.h"
#include "slid/model.h"  // Fnv1a64

namespace slid {

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

namespace {

constexpr char kStatsMagic[8] = {'S', 'L', 'I', 'D', 'G', 'S', 'T', '\0'};
constexpr size_t kStatsHeaderBytes = 8 + 4 + 4 + 4 + 4 + 8 + 8;

template <typename T>
void Put(std::string* out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out->append(b, sizeof(T));
}

template <typename T>
T Get(const std::string& in, size_t* pos) {
  T v;
  std::memcpy(&v, in.data() + *pos, sizeof(T));
  *pos += sizeof(T);
  return v;
}

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
  Put<uint64_t>(&out, Fnv1a64(out.data(), out.size()));
  return out;
}

void GmmStats::FromBytes(const std::string& bytes, const std::string& name, bool add) {
  if (bytes.size() < sizeof(kStatsMagic) || std::memcmp(bytes.data(), kStatsMagic, sizeof(kStatsMagic)) != 0) {
    throw Error(name + ": not slid GMM statistics (bad magic)");
  }
  if (bytes.size() < kStatsHeaderBytes) throw Error(name + ": truncated GMM statistics header");
  size_t pos = sizeof(kStatsMagic);
  const uint32_t version = Get<uint32_t>(bytes, &pos);
  if (version != kGmmStatsFormatVersion) {
    throw Error(name + ": GMM statistics format version " + std::to_string(version) + ", this slid reads version " +
                std::to_string(kGmmStatsFormatVersion));
  }
  const uint32_t k = Get<uint32_t>(bytes, &pos), d = Get<uint32_t>(bytes, &pos);
  // Shapes far beyond any GMM slid trains are refused before any size arithmetic can overflow.
  if (k < 1 || d < 1 || k > (1u << 20) || d > (1u << 16)) {
    throw Error(name + ": bad GMM statistics shape " + std::to_string(k) + " x " + std::to_string(d));
  }
  const uint64_t expect = kStatsHeaderBytes + 8ull * (k + 2ull * k * d) + 8;
  if (bytes.size() < expect) throw Error(name + ": truncated GMM statistics");
  if (bytes.size() > expect) throw Error(name + ": trailing bytes after GMM statistics");
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + expect - 8, 8);
  if (Fnv1a64(bytes.data(), expect - 8) != stored) throw Error(name + ": damaged GMM statistics (checksum mismatch)");
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
