// Scorer: the stacked-GEMM scores agree with DiagGmm's own (independent) log-likelihoods, posteriors
// are the stated softmax, restriction and too-little-speech behave, and the streamed file path agrees
// with the in-memory one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "slid/audio.h"
#include "slid/error.h"
#include "slid/model.h"
#include "slid/scorer.h"
#include "random_model.h"

namespace fs = std::filesystem;

namespace {

slid::LanguageModelSet ShiftedModel(int num_lang, int k, int seed) {
  RandomGmmOptions o;
  o.lang_shift = 0.5f;  // languages half a standard deviation apart
  return ::RandomModel(num_lang, k, seed, o);
}

slid::Matrix RandomFrames(int rows, int d, float shift, int seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.f, 1.f);
  slid::Matrix x(rows, d);
  for (int i = 0; i < x.size(); ++i) x.data()[i] = n(rng) + shift;
  return x;
}

}  // namespace

TEST_CASE("Scores equal each GMM's average log-likelihood; posteriors are the softmax") {
  const slid::LanguageModelSet m = ShiftedModel(4, 16, 1);
  const slid::Scorer s(m, {});
  const slid::Matrix x = RandomFrames(1000, m.Dim(), 0.5f, 2);  // 1000 frames = 10 s of speech
  const slid::ScoreResult r = s.ScoreFeatures(x, 12.0);
  REQUIRE(r.avg_loglik.size() == 4);
  for (int l = 0; l < 4; ++l) {
    // Reference: DiagGmm::AverageLogLikelihood (per-model blocked path).
    const double ref = dynamic_cast<const slid::GmmBackend&>(*m.backend).gmms()[l].AverageLogLikelihood(x);
    CHECK(r.avg_loglik[l] == doctest::Approx(ref).epsilon(1e-5));
  }
  double z = 0;
  for (double a : r.avg_loglik) z += std::exp(a - r.avg_loglik[0]);
  double sum = 0;
  for (int l = 0; l < 4; ++l) {
    CHECK(r.posteriors[l] == doctest::Approx(std::exp(r.avg_loglik[l] - r.avg_loglik[0]) / z).epsilon(1e-9));
    sum += r.posteriors[l];
  }
  CHECK(sum == doctest::Approx(1.0));
  int best = 0;
  for (int l = 1; l < 4; ++l)
    if (r.avg_loglik[l] > r.avg_loglik[best]) best = l;
  CHECK(r.best == best);
  CHECK(r.best == 1);  // frames shifted by +0.5 match language 1's means (shifted by 0.5 x l)
  CHECK(r.num_frames == 1000);
  CHECK(r.speech_seconds == doctest::Approx(10.0));
  CHECK(r.audio_seconds == 12.0);
  CHECK_FALSE(r.too_little_speech);
}

TEST_CASE("posterior_scale sharpens the posteriors") {
  const slid::LanguageModelSet m = ShiftedModel(3, 8, 5);
  const slid::Matrix x = RandomFrames(300, m.Dim(), 0.0f, 6);
  slid::ScorerOptions o;
  o.posterior_scale = 300;  // = number of frames: the Bayes posterior under frame independence
  const slid::ScoreResult a = slid::Scorer(m, {}).ScoreFeatures(x);
  const slid::ScoreResult b = slid::Scorer(m, o).ScoreFeatures(x);
  CHECK(b.posteriors[b.best] >= a.posteriors[a.best]);
  CHECK(b.posteriors[b.best] > 0.99);
  CHECK(a.best == b.best);
}

TEST_CASE("Restricting the candidate languages") {
  const slid::LanguageModelSet m = ShiftedModel(4, 8, 3);
  const slid::Matrix x = RandomFrames(200, m.Dim(), 1.5f, 4);  // nearest to l3
  const slid::ScoreResult all = slid::Scorer(m, {}).ScoreFeatures(x);
  CHECK(all.best == 3);
  slid::ScorerOptions o;
  o.languages = {"l2", "l0"};
  const slid::Scorer s(m, o);
  CHECK(s.languages() == std::vector<std::string>{"l0", "l2"});  // model order
  const slid::ScoreResult r = s.ScoreFeatures(x);
  REQUIRE(r.avg_loglik.size() == 2);
  CHECK(r.avg_loglik[0] == doctest::Approx(all.avg_loglik[0]));
  CHECK(r.avg_loglik[1] == doctest::Approx(all.avg_loglik[2]));
  CHECK(r.best == 1);
  o.languages = {"xx"};
  try {
    slid::Scorer bad(m, o);
    FAIL("expected an error");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("'xx' is not in the model") != std::string::npos);
  }
}

