// Kaldi archives and script files: specifier parsing, object reading/writing, sequential reader and
// atomic writer. Byte layouts follow Kaldi (src/base/io-funcs.cc WriteToken/WriteBasicType,
// src/matrix/kaldi-matrix.cc Matrix::Write/Read, src/matrix/compressed-matrix.cc, src/util/kaldi-table.cc
// ClassifyRspecifier/ClassifyWspecifier, src/util/kaldi-table-inl.h for archives, scp lines and ranges).
#include "slid/kaldi_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <vector>

#include "slid/error.h"
#include "slid/feature_io.h"
#include "slid/io.h"
#include "util.h"

// The compressed-matrix decoders must round exactly like Kaldi's: no fused multiply-add.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace slid {
namespace {

static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE-754 float and double expected");
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "kaldi_io.cc reads and writes little-endian data by copying; add byte swapping for big-endian hosts"
#endif

// Limits that tell a damaged header from data: no feature matrix has 2^40 values, no key 4 kB.
constexpr uint64_t kMaxElements = uint64_t{1} << 40;
constexpr size_t kMaxKeyBytes = 4096;
// On a stream of unknown length, values are read in blocks of this many, so a header claiming
// gigabytes allocates only as much as actually arrives.
constexpr uint64_t kReadBlockElements = uint64_t{1} << 20;

// A byte for an error message: printable as itself, anything else as \xNN.
std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

bool IsSpace(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Total length of a seekable stream, or -1 (pipes, terminals). Leaves the position unchanged.
int64_t StreamLength(std::istream& in) {
  std::streambuf* buf = in.rdbuf();
  if (!buf) return -1;
  const auto cur = buf->pubseekoff(0, std::ios::cur, std::ios::in);
  if (cur == std::streampos(-1)) return -1;
  const auto end = buf->pubseekoff(0, std::ios::end, std::ios::in);
  buf->pubseekpos(cur, std::ios::in);
  if (end == std::streampos(-1)) return -1;
  return static_cast<int64_t>(end);
}

// An input stream that knows its byte offset in the file it reads (for error messages) and, if it
// is seekable, how many bytes remain (to refuse headers claiming more data than there is).
class ByteSource {
 public:
  // `offset` is the file offset of `in`'s current position; `length` the file's length or -1.
  ByteSource(std::istream& in, std::string name, uint64_t offset, int64_t length)
      : in_(in), name_(std::move(name)), pos_(offset), length_(length) {}

  int Peek() { return in_.peek(); }
  int Get() {
    const int c = in_.get();
    if (c != std::char_traits<char>::eof()) ++pos_;
    return c;
  }
  void Read(char* dst, uint64_t n, const std::string& what) {
    const uint64_t at = pos_;
    in_.read(dst, static_cast<std::streamsize>(n));
    const uint64_t got = static_cast<uint64_t>(in_.gcount());
    pos_ += got;
    if (got != n)
      FailAt(at, "truncated " + what + ": " + std::to_string(n) + " bytes expected, " + std::to_string(got) +
                     " present");
  }
  // Bytes left, or -1 if unknown.
  int64_t Remaining() const {
    if (length_ < 0) return -1;
    return length_ > static_cast<int64_t>(pos_) ? length_ - static_cast<int64_t>(pos_) : 0;
  }
  uint64_t pos() const { return pos_; }
  const std::string& name() const { return name_; }
  [[noreturn]] void FailAt(uint64_t at, const std::string& what) const {
    ThrowFileError(name_, "offset " + std::to_string(at) + ": " + what);
  }

 private:
  std::istream& in_;
  std::string name_;
  uint64_t pos_;
  int64_t length_;
};

constexpr int kEof = std::char_traits<char>::eof();

// A binary token: up to the next space, which is consumed (Kaldi's ReadToken).
std::string ReadBinaryToken(ByteSource& s) {
  const uint64_t at = s.pos();
  std::string tok;
  for (;;) {
    const int c = s.Get();
    if (c == kEof) s.FailAt(at, "truncated: expected an object type token (FM, DM, CM, CM2, CM3, FV, DV)");
    if (c == ' ') break;
    tok.push_back(static_cast<char>(c));
    if (tok.size() > 4 || c < 0x20 || c >= 0x7f)
      s.FailAt(at, "expected an object type token (FM, DM, CM, CM2, CM3, FV, DV), got '" + Printable(tok) + "'");
  }
  return tok;
}

// An int32 as Kaldi's WriteBasicType writes it in binary: a size byte (4) then 4 little-endian bytes.
int32_t ReadInt32(ByteSource& s, const std::string& what) {
  const uint64_t at = s.pos();
  const int len = s.Get();
  if (len == kEof) s.FailAt(at, "truncated: expected " + what);
  if (len == 0xfc) s.FailAt(at, what + " is big-endian (size byte -4): not supported");
  if (len != 4) s.FailAt(at, "expected " + what + " (size byte 4), got byte " + std::to_string(len));
  char b[4];
  s.Read(b, 4, what);
  int32_t v;
  std::memcpy(&v, b, 4);
  return v;
}

// Checks a rows x cols header and returns the element count.
uint64_t CheckSize(ByteSource& s, uint64_t at, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0)
    s.FailAt(at, "negative size " + std::to_string(rows) + " x " + std::to_string(cols));
  const uint64_t r = static_cast<uint64_t>(rows), c = static_cast<uint64_t>(cols);
  if (c != 0 && r > kMaxElements / c)
    s.FailAt(at, "implausible size " + std::to_string(rows) + " x " + std::to_string(cols));
  return r * c;
}

// Reads `count` values of T. If the stream's length is known, a count larger than what remains fails
// before allocating; otherwise the buffer grows block by block as data arrives.
template <typename T>
std::vector<T> ReadValues(ByteSource& s, uint64_t at, uint64_t count, const std::string& what) {
  const int64_t remaining = s.Remaining();
  if (remaining >= 0 && count > static_cast<uint64_t>(remaining) / sizeof(T))
    s.FailAt(at, "truncated " + what + ": " + std::to_string(count * sizeof(T)) + " bytes of data expected, " +
                     std::to_string(remaining) + " present");
  std::vector<T> v;
  if (remaining >= 0) {
    v.resize(count);
    s.Read(reinterpret_cast<char*>(v.data()), count * sizeof(T), what);
    return v;
  }
  while (v.size() < count) {
    const uint64_t done = v.size(), n = std::min<uint64_t>(count - done, kReadBlockElements);
    v.resize(done + n);
    s.Read(reinterpret_cast<char*>(v.data() + done), n * sizeof(T), what);
  }
  return v;
}

template <typename T>
Matrix ToMatrix(const std::vector<T>& v, int64_t rows, int64_t cols) {
  Matrix m(rows, cols);
  for (size_t i = 0; i < v.size(); ++i) m.data()[i] = static_cast<float>(v[i]);
  return m;
}

// Kaldi's CompressedMatrix (src/matrix/compressed-matrix.{h,cc}). After the token: GlobalHeader
// without its format field {float min_value, float range, int32 num_rows, int32 num_cols}, then
//   CM  (kOneByteWithColHeaders): num_cols PerColHeader {uint16 p0, p25, p75, p100}, then uint8
//       values column by column, decoded piecewise-linearly between the column's percentiles;
//   CM2 (kTwoByte): uint16 values row by row, min_value + v * range / 65535;
//   CM3 (kOneByte): uint8 values row by row, min_value + v * range / 255.
// The arithmetic below is Kaldi's, operation for operation (float, except the double constants).
Matrix ReadCompressed(ByteSource& s, const std::string& token, uint64_t token_at) {
  if (token != "CM" && token != "CM2" && token != "CM3")
    s.FailAt(token_at, "unknown compressed matrix type '" + Printable(token) + "' (expected CM, CM2 or CM3)");
  const uint64_t at = s.pos();
  char h[16];
  s.Read(h, 16, token + " header");
  float min_value, range;
  int32_t rows, cols;
  std::memcpy(&min_value, h, 4);
  std::memcpy(&range, h + 4, 4);
  std::memcpy(&rows, h + 8, 4);
  std::memcpy(&cols, h + 12, 4);
  if (cols == 0 && rows >= 0) return Matrix(0, 0);  // Kaldi's empty compressed matrix
  const uint64_t count = CheckSize(s, at, rows, cols);
  if (!std::isfinite(min_value) || !std::isfinite(range))
    s.FailAt(at, token + " header has a non-finite minimum or range");
  const std::string what = token + " data of " + std::to_string(rows) + " x " + std::to_string(cols);
  // The matrix is allocated only after its data has been read: a header cannot make us allocate
  // more than the stream holds.
  Matrix m;
  if (token == "CM") {
    const std::vector<uint16_t> col_headers = ReadValues<uint16_t>(s, at, 4 * static_cast<uint64_t>(cols), what);
    const std::vector<uint8_t> bytes = ReadValues<uint8_t>(s, at, count, what);
    m.resize(rows, cols);
    auto to_float = [&](uint16_t v) { return min_value + range * 1.52590218966964e-05F * v; };  // Uint16ToFloat
    for (int32_t c = 0; c < cols; ++c) {
      const float p0 = to_float(col_headers[4 * c]), p25 = to_float(col_headers[4 * c + 1]),
                  p75 = to_float(col_headers[4 * c + 2]), p100 = to_float(col_headers[4 * c + 3]);
      const uint8_t* col = bytes.data() + static_cast<size_t>(c) * rows;
      for (int32_t r = 0; r < rows; ++r) {
        const int value = col[r];  // CharToFloat
        float f;
        if (value <= 64)
          f = p0 + (p25 - p0) * value * (1 / 64.0f);
        else if (value <= 192)
          f = p25 + (p75 - p25) * (value - 64) * (1 / 128.0f);
        else
          f = p75 + (p100 - p75) * (value - 192) * (1 / 63.0f);
        m(r, c) = f;
      }
    }
  } else if (token == "CM2") {
    const std::vector<uint16_t> v = ReadValues<uint16_t>(s, at, count, what);
    m.resize(rows, cols);
    const float increment = static_cast<float>(range * (1.0 / 65535.0));
    for (size_t i = 0; i < v.size(); ++i) m.data()[i] = min_value + v[i] * increment;
  } else {  // CM3
    const std::vector<uint8_t> v = ReadValues<uint8_t>(s, at, count, what);
    m.resize(rows, cols);
    const float increment = static_cast<float>(range * (1.0 / 255.0));
    for (size_t i = 0; i < v.size(); ++i) m.data()[i] = min_value + v[i] * increment;
  }
  return m;
}

// After "\0B": FM, DM, CM, CM2, CM3, FV or DV.
Matrix ReadBinaryObject(ByteSource& s) {
  const uint64_t token_at = s.pos();
  const std::string token = ReadBinaryToken(s);
  if (!token.empty() && token[0] == 'C') return ReadCompressed(s, token, token_at);
  const bool is_float = token == "FM" || token == "FV", is_double = token == "DM" || token == "DV";
  if (!is_float && !is_double)
    s.FailAt(token_at, "expected an object type token (FM, DM, CM, CM2, CM3, FV, DV), got '" + Printable(token) + "'");
  const bool vector = token[1] == 'V';
  const uint64_t at = s.pos();
  int64_t rows = 1, cols;
  if (vector) {
    cols = ReadInt32(s, "the vector size");
  } else {
    rows = ReadInt32(s, "the row count");
    cols = ReadInt32(s, "the column count");
  }
  if (vector && cols == 0) rows = 0;
  if (rows > 0 && cols == 0)
    s.FailAt(at, "size " + std::to_string(rows) + " x 0: a matrix without values must be 0 x 0 (as Kaldi requires)");
  const uint64_t count = CheckSize(s, at, rows, cols);
  const std::string what = token + " data of " + (vector ? std::to_string(cols) + " values"
                                                          : std::to_string(rows) + " x " + std::to_string(cols));
  // 0 x n is kept as it is (Kaldi itself never writes it: its empty matrix is 0 x 0).
  if (is_float) return ToMatrix(ReadValues<float>(s, at, count, what), rows, cols);
  return ToMatrix(ReadValues<double>(s, at, count, what), rows, cols);
}

// Text: "[", values, newlines between rows, "]" (Kaldi's Matrix::Read in text mode).
Matrix ReadTextObject(ByteSource& s) {
  int c;
  while (IsSpace(c = s.Peek())) s.Get();
  const uint64_t at = s.pos();
  if (c == kEof) s.FailAt(at, "truncated: expected '[' (a text matrix) or a binary object");
  if (c != '[') s.FailAt(at, "expected '[' (a text matrix) or \\0B (a binary object), got '" + Printable(std::string(1, static_cast<char>(c))) + "'");
  s.Get();
  std::vector<float> values;
  int64_t rows = 0, cols = -1, row_len = 0;
  uint64_t row_at = s.pos();
  auto end_row = [&] {
    if (row_len == 0) return;
    if (cols < 0) cols = row_len;
    if (row_len != cols)
      s.FailAt(row_at, "row " + std::to_string(rows + 1) + " has " + std::to_string(row_len) +
                           " values, the first row has " + std::to_string(cols));
    ++rows;
    row_len = 0;
  };
  std::string tok;
  for (;;) {
    c = s.Peek();
    if (c == kEof) s.FailAt(at, "unterminated text matrix (no ']')");
    if (c == ' ' || c == '\t' || c == '\r') {
      s.Get();
    } else if (c == '\n') {
      s.Get();
      end_row();
      row_at = s.pos();
    } else if (c == ']') {
      s.Get();
      end_row();
      break;
    } else {
      const uint64_t num_at = s.pos();
      tok.clear();
      while ((c = s.Peek()) != kEof && !IsSpace(c) && c != ']' && tok.size() < 64) tok.push_back(static_cast<char>(s.Get()));
      float v = 0;
      const char* b = tok.data();
      if (!tok.empty() && tok[0] == '+') ++b;  // from_chars takes no '+'; iostreams (Kaldi) do
      const auto [ptr, ec] = std::from_chars(b, tok.data() + tok.size(), v);
      if (ec != std::errc() || ptr != tok.data() + tok.size())
        s.FailAt(num_at, "bad number '" + Printable(tok) + "' in text matrix");
      values.push_back(v);
      ++row_len;
    }
  }
  if (rows == 0) return Matrix(0, 0);
  Matrix m(rows, cols);
  std::copy(values.begin(), values.end(), m.data());
  return m;
}

Matrix ReadObject(ByteSource& s) {
  if (s.Peek() == '\0') {
    const uint64_t at = s.pos();
    s.Get();
    if (s.Get() != 'B') s.FailAt(at, "bad binary header (expected \\0B)");
    return ReadBinaryObject(s);
  }
  return ReadTextObject(s);
}

// Splits the part of a specifier before ':' into its comma- (or space-) separated words. Empty words
// (",," or ", ") are kept and so refused, as Kaldi does.
std::vector<std::string> SpecifierWords(const std::string& before_colon) {
  std::vector<std::string> words(1);
  for (char c : before_colon) {
    if (c == ',' || c == ' ')
      words.emplace_back();
    else
      words.back().push_back(c);
  }
  return words;
}

bool IsCommand(const std::string& file) {
  const size_t b = file.find_first_not_of(" \t"), e = file.find_last_not_of(" \t");
  return b != std::string::npos && (file[b] == '|' || file[e] == '|');
}

void CheckSpecFile(const std::string& spec, const std::string& file, const char* kind) {
  if (file.empty()) throw Error("'" + spec + "' is not a Kaldi " + kind + ": no file name after ':'");
  if (IsCommand(file))
    throw Error("'" + spec + "': commands ('cmd |', '| cmd') are not run; write to or read from a file or '-'");
}

void CheckKey(const std::string& key) {
  bool ok = !key.empty();
  for (unsigned char c : key) ok = ok && c > 0x20 && c != 0x7f;
  if (!ok) throw Error("Kaldi archive key must be non-empty, without whitespace or control characters: '" + Printable(key) + "'");
}

// The ".tmp.<pid>" file beside `path`, as WriteFileAtomically names it.
std::string TempName(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }

// Applies an scp range "[r1:r2]" / "[r1:r2,c1:c2]" (inclusive; ":" = all) as Kaldi's
// ParseMatrixRangeSpecifier does: the row end may pass the last row by up to 2 (frame-count rounding
// between segment times and features), and is then clipped.
Matrix ApplyRange(const Matrix& m, const std::string& range, const std::string& where) {
  auto bad = [&](const std::string& why) -> Error {
    return Error(where + ": range '" + range + "' " + why + " (matrix is " + std::to_string(m.rows()) + " x " +
                 std::to_string(m.cols()) + ")");
  };
  const std::string inside = range.substr(1, range.size() - 2);
  std::vector<std::string> parts(1);
  for (char c : inside) {
    if (c == ',')
      parts.emplace_back();
    else
      parts.back().push_back(c);
  }
  if (parts.size() > 2) throw bad("has more than two parts");
  long long lo[2] = {0, 0}, hi[2] = {m.rows() - 1, m.cols() - 1};
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p == ":") continue;
    const size_t colon = p.find(':');
    if (p.empty() || colon == std::string::npos) throw bad("is malformed: expected [r1:r2] or [r1:r2,c1:c2]");
    auto num = [&](const std::string& t, long long* v) {
      const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), *v);
      if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) throw bad("is malformed: '" + t + "' is not an integer");
    };
    num(p.substr(0, colon), &lo[i]);
    num(p.substr(colon + 1), &hi[i]);
  }
  if (lo[0] < 0 || lo[0] > hi[0] || hi[0] >= m.rows() + 3) throw bad("selects rows outside the matrix");
  if (lo[1] < 0 || lo[1] > hi[1] || hi[1] >= m.cols()) throw bad("selects columns outside the matrix");
  hi[0] = std::min<long long>(hi[0], m.rows() - 1);
  if (lo[0] > hi[0]) throw bad("selects rows outside the matrix");
  return m.block(lo[0], lo[1], hi[0] - lo[0] + 1, hi[1] - lo[1] + 1);
}

