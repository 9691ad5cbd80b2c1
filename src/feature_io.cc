// .npy and Kaldi text-archive writing/reading for feature matrices.
#include "slid/feature_io.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "slid/error.h"
#include "slid/io.h"
#include "slid/kaldi_io.h"

namespace slid {
namespace {

static_assert(sizeof(float) == 4, "float must be IEEE-754 binary32");
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "feature_io.cc writes '<f4' by copying floats; add byte swapping for big-endian hosts"
#endif

constexpr char kNpyMagic[] = "\x93NUMPY";  // 6 bytes
// numpy pads the header so the data starts on a 64-byte boundary (format.py, ARRAY_ALIGN).
constexpr size_t kNpyAlign = 64;

std::string NpyHeader(Eigen::Index rows, Eigen::Index cols) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                     std::to_string(cols) + "), }";
  // magic(6) + version(2) + header length(2) + dict + padding spaces + '\n' is a multiple of 64.
  const size_t unpadded = 10 + dict.size() + 1;
  dict.append((kNpyAlign - unpadded % kNpyAlign) % kNpyAlign, ' ');
  dict.push_back('\n');
  std::string h(kNpyMagic, 6);
  h.push_back('\x01');
  h.push_back('\x00');
  h.push_back(static_cast<char>(dict.size() & 0xff));
  h.push_back(static_cast<char>((dict.size() >> 8) & 0xff));
  return h + dict;
}

// Finds `'key':` in a .npy header dict and returns the text after it, trimmed of leading spaces.
std::string DictValue(const std::string& dict, const std::string& key, const std::string& name) {
  for (const char q : {'\'', '"'}) {
    const std::string k = std::string(1, q) + key + std::string(1, q);
    size_t p = dict.find(k);
    if (p == std::string::npos) continue;
    p = dict.find(':', p + k.size());
    if (p == std::string::npos) break;
    p = dict.find_first_not_of(" \t", p + 1);
    if (p == std::string::npos) break;
    return dict.substr(p);
  }
  ThrowFileError(name, "not a valid .npy file: header has no '" + key + "'");
}

}  // namespace

void WriteNpy(std::ostream& out, const Matrix& m) {
  const std::string header = NpyHeader(m.rows(), m.cols());
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  // Matrix is row-major, so its storage is already C order.
  out.write(reinterpret_cast<const char*>(m.data()), static_cast<std::streamsize>(m.size() * sizeof(float)));
}

void WriteNpyFile(const std::string& path, const Matrix& m) {
  WriteFileAtomically(path, [&](std::ostream& out) { WriteNpy(out, m); });
}

Matrix ParseNpy(const std::string& bytes, const std::string& name) {
  if (bytes.size() < 10 || bytes.compare(0, 6, kNpyMagic, 6) != 0)
    ThrowFileError(name, "not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) ThrowFileError(name, "truncated .npy header");
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + i]);
    offset = 12;
  } else {
    ThrowFileError(name, "unsupported .npy format version " + std::to_string(major));
  }
  if (bytes.size() < offset + header_len) ThrowFileError(name, "truncated .npy header");
  const std::string dict = bytes.substr(offset, header_len);
  offset += header_len;

  const std::string descr = DictValue(dict, "descr", name);
  if (descr.compare(0, 5, "'<f4'") != 0 && descr.compare(0, 5, "\"<f4\"") != 0)
    ThrowFileError(name, "unsupported .npy dtype " + descr.substr(0, descr.find_first_of(",}")) +
                             " (only '<f4' float32 is read)");
  if (DictValue(dict, "fortran_order", name).compare(0, 5, "False") != 0)
    ThrowFileError(name, "Fortran-order .npy arrays are not supported");
  const std::string shape = DictValue(dict, "shape", name);
  if (shape.empty() || shape[0] != '(') ThrowFileError(name, "malformed .npy shape");
  std::vector<long long> dims;
  size_t p = 1;
  for (;;) {
    p = shape.find_first_not_of(" ,", p);
    if (p == std::string::npos) ThrowFileError(name, "malformed .npy shape");
    if (shape[p] == ')') break;
    long long v = -1;
    auto [next, ec] = std::from_chars(shape.data() + p, shape.data() + shape.size(), v);
    if (ec != std::errc() || v < 0) ThrowFileError(name, "malformed .npy shape");
    dims.push_back(v);
    p = static_cast<size_t>(next - shape.data());
  }
  if (dims.empty() || dims.size() > 2)
    ThrowFileError(name, "expected a 1-D or 2-D .npy array, got " + std::to_string(dims.size()) + " dimensions");
  const long long rows = dims[0], cols = dims.size() == 2 ? dims[1] : 1;
  const unsigned long long count = static_cast<unsigned long long>(rows) * static_cast<unsigned long long>(cols);
  if (cols != 0 && static_cast<unsigned long long>(rows) != count / static_cast<unsigned long long>(cols))
    ThrowFileError(name, "implausible .npy shape");
  const size_t need = static_cast<size_t>(count) * sizeof(float);
  if (bytes.size() - offset < need)
    ThrowFileError(name, "truncated .npy data: " + std::to_string(need) + " bytes expected, " +
                             std::to_string(bytes.size() - offset) + " present");
  Matrix m(rows, cols);
  if (need) std::memcpy(m.data(), bytes.data() + offset, need);
  return m;
}

