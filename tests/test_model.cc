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

namespace fs = std::filesystem;

namespace {

slid::DiagGmm RandomGmm(int k, int d, std::mt19937* rng) {
  std::normal_distribution<float> n(0.f, 1.f);
  std::uniform_real_distribution<float> u(0.2f, 2.0f);
  slid::Vector w(k);
  slid::Matrix mu(k, d), var(k, d);
  for (int i = 0; i < k; ++i) {
    w[i] = u(*rng);
    for (int j = 0; j < d; ++j) {
      mu(i, j) = n(*rng);
      var(i, j) = u(*rng);
    }
  }
  w /= w.sum();
  return slid::DiagGmm(w, mu, var);
}

slid::LanguageModelSet RandomModel(int num_lang, int k) {
  std::mt19937 rng(7);
  slid::LanguageModelSet m;
  const int d = slid::Frontend(m.frontend).Dim();
  for (int l = 0; l < num_lang; ++l) {
    m.languages.push_back("l" + std::to_string(l));
    m.gmms.push_back(RandomGmm(k, d, &rng));
  }
  m.summary = {{"note", "random test model"}};
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
  for (size_t i = 0; i < m.gmms.size(); ++i) {
    CHECK(r.gmms[i].weights() == m.gmms[i].weights());
    CHECK(r.gmms[i].means() == m.gmms[i].means());
    CHECK(r.gmms[i].variances() == m.gmms[i].variances());
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
  const uint32_t v2 = slid::kModelFormatVersion + 1;
  std::memcpy(&bad[8], &v2, 4);
  const std::string ev = ErrorOf(bad);
  CHECK(ev.find("format version 2") != std::string::npos);
  CHECK(ev.find("reads version 1") != std::string::npos);

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
  m.gmms.pop_back();
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