// Kaldi's CompressedMatrix::CopyFromMat with kAutomaticMethod (src/matrix/compressed-matrix.cc),
// operation for operation so that the bytes match: ComputeGlobalHeader, FloatToUint16,
// ComputeColHeader, FloatToChar.
struct CompressHeader {
  float min_value, range;
};

// float -> int as Kaldi's static_cast<int>, then clamped to [lo, hi]; NaN (a zero-width percentile
// interval in float, which Kaldi's own code turns into undefined behaviour) and values out of int's
// range go to the nearer bound instead of being converted.
int ClampedInt(double x, int lo, int hi) {
  if (!(x > lo)) return lo;  // also NaN
  if (x >= hi) return hi;
  return std::min(std::max(static_cast<int>(x), lo), hi);
}

uint16_t FloatToUint16(const CompressHeader& h, float value) {
  float f = (value - h.min_value) / h.range;
  if (f > 1.0) f = 1.0;
  if (!(f >= 0.0)) f = 0.0;
  return static_cast<uint16_t>(static_cast<int>(f * 65535 + 0.499));
}

float Uint16ToFloat(const CompressHeader& h, uint16_t value) { return h.min_value + h.range * 1.52590218966964e-05F * value; }

uint8_t FloatToChar(float p0, float p25, float p75, float p100, float value) {
  int ans;
  if (value < p25) {
    const float f = (value - p0) / (p25 - p0);
    ans = ClampedInt(f * 64 + 0.5, 0, 64);
  } else if (value < p75) {
    const float f = (value - p25) / (p75 - p25);
    ans = 64 + ClampedInt(f * 128 + 0.5, 0, 128);
  } else {
    const float f = (value - p75) / (p100 - p75);
    ans = 192 + ClampedInt(f * 63 + 0.5, 0, 63);
  }
  return static_cast<uint8_t>(ans);
}