Matrix ReadNpyFile(const std::string& path) { return ParseNpy(ReadFileToString(path), path); }

void WriteKaldiTextEntry(std::ostream& out, const std::string& utt_id, const Matrix& m) {
  if (utt_id.empty() || utt_id.find_first_of(" \t\n\r\v\f") != std::string::npos)
    throw Error("Kaldi archive key must be non-empty and without whitespace: '" + utt_id + "'");
  // Layout of Kaldi's MatrixBase::Write (text mode) after the key and a space:
  // " [" then per row "\n  v v v " and finally "]\n".
  std::string line;
  char buf[32];
  out << utt_id << "  [";
  if (m.rows() == 0) {
    out << " ]\n";
    return;
  }
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    line.assign("\n  ");
    for (Eigen::Index c = 0; c < m.cols(); ++c) {
      auto res = std::to_chars(buf, buf + sizeof(buf), m(r, c));  // shortest round-trip form
      line.append(buf, res.ptr);
      line.push_back(' ');
    }
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
  }
  out << "]\n";
}

std::vector<std::pair<std::string, Matrix>> ParseKaldiTextArchive(const std::string& text, const std::string& name) {
  std::vector<std::pair<std::string, Matrix>> result;
  size_t p = 0;
  int line = 1;
  auto skip_space = [&] {
    while (p < text.size() && std::isspace(static_cast<unsigned char>(text[p]))) {
      if (text[p] == '\n') ++line;
      ++p;
    }
  };
  auto fail = [&](const std::string& what) { ThrowFileError(name, "line " + std::to_string(line) + ": " + what); };
  for (;;) {
    skip_space();
    if (p >= text.size()) break;
    const size_t key_start = p;
    while (p < text.size() && !std::isspace(static_cast<unsigned char>(text[p]))) ++p;
    std::string key = text.substr(key_start, p - key_start);
    skip_space();
    if (p >= text.size() || text[p] != '[') fail("expected '[' after key '" + key + "'");
    ++p;
    std::vector<std::vector<float>> rows(1);
    for (;;) {
      while (p < text.size() && (text[p] == ' ' || text[p] == '\t' || text[p] == '\r')) ++p;
      if (p >= text.size()) fail("unterminated matrix for key '" + key + "'");
      if (text[p] == '\n') {
        ++line;
        ++p;
        if (!rows.back().empty()) rows.emplace_back();
        continue;
      }
      if (text[p] == ']') {
        ++p;
        break;
      }
      float v = 0;
      auto [next, ec] = std::from_chars(text.data() + p, text.data() + text.size(), v);
      if (ec != std::errc()) fail("bad number in matrix for key '" + key + "'");
      rows.back().push_back(v);
      p = static_cast<size_t>(next - text.data());
    }
    if (rows.back().empty()) rows.pop_back();
    const size_t cols = rows.empty() ? 0 : rows[0].size();
    Matrix m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(cols));
    for (size_t r = 0; r < rows.size(); ++r) {
      if (rows[r].size() != cols) fail("rows of unequal length in matrix for key '" + key + "'");
      for (size_t c = 0; c < cols; ++c) m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = rows[r][c];
    }
    result.emplace_back(std::move(key), std::move(m));
  }
  return result;
}

struct FeatureReader::Impl {
  std::unique_ptr<KaldiMatrixReader> kaldi;
  std::vector<std::string> npy_files;  // sorted; read one by one
  size_t next_npy = 0;
};

FeatureReader::FeatureReader(const std::string& source, std::istream* standard_input)
    : source_(source), impl_(std::make_unique<Impl>()) {
  namespace fs = std::filesystem;
  if (LooksLikeKaldiSpecifier(source)) {
    impl_->kaldi = std::make_unique<KaldiMatrixReader>(source, standard_input);
    return;
  }
  std::error_code ec;
  if (!fs::is_directory(source, ec)) {
    if (!fs::exists(source, ec)) ThrowFileError(source, "no such file or folder (features: scp:FILE, ark:FILE or a folder of .npy files)");
    ThrowFileError(source, "not a folder: give features as scp:" + source + " or ark:" + source +
                               " (Kaldi), or a folder of .npy files");
  }
  const fs::path scp = fs::path(source) / "feats.scp";
  if (fs::is_regular_file(scp, ec)) {
    impl_->kaldi = std::make_unique<KaldiMatrixReader>("scp:" + scp.string(), standard_input);
    return;
  }
  for (fs::directory_iterator it(source, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() == ".npy" && it->is_regular_file(ec)) impl_->npy_files.push_back(p.string());
  }
  if (ec) ThrowFileError(source, "cannot list folder: " + ec.message());
  if (impl_->npy_files.empty()) ThrowFileError(source, "folder holds neither feats.scp nor .npy files");
  std::sort(impl_->npy_files.begin(), impl_->npy_files.end());
}

FeatureReader::~FeatureReader() = default;

bool FeatureReader::Next(std::string* id, Matrix* features) {
  if (impl_->kaldi) return impl_->kaldi->Next(id, features);
  if (impl_->next_npy >= impl_->npy_files.size()) return false;
  const std::string& path = impl_->npy_files[impl_->next_npy++];
  *id = std::filesystem::path(path).stem().string();
  *features = ReadNpyFile(path);
  return true;
}

}  // namespace slid
