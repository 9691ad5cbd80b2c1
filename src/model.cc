// Reading and writing language-ID model files; the format is described in include/slid/model.h.
#include "slid/model.h"

#include <cmath>
#include <cstring>
#include <set>
#include <sstream>

#include "slid/error.h"
#include "slid/io.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "slid model files are little-endian; this build assumes a little-endian host"
#endif

namespace slid {
namespace {

constexpr char kMagic[8] = {'S', 'L', 'I', 'D', 'M', 'D', 'L', '\0'};
constexpr size_t kPrefixBytes = 24;   // magic + version + reserved + header length
constexpr size_t kChecksumBytes = 8;

template <typename T>
void PutPod(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
T GetPod(const std::string& bytes, size_t offset) {
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof v);
  return v;
}

}  // namespace

uint64_t Fnv1a64(const void* data, size_t size, uint64_t hash) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    hash ^= p[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

LanguageModelSet LanguageModelSet::FromGmms(FrontendOptions frontend, std::vector<std::string> languages,
                                            std::vector<DiagGmm> gmms) {
  LanguageModelSet m;
  m.frontend = std::move(frontend);
  m.languages = std::move(languages);
  m.backend = std::make_shared<GmmBackend>(std::move(gmms));
  return m;
}

int LanguageModelSet::Dim() const { return backend ? backend->Dim() : 0; }

int LanguageModelSet::LanguageIndex(const std::string& language) const {
  for (size_t i = 0; i < languages.size(); ++i)
    if (languages[i] == language) return static_cast<int>(i);
  return -1;
}

void LanguageModelSet::Validate() const {
  if (languages.empty()) throw Error("model: no languages");
  if (!backend) throw Error("model: no back-end");
  if (static_cast<int>(languages.size()) != backend->NumLanguages())
    throw Error("model: " + std::to_string(languages.size()) + " languages but the " + backend->Kind() +
                " back-end scores " + std::to_string(backend->NumLanguages()));
  std::set<std::string> seen;
  for (const std::string& l : languages) {
    if (l.empty() || l.find_first_of(" \t\r\n,") != std::string::npos)
      throw Error("model: language label '" + l + "' is empty or contains whitespace or a comma");
    if (!seen.insert(l).second) throw Error("model: duplicate language '" + l + "'");
  }
  calibration.Validate();
  if (!calibration.empty() && calibration.NumLanguages() != static_cast<int>(languages.size()))
    throw Error("model: the calibration is for " + std::to_string(calibration.NumLanguages()) + " languages, the model has " +
                std::to_string(languages.size()));
  frontend.Validate();
  if (frontend_external) return;  // the features came from elsewhere; only their dimension is known
  const int fd = Frontend(frontend).Dim();
  if (fd != Dim())
    throw Error("model: the frontend options give " + std::to_string(fd) + "-dim features but the back-end is " +
                std::to_string(Dim()) + "-dim");
}

nlohmann::json LanguageModelSet::Header() const {
  nlohmann::json h;
  h["format"] = "slid-model";
  h["format_version"] = frontend_external ? kExternalFrontendFormatVersion : kModelFormatVersion;
  h["frontend"] = frontend_external ? nlohmann::json(nullptr) : frontend.ToJson();
  h["feature_dim"] = Dim();
  h["languages"] = languages;
  h["backend"] = backend ? backend->Header() : nlohmann::json(nullptr);
  h["calibration"] = calibration.ToJson();
  h["payload_bytes"] = backend ? backend->PayloadBytes() : 0;
  h["summary"] = summary.is_null() ? nlohmann::json::object() : summary;
  return h;
}

void LanguageModelSet::Save(const std::string& path) const {
  try {
    Validate();
  } catch (const Error& e) {
    ThrowFileError(path, e.what());
  }
  const std::string header = Header().dump();
  std::string out;
  out.append(kMagic, sizeof kMagic);
  PutPod<uint32_t>(&out, frontend_external ? kExternalFrontendFormatVersion : kModelFormatVersion);
  PutPod<uint32_t>(&out, 0);
  PutPod<uint64_t>(&out, header.size());
  out += header;
  const size_t before = out.size();
  backend->AppendPayload(&out);
  if (out.size() - before != backend->PayloadBytes())
    ThrowFileError(path, "internal error: the " + backend->Kind() + " back-end wrote " + std::to_string(out.size() - before) +
                             " payload bytes, announced " + std::to_string(backend->PayloadBytes()));
  PutPod<uint64_t>(&out, Fnv1a64(out.data(), out.size()));
  WriteFileAtomically(path, [&](std::ostream& o) { o.write(out.data(), static_cast<std::streamsize>(out.size())); });
}

LanguageModelSet LanguageModelSet::Load(const std::string& path) {
  return FromBytes(ReadFileToString(path), path);
}

LanguageModelSet LanguageModelSet::FromBytes(const std::string& bytes, const std::string& name) {
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    ThrowFileError(name, "not a slid model (bad magic bytes)");
  if (bytes.size() < kPrefixBytes) ThrowFileError(name, "truncated model file (" + std::to_string(bytes.size()) + " bytes)");
  const uint32_t version = GetPod<uint32_t>(bytes, 8);
  if (version < kOldestModelFormatVersion || version > kNewestModelFormatVersion)
    ThrowFileError(name, "model format version " + std::to_string(version) + ", this slid reads versions " +
                             std::to_string(kOldestModelFormatVersion) + " to " + std::to_string(kNewestModelFormatVersion));
  const uint64_t header_bytes = GetPod<uint64_t>(bytes, 16);
  if (header_bytes > bytes.size() - kPrefixBytes)
    ThrowFileError(name, "truncated model file (header of " + std::to_string(header_bytes) + " bytes, file has " +
                             std::to_string(bytes.size()) + ")");
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(bytes.begin() + kPrefixBytes, bytes.begin() + kPrefixBytes + header_bytes);
  } catch (const std::exception& e) {
    ThrowFileError(name, std::string("damaged model header (not JSON): ") + e.what());
  }
  LanguageModelSet m;
  m.file_format_version = version;
  nlohmann::json backend_header;
  uint64_t payload = 0;
  try {
    if (h.at("format").get<std::string>() != "slid-model") ThrowFileError(name, "header format is not 'slid-model'");
    if (version == 1) {
      // Version 1: per-language shapes in "languages"; the payload is the "gmm" back-end's.
      std::vector<int> ks;
      int dim = -1;
      for (const auto& l : h.at("languages")) {
        m.languages.push_back(l.at("name").get<std::string>());
        const int k = l.at("num_gauss").get<int>(), d = l.at("dim").get<int>();
        if (k < 1 || d < 1 || k > (1 << 20) || d > (1 << 16))
          ThrowFileError(name, "implausible GMM shape " + std::to_string(k) + " x " + std::to_string(d));
        if (dim >= 0 && d != dim)
          ThrowFileError(name, "language '" + m.languages.back() + "' has dim " + std::to_string(d) + ", '" +
                                   m.languages.front() + "' has " + std::to_string(dim));
        dim = d;
        ks.push_back(k);
        payload += static_cast<uint64_t>(k) * (1 + 2 * static_cast<uint64_t>(d)) * sizeof(float);
      }
      if (ks.empty()) ThrowFileError(name, "model: no languages");
      backend_header = {{"kind", "gmm"}, {"num_gauss", ks}, {"dim", dim}};
      if (h.at("payload_bytes").get<uint64_t>() != payload)
        ThrowFileError(name, "damaged header: payload_bytes disagrees with the GMM shapes");
    } else {
      m.languages = h.at("languages").get<std::vector<std::string>>();
      backend_header = h.at("backend");
      if (!backend_header.is_object()) ThrowFileError(name, "damaged model header: 'backend' is not an object");
      payload = h.at("payload_bytes").get<uint64_t>();
      m.calibration = Calibration::FromJson(h.value("calibration", nlohmann::json(nullptr)));
    }
    m.summary = h.value("summary", nlohmann::json::object());
    // Version 3 is the one with an external frontend ("frontend": null); versions 1-2 always have one.
    m.frontend_external = version == kExternalFrontendFormatVersion;
    if (m.frontend_external != h.at("frontend").is_null())
      ThrowFileError(name, "damaged model header: format version " + std::to_string(version) +
                               (m.frontend_external ? " needs \"frontend\": null" : " needs frontend options"));
    if (!m.frontend_external) m.frontend = FrontendOptions::FromJson(h.at("frontend"));
  } catch (const nlohmann::json::exception& e) {
    ThrowFileError(name, std::string("damaged model header: ") + e.what());
  } catch (const Error& e) {
    if (std::string(e.what()).rfind(name + ":", 0) == 0) throw;
    ThrowFileError(name, std::string("model header: ") + e.what());
  }
  if (payload > bytes.size())
    ThrowFileError(name, "truncated model file (" + std::to_string(bytes.size()) + " bytes, the header announces a payload of " +
                             std::to_string(payload) + ")");
  const uint64_t expect = kPrefixBytes + header_bytes + payload + kChecksumBytes;
  if (bytes.size() < expect)
    ThrowFileError(name, "truncated model file (" + std::to_string(bytes.size()) + " bytes, expected " +
                             std::to_string(expect) + ")");
  if (bytes.size() > expect)
    ThrowFileError(name, "damaged model file: " + std::to_string(bytes.size() - expect) + " trailing bytes");
  const uint64_t stored = GetPod<uint64_t>(bytes, expect - kChecksumBytes);
  if (Fnv1a64(bytes.data(), expect - kChecksumBytes) != stored)
    ThrowFileError(name, "damaged model file (checksum mismatch)");
  try {
    try {
      m.backend = ReadBackend(backend_header, bytes.data() + kPrefixBytes + header_bytes, payload);
    } catch (const Error& e) {
      // Name the language when the back-end names it by index.
      std::string what = e.what();
      const std::string prefix = "language ";
      const size_t colon = what.find(':');
      if (what.rfind(prefix, 0) == 0 && colon != std::string::npos && colon > prefix.size() &&
          what.find_first_not_of("0123456789", prefix.size()) == colon) {
        const size_t idx = std::stoul(what.substr(prefix.size(), colon - prefix.size()));
        if (idx < m.languages.size()) what = "language '" + m.languages[idx] + "'" + what.substr(colon);
      }
      throw Error(what);
    }
    m.Validate();
  } catch (const Error& e) {
    ThrowFileError(name, e.what());
  }
  return m;
}

}  // namespace slid
