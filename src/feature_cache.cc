#include "slid/feature_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>

#include "slid/error.h"
#include "slid/io.h"
#include "util.h"

namespace slid {

namespace {

constexpr char kCacheMagic[8] = {'S', 'L', 'I', 'D', 'F', 'E', 'A', 'T'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kFloat32 = 0;
constexpr int64_t kHeaderBytes = 32;

// The format is little-endian; refuse to run (at compile time) where the in-memory layout differs.
static_assert(sizeof(float) == 4, "float must be IEEE single precision");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "slid feature caches are written little-endian; add byte swapping for this platform"
#endif

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

void EncodeHeader(char* h, int dim, int64_t frames) {
  std::memset(h, 0, kHeaderBytes);
  std::memcpy(h, kCacheMagic, 8);
  const uint32_t version = kVersion, d = static_cast<uint32_t>(dim), type = kFloat32;
  const uint64_t f = static_cast<uint64_t>(frames);
  std::memcpy(h + 8, &version, 4);
  std::memcpy(h + 12, &d, 4);
  std::memcpy(h + 16, &f, 8);
  std::memcpy(h + 24, &type, 4);
}

}  // namespace

void MatrixFrameSource::ForEachBlock(int64_t block_frames, const std::function<void(const Matrix&)>& fn) const {
  if (block_frames < 1) throw Error("MatrixFrameSource: block_frames must be >= 1");
  Matrix block;
  for (int64_t b = 0; b < m_.rows(); b += block_frames) {
    const int64_t n = std::min(block_frames, m_.rows() - b);
    block = m_.middleRows(b, n);  // contiguous copy; cheap next to the GMM arithmetic per frame
    fn(block);
  }
}

FeatureCacheWriter::FeatureCacheWriter(const std::string& path, int dim)
    : path_(path), tmp_path_(path + ".tmp." + std::to_string(::getpid())), dim_(dim) {
  if (dim < 1) ThrowFileError(path, "feature cache needs dim >= 1, got " + std::to_string(dim));
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  if (!file_) ThrowFileError(path, "cannot open for writing: " + ErrnoText());
  RegisterTempFile(tmp_path_);  // removed by a Ctrl-C handler if the program is interrupted
  char h[kHeaderBytes];
  EncodeHeader(h, dim_, 0);  // frame count patched by Close()
  if (std::fwrite(h, 1, kHeaderBytes, file_) != static_cast<size_t>(kHeaderBytes)) {
    std::fclose(file_);
    file_ = nullptr;
    const std::string e = ErrnoText();
    std::remove(tmp_path_.c_str());
    UnregisterTempFile(tmp_path_);
    ThrowFileError(path, "write failed: " + e);
  }
}

FeatureCacheWriter::~FeatureCacheWriter() {
  if (file_) {
    std::fclose(file_);
    std::remove(tmp_path_.c_str());
  }
  UnregisterTempFile(tmp_path_);
}

void FeatureCacheWriter::Append(const Matrix& frames) {
  if (closed_ || !file_) ThrowFileError(path_, "append after Close()");
  if (frames.rows() == 0) return;
  if (frames.cols() != dim_) {
    ThrowFileError(path_, "appending frames of " + std::to_string(frames.cols()) + " dims to a cache of " +
                              std::to_string(dim_) + " dims");
  }
  if (!frames.allFinite()) ThrowFileError(path_, "appending frames with non-finite values");
  const size_t count = static_cast<size_t>(frames.size());
  if (std::fwrite(frames.data(), sizeof(float), count, file_) != count) {
    ThrowFileError(path_, "write failed (disk full?): " + ErrnoText());
  }
  frames_ += frames.rows();
}

void FeatureCacheWriter::Close() {
  if (closed_ || !file_) ThrowFileError(path_, "Close() called twice");
  char h[kHeaderBytes];
  EncodeHeader(h, dim_, frames_);
  bool ok = std::fflush(file_) == 0 && std::fseek(file_, 0, SEEK_SET) == 0 &&
            std::fwrite(h, 1, kHeaderBytes, file_) == static_cast<size_t>(kHeaderBytes) && std::fflush(file_) == 0 &&
            ::fsync(::fileno(file_)) == 0;
  const std::string why = ok ? "" : ErrnoText();
  ok = (std::fclose(file_) == 0) && ok;
  file_ = nullptr;
  if (!ok) {
    std::remove(tmp_path_.c_str());
    ThrowFileError(path_, "write failed (disk full?): " + (why.empty() ? ErrnoText() : why));
  }
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    const std::string e = ErrnoText();
    std::remove(tmp_path_.c_str());
    ThrowFileError(path_, "cannot rename into place: " + e);
  }
  closed_ = true;
}

FeatureCacheSource::FeatureCacheSource(const std::string& path) : path_(path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) ThrowFileError(path, "cannot open: " + ErrnoText());
  if (S_ISDIR(st.st_mode)) ThrowFileError(path, "is a directory, expected a feature cache");
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) ThrowFileError(path, "cannot open: " + ErrnoText());
  char h[kHeaderBytes];
  if (std::fread(h, 1, kHeaderBytes, f.get()) != static_cast<size_t>(kHeaderBytes)) {
    ThrowFileError(path, "too short for a feature cache header (" + std::to_string(st.st_size) + " bytes)");
  }
  if (std::memcmp(h, kCacheMagic, 8) != 0) ThrowFileError(path, "not a slid feature cache (bad magic)");
  uint32_t version, dim, type;
  uint64_t frames;
  std::memcpy(&version, h + 8, 4);
  std::memcpy(&dim, h + 12, 4);
  std::memcpy(&frames, h + 16, 8);
  std::memcpy(&type, h + 24, 4);
  if (version != kVersion) ThrowFileError(path, "unsupported feature cache version " + std::to_string(version));
  if (type != kFloat32) ThrowFileError(path, "unsupported sample type " + std::to_string(type));
  if (dim < 1 || dim > (1u << 20)) ThrowFileError(path, "implausible dim " + std::to_string(dim));
  if (frames > (uint64_t{1} << 40)) ThrowFileError(path, "implausible frame count " + std::to_string(frames));
  const uint64_t expect = static_cast<uint64_t>(kHeaderBytes) + frames * dim * 4;
  if (static_cast<uint64_t>(st.st_size) != expect) {
    ThrowFileError(path, "size " + std::to_string(st.st_size) + " bytes does not match header (" +
                             std::to_string(frames) + " frames x " + std::to_string(dim) + " dims, expected " +
                             std::to_string(expect) + " bytes): truncated or corrupt");
  }
  dim_ = static_cast<int>(dim);
  frames_ = static_cast<int64_t>(frames);
}

