// slid/augment.h: Butterworth sections against scipy.signal.butter + sosfilt, mu-law against torchaudio
// (fixtures: tests/data/augment, made by tests/data/make_augment_fixtures.py), and properties: the
// telephone channel's pass and stop bands, the noises' spectral slopes, the SNR met, determinism.
#include <doctest/doctest.h>

#include <cmath>
#include <complex>
#include <fstream>
#include <string>
#include <vector>

#include "fft.h"
#include "slid/augment.h"
#include "slid/error.h"

namespace {

const std::string kDir = std::string(SLID_TEST_DATA) + "/augment/";
constexpr double kPi = 3.14159265358979323846;

std::vector<double> ReadColumn(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), path);
  std::vector<double> v;
  double x;
  while (in >> x) v.push_back(x);
  return v;
}

// The fixture script's test input.
std::vector<float> TestInput() {
  std::vector<float> x(400);
  for (int n = 0; n < 400; ++n) x[n] = static_cast<float>(1000 * std::sin(0.05 * n) + 800 * std::sin(1.9 * n) + (n == 0 ? 5000 : 0));
  return x;
}

slid::Waveform Sine(double hz, double amplitude, int rate, double seconds) {
  slid::Waveform w;
  w.rate_hz = rate;
  w.samples.resize(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < w.samples.size(); ++i) w.samples[i] = static_cast<float>(amplitude * std::sin(2 * kPi * hz * i / rate));
  return w;
}

// RMS of samples [from, to).
double Rms(const std::vector<float>& x, size_t from, size_t to) {
  double s = 0;
  for (size_t i = from; i < to; ++i) s += static_cast<double>(x[i]) * x[i];
  return std::sqrt(s / static_cast<double>(to - from));
}

double MeanSquare(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += static_cast<double>(v) * v;
  return s / static_cast<double>(x.size());
}

// Slope of log10(power) against log10(frequency) between lo_hz and hi_hz, from a Welch estimate
// (Hann windows of 1024 samples, hop 512) of x at `rate`: 0 for white noise, -1 pink, -2 brown.
double SpectralSlope(const std::vector<float>& x, int rate, double lo_hz, double hi_hz) {
  const int n = 1024;
  slid::RealFft fft(n);
  std::vector<double> avg(n / 2 + 1, 0.0);
  std::vector<float> frame(n), power(n / 2 + 1);
  std::vector<std::complex<float>> scratch;
  for (size_t start = 0; start + n <= x.size(); start += n / 2) {
    for (int i = 0; i < n; ++i) frame[i] = static_cast<float>(x[start + i] * (0.5 - 0.5 * std::cos(2 * kPi * i / n)));
    fft.PowerSpectrum(frame.data(), power.data(), &scratch);
    for (int k = 0; k <= n / 2; ++k) avg[k] += power[k];
  }
  double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
  for (int k = 1; k <= n / 2; ++k) {
    const double f = static_cast<double>(k) * rate / n;
    if (f < lo_hz || f > hi_hz) continue;
    const double lx = std::log10(f), ly = std::log10(avg[k]);
    sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly, m += 1;
  }
  return (m * sxy - sx * sy) / (m * sxx - sx * sx);
}

}  // namespace

TEST_CASE("Butterworth sections filter as scipy.signal.butter + sosfilt (relative max error 1e-4)") {
  struct Case {
    std::string name;
    int order;
    double cutoff, rate;
    bool highpass;
  };
  for (const Case& c : {Case{"hp4_300_8000", 4, 300, 8000, true}, Case{"lp4_3400_8000", 4, 3400, 8000, false},
                        Case{"lp6_1000_16000", 6, 1000, 16000, false}, Case{"hp2_50_16000", 2, 50, 16000, true}}) {
    CAPTURE(c.name);
    const std::vector<double> want = ReadColumn(kDir + "butter_" + c.name + ".txt");
    std::vector<float> y = TestInput();
    slid::FilterInPlace(slid::ButterworthSections(c.order, c.cutoff, c.rate, c.highpass), &y);
    REQUIRE(want.size() == y.size());
    double peak = 0, err = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      peak = std::max(peak, std::fabs(want[i]));
      err = std::max(err, std::fabs(want[i] - y[i]));
    }
    CHECK(err <= 1e-4 * peak);
  }
  CHECK_THROWS_AS(slid::ButterworthSections(3, 300, 8000, true), slid::Error);
  CHECK_THROWS_AS(slid::ButterworthSections(4, 4000, 8000, false), slid::Error);
  CHECK_THROWS_AS(slid::ButterworthSections(4, 0, 8000, false), slid::Error);
}

