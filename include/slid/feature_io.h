// Feature matrices on disk, in the two forms other tools read:
//  - NumPy .npy, format version 1.0, dtype '<f4' (little-endian float32), C order, shape (frames, dims):
//    numpy.load("x.npy") gives the Matrix as written. See
//    https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//  - Kaldi text archive entries, as `copy-feats ark:x.ark ark,t:-` prints them:
//    "utt-id  [\n  1.5 2 3 \n  4 5 6 ]\n"; an empty matrix is "utt-id  [ ]\n". Values are written in the
//    shortest form that reads back to the same float, so text archives round-trip exactly.
// All writers to files are atomic (slid::WriteFileAtomically); errors throw slid::Error("<path>: ...").
#pragma once
#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "slid/matrix.h"

namespace slid {

// Writes `m` (rows x cols, any size including 0 rows) as a .npy v1.0 '<f4' C-order 2-D array.
void WriteNpy(std::ostream& out, const Matrix& m);
// Same, to `path`, atomically.
void WriteNpyFile(const std::string& path, const Matrix& m);

// Parses .npy bytes holding a float32 little-endian C-order array of 1 or 2 dimensions (a 1-D array
// of n values gives an n x 1 matrix); format versions 1.0, 2.0 and 3.0. `name` is used in errors:
// bad magic, other dtypes, Fortran order, more than 2 dimensions, truncated data.
Matrix ParseNpy(const std::string& bytes, const std::string& name);
// Reads and parses a .npy file.
Matrix ReadNpyFile(const std::string& path);

// Writes one Kaldi text-archive entry for `utt_id` (must be non-empty, without whitespace).
void WriteKaldiTextEntry(std::ostream& out, const std::string& utt_id, const Matrix& m);

// Parses a whole Kaldi text archive (entries as written above; any whitespace layout Kaldi accepts)
// into (utt-id, matrix) pairs in file order. Throws Error("<name>: ...") on malformed text or rows of
// unequal length.
std::vector<std::pair<std::string, Matrix>> ParseKaldiTextArchive(const std::string& text, const std::string& name);

// Precomputed feature matrices, one utterance at a time, from any of
//  - a Kaldi rspecifier: "scp:feats.scp", "ark:feats.ark", "ark:-", "ark,s,cs:..." (kaldi_io.h): binary,
//    text and compressed archives, scp entries with offsets and ranges;
//  - a Kaldi data directory holding feats.scp (read as "scp:DIR/feats.scp"; its entries' paths are
//    relative to the working directory, as in Kaldi);
//  - a folder of .npy files: each "*.npy" directly inside it, in byte order of the names, utterance id
//    = file name without ".npy".
// Memory: one matrix at a time (a folder is listed by name only). Throws Error naming the source if
// it is none of these (e.g. a plain file: write scp:FILE or ark:FILE), or for malformed data.
class FeatureReader {
 public:
  // `standard_input` is what "ark:-" / "scp:-" read (default std::cin).
  explicit FeatureReader(const std::string& source, std::istream* standard_input = nullptr);
  ~FeatureReader();
  FeatureReader(const FeatureReader&) = delete;
  FeatureReader& operator=(const FeatureReader&) = delete;

  // Reads the next utterance; false at the end.
  bool Next(std::string* id, Matrix* features);
  // What was given, for messages.
  const std::string& source() const { return source_; }

 private:
  struct Impl;
  std::string source_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slid
