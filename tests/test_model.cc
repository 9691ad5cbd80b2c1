// Model files: save -> load gives identical parameters and scores; damaged, truncated and
// other-version files are clear errors.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <unistd.h>

#include "slid/error.h"
#include "slid/io.h"
#include "slid/model.h"
#include "slid/scorer.h"
#include "random_model.h"

namespace fs = std::filesystem;

namespace {

const RandomGmmOptions kModelGmm{1.0f, 0.0f, 0.2f, 2.0f};

slid::LanguageModelSet RandomModel(int num_lang, int k) {
  slid::LanguageModelSet m = ::RandomModel(num_lang, k, 7, kModelGmm);
  m.summary = {{"note", "random test model"}};
  return m;
}

// A model of `d`-dimensional features from outside slid (frontend_external).
slid::LanguageModelSet ExternalModel(int d) {
  std::mt19937 rng(11);
  slid::LanguageModelSet m = slid::LanguageModelSet::FromGmms({}, {"a", "b"}, {RandomGmm(2, d, &rng, kModelGmm), RandomGmm(2, d, &rng, kModelGmm)});
  m.frontend_external = true;
  return m;
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("slid_test_model_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string ErrorOf(const std::string& bytes) {
  try {
    slid::LanguageModelSet::FromBytes(bytes, "m.slid");
  } catch (const slid::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("Save -> Load keeps every parameter and gives identical scores") {
  TempDir t;
  const slid::LanguageModelSet m = RandomModel(3, 8);
  const std::string path = (t.path / "m.slid").string();
  m.Save(path);
  const slid::LanguageModelSet r = slid::LanguageModelSet::Load(path);
  REQUIRE(r.languages == m.languages);
  CHECK(r.frontend == m.frontend);
  CHECK(r.summary == m.summary);
  const auto& mg = dynamic_cast<const slid::GmmBackend&>(*m.backend).gmms();
  const auto* rb = dynamic_cast<const slid::GmmBackend*>(r.backend.get());
  REQUIRE(rb != nullptr);
  for (size_t i = 0; i < mg.size(); ++i) {
    CHECK(rb->gmms()[i].weights() == mg[i].weights());
    CHECK(rb->gmms()[i].means() == mg[i].means());
    CHECK(rb->gmms()[i].variances() == mg[i].variances());
  }
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.f, 1.f);
  slid::Matrix x(500, m.Dim());
  for (int i = 0; i < x.size(); ++i) x.data()[i] = n(rng);
  const slid::ScoreResult a = slid::Scorer(m, {}).ScoreFeatures(x);
  const slid::ScoreResult b = slid::Scorer(r, {}).ScoreFeatures(x);
  CHECK(a.avg_loglik == b.avg_loglik);  // bit-identical
  CHECK(a.posteriors == b.posteriors);
  CHECK(a.best == b.best);
  // Saving again gives the same bytes (deterministic format).
  const std::string path2 = (t.path / "m2.slid").string();
  r.Save(path2);
  CHECK(slid::ReadFileToString(path) == slid::ReadFileToString(path2));
}

TEST_CASE("Damaged, truncated, foreign and other-version files are clear errors") {
  TempDir t;
  const std::string path = (t.path / "m.slid").string();
  RandomModel(2, 4).Save(path);
  const std::string good = slid::ReadFileToString(path);
  REQUIRE(ErrorOf(good).empty());

  // Truncation anywhere in the payload.
  CHECK(ErrorOf(good.substr(0, good.size() - 1)).find("truncated") != std::string::npos);
  CHECK(ErrorOf(good.substr(0, good.size() / 2)).find("m.slid: ") == 0);
  CHECK(ErrorOf(good.substr(0, 12)).find("truncated") != std::string::npos);
  CHECK(ErrorOf(good + "x").find("trailing") != std::string::npos);

  // One flipped bit in the payload: checksum.
  std::string bad = good;
  bad[bad.size() - 20] ^= 0x04;
  CHECK(ErrorOf(bad).find("checksum") != std::string::npos);

  // Another format version.
  bad = good;
  const uint32_t v4 = slid::kNewestModelFormatVersion + 1;
  std::memcpy(&bad[8], &v4, 4);
  const std::string ev = ErrorOf(bad);
  CHECK(ev.find("format version 4") != std::string::npos);
  CHECK(ev.find("reads versions 1 to 3") != std::string::npos);
  // Version 3 is the external-frontend format: a header with frontend options is damaged.
  const uint32_t v3 = slid::kExternalFrontendFormatVersion;
  std::memcpy(&bad[8], &v3, 4);
  CHECK(ErrorOf(bad).find("format version 3 needs \"frontend\": null") != std::string::npos);
  const uint32_t v0 = 0;
  std::memcpy(&bad[8], &v0, 4);
  CHECK(ErrorOf(bad).find("format version 0") != std::string::npos);

  // Not a model at all.
  CHECK(ErrorOf("RIFF....WAVEfmt ").find("not a slid model") != std::string::npos);
  CHECK(ErrorOf("").find("not a slid model") != std::string::npos);

  // A damaged header byte (inside the JSON) is caught by JSON parsing or the checksum.
  bad = good;
  bad[30] = '\x01';
  CHECK_FALSE(ErrorOf(bad).empty());

  // Missing file names the path.
  try {
    slid::LanguageModelSet::Load((t.path / "none.slid").string());
    FAIL("expected an error");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("none.slid") != std::string::npos);
  }
}

TEST_CASE("Inconsistent models refuse to save") {
  TempDir t;
  slid::LanguageModelSet m = RandomModel(2, 4);
  m.languages[1] = m.languages[0];
  CHECK_THROWS_AS(m.Save((t.path / "dup.slid").string()), slid::Error);
  m = RandomModel(2, 4);
  m.frontend.sdc.n = 3;  // changes the feature dimension away from the GMMs'
  CHECK_THROWS_AS(m.Validate(), slid::Error);
  m = RandomModel(2, 4);
  m.languages.pop_back();
  CHECK_THROWS_AS(m.Validate(), slid::Error);
  CHECK_FALSE(fs::exists(t.path / "dup.slid"));
}

TEST_CASE("FNV-1a 64 reference values") {
  // Published test vectors (Fowler/Noll/Vo): "" -> cbf29ce484222325, "a" -> af63dc4c8601ec8c,
  // "foobar" -> 85944171f73967e8.
  CHECK(slid::Fnv1a64("", 0) == 0xcbf29ce484222325ULL);
  CHECK(slid::Fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
  CHECK(slid::Fnv1a64("foobar", 6) == 0x85944171f73967e8ULL);
}

namespace {
// Re-writes the JSON header of a saved model (keeping the payload) with a fresh checksum.
std::string WithHeader(const std::string& file, const nlohmann::json& h) {
  uint64_t hb;
  std::memcpy(&hb, file.data() + 16, 8);
  const std::string header = h.dump();
  std::string out = file.substr(0, 16);
  const uint64_t n = header.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out += header;
  out += file.substr(24 + hb, file.size() - 24 - hb - 8);
  const uint64_t sum = slid::Fnv1a64(out.data(), out.size());
  out.append(reinterpret_cast<const char*>(&sum), 8);
  return out;
}
nlohmann::json HeaderOf(const std::string& file) {
  uint64_t hb;
  std::memcpy(&hb, file.data() + 16, 8);
  return nlohmann::json::parse(file.substr(24, hb));
}
}  // namespace

TEST_CASE("Format version 1 (a shipped model) loads as the gmm back-end; saving writes version 2") {
  const std::string v1_path = std::string(SLID_SOURCE_DIR) + "/models/asterisk-5lang/asterisk-5lang.slid";  // a shipped format-1 model
  const std::string v1 = slid::ReadFileToString(v1_path);
  REQUIRE(v1[8] == 1);
  const slid::LanguageModelSet m = slid::LanguageModelSet::Load(v1_path);
  CHECK(m.file_format_version == 1);
  CHECK(m.backend->Kind() == "gmm");
  CHECK(m.calibration.empty());
  CHECK(m.backend->NumLanguages() == static_cast<int>(m.languages.size()));
  // The v1 payload is exactly the gmm back-end's v2 payload: same bytes after the header.
  const nlohmann::json h1 = HeaderOf(v1);
  std::string payload;
  m.backend->AppendPayload(&payload);
  CHECK(payload.size() == h1.at("payload_bytes").get<uint64_t>());
  CHECK(payload == v1.substr(v1.size() - 8 - payload.size(), payload.size()));

  TempDir t;
  const std::string path = (t.path / "v2.slid").string();
  m.Save(path);
  const std::string v2 = slid::ReadFileToString(path);
  uint32_t version;
  std::memcpy(&version, v2.data() + 8, 4);
  CHECK(version == 2);  // slid builds that read only version 1 refuse it (they check this field)
  const nlohmann::json h2 = HeaderOf(v2);
  CHECK(h2.at("backend").at("kind") == "gmm");
  CHECK(h2.at("calibration").is_null());
  const slid::LanguageModelSet r = slid::LanguageModelSet::Load(path);
  CHECK(r.file_format_version == 2);
  CHECK(r.languages == m.languages);
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0.f, 1.f);
  slid::Matrix x(300, m.Dim());
  for (int i = 0; i < x.size(); ++i) x.data()[i] = n(rng);
  CHECK(slid::Scorer(m, {}).ScoreFeatures(x).avg_loglik == slid::Scorer(r, {}).ScoreFeatures(x).avg_loglik);
}

TEST_CASE("ubm-map back-end and a calibration survive save and load; bad ones are refused") {
  std::mt19937 rng(11);
  const int d = slid::Frontend(slid::FrontendOptions()).Dim();
  const slid::DiagGmm ubm = RandomGmm(8, d, &rng, kModelGmm);
  std::vector<slid::DiagGmm> adapted;
  for (int l = 0; l < 3; ++l) adapted.push_back(RandomGmm(8, d, &rng, kModelGmm));
  slid::LanguageModelSet m;
  m.languages = {"a", "b", "c"};
  slid::UbmMapScoringOptions so;
  so.top_c = 3;
  m.backend = std::make_shared<slid::UbmMapBackend>(ubm, adapted, so);
  m.calibration.weights = slid::MatrixD::Identity(3, 3) * 0.5;
  m.calibration.weights(0, 1) = 0.1;
  m.calibration.bias = slid::VectorD::LinSpaced(3, -1.0 / 3, 0.7);
  m.calibration.info = {{"method", "test"}};
  TempDir t;
  const std::string path = (t.path / "u.slid").string();
  m.Save(path);
  const slid::LanguageModelSet r = slid::LanguageModelSet::Load(path);
  const auto* rb = dynamic_cast<const slid::UbmMapBackend*>(r.backend.get());
  REQUIRE(rb != nullptr);
  CHECK(rb->options().top_c == 3);
  CHECK(rb->ubm().means() == ubm.means());
  CHECK(rb->adapted()[2].variances() == adapted[2].variances());
  CHECK(r.calibration.weights == m.calibration.weights);  // exact: doubles round-trip through JSON
  CHECK(r.calibration.bias == m.calibration.bias);
  CHECK(r.calibration.info == m.calibration.info);
  slid::Matrix x(50, d);
  std::normal_distribution<float> n(0.f, 1.f);
  for (int i = 0; i < x.size(); ++i) x.data()[i] = n(rng);
  const slid::ScoreResult a = slid::Scorer(m, {}).ScoreFeatures(x), b = slid::Scorer(r, {}).ScoreFeatures(x);
  CHECK(a.avg_loglik == b.avg_loglik);
  CHECK(a.calibrated == b.calibrated);

  const std::string good = slid::ReadFileToString(path);
  nlohmann::json h = HeaderOf(good);
  h["backend"]["kind"] = "ivector-from-the-future";
  CHECK(ErrorOf(WithHeader(good, h)).find("unknown back-end kind 'ivector-from-the-future'") != std::string::npos);
  h = HeaderOf(good);
  h["backend"]["num_languages"] = 2;
  CHECK(ErrorOf(WithHeader(good, h)).find("payload bytes") != std::string::npos);
  h = HeaderOf(good);
  h["calibration"]["bias"] = {1.0, 2.0};
  CHECK(ErrorOf(WithHeader(good, h)).find("calibration") != std::string::npos);
  h = HeaderOf(good);
  h["languages"] = {"a", "b"};
  CHECK(ErrorOf(WithHeader(good, h)).find("2 languages but the ubm-map back-end scores 3") != std::string::npos);
  CHECK(ErrorOf(WithHeader(good, HeaderOf(good))).empty());  // the helper itself keeps a good file good
  m.calibration.bias = slid::VectorD::Zero(2);
  CHECK_THROWS_AS(m.Save((t.path / "bad.slid").string()), slid::Error);
}

TEST_CASE("A model of external features: any dimension, saved as format 3 with a null frontend, round trip") {
  TempDir t;
  const std::string path = (t.path / "ext.slid").string();
  slid::LanguageModelSet m = ExternalModel(13);  // 13 dims: no slid frontend gives that
  m.Save(path);
  const slid::LanguageModelSet back = slid::LanguageModelSet::Load(path);
  CHECK(back.frontend_external);
  CHECK(back.file_format_version == 3);
  CHECK(back.Dim() == 13);
  CHECK(back.Header().at("frontend").is_null());
  // Scores of features are the same after the round trip.
  slid::Matrix x(40, 13);
  x.setRandom();
  const slid::Scorer a(m, {}), b(back, {});
  CHECK(a.ScoreFeatures(x).avg_loglik == b.ScoreFeatures(x).avg_loglik);
  CHECK(a.ScoreFeatures(x).speech_seconds == doctest::Approx(0.4));  // 10 ms per frame
  // The same model with a slid frontend is inconsistent (13 != 56 dims).
  m.frontend_external = false;
  CHECK_THROWS_AS(m.Save(path + "2"), slid::Error);
  // An ordinary model is still written as format version 2.
  RandomModel(2, 2).Save(path);
  CHECK(slid::LanguageModelSet::Load(path).file_format_version == 2);
}

TEST_CASE("A model of external features refuses to score audio") {
  const slid::LanguageModelSet m = ExternalModel(56);  // even with the dimension of slid's default frontend
  const slid::Scorer s(m, {});
  slid::Waveform w;
  w.rate_hz = 16000;
  w.samples.assign(16000, 0.1f);
  CHECK_THROWS_WITH_AS(s.ScoreWaveform(w), doctest::Contains("cannot score audio"), slid::Error);
  CHECK_THROWS_WITH_AS(s.ScoreFile("/nonexistent.wav"), doctest::Contains("cannot score audio"), slid::Error);
  slid::Matrix x(10, 56);
  x.setZero();
  CHECK(s.ScoreFeatures(x).avg_loglik.size() == 2);
}