// The object after "\0B" for a non-empty matrix: token, GlobalHeader without format, data.
std::string CompressMatrix(const Matrix& m) {
  if (!m.allFinite()) throw Error("cannot compress a matrix holding NaN or infinity");
  const int32_t rows = static_cast<int32_t>(m.rows()), cols = static_cast<int32_t>(m.cols());
  float min_value = m.minCoeff(), max_value = m.maxCoeff();
  if (max_value == min_value) max_value = static_cast<float>(min_value + (1.0 + std::fabs(min_value)));
  const CompressHeader h{min_value, max_value - min_value};
  // Far from any feature value, and keeps Kaldi's arithmetic (range x 65535 / 65535) from overflowing.
  if (!(std::max(std::fabs(min_value), std::fabs(max_value)) <= 1e30f) || !(h.range > 0))
    throw Error("cannot compress a matrix with values beyond +-1e30");
  const bool speech = rows > 8;  // kSpeechFeature (CM), else kTwoByteAuto (CM2)
  std::string out = speech ? "CM " : "CM2 ";
  out.append(reinterpret_cast<const char*>(&h.min_value), 4);
  out.append(reinterpret_cast<const char*>(&h.range), 4);
  out.append(reinterpret_cast<const char*>(&rows), 4);
  out.append(reinterpret_cast<const char*>(&cols), 4);
  if (!speech) {
    for (int32_t r = 0; r < rows; ++r)
      for (int32_t c = 0; c < cols; ++c) {
        const uint16_t v = FloatToUint16(h, m(r, c));
        out.append(reinterpret_cast<const char*>(&v), 2);
      }
    return out;
  }
  std::string bytes;
  bytes.reserve(static_cast<size_t>(rows) * cols);
  std::vector<float> col(rows), sorted(rows);
  const int32_t q = rows / 4;  // rows > 8, so Kaldi's num_rows >= 5 branch
  for (int32_t c = 0; c < cols; ++c) {
    for (int32_t r = 0; r < rows; ++r) col[r] = m(r, c);
    sorted = col;
    std::sort(sorted.begin(), sorted.end());  // the same order statistics Kaldi's nth_element calls pick
    uint16_t p[4];
    p[0] = std::min<uint16_t>(FloatToUint16(h, sorted[0]), 65532);
    p[1] = std::min<uint16_t>(std::max<uint16_t>(FloatToUint16(h, sorted[q]), p[0] + 1), 65533);
    p[2] = std::min<uint16_t>(std::max<uint16_t>(FloatToUint16(h, sorted[3 * q]), p[1] + 1), 65534);
    p[3] = std::max<uint16_t>(FloatToUint16(h, sorted[rows - 1]), p[2] + 1);
    out.append(reinterpret_cast<const char*>(p), 8);
    const float p0 = Uint16ToFloat(h, p[0]), p25 = Uint16ToFloat(h, p[1]), p75 = Uint16ToFloat(h, p[2]),
                p100 = Uint16ToFloat(h, p[3]);
    for (int32_t r = 0; r < rows; ++r) bytes.push_back(static_cast<char>(FloatToChar(p0, p25, p75, p100, col[r])));
  }
  return out + bytes;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Specifiers

bool LooksLikeKaldiSpecifier(const std::string& s) {
  const size_t colon = s.find(':');
  if (colon == std::string::npos) return false;
  static const char* const kWords[] = {"ark", "scp", "b", "t", "f", "nf", "p", "np", "s", "ns", "cs", "ncs", "o", "no", "bg"};
  bool table = false;
  for (const std::string& w : SpecifierWords(s.substr(0, colon))) {
    if (std::find_if(std::begin(kWords), std::end(kWords), [&](const char* k) { return w == k; }) == std::end(kWords))
      return false;
    table = table || w == "ark" || w == "scp";
  }
  return table;
}

KaldiRspecifier ParseKaldiRspecifier(const std::string& spec) {
  const std::string usage = "'" + spec + "' is not a Kaldi rspecifier (expected ark:FILE, scp:FILE, ark:- or scp:-)";
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) throw Error(usage);
  if (!spec.empty() && IsSpace(static_cast<unsigned char>(spec.back()))) throw Error(usage + ": trailing space");
  KaldiRspecifier r;
  bool kind_seen = false;
  for (const std::string& w : SpecifierWords(spec.substr(0, colon))) {
    if (w == "ark" || w == "scp") {
      if (kind_seen) throw Error(usage + ": give exactly one of ark and scp");
      kind_seen = true;
      r.script = w == "scp";
    } else if (w == "b" || w == "t" || w == "o" || w == "no" || w == "p" || w == "np" || w == "s" || w == "ns" ||
               w == "cs" || w == "ncs" || w == "bg") {
      // Kaldi's reading options: binary/text is detected, and slid reads every table sequentially.
    } else {
      throw Error(usage + ": unknown option '" + w + "'");
    }
  }
  if (!kind_seen) throw Error(usage + ": no ark or scp");
  r.path = spec.substr(colon + 1);
  CheckSpecFile(spec, r.path, "rspecifier");
  return r;
}

