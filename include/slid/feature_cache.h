// Frame sources for training, and a compact on-disk feature cache that training streams from, so
// that peak memory does not grow with the number of frames.
//
// Cache file format (version 1, little-endian):
//   bytes 0..7   magic "SLIDFEAT"
//   bytes 8..11  uint32 version = 1
//   bytes 12..15 uint32 dim (>= 1)
//   bytes 16..23 uint64 frames
//   bytes 24..27 uint32 sample type: 0 = float32 (the only one written; exact, so training from the
//                cache gives the same model as training from memory)
//   bytes 28..31 zero
//   then frames x dim float32 values, row after row.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "slid/matrix.h"

namespace slid {

// Anything EM can stream: frames x Dim() rows, delivered in blocks in a fixed order.
class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual int Dim() const = 0;
  virtual int64_t NumFrames() const = 0;
  // Calls fn with consecutive blocks of at most block_frames rows (>= 1; only the last one may be
  // shorter) covering all frames in order. The block reference is valid during the call only.
  // Calling it again starts from the first frame. 0 frames: fn is never called.
  virtual void ForEachBlock(int64_t block_frames, const std::function<void(const Matrix&)>& fn) const = 0;
};

// Frames held in memory. Keeps a reference: `m` must outlive the source (no copy of the data); a
// temporary matrix is fine only within one full expression, e.g. TrainDiagGmm(MatrixFrameSource(m), o).
class MatrixFrameSource : public FrameSource {
 public:
  explicit MatrixFrameSource(const Matrix& m) : m_(m) {}
  int Dim() const override { return static_cast<int>(m_.cols()); }
  int64_t NumFrames() const override { return m_.rows(); }
  void ForEachBlock(int64_t block_frames, const std::function<void(const Matrix&)>& fn) const override;

 private:
  const Matrix& m_;
};

// Writes a cache file atomically: rows go to "<path>.tmp.<pid>", which Close() completes, syncs and
// renames over `path`. Destroying the writer without Close() (e.g. after an exception) removes the
// temporary file and leaves `path` untouched. Errors: slid::Error("<path>: ...").
class FeatureCacheWriter {
 public:
  FeatureCacheWriter(const std::string& path, int dim);  // dim >= 1
  ~FeatureCacheWriter();
  FeatureCacheWriter(const FeatureCacheWriter&) = delete;
  FeatureCacheWriter& operator=(const FeatureCacheWriter&) = delete;
  // Appends rows (N x dim; N may be 0). Error if dim differs, values are not finite, or after Close().
  void Append(const Matrix& frames);
  // Finishes the file. Calling it twice is an error.
  void Close();
  int64_t NumFrames() const { return frames_; }

 private:
  std::string path_, tmp_path_;
  int dim_ = 0;
  int64_t frames_ = 0;
  std::FILE* file_ = nullptr;
  bool closed_ = false;
};

// Streams a cache file from disk on every ForEachBlock call (memory: one block). The header and the
// file size are validated on construction; a file that changes size later gives an error on read.
class FeatureCacheSource : public FrameSource {
 public:
  explicit FeatureCacheSource(const std::string& path);
  int Dim() const override { return dim_; }
  int64_t NumFrames() const override { return frames_; }
  void ForEachBlock(int64_t block_frames, const std::function<void(const Matrix&)>& fn) const override;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int dim_ = 0;
  int64_t frames_ = 0;
};

// Reads a whole cache file into memory (frames x dim). For tests and small files.
Matrix ReadFeatureCache(const std::string& path);

}  // namespace slid