TEST_CASE("MuLaw equals torchaudio's mu_law_encoding + mu_law_decoding within full scale, and clips beyond") {
  const std::vector<double> v = ReadColumn(kDir + "mulaw.txt");
  REQUIRE(v.size() % 2 == 0);
  std::vector<float> in;
  std::vector<double> want;
  for (size_t i = 0; i < v.size(); i += 2) {
    in.push_back(static_cast<float>(v[i]));
    want.push_back(v[i + 1]);
  }
  const std::vector<float> out = slid::MuLaw(in);
  int compared = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    CAPTURE(in[i]);
    if (std::fabs(in[i]) <= 32768) {
      CHECK(out[i] == doctest::Approx(want[i]).epsilon(1e-5).scale(100));  // torchaudio decodes in float32
      ++compared;
    } else {
      CHECK(std::fabs(out[i]) == doctest::Approx(32768));  // clipped to full scale first
    }
  }
  CHECK(compared > 100);
}

TEST_CASE("TelephoneChannel passes 1 kHz, removes 100 Hz and 5 kHz, keeps the length") {
  for (double hz : {1000.0, 100.0, 5000.0}) {
    CAPTURE(hz);
    const slid::Waveform in = Sine(hz, 10000, 16000, 1.0);
    const slid::Waveform out = slid::TelephoneChannel(in, false);
    CHECK(out.rate_hz == 16000);
    REQUIRE(out.samples.size() == in.samples.size());
    const double gain_db = 20 * std::log10(Rms(out.samples, 4000, 12000) / Rms(in.samples, 4000, 12000));
    if (hz == 1000) CHECK(std::fabs(gain_db) < 0.5);
    if (hz == 100) CHECK(gain_db < -30);  // 4th-order Butterworth high-pass at 300 Hz: -38 dB
    if (hz == 5000) CHECK(gain_db < -40);  // beyond the 8 kHz rate's Nyquist frequency
  }
  // mu-law adds quantisation noise (G.711: about 35-50 dB below the signal over its range).
  const slid::Waveform in = Sine(1000, 10000, 16000, 1.0);
  const slid::Waveform plain = slid::TelephoneChannel(in, false), coded = slid::TelephoneChannel(in, true);
  double diff = 0;
  for (size_t i = 4000; i < 12000; ++i) diff += std::pow(plain.samples[i] - coded.samples[i], 2);
  const double snr = 10 * std::log10(std::pow(Rms(plain.samples, 4000, 12000), 2) / (diff / 8000));
  CHECK(snr > 30);
  CHECK(snr < 60);
  CHECK_THROWS_AS(slid::TelephoneChannel(Sine(1000, 1, 4000, 0.1), false), slid::Error);
}

TEST_CASE("MakeNoise: unit mean square, white/pink/brown spectral slopes 0/-1/-2 (+-0.15), deterministic") {
  for (const auto& type_slope : {std::pair<std::string, double>{"white", 0}, {"pink", -1}, {"brown", -2}}) {
    // (not a structured binding: C++17 lambdas, such as CAPTURE's, cannot capture one; clang refuses)
    const std::string& type = type_slope.first;
    const double slope = type_slope.second;
    CAPTURE(type);
    const std::vector<float> n = slid::MakeNoise(type, 16000 * 8, 16000, 7);
    CHECK(MeanSquare(n) == doctest::Approx(1).epsilon(1e-4));
    CHECK(SpectralSlope(n, 16000, 100, 4000) == doctest::Approx(slope).scale(1).epsilon(0.15));
    CHECK(slid::MakeNoise(type, 1000, 16000, 7) == slid::MakeNoise(type, 1000, 16000, 7));
    CHECK(slid::MakeNoise(type, 1000, 16000, 7) != slid::MakeNoise(type, 1000, 16000, 8));
  }
  CHECK_THROWS_AS(slid::MakeNoise("blue", 10, 16000, 1), slid::Error);
  CHECK(slid::MakeNoise("pink", 0, 16000, 1).empty());
}