TEST_CASE("Too little speech gives no decision") {
  const slid::LanguageModelSet m = ShiftedModel(2, 4, 9);
  slid::ScorerOptions o;
  o.min_speech_seconds = 1.0;
  const slid::Scorer s(m, o);
  const slid::ScoreResult few = s.ScoreFeatures(RandomFrames(50, m.Dim(), 0, 1));  // 0.5 s
  CHECK(few.too_little_speech);
  CHECK(few.best == -1);
  CHECK(few.avg_loglik.size() == 2);  // scores still reported
  const slid::ScoreResult none = s.ScoreFeatures(slid::Matrix(0, m.Dim()));
  CHECK(none.too_little_speech);
  CHECK(none.avg_loglik.empty());
  const slid::ScoreResult enough = s.ScoreFeatures(RandomFrames(100, m.Dim(), 0, 1));
  CHECK_FALSE(enough.too_little_speech);
  CHECK(enough.best >= 0);
  CHECK_THROWS_AS(s.ScoreFeatures(slid::Matrix(10, 3)), slid::Error);
}

TEST_CASE("ScoreFile streams in segments and agrees with the in-memory path") {
  const fs::path dir = fs::temp_directory_path() / ("slid_test_scorer_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "tone.wav").string();
  // 6 s of a modulated tone with noise at 16 kHz, 16-bit.
  const int rate = 16000, n = 6 * rate;
  std::vector<int16_t> pcm(n);
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0.f, 300.f);
  for (int i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / rate;
    const double env = 0.5 + 0.5 * std::sin(2 * M_PI * 3 * t);
    pcm[i] = static_cast<int16_t>(env * 8000 * std::sin(2 * M_PI * (200 + 50 * std::sin(t)) * t) + noise(rng));
  }
  {
    std::ofstream o(path, std::ios::binary);
    auto u32 = [&](uint32_t v) { o.write(reinterpret_cast<const char*>(&v), 4); };
    auto u16 = [&](uint16_t v) { o.write(reinterpret_cast<const char*>(&v), 2); };
    o.write("RIFF", 4); u32(36 + 2 * n); o.write("WAVEfmt ", 8); u32(16); u16(1); u16(1); u32(rate);
    u32(2 * rate); u16(2); u16(16); o.write("data", 4); u32(2 * n);
    o.write(reinterpret_cast<const char*>(pcm.data()), 2 * n);
  }
  slid::LanguageModelSet m = ShiftedModel(3, 8, 11);
  // A tone barely moves C0 (one mel band of 23 rises), so the VAD's speech check calls it no speech;
  // this test is about segments, so the check is off.
  m.frontend.vad.min_snr_db = 0;
  const slid::Scorer whole(m, {});
  const slid::ScoreResult a = whole.ScoreFile(path);
  const slid::ScoreResult b = whole.ScoreWaveform(slid::ReadAudio(path, 16000));
  CHECK(a.audio_seconds == doctest::Approx(6.0));
  CHECK(a.num_frames == b.num_frames);
  REQUIRE(a.avg_loglik.size() == 3);
  for (int l = 0; l < 3; ++l) CHECK(a.avg_loglik[l] == doctest::Approx(b.avg_loglik[l]).epsilon(1e-6));
  // In 2-second segments: same audio length, frames within the per-segment edge losses.
  slid::ScorerOptions o;
  o.segment_seconds = 2.0;
  const slid::ScoreResult c = slid::Scorer(m, o).ScoreFile(path);
  CHECK(c.audio_seconds == doctest::Approx(6.0));
  CHECK(std::abs(c.num_frames - a.num_frames) <= 3 * 25);
  CHECK_THROWS_AS(whole.ScoreFile((dir / "missing.wav").string()), slid::Error);
  fs::remove_all(dir);
}

