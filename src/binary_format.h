// Little helpers shared by the binary formats of statistics that travel (GmmStats, GmmInitStats,
// TrainAccs, UtteranceStats, IvectorExtractorStats): fixed-size values written as their bytes
// (little-endian machines only, as every format of slid), matrices row by row, and the FNV-1a checksum
// of every byte before it that ends each format. Not part of the public API.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#include "slid/error.h"
#include "slid/matrix.h"
#include "slid/model.h"  // Fnv1a64

namespace slid::internal {

template <typename T>
void Put(std::string* out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out->append(b, sizeof(T));
}

// Reads a T at *pos and advances it. The caller has checked that the bytes are there.
template <typename T>
T Get(const std::string& in, size_t* pos) {
  T v;
  std::memcpy(&v, in.data() + *pos, sizeof(T));
  *pos += sizeof(T);
  return v;
}

// Every element of a double matrix, row by row (the storage order of MatrixD / VectorD is irrelevant).
template <typename M>
void PutDoubles(std::string* out, const M& m) {
  for (int64_t i = 0; i < m.rows(); ++i)
    for (int64_t j = 0; j < m.cols(); ++j) Put<double>(out, m(i, j));
}

// Fills the already-shaped m row by row from *pos.
template <typename M>
void GetDoubles(const std::string& in, size_t* pos, M* m) {
  for (int64_t i = 0; i < m->rows(); ++i)
    for (int64_t j = 0; j < m->cols(); ++j) (*m)(i, j) = Get<double>(in, pos);
}

// Appends the uint64 FNV-1a of every byte of *out.
inline void PutChecksum(std::string* out) { Put<uint64_t>(out, Fnv1a64(out->data(), out->size())); }

// True if the 8 bytes at end - 8 hold the FNV-1a of bytes [0, end - 8). end >= 8 and <= in.size().
inline bool ChecksumMatches(const std::string& in, size_t end) {
  uint64_t stored;
  std::memcpy(&stored, in.data() + end - 8, 8);
  return Fnv1a64(in.data(), end - 8) == stored;
}

// Checks the start of a statistics file `name`: its 8-byte magic, that its `header_bytes` are there,
// and the uint32 format version right after the magic. `what` names the kind in the errors ("GMM
// statistics"). Returns the read position after the version.
inline size_t ReadFormatHeader(const std::string& in, const std::string& name, const char (&magic)[8],
                               size_t header_bytes, uint32_t version, const std::string& what) {
  if (in.size() < sizeof(magic) || std::memcmp(in.data(), magic, sizeof(magic)) != 0)
    throw Error(name + ": not slid " + what + " (bad magic)");
  if (in.size() < header_bytes) throw Error(name + ": truncated " + what + " header");
  size_t pos = sizeof(magic);
  const uint32_t found = Get<uint32_t>(in, &pos);
  if (found != version)
    throw Error(name + ": " + what + " format version " + std::to_string(found) + ", this slid reads version " +
                std::to_string(version));
  return pos;
}

// Checks that the statistics file `name` is exactly `expect` bytes, the last 8 the checksum of the
// others, and that the checksum matches. `what` as for ReadFormatHeader.
inline void CheckFormatBody(const std::string& in, const std::string& name, uint64_t expect, const std::string& what) {
  if (in.size() < expect) throw Error(name + ": truncated " + what);
  if (in.size() > expect) throw Error(name + ": trailing bytes after " + what);
  if (!ChecksumMatches(in, expect)) throw Error(name + ": damaged " + what + " (checksum mismatch)");
}

}  // namespace slid::internal
