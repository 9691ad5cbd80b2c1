// Tests for include/slid/audio.h. Fixtures are written here with libsndfile from known signals
// (sines, exact integer ramps), so every expected value is computed, not stored.
#include <doctest/doctest.h>

#include "temp_dir.h"

#include <malloc.h>
#include <sndfile.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "slid/audio.h"
#include "slid/error.h"
#include "slid/io.h"

namespace fs = std::filesystem;
using slid::Waveform;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLID_HAS_ASAN 1
#endif
#endif
#ifndef SLID_HAS_ASAN
#define SLID_HAS_ASAN 0
#endif

namespace {

constexpr double kPi = 3.14159265358979323846;

// A per-process scratch folder, removed at exit.
const TempDir& Tmp() {
  static TempDir t("slid_test_audio_");
  return t;
}

// Writes interleaved float frames (full scale +-1) with libsndfile in `format`.
void WriteSnd(const std::string& path, int format, int rate, int channels, const std::vector<float>& data) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  REQUIRE_MESSAGE(sf_format_check(&info), "libsndfile cannot write format 0x" << std::hex << format);
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  REQUIRE_MESSAGE(f != nullptr, path << ": " << sf_strerror(nullptr));
  // Do not let libsndfile clip or rescale: we want the values we pass.
  const sf_count_t frames = static_cast<sf_count_t>(data.size() / channels);
  CHECK(sf_writef_float(f, data.data(), frames) == frames);
  sf_close(f);
}

void WriteShorts(const std::string& path, int rate, int channels, const std::vector<short>& data) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  REQUIRE(f != nullptr);
  const sf_count_t frames = static_cast<sf_count_t>(data.size() / channels);
  CHECK(sf_writef_short(f, data.data(), frames) == frames);
  sf_close(f);
}