void FeatureCacheSource::ForEachBlock(int64_t block_frames, const std::function<void(const Matrix&)>& fn) const {
  if (block_frames < 1) ThrowFileError(path_, "block_frames must be >= 1");
  if (frames_ == 0) return;
  FilePtr f(std::fopen(path_.c_str(), "rb"));
  if (!f) ThrowFileError(path_, "cannot open: " + ErrnoText());
  if (std::fseek(f.get(), kHeaderBytes, SEEK_SET) != 0) ThrowFileError(path_, "seek failed: " + ErrnoText());
  Matrix block(std::min(block_frames, frames_), dim_);
  for (int64_t b = 0; b < frames_; b += block_frames) {
    const int64_t n = std::min(block_frames, frames_ - b);
    if (n != block.rows()) block.resize(n, dim_);
    const size_t count = static_cast<size_t>(n * dim_);
    if (std::fread(block.data(), sizeof(float), count, f.get()) != count) {
      ThrowFileError(path_, "unexpected end of file at frame " + std::to_string(b) + " (file changed while reading?)");
    }
    fn(block);
  }
}

Matrix ReadFeatureCache(const std::string& path) {
  FeatureCacheSource src(path);
  Matrix out(src.NumFrames(), src.Dim());
  int64_t row = 0;
  src.ForEachBlock(65536, [&](const Matrix& block) {
    out.middleRows(row, block.rows()) = block;
    row += block.rows();
  });
  return out;
}

}  // namespace slid
