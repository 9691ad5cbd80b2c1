// MFCC against torchaudio.compliance.kaldi.mfcc on real speech (fixtures: tests/data/mfcc, made by
// tests/data/make_mfcc_fixtures.py), plus option-validation and edge-case checks.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "slid/audio.h"
#include "slid/error.h"
#include "slid/frontend.h"
#include "slid/io.h"
#include "slid/mfcc.h"

namespace {

const std::string kDir = std::string(SLID_TEST_DATA) + "/mfcc/";

slid::Matrix ReadExpected(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), path);
  int64_t rows = 0, cols = 0;
  in >> rows >> cols;
  slid::Matrix m(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) in >> m(r, c);
  REQUIRE_MESSAGE(!in.fail(), path);
  return m;
}

// Splits the fixture's config into the clip name and the frontend options.
slid::FrontendOptions ReadCase(const std::string& name, std::string* clip) {
  std::string text = slid::ReadFileToString(kDir + name + ".conf"), rest, line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (line.rfind("--clip=", 0) == 0) *clip = line.substr(7);
    else rest += line + "\n";
  }
  slid::FrontendOptions opts;
  slid::ApplyKaldiConfig(rest, kDir + name + ".conf", &opts);
  return opts;
}

// Tolerance: 1e-3 absolute per coefficient BEFORE liftering, i.e. |slid_j - torchaudio_j| <=
// 1e-3 * L_j with L_j = 1 + Q/2 sin(pi j / Q) the lifter gain of column j (L_j = 1 with the lifter
// off; up to 11.9 for Q = 22). Why: both sides compute in float32 (Kaldi's BaseFloat, torchaudio's
// tensors) with different FFTs (kissfft vs pocketfft) and summation orders. The 16 kHz clips are
// resampled 8 kHz prompts, so their 4-8 kHz mel bins hold energies ~1e-9 of the peak, at the float32
// FFT's rounding floor; the log turns that rounding into ~1e-4 differences in the high cepstra, which
// the lifter then multiplies by up to 11.9. torchaudio's own float32 output differs from its float64
// output by up to 2.0e-3 on these clips (kaldi_default_16k, column 10), which is as far as we are
// from it (we reach 3.2e-3 on blackman_16k); un-liftered, every case agrees within 4e-4. The test prints
// both maxima.
constexpr float kTolerance = 1e-3f;

Eigen::RowVectorXf LifterGains(const slid::MfccOptions& o) {
  Eigen::RowVectorXf g = Eigen::RowVectorXf::Ones(o.num_ceps);
  if (o.cepstral_lifter != 0)
    for (int j = 0; j < o.num_ceps; ++j) g(j) = 1.0f + 0.5f * o.cepstral_lifter * std::sin(M_PI * j / o.cepstral_lifter);
  if (o.use_energy) g(0) = 1.0f;  // column 0 is the log-energy, not liftered
  return g;
}

void CheckCase(const std::string& name) {
  std::string clip;
  slid::FrontendOptions opts = ReadCase(name, &clip);
  REQUIRE(!clip.empty());
  slid::Waveform wav = slid::ReadAudio(kDir + clip + ".wav", 0);
  REQUIRE(wav.rate_hz == opts.sample_rate_hz);
  slid::MfccComputer mfcc(opts.mfcc, opts.sample_rate_hz);
  slid::Matrix got = mfcc.Compute(wav.samples);
  slid::Matrix want = ReadExpected(kDir + name + ".expected");
  REQUIRE(got.rows() == want.rows());
  REQUIRE(got.cols() == want.cols());
  CHECK(mfcc.NumFrames(static_cast<int64_t>(wav.samples.size())) == want.rows());
  slid::Matrix diff = (got - want).cwiseAbs();
  float max_diff = diff.maxCoeff();
  float max_unliftered = (diff.array().rowwise() / LifterGains(opts.mfcc).array()).maxCoeff();
  MESSAGE(name << ": " << got.rows() << "x" << got.cols() << ", max |slid - torchaudio| = " << max_diff
               << ", before lifter " << max_unliftered);
  CHECK(max_unliftered <= kTolerance);
  CHECK(max_diff <= 4e-3f);  // liftered: 2x torchaudio's own float32-vs-float64 spread (2.0e-3)
  // The same through the Frontend's MFCC stage.
  slid::Frontend fe(opts);
  slid::Matrix staged = fe.Compute(wav, slid::FrontendStage::kMfcc);
  CHECK(staged == got);
}

}  // namespace

