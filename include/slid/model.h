// A trained language-ID model: the frontend options its features were computed with, a back-end that
// scores each language (slid/backend.h) and an optional score calibration (slid/calibration.h), stored
// in a self-describing file.
//
// File format, version 2 (written; all integers little-endian):
//   bytes 0..7    magic "SLIDMDL\0"
//   bytes 8..11   uint32 format version (2)
//   bytes 12..15  uint32 zero (reserved)
//   bytes 16..23  uint64 H = length of the JSON header in bytes
//   then H bytes  UTF-8 JSON header:
//                   {"format": "slid-model", "format_version": 2,
//                    "frontend": FrontendOptions::ToJson(), "feature_dim": D,
//                    "languages": ["en", "fr", ...],             (the back-end's score order)
//                    "backend": Backend::Header(),              ({"kind": "gmm", ...})
//                    "calibration": Calibration::ToJson(),       (null: none)
//                    "payload_bytes": P, "summary": {... training summary ...}}
//   then P bytes  the back-end's float32 parameters (Backend::AppendPayload)
//   last 8 bytes  uint64 FNV-1a (64-bit) checksum of every byte before it (magic to end of payload)
// Slid versions that read only format 1 refuse these files ("format version 2, this slid reads version 1").
//
// Format version 3: as version 2, with "frontend": null. Written only for a model trained on
// precomputed features whose frontend slid does not know (frontend_external; `slid train --feats`
// without frontend options), so that a slid reading only versions 1-2 refuses it rather than scoring
// audio with a frontend the model was not trained on. Every other model is still written as version 2.
//
// Format version 1 (still read, as the "gmm" back-end without calibration): the same layout with
//   "languages": [{"name": "en", "num_gauss": K, "dim": D}, ...] and no "backend"/"calibration"; the payload
//   is, language after language, weights (K), means (K x D, row-major), variances (K x D, row-major).
//
// Load() checks, in this order, and throws slid::Error("<path>: <problem>") for: a missing/unreadable
// file, wrong magic ("not a slid model"), a format version other than 1 or 2 ("format version N, this
// slid reads versions 1 and 2"), a header that is not valid JSON or lacks fields, a file of the wrong
// size ("truncated" / "trailing bytes"), a checksum mismatch ("damaged"), an unknown back-end kind,
// invalid parameters, frontend options that do not validate or whose feature dimension differs from the
// back-end's, a calibration of the wrong size.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <memory>

#include "slid/backend.h"
#include "slid/calibration.h"
#include "slid/frontend.h"
#include "slid/gmm.h"

namespace slid {

constexpr uint32_t kModelFormatVersion = 2;          // the version Save() writes (kExternalFrontend... if external)
constexpr uint32_t kExternalFrontendFormatVersion = 3;  // what Save() writes for a frontend_external model
constexpr uint32_t kNewestModelFormatVersion = 3;    // the newest version Load() reads
constexpr uint32_t kOldestModelFormatVersion = 1;    // the oldest version Load() reads

struct LanguageModelSet {
  FrontendOptions frontend;                // options the training features were computed with
  // True: trained on precomputed features made outside slid (`slid train --feats` without frontend
  // options). Such a model scores features only (identify/eval --feats); scoring audio is an Error.
  // `frontend` then holds the defaults and serves only to count speech seconds (10 ms per frame,
  // Kaldi's usual frame shift). The file stores "frontend": null (format version 3).
  bool frontend_external = false;
  std::vector<std::string> languages;      // language labels in the back-end's score order; unique, non-empty
  std::shared_ptr<const Backend> backend;  // scores one recording per language (immutable, shared by copies)
  Calibration calibration;                 // calibrated = W s + b before posteriors; empty: none
  nlohmann::json summary = nlohmann::json::object();  // training summary (free-form object; see `slid train`)
  uint32_t file_format_version = kModelFormatVersion;  // the version Load() read (Save() writes 2, or 3 if frontend_external)

  // A model with the "gmm" back-end (one GMM per language, in the order of `languages`).
  static LanguageModelSet FromGmms(FrontendOptions frontend, std::vector<std::string> languages,
                                   std::vector<DiagGmm> gmms);

  int Dim() const;                      // feature dimension (0 if there is no back-end)
  // Index of `language` in `languages`, or -1.
  int LanguageIndex(const std::string& language) const;
  // Throws slid::Error on inconsistencies: no languages or back-end, languages and back-end disagreeing
  // in number, empty/duplicate/whitespace-containing labels, frontend Dim() != Dim() (unless
  // frontend_external), a calibration whose size is not the number of languages.
  void Validate() const;
  // The JSON header Save() writes.
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
