// A trained language-ID model: the frontend options its features were computed with and one diagonal
// GMM per language, stored in a self-describing file.
//
// File format (format version 1; all integers little-endian):
//   bytes 0..7    magic "SLIDMDL\0"
//   bytes 8..11   uint32 format version (kModelFormatVersion)
//   bytes 12..15  uint32 zero (reserved)
//   bytes 16..23  uint64 H = length of the JSON header in bytes
//   then H bytes  UTF-8 JSON header:
//                   {"format": "slid-model", "format_version": 1,
//                    "frontend": FrontendOptions::ToJson(), "feature_dim": D,
//                    "languages": [{"name": "en", "num_gauss": K, "dim": D}, ...],
//                    "payload_bytes": P, "summary": {... training summary ...}}
//   then P bytes  float32 parameters, language after language in header order:
//                   weights (K), means (K x D, row-major), variances (K x D, row-major)
//   last 8 bytes  uint64 FNV-1a (64-bit) checksum of every byte before it (magic to end of payload)
//
// Load() checks, in this order, and throws slid::Error("<path>: <problem>") for: a missing/unreadable
// file, wrong magic ("not a slid model"), another format version ("format version N, this slid reads
// version 1"), a header that is not valid JSON or lacks fields, a file of the wrong size ("truncated"
// / "trailing bytes"), a checksum mismatch ("damaged"), invalid GMM parameters, frontend options that
// do not validate or whose feature dimension differs from the GMMs'.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slid/frontend.h"
#include "slid/gmm.h"

namespace slid {

constexpr uint32_t kModelFormatVersion = 1;  // the version Save() writes and Load() reads

struct LanguageModelSet {
  FrontendOptions frontend;             // options the training features were computed with
  std::vector<std::string> languages;   // language labels, in the order of `gmms`; unique, non-empty
  std::vector<DiagGmm> gmms;            // one per language, all of the same Dim()
  nlohmann::json summary = nlohmann::json::object();  // training summary (free-form object; see `slid train`)

  int Dim() const;                      // feature dimension (0 if there are no GMMs)
  // Index of `language` in `languages`, or -1.
  int LanguageIndex(const std::string& language) const;
  // Throws slid::Error on inconsistencies: no languages, size mismatch between languages and gmms,
  // empty/duplicate/whitespace-containing labels, GMMs of different dims or empty, frontend Dim() != Dim().
  void Validate() const;
  // The JSON header Save() writes (without payload_bytes filled if `with_payload_size` is false).
  nlohmann::json Header() const;
  // Validates, then writes the file atomically (slid::WriteFileAtomically).
  void Save(const std::string& path) const;
  // Reads and checks a model file (see the top of this file for the errors).
  static LanguageModelSet Load(const std::string& path);
  // As Load, from the bytes of a whole file; `name` stands for the path in error messages.
  static LanguageModelSet FromBytes(const std::string& bytes, const std::string& name);
};

// 64-bit FNV-1a over `size` bytes, continuing from `hash` (start with the offset basis, the default).
uint64_t Fnv1a64(const void* data, size_t size, uint64_t hash = 0xcbf29ce484222325ULL);

}  // namespace slid