KaldiWspecifier ParseKaldiWspecifier(const std::string& spec) {
  const std::string usage =
      "'" + spec + "' is not a Kaldi wspecifier (expected ark:FILE, ark,t:FILE, ark,scp:ARK,SCP or ark:-)";
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) throw Error(usage);
  if (!spec.empty() && IsSpace(static_cast<unsigned char>(spec.back()))) throw Error(usage + ": trailing space");
  KaldiWspecifier w;
  bool ark = false, scp = false;
  for (const std::string& word : SpecifierWords(spec.substr(0, colon))) {
    if (word == "ark") {
      if (ark || scp) throw Error(usage + ": 'ark' must come first, once");
      ark = true;
    } else if (word == "scp") {
      if (scp) throw Error(usage + ": 'scp' given twice");
      scp = true;
    } else if (word == "b") {
      w.binary = true;
    } else if (word == "t") {
      w.binary = false;
    } else if (word == "f") {
      w.flush = true;
    } else if (word == "nf") {
      w.flush = false;
    } else if (word == "p") {
      // permissive: nothing to relax when writing
    } else {
      throw Error(usage + ": unknown option '" + word + "'");
    }
  }
  const std::string files = spec.substr(colon + 1);
  if (!ark && scp)
    throw Error("'" + spec + "': writing through an existing scp file (scp:FILE) is not supported; use ark,scp:ARK,SCP");
  if (!ark) throw Error(usage + ": no ark");
  if (scp) {
    const size_t comma = files.find(',');
    if (comma == std::string::npos) throw Error(usage + ": ark,scp needs two files, ark,scp:ARK,SCP");
    w.ark_path = files.substr(0, comma);
    w.scp_path = files.substr(comma + 1);
    CheckSpecFile(spec, w.scp_path, "wspecifier");
    if (w.ark_path == "-") throw Error("'" + spec + "': the archive of ark,scp must be a file, not standard output");
  } else {
    w.ark_path = files;
  }
  CheckSpecFile(spec, w.ark_path, "wspecifier");
  return w;
}