std::vector<float> Sine(double freq_hz, double amp, int rate, double seconds) {
  std::vector<float> v(static_cast<size_t>(std::llround(seconds * rate)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(amp * std::sin(2 * kPi * freq_hz * i / rate));
  return v;
}

// Least-squares fit of a*sin + b*cos at `freq_hz` over samples [begin, end): returns the amplitude
// and the fraction of the segment's energy the fit leaves unexplained.
struct SineFit {
  double amplitude;
  double residual_ratio;
};
SineFit FitSine(const Waveform& w, double freq_hz, size_t begin, size_t end) {
  double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0, yy = 0;
  for (size_t i = begin; i < end; ++i) {
    const double t = 2 * kPi * freq_hz * i / w.rate_hz;
    const double s = std::sin(t), c = std::cos(t), y = w.samples[i];
    ss += s * s; cc += c * c; sc += s * c; ys += y * s; yc += y * c; yy += y * y;
  }
  const double det = ss * cc - sc * sc;
  const double a = (ys * cc - yc * sc) / det, b = (yc * ss - ys * sc) / det;
  const double explained = a * ys + b * yc;
  return {std::hypot(a, b), (yy - explained) / yy};
}

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const slid::Error& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

TEST_CASE("16-bit PCM WAV reads as exact integers on Kaldi's scale") {
  const std::string path = Tmp()("ints.wav");
  std::vector<short> data = {0, 1, -1, 1234, -32768, 32767, 100, -100};
  WriteShorts(path, 16000, 1, data);
  Waveform w = slid::ReadAudio(path, 0);
  CHECK(w.rate_hz == 16000);
  REQUIRE(w.samples.size() == data.size());
  for (size_t i = 0; i < data.size(); ++i) CHECK(w.samples[i] == static_cast<float>(data[i]));
  CHECK(w.Seconds() == doctest::Approx(8.0 / 16000));
  // Target equal to the native rate is the same as 0.
  CHECK(slid::ReadAudio(path, 16000).samples == w.samples);
}

TEST_CASE("mixdown averages any number of channels") {
  for (int channels : {2, 3, 6}) {
    CAPTURE(channels);
    const std::string path = Tmp()("mix" + std::to_string(channels) + ".wav");
    const int frames = 50;
    std::vector<short> data(static_cast<size_t>(frames) * channels);
    for (int f = 0; f < frames; ++f)
      for (int c = 0; c < channels; ++c) data[f * channels + c] = static_cast<short>((f * 97 + c * 1031) % 20000 - 10000);
    WriteShorts(path, 8000, channels, data);
    Waveform w = slid::ReadAudio(path, 0);
    REQUIRE(w.samples.size() == static_cast<size_t>(frames));
    for (int f = 0; f < frames; ++f) {
      double sum = 0;
      for (int c = 0; c < channels; ++c) sum += data[f * channels + c];
      CHECK(w.samples[f] == doctest::Approx(sum / channels).epsilon(1e-6));
    }
  }
}

TEST_CASE("every libsndfile format reads back a 440 Hz sine at the right scale") {
  // Lossless formats get integer samples q of their own bit depth b (written with sf_write_int,
  // which takes them left-aligned in 32 bits) and must read back as q * 32768 / 2^(b-1), exact up to
  // float rounding. (Not via sf_write_float: libsndfile scales floats by 2^(b-1)-1 on write but
  // divides by 2^(b-1) on read, so a float round trip is not an identity.) Float WAV gets floats
  // and must read back as x * 32768. Lossy formats are checked by fitting the sine.
  struct Case {
    const char* name;
    int format;
    int rate;
    int bits;  // bit depth of integer PCM; 0 for float, -1 for lossy
  };
  const Case cases[] = {
      {"u8.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 16000, 8},
      {"s16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 16},
      {"s24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 22050, 24},
      {"s32.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 44100, 32},
      {"f32.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 0},
      {"s16.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 16},
      {"s24.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 8000, 24},
      {"s16.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 11025, 16},
      {"vorbis.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000, -1},
      {"opus.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000, -1},
      {"mp3.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, -1},
  };
  const double amp = 0.5, freq = 440;
  for (const Case& c : cases) {
    CAPTURE(std::string(c.name));
    const std::string path = Tmp()(c.name);
    const std::vector<float> x = Sine(freq, amp, c.rate, 1.0);
    std::vector<double> expected(x.size());
    if (c.bits > 0) {
      const double full = std::ldexp(1.0, c.bits - 1);
      std::vector<int> q32(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        const double q = std::round(x[i] * full);
        expected[i] = q * 32768.0 / full;
        q32[i] = static_cast<int>(std::ldexp(q, 32 - c.bits));
      }
      SF_INFO info{};
      info.samplerate = c.rate;
      info.channels = 1;
      info.format = c.format;
      SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
      REQUIRE(f != nullptr);
      CHECK(sf_write_int(f, q32.data(), static_cast<sf_count_t>(q32.size())) == static_cast<sf_count_t>(q32.size()));
      sf_close(f);
    } else {
      for (size_t i = 0; i < x.size(); ++i) expected[i] = 32768.0 * x[i];
      WriteSnd(path, c.format, c.rate, 1, x);
    }
    Waveform w = slid::ReadAudio(path, 0);
    CHECK(w.rate_hz == c.rate);
    const bool lossless = c.bits >= 0;
    if (lossless) {
      REQUIRE(w.samples.size() == x.size());
      double worst = 0;
      for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(w.samples[i] - expected[i]));
      // 8/16-bit values are exact in float; 24/32-bit and float go through float rounding.
      CHECK(worst <= (c.bits == 8 || c.bits == 16 ? 0.0 : 0.01));
    } else {
      // Lossy codecs add encoder delay/padding: the length is within 0.1 s, and over the middle of
      // the file the signal is a 440 Hz sine of amplitude 0.5 * 32768 within 5%, with less than 1%
      // of its energy outside that sine (free phase, so the codec's delay does not matter).
      CHECK(std::abs(static_cast<double>(w.samples.size()) - x.size()) < 0.1 * c.rate);
      SineFit fit = FitSine(w, freq, w.samples.size() / 4, w.samples.size() * 3 / 4);
      CHECK(fit.amplitude == doctest::Approx(amp * 32768).epsilon(0.05));
      CHECK(fit.residual_ratio < 0.01);
    }
    // Resampled to 16 kHz and to 8 kHz, the tone survives at the same amplitude: within 0.2% and
    // 1e-4 residual energy for lossless sources (8-bit: 1% and 1e-3, its quantisation noise is
    // about -50 dB), as above for lossy ones.
    for (int target : {16000, 8000}) {
      CAPTURE(target);
      Waveform r = slid::ReadAudio(path, target);
      CHECK(r.rate_hz == target);
      CHECK(std::abs(static_cast<double>(r.samples.size()) - w.samples.size() * double(target) / c.rate) <= 1.0);
      SineFit fit = FitSine(r, freq, r.samples.size() / 4, r.samples.size() * 3 / 4);
      const double amp_tol = !lossless ? 0.05 : c.bits == 8 ? 0.01 : 0.002;
      const double res_tol = !lossless ? 0.01 : c.bits == 8 ? 1e-3 : 1e-4;
      CHECK(fit.amplitude == doctest::Approx(amp * 32768).epsilon(amp_tol));
      CHECK(fit.residual_ratio < res_tol);
    }
  }
}

TEST_CASE("resampling preserves a sine's frequency, amplitude and phase") {
  // soxr's high-quality filter is linear phase with its delay removed, so the output should be the
  // same analytic sine sampled at the new rate. Tolerance: 1e-5 of the amplitude (soxr HQ is a
  // 20-bit-precision filter; the worst errors measured on these cases were 1.1e-7 to 8.3e-7).
  struct Case {
    int in_rate, out_rate;
    double freq;
  };
  const Case cases[] = {{44100, 16000, 1000}, {48000, 8000, 440}, {8000, 16000, 1000}, {1000, 16000, 100},
                        {384000, 8000, 1000}, {22050, 16000, 3000}, {16000, 8000, 3000}};
  const double amp = 10000;
  for (const Case& c : cases) {
    CAPTURE(c.in_rate);
    CAPTURE(c.out_rate);
    Waveform in;
    in.rate_hz = c.in_rate;
    in.samples = Sine(c.freq, amp, c.in_rate, 2.0);
    Waveform out = slid::Resample(in, c.out_rate);
    CHECK(out.rate_hz == c.out_rate);
    CHECK(out.samples.size() == static_cast<size_t>(std::llround(in.samples.size() * double(c.out_rate) / c.in_rate)));
    // Away from the edges (the filter sees zeros beyond the signal), compare with the ideal sine.
    const size_t edge = out.samples.size() / 8;
    double worst = 0;
    for (size_t i = edge; i + edge < out.samples.size(); ++i)
      worst = std::max(worst, std::abs(out.samples[i] - amp * std::sin(2 * kPi * c.freq * i / c.out_rate)));
    CHECK(worst < 1e-5 * amp);
  }
}

TEST_CASE("files at 1 kHz and 384 kHz read at 8 and 16 kHz") {
  struct Case {
    const char* name;
    int rate;
    int format;
    double freq;
  };
  const Case cases[] = {{"r1k.wav", 1000, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 100},
                        {"r384k.wav", 384000, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1000},
                        {"r384k.flac", 384000, SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 3000}};
  for (const Case& c : cases) {
    CAPTURE(std::string(c.name));
    const std::string path = Tmp()(c.name);
    WriteSnd(path, c.format, c.rate, 1, Sine(c.freq, 0.25, c.rate, 2.0));
    for (int target : {8000, 16000}) {
      CAPTURE(target);
      Waveform w = slid::ReadAudio(path, target);
      CHECK(w.rate_hz == target);
      CHECK(w.samples.size() == static_cast<size_t>(2 * target));
      // libsndfile writes floats with scale 2^(b-1)-1, hence the amplitude tolerance of 0.1%.
      SineFit fit = FitSine(w, c.freq, w.samples.size() / 8, w.samples.size() * 7 / 8);
      CHECK(fit.amplitude == doctest::Approx(0.25 * 32768).epsilon(1e-3));
      CHECK(fit.residual_ratio < 1e-5);
    }
  }
}

TEST_CASE("resampling down removes tones above the new Nyquist frequency") {
  Waveform in;
  in.rate_hz = 48000;
  in.samples = Sine(6000, 10000, 48000, 1.0);  // above 4 kHz: must vanish at 8 kHz
  Waveform out = slid::Resample(in, 8000);
  const size_t edge = out.samples.size() / 8;
  double peak = 0;
  for (size_t i = edge; i + edge < out.samples.size(); ++i) peak = std::max(peak, double(std::abs(out.samples[i])));
  CHECK(peak < 10000 * 1e-4);  // at least 80 dB down
}

TEST_CASE("Resample edge cases") {
  Waveform empty;
  empty.rate_hz = 16000;
  Waveform r = slid::Resample(empty, 8000);
  CHECK(r.rate_hz == 8000);
  CHECK(r.samples.empty());
  Waveform one;
  one.rate_hz = 16000;
  one.samples = {1.0f, 2.0f, 3.0f};
  CHECK(slid::Resample(one, 16000).samples == one.samples);
  CHECK(slid::Resample(one, 0).samples == one.samples);
  CHECK(slid::Resample(one, 48000).samples.size() == 9);
  CHECK_THROWS_AS(slid::Resample(Waveform{}, 8000), slid::Error);
  CHECK_THROWS_AS(slid::Resample(one, -1), slid::Error);
}

TEST_CASE("AudioReader chunks concatenate to ReadAudio exactly, with and without resampling") {
  const std::string path = Tmp()("chunks.wav");
  const int rate = 44100;
  std::vector<float> x(static_cast<size_t>(rate) * 3 * 2);  // 3 s stereo
  for (size_t i = 0; i < x.size() / 2; ++i) {
    x[2 * i] = static_cast<float>(0.3 * std::sin(2 * kPi * 300 * i / rate));
    x[2 * i + 1] = static_cast<float>(0.2 * std::sin(2 * kPi * 1700 * i / rate));
  }
  WriteSnd(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, rate, 2, x);
  for (int target : {0, 16000, 8000}) {
    CAPTURE(target);
    Waveform whole = slid::ReadAudio(path, target);
    slid::AudioReader reader(path, target);
    CHECK(reader.DurationSeconds() == doctest::Approx(3.0));
    CHECK(reader.source_rate_hz() == rate);
    CHECK(reader.source_channels() == 2);
    CHECK(reader.rate_hz() == (target ? target : rate));
    std::vector<float> joined;
    Waveform chunk;
    const double chunk_s = 0.37;
    const size_t chunk_n = static_cast<size_t>(std::llround(chunk_s * reader.rate_hz()));
    int chunks = 0;
    while (reader.Read(chunk_s, &chunk)) {
      CHECK(chunk.rate_hz == reader.rate_hz());
      CHECK(chunk.samples.size() <= chunk_n);
      if (chunk.samples.size() < chunk_n) CHECK(joined.size() + chunk.samples.size() == whole.samples.size());
      joined.insert(joined.end(), chunk.samples.begin(), chunk.samples.end());
      ++chunks;
    }
    CHECK(chunk.samples.empty());
    CHECK(!reader.Read(chunk_s, &chunk));
    CHECK(chunks == static_cast<int>((whole.samples.size() + chunk_n - 1) / chunk_n));
    CHECK(joined == whole.samples);
  }
}

TEST_CASE("AudioReader keeps memory bounded on a long file") {
  // 20 minutes at 8 kHz, 8-bit (9.6 MB on disk); decoded whole and resampled to 16 kHz it would be
  // 76.8 MB of floats. Reading it in 10 s chunks must never hold more than a few MB.
  const std::string path = Tmp()("long.wav");
  const int rate = 8000;
  {
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_U8;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    REQUIRE(f != nullptr);
    std::vector<float> block = Sine(250, 0.5, rate, 10.0);  // 250 Hz: whole periods per block
    for (int i = 0; i < 120; ++i) sf_writef_float(f, block.data(), static_cast<sf_count_t>(block.size()));
    sf_close(f);
  }
  const size_t base = mallinfo2().uordblks;
  slid::AudioReader reader(path, 16000);
  Waveform chunk;
  size_t total = 0, peak = 0;
  int chunks = 0;
  while (reader.Read(10.0, &chunk)) {
    total += chunk.samples.size();
    peak = std::max(peak, mallinfo2().uordblks - std::min(base, mallinfo2().uordblks));
    ++chunks;
    if (chunks == 60) {  // a chunk from the middle still holds the 250 Hz tone (8-bit: 0.5 * 127/128)
      SineFit fit = FitSine(chunk, 250, 0, chunk.samples.size());
      CHECK(fit.amplitude == doctest::Approx(0.5 * 32768 * 127 / 128).epsilon(0.01));
      CHECK(fit.residual_ratio < 1e-3);
    }
  }
  CHECK(chunks == 120);
  CHECK(total == static_cast<size_t>(1200) * 16000);
  MESSAGE("peak heap growth while streaming 20 min: " << peak / 1024 << " KiB");
#if defined(__SANITIZE_ADDRESS__) || SLID_HAS_ASAN
  MESSAGE("heap use not measurable with ASan's allocator (mallinfo2 reports 0): memory bound unchecked");
#else
  CHECK(peak > 0);  // the 10 s chunk alone is 625 KiB: if this fails, mallinfo2 does not see our heap
  CHECK(peak < 8u << 20);
#endif
}

TEST_CASE("ReadAudioFromMemory decodes the same bytes as ReadAudio") {
  const std::string path = Tmp()("mem.flac");
  WriteSnd(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 22050, 2, Sine(500, 0.25, 22050, 0.5));
  const std::string bytes = slid::ReadFileToString(path);
  for (int target : {0, 16000}) {
    Waveform a = slid::ReadAudio(path, target);
    Waveform b = slid::ReadAudioFromMemory(bytes, "piped-cmd |", target);
    CHECK(a.rate_hz == b.rate_hz);
    CHECK(a.samples == b.samples);
  }
  CHECK(ErrorOf([] { slid::ReadAudioFromMemory("definitely not audio", "utt7 |", 16000); }).rfind("utt7 |: ", 0) == 0);
  CHECK(ErrorOf([] { slid::ReadAudioFromMemory("", "empty |", 16000); }).rfind("empty |: ", 0) == 0);
  CHECK(ErrorOf([&] { slid::ReadAudioFromMemory(bytes.substr(0, bytes.size() / 2), "half |", 0); }).rfind("half |: ", 0) == 0);
}

TEST_CASE("bad inputs give errors that start with the path and say what is wrong") {
  const std::string missing = Tmp()("missing.wav");
  CHECK(ErrorOf([&] { slid::ReadAudio(missing, 16000); }) == missing + ": no such file");
  CHECK(ErrorOf([&] { slid::ReadAudio(Tmp().dir.string(), 16000); }).find("is a directory") != std::string::npos);

  const std::string text = Tmp()("text.wav");
  slid::WriteFileAtomically(text, [](std::ostream& o) { o << "RIFF? no, just text\n"; });
  CHECK(ErrorOf([&] { slid::ReadAudio(text, 16000); }).rfind(text + ": ", 0) == 0);

  const std::string empty_file = Tmp()("zero-bytes.wav");
  slid::WriteFileAtomically(empty_file, [](std::ostream&) {});
  CHECK(ErrorOf([&] { slid::ReadAudio(empty_file, 16000); }).rfind(empty_file + ": ", 0) == 0);

  const std::string no_samples = Tmp()("no-samples.wav");
  WriteShorts(no_samples, 16000, 1, {});
  CHECK(ErrorOf([&] { slid::ReadAudio(no_samples, 16000); }) == no_samples + ": contains no audio samples");
  CHECK_THROWS_AS(slid::AudioReader(no_samples, 16000), slid::Error);

  // A WAV cut short: the data chunk promises more bytes than the file has.
  const std::string full = Tmp()("full.wav");
  WriteShorts(full, 16000, 1, std::vector<short>(16000, 100));
  const std::string bytes = slid::ReadFileToString(full);
  const std::string cut = Tmp()("cut.wav");
  slid::WriteFileAtomically(cut, [&](std::ostream& o) { o << bytes.substr(0, bytes.size() / 2 + 1); });
  const std::string cut_err = ErrorOf([&] { slid::ReadAudio(cut, 16000); });
  CHECK(cut_err.rfind(cut + ": truncated", 0) == 0);
  CHECK(ErrorOf([&] { slid::ReadAudioFromMemory(bytes.substr(0, 1000), "cut |", 0); }).rfind("cut |: truncated", 0) == 0);

  // A FLAC cut short: its STREAMINFO promises more frames than can be decoded.
  const std::string flac = Tmp()("full.flac");
  WriteSnd(flac, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, Sine(440, 0.5, 16000, 2.0));
  const std::string flac_bytes = slid::ReadFileToString(flac);
  const std::string cut_flac = Tmp()("cut.flac");
  slid::WriteFileAtomically(cut_flac, [&](std::ostream& o) { o << flac_bytes.substr(0, flac_bytes.size() / 2); });
  CHECK(ErrorOf([&] { slid::ReadAudio(cut_flac, 16000); }).rfind(cut_flac + ": truncated", 0) == 0);

  // Float WAVs holding NaN or Inf.
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity(), 3e38f}) {
    CAPTURE(bad);
    const std::string path = Tmp()("bad-float.wav");
    std::vector<float> x(100, 0.1f);
    x[57] = bad;
    WriteSnd(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, x);
    CHECK(ErrorOf([&] { slid::ReadAudio(path, 0); }) == path + ": sample 57 is NaN or infinite");
  }

  const std::string ok = Tmp()("ok.wav");
  WriteShorts(ok, 16000, 1, {1, 2, 3});
  CHECK(ErrorOf([&] { slid::ReadAudio(ok, -8000); }).rfind(ok + ": ", 0) == 0);
  slid::AudioReader reader(ok, 0);
  Waveform chunk;
  CHECK_THROWS_AS(reader.Read(0.0, &chunk), slid::Error);
}

TEST_CASE("cut lossy files either fail naming the file or decode less, never more or garbage") {
  const std::pair<const char*, int> formats[] = {{"cut.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS},
                                                 {"cut.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS},
                                                 {"cut.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III}};
  for (const auto& entry : formats) {
    const char* name = entry.first;  // not a structured binding: clang 14 cannot capture those (CAPTURE)
    const int format = entry.second;
    CAPTURE(std::string(name));
    const std::string full = Tmp()(std::string("full-") + name);
    WriteSnd(full, format, 48000, 1, Sine(440, 0.5, 48000, 2.0));
    const std::string bytes = slid::ReadFileToString(full);
    const size_t full_len = slid::ReadAudio(full, 16000).samples.size();
    for (double keep : {0.5, 0.9}) {
      const std::string cut = Tmp()(name);
      slid::WriteFileAtomically(cut, [&](std::ostream& o) { o << bytes.substr(0, static_cast<size_t>(bytes.size() * keep)); });
      try {
        Waveform w = slid::ReadAudio(cut, 16000);
        MESSAGE(std::string(name) << " cut to " << keep << ": decoded " << w.samples.size() << " of " << full_len << " samples");
        CHECK(w.samples.size() < full_len);
        float peak = 0;
        for (float v : w.samples) peak = std::max(peak, std::abs(v));
        CHECK(peak < 32768 * 1.5f);
      } catch (const slid::Error& e) {
        MESSAGE(std::string(name) << " cut to " << keep << ": " << std::string(e.what()));
        CHECK(std::string(e.what()).rfind(cut + ": ", 0) == 0);
      }
    }
  }
}

TEST_CASE("a WAV streamed into a pipe (placeholder sizes) is not mistaken for a truncated one") {
  // What `sox ... -t wav - | cat > f.wav` leaves: RIFF and data sizes near 2^31.
  const std::string path = Tmp()("streamed.wav");
  WriteShorts(path, 16000, 1, std::vector<short>(1000, 7));
  std::string bytes = slid::ReadFileToString(path);
  REQUIRE(bytes.compare(36, 4, "data") == 0);
  const unsigned char placeholder[4] = {0x00, 0xf0, 0xff, 0x7f};  // 0x7ffff000, little-endian
  bytes.replace(40, 4, reinterpret_cast<const char*>(placeholder), 4);
  bytes.replace(4, 4, reinterpret_cast<const char*>(placeholder), 4);
  Waveform w = slid::ReadAudioFromMemory(bytes, "streamed", 0);
  CHECK(w.samples.size() == 1000);
  CHECK(w.samples.front() == 7.0f);
}