TEST_CASE("No speech (VAD speech check) gives status no_speech, no decision; speech does not") {
  const slid::LanguageModelSet m = ShiftedModel(2, 4, 9);
  const slid::Scorer s(m, {});
  slid::Waveform noise;
  noise.rate_hz = 16000;
  noise.samples.resize(3 * 16000);
  std::mt19937 rng(2);
  std::normal_distribution<float> n(0.f, 2000.f);
  for (float& v : noise.samples) v = n(rng);
  const slid::ScoreResult r = s.ScoreWaveform(noise);
  CHECK(r.no_speech);
  CHECK(r.too_little_speech);  // no decision either way
  CHECK(r.best == -1);
  CHECK(r.num_frames == 0);
  CHECK(r.avg_loglik.empty());
  CHECK(r.audio_seconds == doctest::Approx(3.0));
  // ScoreFile agrees (the streamed path makes the same check on the whole file's MFCC).
  const fs::path dir = fs::temp_directory_path() / ("slid_test_scorer_ns_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "noise.wav").string();
  {
    const int count = static_cast<int>(noise.samples.size());
    std::ofstream o(path, std::ios::binary);
    auto u32 = [&](uint32_t v) { o.write(reinterpret_cast<const char*>(&v), 4); };
    auto u16 = [&](uint16_t v) { o.write(reinterpret_cast<const char*>(&v), 2); };
    o.write("RIFF", 4); u32(36 + 2 * count); o.write("WAVEfmt ", 8); u32(16); u16(1); u16(1); u32(16000);
    u32(2 * 16000); u16(2); u16(16); o.write("data", 4); u32(2 * count);
    for (float v : noise.samples) u16(static_cast<uint16_t>(static_cast<int16_t>(std::max(-32768.f, std::min(32767.f, std::round(v))))));
  }
  const slid::ScoreResult f = s.ScoreFile(path);
  CHECK(f.no_speech);
  CHECK(f.best == -1);
  fs::remove_all(dir);
  // Real speech (8 kHz clip, resampled by ScoreWaveform): checked, found, decided.
  const slid::ScoreResult sp = s.ScoreWaveform(slid::ReadAudio(std::string(SLID_TEST_DATA) + "/mfcc/en8k.wav", 0));
  CHECK_FALSE(sp.no_speech);
  CHECK_FALSE(sp.too_little_speech);
  CHECK(sp.best >= 0);
  // Precomputed features are never judged: an empty matrix is too little speech, not no speech.
  const slid::ScoreResult none = s.ScoreFeatures(slid::Matrix(0, m.Dim()));
  CHECK(none.too_little_speech);
  CHECK_FALSE(none.no_speech);
  // Too short to judge (fewer frames than the SDC context): too little speech only.
  slid::Waveform tiny = noise;
  tiny.samples.resize(1600);  // 0.1 s: 8 frames
  const slid::ScoreResult t = s.ScoreWaveform(tiny);
  CHECK(t.too_little_speech);
  CHECK_FALSE(t.no_speech);
}

TEST_CASE("unknown_threshold: no posterior reaching it gives unknown and no decision; options are checked") {
  const slid::LanguageModelSet m = ShiftedModel(3, 4, 9);
  const slid::Matrix x = RandomFrames(100, m.Dim(), 0.5, 3);
  const slid::ScoreResult plain = slid::Scorer(m, {}).ScoreFeatures(x);
  REQUIRE(plain.best >= 0);
  const double top = plain.posteriors[plain.best];
  REQUIRE(top < 1.0);
  slid::ScorerOptions o;
  o.unknown_threshold = std::min(1.0, top + 1e-9);  // just above the top posterior: unknown
  const slid::ScoreResult u = slid::Scorer(m, o).ScoreFeatures(x);
  CHECK(u.unknown);
  CHECK(u.best == -1);
  CHECK_FALSE(u.too_little_speech);
  CHECK(u.posteriors == plain.posteriors);  // scores and posteriors are still reported
  CHECK(u.avg_loglik == plain.avg_loglik);
  o.unknown_threshold = top;  // reached exactly: a decision
  const slid::ScoreResult k = slid::Scorer(m, o).ScoreFeatures(x);
  CHECK_FALSE(k.unknown);
  CHECK(k.best == plain.best);
  // Without a decision for lack of speech, unknown is not set.
  o.unknown_threshold = 1.0;
  const slid::ScoreResult none = slid::Scorer(m, o).ScoreFeatures(slid::Matrix(0, m.Dim()));
  CHECK_FALSE(none.unknown);
  CHECK(none.too_little_speech);
  o.unknown_threshold = 1.5;
  CHECK_THROWS_AS(slid::Scorer(m, o), slid::Error);
  o.unknown_threshold = -0.1;
  CHECK_THROWS_AS(slid::Scorer(m, o), slid::Error);
}