// ---------------------------------------------------------------------------------------------------
// Single objects

Matrix ReadKaldiMatrix(std::istream& in, const std::string& name, uint64_t offset) {
  int64_t length = StreamLength(in);
  if (length >= 0) {
    const auto cur = in.rdbuf()->pubseekoff(0, std::ios::cur, std::ios::in);
    length = length - static_cast<int64_t>(cur) + static_cast<int64_t>(offset);
  }
  ByteSource s(in, name, offset, length);
  return ReadObject(s);
}

void WriteKaldiMatrix(std::ostream& out, const Matrix& m, bool binary, const KaldiWriteOptions& options) {
  if (!binary) {
    // Same layout as WriteKaldiTextEntry after its key: " [\n  v v \n  v v ]\n".
    std::ostringstream text;
    WriteKaldiTextEntry(text, "k", m);
    const std::string t = text.str();
    out.write(t.data() + 2, static_cast<std::streamsize>(t.size() - 2));
    return;
  }
  if (m.rows() > std::numeric_limits<int32_t>::max() || m.cols() > std::numeric_limits<int32_t>::max())
    throw Error("matrix of " + std::to_string(m.rows()) + " x " + std::to_string(m.cols()) + " is too large for a Kaldi archive");
  // InitKaldiOutputStream ("\0B"), WriteToken ("FM "), WriteBasicType (size byte + int32) twice.
  // A matrix without values is written 0 x 0: Kaldi cannot hold 0 x n (Matrix::Resize asserts).
  std::string h("\0B", 2);
  const bool empty = m.size() == 0;
  if (options.compress && !empty) {
    h += CompressMatrix(m);
    out.write(h.data(), static_cast<std::streamsize>(h.size()));
    return;
  }
  h += options.double_precision ? "DM " : "FM ";
  for (int32_t v : {static_cast<int32_t>(empty ? 0 : m.rows()), static_cast<int32_t>(empty ? 0 : m.cols())}) {
    h.push_back('\x04');
    h.append(reinterpret_cast<const char*>(&v), 4);
  }
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  if (!options.double_precision) {
    out.write(reinterpret_cast<const char*>(m.data()), static_cast<std::streamsize>(m.size() * sizeof(float)));
  } else {
    std::vector<double> row(static_cast<size_t>(m.cols()));
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      for (Eigen::Index c = 0; c < m.cols(); ++c) row[c] = m(r, c);
      out.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(row.size() * sizeof(double)));
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Reader

struct KaldiMatrixReader::Impl {
  // Archive mode: the stream (owned file, std::cin, or the caller's) and its position.
  std::unique_ptr<std::ifstream> owned;
  std::istream* archive = nullptr;
  std::unique_ptr<ByteSource> source;
  // Script mode.
  bool script = false;
  std::string scp_name;
  std::ifstream scp_file;
  std::istream* scp = nullptr;  // scp_file, or standard input
  std::string scp_text_line;
  int line = 0;
  std::string open_path;  // the archive an scp entry last pointed into, kept open for the next
  std::ifstream open_file;
  int64_t open_length = -1;
  bool done = false;

  bool NextArchive(std::string* key, Matrix* value) {
    ByteSource& s = *source;
    int c;
    while (IsSpace(c = s.Peek())) s.Get();
    if (c == kEof) return false;
    const uint64_t key_at = s.pos();
    key->clear();
    while ((c = s.Peek()) != kEof && !IsSpace(c)) {
      key->push_back(static_cast<char>(s.Get()));
      if (key->size() > kMaxKeyBytes) s.FailAt(key_at, "key longer than 4096 bytes: not a Kaldi archive?");
    }
    if (c == kEof) s.FailAt(s.pos(), "truncated after key '" + Printable(*key) + "'");
    if (c == ' ' || c == '\t')
      s.Get();
    else if (c != '\n')
      s.FailAt(s.pos(), "expected a space after key '" + Printable(*key) + "'");
    *value = ReadObject(s);
    return true;
  }

  bool NextScript(std::string* key, Matrix* value) {
    std::string& text = scp_text_line;
    for (;;) {
      if (!std::getline(*scp, text)) {
        if (scp->bad()) ThrowFileError(scp_name, "read failed: " + ErrnoText());
        return false;
      }
      ++line;
      if (text.find_first_not_of(" \t\r") != std::string::npos) break;
    }
    const std::string where = scp_name + ": line " + std::to_string(line);
    const size_t kb = text.find_first_not_of(" \t\r");
    const size_t ke = text.find_first_of(" \t\r", kb);
    *key = text.substr(kb, ke == std::string::npos ? std::string::npos : ke - kb);
    std::string rx;
    if (ke != std::string::npos) {
      const size_t rb = text.find_first_not_of(" \t\r", ke);
      if (rb != std::string::npos) rx = text.substr(rb, text.find_last_not_of(" \t\r") - rb + 1);
    }
    if (rx.empty()) throw Error(where + ": no file after key '" + Printable(*key) + "'");
    if (IsCommand(rx)) throw Error(where + ": '" + rx + "': commands in scp files are not run");
    std::string range;
    if (rx.back() == ']') {
      const size_t open = rx.rfind('[');
      if (open == std::string::npos || open == 0) throw Error(where + ": '" + rx + "': unmatched ']'");
      range = rx.substr(open);
      rx.erase(open);
    }
    uint64_t offset = 0;
    std::string path = rx;
    const size_t colon = rx.rfind(':');
    if (colon != std::string::npos && colon > 0 && colon + 1 < rx.size() &&
        rx.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
      const auto [ptr, ec] = std::from_chars(rx.data() + colon + 1, rx.data() + rx.size(), offset);
      if (ec != std::errc()) throw Error(where + ": '" + rx + "': offset out of range");
      path = rx.substr(0, colon);
    }
    if (path == "-") throw Error(where + ": standard input ('-') cannot be an scp entry");
    if (path != open_path || !open_file.is_open()) {
      open_file.close();
      open_file.clear();
      open_path.clear();
      open_file.open(path, std::ios::binary);
      if (!open_file) throw Error(where + ": " + path + ": cannot open: " + ErrnoText());
      open_path = path;
      open_length = StreamLength(open_file);
    }
    open_file.clear();
    if (open_length >= 0 && offset >= static_cast<uint64_t>(open_length))
      throw Error(where + ": " + path + ": offset " + std::to_string(offset) + " is at or past the end of the file (" +
                  std::to_string(open_length) + " bytes)");
    open_file.seekg(static_cast<std::streamoff>(offset));
    if (!open_file) throw Error(where + ": " + path + ": cannot seek to offset " + std::to_string(offset));
    try {
      ByteSource s(open_file, path, offset, open_length);
      *value = ReadObject(s);
      if (!range.empty()) *value = ApplyRange(*value, range, path);
    } catch (const Error& e) {
      throw Error(where + ": " + e.what());
    }
    return true;
  }
};

KaldiMatrixReader::KaldiMatrixReader(const std::string& rspecifier, std::istream* standard_input)
    : impl_(std::make_unique<Impl>()) {
  const KaldiRspecifier r = ParseKaldiRspecifier(rspecifier);
  std::istream* in = standard_input ? standard_input : &std::cin;
  const bool from_stdin = r.path == "-";
  const std::string name = from_stdin ? "standard input" : r.path;
  std::istream* stream = in;
  if (!from_stdin) {
    auto file = std::make_unique<std::ifstream>(r.path, std::ios::binary);
    if (!*file) ThrowFileError(r.path, "cannot open: " + ErrnoText());
    stream = file.get();
    if (r.script)
      impl_->scp_file.swap(*file);
    else
      impl_->owned = std::move(file);
  }
  if (r.script) {
    impl_->script = true;
    impl_->scp_name = name;
    impl_->scp = from_stdin ? in : &impl_->scp_file;
  } else {
    impl_->archive = impl_->owned ? impl_->owned.get() : stream;
    impl_->source = std::make_unique<ByteSource>(*impl_->archive, name, 0, from_stdin ? -1 : StreamLength(*impl_->archive));
  }
}

KaldiMatrixReader::KaldiMatrixReader(std::istream& archive, const std::string& name)
    : impl_(std::make_unique<Impl>()) {
  impl_->archive = &archive;
  int64_t length = StreamLength(archive);
  if (length >= 0) length -= static_cast<int64_t>(archive.rdbuf()->pubseekoff(0, std::ios::cur, std::ios::in));
  impl_->source = std::make_unique<ByteSource>(archive, name, 0, length);
}

KaldiMatrixReader::~KaldiMatrixReader() = default;

bool KaldiMatrixReader::Next(std::string* key, Matrix* value) {
  if (impl_->done) return false;
  bool more = false;
  try {
    more = impl_->script ? impl_->NextScript(key, value) : impl_->NextArchive(key, value);
  } catch (...) {
    impl_->done = true;
    throw;
  }
  if (!more) impl_->done = true;
  return more;
}

// ---------------------------------------------------------------------------------------------------
// Writer

namespace {

// One output file written atomically: a temporary file beside it, renamed into place by Commit().
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path) : path_(path), tmp_(TempName(path)) {
    CheckOutputWritable(path);
    RegisterTempFile(tmp_);
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!out_) {
      UnregisterTempFile(tmp_);
      ThrowFileError(path_, "cannot open for writing: " + ErrnoText());
    }
  }
  ~AtomicFile() {
    if (!committed_) {
      out_.close();
      std::remove(tmp_.c_str());
      UnregisterTempFile(tmp_);
    }
  }
  std::ostream& stream() { return out_; }
  const std::string& path() const { return path_; }
  void Commit() {
    out_.flush();
    if (!out_) ThrowFileError(path_, "write failed (disk full?): " + ErrnoText());
    out_.close();
    if (out_.fail()) ThrowFileError(path_, "write failed on close (disk full?): " + ErrnoText());
    if (!SyncFile(tmp_)) ThrowFileError(path_, "cannot sync to disk: " + ErrnoText());
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) ThrowFileError(path_, "cannot rename into place: " + ErrnoText());
    UnregisterTempFile(tmp_);
    committed_ = true;
  }

 private:
  std::string path_, tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

}  // namespace