TEST_CASE("MFCC equals torchaudio.compliance.kaldi.mfcc on real speech") {
  for (const char* name : {"lid_default_16k", "kaldi_default_16k", "hamming_energy_nolifter_16k", "povey_energy_8k",
                           "hamming_noenergy_8k", "lre07_like_8k", "rectangular_40bins_16k", "blackman_16k"}) {
    SUBCASE(name) { CheckCase(name); }
  }
}

TEST_CASE("MFCC frame counts follow Kaldi") {
  slid::MfccOptions o;
  slid::MfccComputer snip(o, 16000);
  CHECK(snip.FrameLengthSamples() == 400);
  CHECK(snip.FrameShiftSamples() == 160);
  CHECK(snip.PaddedFrameLength() == 512);
  CHECK(snip.NumFrames(0) == 0);
  CHECK(snip.NumFrames(399) == 0);
  CHECK(snip.NumFrames(400) == 1);
  CHECK(snip.NumFrames(559) == 1);
  CHECK(snip.NumFrames(560) == 2);
  o.snip_edges = false;
  slid::MfccComputer nosnip(o, 16000);
  CHECK(nosnip.NumFrames(79) == 0);
  CHECK(nosnip.NumFrames(80) == 1);
  CHECK(nosnip.NumFrames(16000) == 100);
}

TEST_CASE("MFCC of empty and too-short input has zero rows") {
  slid::MfccComputer m(slid::MfccOptions{}, 16000);
  CHECK(m.Compute(std::vector<float>{}).rows() == 0);
  CHECK(m.Compute(std::vector<float>{}).cols() == 7);
  CHECK(m.Compute(std::vector<float>(399, 100.0f)).rows() == 0);
  slid::MfccOptions o;
  o.snip_edges = false;
  slid::MfccComputer ns(o, 16000);
  slid::Matrix one = ns.Compute(std::vector<float>(100, 5.0f));  // one reflected frame from 100 samples
  CHECK(one.rows() == 1);
  CHECK(one.allFinite());
}

TEST_CASE("MFCC of digital silence is finite (mel energies floored at FLT_EPSILON)") {
  slid::MfccOptions o;
  o.use_energy = true;
  slid::MfccComputer m(o, 8000);
  slid::Matrix z = m.Compute(std::vector<float>(8000, 0.0f));
  CHECK(z.rows() == 98);
  CHECK(z.allFinite());
  CHECK(z(0, 0) == doctest::Approx(std::log(std::numeric_limits<float>::epsilon())));
}

TEST_CASE("Dither: 0 is reproducible, a seed makes dithered output reproducible") {
  std::vector<float> x(16000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 1000.0f * std::sin(0.05f * i);
  slid::MfccOptions o;
  o.dither = 1.0f;
  o.dither_seed = 7;
  slid::MfccComputer a(o, 16000), b(o, 16000);
  CHECK(a.Compute(x) == b.Compute(x));
  CHECK(a.Compute(x) == a.Compute(x));
  o.dither_seed = 8;
  slid::MfccComputer c(o, 16000);
  CHECK(a.Compute(x) != c.Compute(x));
  o.dither = 0.0f;
  slid::MfccComputer d(o, 16000);
  CHECK(d.Compute(x) != a.Compute(x));
  CHECK(a.Compute(x).allFinite());
}

TEST_CASE("MFCC options are validated with the option's name") {
  auto fails_with = [](const slid::MfccOptions& o, int rate, const std::string& name) {
    try {
      slid::MfccComputer m(o, rate);
    } catch (const slid::Error& e) {
      return std::string(e.what()).find(name) != std::string::npos;
    }
    return false;
  };
  slid::MfccOptions o;
  o.high_freq_hz = 5000;
  CHECK(fails_with(o, 8000, "high-freq"));
  o = {};
  o.high_freq_hz = -4000;  // effective 0 Hz at 8 kHz
  CHECK(fails_with(o, 8000, "high-freq"));
  o = {};
  o.num_ceps = 24;
  CHECK(fails_with(o, 16000, "num-ceps"));
  o = {};
  o.frame_length_ms = 0;
  CHECK(fails_with(o, 16000, "frame-length"));
  o = {};
  o.frame_shift_ms = -1;
  CHECK(fails_with(o, 16000, "frame-shift"));
  o = {};
  o.window_type = "gauss";
  CHECK(fails_with(o, 16000, "window-type"));
  o = {};
  o.num_mel_bins = 128;  // 128 bins on a 512-point FFT leaves low bins empty
  CHECK(fails_with(o, 16000, "num-mel-bins"));
  o = {};
  o.low_freq_hz = 8000;
  CHECK(fails_with(o, 16000, "low-freq"));
  CHECK_NOTHROW(slid::MfccComputer(slid::MfccOptions{}, 8000));
}
