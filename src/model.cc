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

void PutFloats(std::string* out, const float* data, size_t n) {
  out->append(reinterpret_cast<const char*>(data), n * sizeof(float));
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

int LanguageModelSet::Dim() const { return gmms.empty() ? 0 : gmms.front().Dim(); }

int LanguageModelSet::LanguageIndex(const std::string& language) const {
  for (size_t i = 0; i < languages.size(); ++i)
    if (languages[i] == language) return static_cast<int>(i);
  return -1;
}

void LanguageModelSet::Validate() const {
  if (languages.empty()) throw Error("model: no languages");
  if (languages.size() != gmms.size())
    throw Error("model: " + std::to_string(languages.size()) + " languages but " + std::to_string(gmms.size()) +
                " GMMs");
  std::set<std::string> seen;
  for (size_t i = 0; i < languages.size(); ++i) {
    const std::string& l = languages[i];
    if (l.empty() || l.find_first_of(" \t\r\n,") != std::string::npos)
      throw Error("model: language label '" + l + "' is empty or contains whitespace or a comma");
    if (!seen.insert(l).second) throw Error("model: duplicate language '" + l + "'");
    if (gmms[i].NumGauss() == 0) throw Error("model: language '" + l + "' has an empty GMM");
    if (gmms[i].Dim() != gmms[0].Dim())
      throw Error("model: language '" + l + "' has dim " + std::to_string(gmms[i].Dim()) + ", '" + languages[0] +
                  "' has " + std::to_string(gmms[0].Dim()));
  }
  frontend.Validate();
  const int fd = Frontend(frontend).Dim();
  if (fd != Dim())
    throw Error("model: the frontend options give " + std::to_string(fd) + "-dim features but the GMMs are " +
                std::to_string(Dim()) + "-dim");
}

nlohmann::json LanguageModelSet::Header() const {
  nlohmann::json h;
  h["format"] = "slid-model";
  h["format_version"] = kModelFormatVersion;
  h["frontend"] = frontend.ToJson();
  h["feature_dim"] = Dim();
  nlohmann::json langs = nlohmann::json::array();
  uint64_t payload = 0;
  for (size_t i = 0; i < languages.size(); ++i) {
    const int k = gmms[i].NumGauss(), d = gmms[i].Dim();
    langs.push_back({{"name", languages[i]}, {"num_gauss", k}, {"dim", d}});
    payload += static_cast<uint64_t>(k) * (1 + 2 * static_cast<uint64_t>(d)) * sizeof(float);
  }
  h["languages"] = langs;
  h["payload_bytes"] = payload;
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
  PutPod<uint32_t>(&out, kModelFormatVersion);
  PutPod<uint32_t>(&out, 0);
  PutPod<uint64_t>(&out, header.size());
  out += header;
  for (const DiagGmm& g : gmms) {
    PutFloats(&out, g.weights().data(), g.weights().size());
    PutFloats(&out, g.means().data(), g.means().size());
    PutFloats(&out, g.variances().data(), g.variances().size());
  }
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
  if (version != kModelFormatVersion)
    ThrowFileError(name, "model format version " + std::to_string(version) + ", this slid reads version " +
                             std::to_string(kModelFormatVersion));
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
  std::vector<std::pair<int, int>> shapes;
  uint64_t payload = 0;
  try {
    if (h.at("format").get<std::string>() != "slid-model") ThrowFileError(name, "header format is not 'slid-model'");
    for (const auto& l : h.at("languages")) {
      m.languages.push_back(l.at("name").get<std::string>());
      const int k = l.at("num_gauss").get<int>(), d = l.at("dim").get<int>();
      if (k < 1 || d < 1 || k > (1 << 20) || d > (1 << 16))
        ThrowFileError(name, "implausible GMM shape " + std::to_string(k) + " x " + std::to_string(d));
      shapes.emplace_back(k, d);
      payload += static_cast<uint64_t>(k) * (1 + 2 * static_cast<uint64_t>(d)) * sizeof(float);
    }
    if (h.at("payload_bytes").get<uint64_t>() != payload)
      ThrowFileError(name, "damaged header: payload_bytes disagrees with the GMM shapes");
    m.summary = h.value("summary", nlohmann::json::object());
    m.frontend = FrontendOptions::FromJson(h.at("frontend"));
  } catch (const nlohmann::json::exception& e) {
    ThrowFileError(name, std::string("damaged model header: ") + e.what());
  } catch (const Error& e) {
    if (std::string(e.what()).rfind(name + ":", 0) == 0) throw;
    ThrowFileError(name, std::string("model header: ") + e.what());
  }
  const uint64_t expect = kPrefixBytes + header_bytes + payload + kChecksumBytes;
  if (bytes.size() < expect)
    ThrowFileError(name, "truncated model file (" + std::to_string(bytes.size()) + " bytes, expected " +
                             std::to_string(expect) + ")");
  if (bytes.size() > expect)
    ThrowFileError(name, "damaged model file: " + std::to_string(bytes.size() - expect) + " trailing bytes");
  const uint64_t stored = GetPod<uint64_t>(bytes, expect - kChecksumBytes);
  if (Fnv1a64(bytes.data(), expect - kChecksumBytes) != stored)
    ThrowFileError(name, "damaged model file (checksum mismatch)");
  size_t off = kPrefixBytes + header_bytes;
  auto take = [&](float* dst, size_t n) {
    std::memcpy(dst, bytes.data() + off, n * sizeof(float));
    off += n * sizeof(float);
  };
  try {
    for (size_t i = 0; i < shapes.size(); ++i) {
      const auto [k, d] = shapes[i];
      Vector w(k);
      Matrix mu(k, d), var(k, d);
      take(w.data(), k);
      take(mu.data(), static_cast<size_t>(k) * d);
      take(var.data(), static_cast<size_t>(k) * d);
      try {
        m.gmms.emplace_back(std::move(w), std::move(mu), std::move(var));
      } catch (const Error& e) {
        throw Error("language '" + m.languages[i] + "': " + e.what());
      }
    }
    m.Validate();
  } catch (const Error& e) {
    ThrowFileError(name, e.what());
  }
  return m;
}

}  // namespace slid
