// Kaldi tables of matrices: archives (.ark, binary or text) and script files (.scp), addressed with
// Kaldi's rspecifier / wspecifier syntax, read and written the way Kaldi's own tools do
// (kaldi-asr/kaldi src/util/kaldi-table.{h,cc}, src/matrix/kaldi-matrix.cc, src/matrix/compressed-matrix.cc).
//
// Specifiers (options before the ':' are comma-separated, in any order):
//   rspecifier  ark:FILE        an archive: "<key> <object>" repeated; FILE "-" = standard input
//               scp:FILE        a script: one "<key> <rxfilename>" per line, where rxfilename is
//                               "f.ark:OFFSET" (an object at that byte offset, as Kaldi's ark,scp writes),
//                               "f.mat" (a file holding one object) and optionally a range suffix
//                               "[r1:r2]" or "[r1:r2,c1:c2]" (inclusive, either side may be ":" = all)
//               options accepted and ignored (slid reads sequentially): b t s ns cs ncs o no p np bg
//   wspecifier  ark:FILE        write an archive; FILE "-" = standard output
//               ark,scp:A,S     write archive A and script S ("<key> A:OFFSET" per entry, as Kaldi)
//               options: b (binary, the default), t (text), f / nf (flush after each entry or not;
//                        output is flushed per entry only on standard output), p (accepted, no effect)
// Refused with an Error naming the specifier: anything else, including "scp:" alone as a wspecifier,
// commands ("cmd |" or "| cmd") as file names (slid never runs a command from a table specifier or an
// scp line), "-" in an scp line, and "ark,scp:-,S" (offsets into standard output mean nothing).
//
// Objects read (all returned as float Matrix, frames x dims):
//   binary  "\0B" then FM (float matrix), DM (double matrix, converted), CM / CM2 / CM3 (compressed
//           matrices: per-column percentile uint8, uint16, uint8 formats, decoded exactly as Kaldi's
//           CompressedMatrix::CopyToMat), FV / DV (vectors, read as a 1 x n matrix)
//   text    "[ ... ]" rows separated by newlines (a vector "[ 1 2 3 ]" is a 1 x n matrix, as Kaldi's
//           text matrix reader reads it); "[]" and "[ ]" are 0 x 0
// Objects written: binary "\0BFM " (or "\0BDM " with KaldiWriteOptions::double_precision) + int32 rows +
// int32 cols + row-major data, byte-for-byte what Kaldi's copy-feats writes; text as in feature_io.h
// (values in the shortest form that reads back to the same float, so text round-trips exactly, where
// Kaldi prints 7 significant digits).
//
// Errors throw slid::Error("<file>: offset <byte>: <what>") for malformed data (truncated, unknown
// token, negative or implausible sizes, bad numbers), and "<scp>: line <n>: ..." for script lines.
// Memory: one matrix at a time; a header claiming more data than the file holds fails before
// allocating it, and on standard input memory grows only as data actually arrives.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

#include "slid/matrix.h"

namespace slid {

// A parsed rspecifier.
struct KaldiRspecifier {
  bool script = false;  // true for scp:, false for ark:
  std::string path;     // the file after ':'; "-" = standard input
};
// Parses `spec`; throws Error("'<spec>' is not a Kaldi rspecifier ...") if it is not one slid reads.
KaldiRspecifier ParseKaldiRspecifier(const std::string& spec);

// A parsed wspecifier.
struct KaldiWspecifier {
  std::string ark_path;  // archive to write; "-" = standard output
  std::string scp_path;  // script to write beside it ("" = none)
  bool binary = true;    // false for the "t" option
  bool flush = false;    // "f": flush after every entry (always done on standard output)
};
// Parses `spec`; throws Error("'<spec>' is not a Kaldi wspecifier ...") if it is not one slid writes.
KaldiWspecifier ParseKaldiWspecifier(const std::string& spec);

// True if `s` has the shape of a table specifier ("<options>:<file>" with only Kaldi option words
// before the first ':'), so a caller can tell it from a plain path. Says nothing about validity.
bool LooksLikeKaldiSpecifier(const std::string& s);

// Reads one Kaldi object (binary with its "\0B" header, or text) from `in` as a float matrix.
// `name` names the stream in errors; `offset` is the byte offset of the stream's current position in
// that file (for error messages only).
Matrix ReadKaldiMatrix(std::istream& in, const std::string& name, uint64_t offset = 0);

// How matrices are written.
struct KaldiWriteOptions {
  bool double_precision = false;  // binary only: write "DM" (float64) instead of "FM" (float32)
};

// Writes `m` as one Kaldi object: binary ("\0B" header included) or text.
void WriteKaldiMatrix(std::ostream& out, const Matrix& m, bool binary, const KaldiWriteOptions& options = {});

// Reads (key, matrix) pairs in order from an rspecifier, one entry at a time.
class KaldiMatrixReader {
 public:
  // Opens `rspecifier`; `standard_input` is what "-" reads (default std::cin). Throws Error for a
  // malformed specifier or a file that cannot be opened.
  explicit KaldiMatrixReader(const std::string& rspecifier, std::istream* standard_input = nullptr);
  // Reads an archive from `archive` (not owned, must outlive the reader), named `name` in errors.
  KaldiMatrixReader(std::istream& archive, const std::string& name);
  ~KaldiMatrixReader();
  KaldiMatrixReader(const KaldiMatrixReader&) = delete;
  KaldiMatrixReader& operator=(const KaldiMatrixReader&) = delete;

  // Reads the next entry into *key and *value; returns false at the end (and on every later call).
  // Throws Error for malformed input; the reader is then unusable.
  bool Next(std::string* key, Matrix* value);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes (key, matrix) pairs to a wspecifier. Files are written atomically: into temporary files
// beside the targets, renamed into place by Close(); a writer destroyed without Close() (an
// exception, a stopped program) removes them and leaves any previous files untouched.
class KaldiMatrixWriter {
 public:
  // Parses `wspecifier` and opens its files; `standard_output` is what "-" writes to (default
  // std::cout). Throws Error for a malformed specifier or unwritable paths.
  explicit KaldiMatrixWriter(const std::string& wspecifier, const KaldiWriteOptions& options = {},
                             std::ostream* standard_output = nullptr);
  ~KaldiMatrixWriter();
  KaldiMatrixWriter(const KaldiMatrixWriter&) = delete;
  KaldiMatrixWriter& operator=(const KaldiMatrixWriter&) = delete;

  // Appends one entry. `key` must be non-empty and free of whitespace and control characters.
  // Throws Error naming the file if it cannot be written.
  void Write(const std::string& key, const Matrix& m);
  // Flushes, syncs and renames the files into place. Throws Error if any byte could not be written.
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slid