struct KaldiMatrixWriter::Impl {
  KaldiWspecifier spec;
  KaldiWriteOptions options;
  std::unique_ptr<AtomicFile> ark_file, scp_file;
  std::ostream* ark = nullptr;  // ark_file's stream or standard output
  std::ostream* scp = nullptr;  // scp_file's stream, standard output, or none
  std::string ark_name, scp_name;
  uint64_t ark_pos = 0;          // bytes written to the archive so far: the next entry's offset
  bool closed = false;
  std::string buffer;

  void Check(std::ostream& out, const std::string& name) {
    if (!out) ThrowFileError(name, "write failed (disk full or closed pipe?): " + ErrnoText());
  }
};

KaldiMatrixWriter::KaldiMatrixWriter(const std::string& wspecifier, const KaldiWriteOptions& options,
                                     std::ostream* standard_output)
    : impl_(std::make_unique<Impl>()) {
  Impl& w = *impl_;
  w.spec = ParseKaldiWspecifier(wspecifier);
  w.options = options;
  std::ostream* out = standard_output ? standard_output : &std::cout;
  if (w.spec.ark_path == "-") {
    w.ark = out;
    w.ark_name = "standard output";
  } else {
    w.ark_file = std::make_unique<AtomicFile>(w.spec.ark_path);
    w.ark = &w.ark_file->stream();
    w.ark_name = w.spec.ark_path;
  }
  if (w.spec.scp_path == "-") {
    w.scp = out;
    w.scp_name = "standard output";
  } else if (!w.spec.scp_path.empty()) {
    w.scp_file = std::make_unique<AtomicFile>(w.spec.scp_path);
    w.scp = &w.scp_file->stream();
    w.scp_name = w.spec.scp_path;
  }
}