TEST_CASE("AddNoiseAtSnr meets the SNR on the whole utterance's mean square (within 0.01 dB)") {
  const slid::Waveform speech = Sine(440, 3000, 16000, 0.5);
  for (double snr : {-5.0, 0.0, 7.5, 20.0}) {
    std::vector<float> x = speech.samples;
    const std::vector<float> noise = slid::MakeNoise("white", static_cast<int64_t>(x.size()), 16000, 3);
    CHECK(slid::AddNoiseAtSnr(&x, noise, snr) > 0);
    std::vector<float> added(x.size());
    for (size_t i = 0; i < x.size(); ++i) added[i] = x[i] - speech.samples[i];
    CHECK(10 * std::log10(MeanSquare(speech.samples) / MeanSquare(added)) == doctest::Approx(snr).scale(1).epsilon(0.01));
  }
  std::vector<float> silence(100, 0.0f);
  CHECK(slid::AddNoiseAtSnr(&silence, slid::MakeNoise("white", 100, 16000, 1), 10) == 0);
  CHECK(silence == std::vector<float>(100, 0.0f));
  std::vector<float> x(10, 1.0f);
  CHECK_THROWS_AS(slid::AddNoiseAtSnr(&x, std::vector<float>(9, 1.0f), 10), slid::Error);
  CHECK_THROWS_AS(slid::AddNoiseAtSnr(&x, std::vector<float>(10, 0.0f), 10), slid::Error);
}

TEST_CASE("AugmentUtterance: deterministic per (seed, utterance, copy); SNR in range; speed changes length") {
  slid::AugmentOptions o;
  o.copies = 2;
  const slid::Waveform in = Sine(300, 5000, 16000, 1.0);
  const slid::AugmentedCopy a = slid::AugmentUtterance(in, o, "utt1", 0);
  CHECK(a.wav.samples == slid::AugmentUtterance(in, o, "utt1", 0).wav.samples);
  CHECK(a.description == slid::AugmentUtterance(in, o, "utt1", 0).description);
  CHECK(a.wav.samples != slid::AugmentUtterance(in, o, "utt2", 0).wav.samples);
  CHECK(a.wav.samples != slid::AugmentUtterance(in, o, "utt1", 1).wav.samples);
  o.seed = 2;
  CHECK(a.wav.samples != slid::AugmentUtterance(in, o, "utt1", 0).wav.samples);
  CHECK(slid::AugmentSeed(1, "a", 0) != slid::AugmentSeed(1, "a", 1));
  CHECK(slid::AugmentSeed(1, "a", 0) != slid::AugmentSeed(1, "b", 0));

  // Noise only: the SNR drawn lies in the range and is met.
  o.kinds = {"noise"};
  o.snr_min_db = 3;
  o.snr_max_db = 6;
  for (int k = 0; k < 8; ++k) {
    const slid::AugmentedCopy c = slid::AugmentUtterance(in, o, "u", k);
    REQUIRE(c.wav.samples.size() == in.samples.size());
    std::vector<float> added(in.samples.size());
    for (size_t i = 0; i < added.size(); ++i) added[i] = c.wav.samples[i] - in.samples[i];
    const double snr = 10 * std::log10(MeanSquare(in.samples) / MeanSquare(added));
    CAPTURE(c.description);
    CHECK(snr >= 3 - 0.01);
    CHECK(snr <= 6 + 0.01);
    CHECK(c.description.find("noise at") != std::string::npos);
  }
  // Speed: 1/f as long.
  o.kinds = {"speed"};
  o.speed_factors = {0.9};
  const slid::AugmentedCopy s = slid::AugmentUtterance(in, o, "u", 0);
  CHECK(s.wav.rate_hz == 16000);
  CHECK(static_cast<double>(s.wav.samples.size()) == doctest::Approx(16000 / 0.9).epsilon(0.001));
  CHECK(s.description == "speed 0.9");
  o.kinds = {"telephone+mulaw"};
  CHECK(slid::AugmentUtterance(in, o, "u", 0).description == "telephone with mu-law");
}

TEST_CASE("AugmentOptions::Validate names the bad option") {
  auto fails = [](slid::AugmentOptions o, const std::string& part) {
    o.copies = 1;
    try {
      o.Validate();
    } catch (const slid::Error& e) {
      CHECK_MESSAGE(std::string(e.what()).find(part) != std::string::npos, e.what());
      return;
    }
    FAIL("no error for " << part);
  };
  slid::AugmentOptions o;
  CHECK_NOTHROW(o.Validate());
  o.kinds = {"noise+reverb"};
  fails(o, "unknown step 'reverb'");
  o.kinds = {"noise+noise"};
  fails(o, "twice");
  o = {};
  o.noise_types = {"blue"};
  fails(o, "unknown noise type 'blue'");
  o = {};
  o.snr_min_db = 20;
  fails(o, "SNR range");
  o = {};
  o.kinds = {"speed"};
  o.speed_factors = {3};
  fails(o, "speed factor");
  o = {};
  o.kinds.clear();
  fails(o, "no kind");
  o = {};
  o.copies = -1;
  CHECK_THROWS_AS(o.Validate(), slid::Error);
  o.copies = 0;
  o.kinds.clear();
  CHECK_NOTHROW(o.Validate());  // off: the rest is not looked at
}