KaldiMatrixWriter::~KaldiMatrixWriter() = default;

void KaldiMatrixWriter::Write(const std::string& key, const Matrix& m) {
  Impl& w = *impl_;
  if (w.closed) throw Error(w.ark_name + ": archive already closed");
  CheckKey(key);
  // Kaldi's archive entry: "<key> " then the object; the scp offset points just past the space.
  std::ostringstream obj;
  WriteKaldiMatrix(obj, m, w.spec.binary, w.options);
  w.buffer = key;
  w.buffer.push_back(' ');
  const uint64_t offset = w.ark_pos + w.buffer.size();
  w.buffer += obj.str();
  w.ark->write(w.buffer.data(), static_cast<std::streamsize>(w.buffer.size()));
  w.ark_pos += w.buffer.size();
  const bool flush = w.spec.flush || !w.ark_file;
  if (flush) w.ark->flush();
  w.Check(*w.ark, w.ark_name);
  if (w.scp) {
    const std::string line = key + ' ' + w.spec.ark_path + ':' + std::to_string(offset) + '\n';  // no locale
    w.scp->write(line.data(), static_cast<std::streamsize>(line.size()));
    if (flush || !w.scp_file) w.scp->flush();
    w.Check(*w.scp, w.scp_name);
  }
}

void KaldiMatrixWriter::Close() {
  Impl& w = *impl_;
  if (w.closed) return;
  w.closed = true;
  if (w.ark_file) {
    w.ark_file->Commit();
  } else {
    w.ark->flush();
    w.Check(*w.ark, w.ark_name);
  }
  if (w.scp_file) {
    w.scp_file->Commit();
  } else if (w.scp) {
    w.scp->flush();
    w.Check(*w.scp, w.scp_name);
  }
}

}  // namespace slid
