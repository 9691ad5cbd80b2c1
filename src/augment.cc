// Degraded copies of training utterances. See slid/augment.h.
#include "slid/augment.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "slid/error.h"
#include "slid/model.h"  // Fnv1a64
#include "slid/number_text.h"

namespace slid {

namespace {

constexpr double kPi = 3.14159265358979323846;

// SplitMix64 (Steele, Lea, Flood 2014; the seeding generator of xoshiro): a full-period 64-bit
// generator whose output is the same on every platform.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1), 53 bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }
  // Uniform index in [0, n).
  size_t Index(size_t n) { return static_cast<size_t>(Uniform() * static_cast<double>(n)); }

 private:
  uint64_t state_;
};

// Splits "a+b+c" (or "a,b" with sep ',') into its parts.
std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

const std::set<std::string> kSteps = {"noise", "telephone", "mulaw", "speed"};
const std::set<std::string> kNoises = {"white", "pink", "brown"};

// First-order section from the analog (1 + s/wz)/(1 + s/wp) by the bilinear transform, each corner
// pre-warped to its own frequency (c = 1/tan(pi f / rate) = K/w). wz = infinity (zero_hz <= 0): 1/(1 + s/wp).
Biquad FirstOrder(double pole_hz, double zero_hz, double rate_hz) {
  const double cp = 1 / std::tan(kPi * pole_hz / rate_hz);
  Biquad q;
  const double a0 = 1 + cp;
  if (zero_hz > 0) {
    const double cz = 1 / std::tan(kPi * zero_hz / rate_hz);
    q.b0 = (1 + cz) / a0;
    q.b1 = (1 - cz) / a0;
  } else {
    q.b0 = 1 / a0;
    q.b1 = 1 / a0;
  }
  q.a1 = (1 - cp) / a0;
  return q;
}

}  // namespace

void AugmentOptions::Validate() const {
  if (copies < 0 || copies > 100) throw Error("augment: copies must be in [0, 100], not " + std::to_string(copies));
  if (copies == 0) return;
  if (kinds.empty()) throw Error("augment: no kind of copy given (e.g. noise, telephone, telephone+noise)");
  bool need_noise = false, need_speed = false;
  for (const std::string& k : kinds) {
    std::set<std::string> seen;
    for (const std::string& step : Split(k, '+')) {
      if (!kSteps.count(step))
        throw Error("augment: unknown step '" + step + "' in kind '" + k + "' (known: noise, telephone, mulaw, speed)");
      if (!seen.insert(step).second) throw Error("augment: step '" + step + "' twice in kind '" + k + "'");
      need_noise |= step == "noise";
      need_speed |= step == "speed";
    }
  }
  if (need_noise) {
    if (noise_types.empty()) throw Error("augment: a kind adds noise but no noise type is given");
    for (const std::string& t : noise_types)
      if (!kNoises.count(t)) throw Error("augment: unknown noise type '" + t + "' (known: white, pink, brown)");
    if (!std::isfinite(snr_min_db) || !std::isfinite(snr_max_db) || snr_min_db > snr_max_db)
      throw Error("augment: the SNR range must be finite with min <= max (got " + FormatGeneral(snr_min_db, 6) + " to " +
                  FormatGeneral(snr_max_db, 6) + " dB)");
  }
  if (need_speed) {
    if (speed_factors.empty()) throw Error("augment: a kind changes speed but no speed factor is given");
    for (double f : speed_factors)
      if (!(f >= 0.5 && f <= 2)) throw Error("augment: a speed factor must be in [0.5, 2], not " + FormatGeneral(f, 6));
  }
}

nlohmann::json AugmentOptions::ToJson() const {
  return {{"copies", copies},         {"kinds", kinds},
          {"noise_types", noise_types}, {"snr_min_db", snr_min_db},
          {"snr_max_db", snr_max_db}, {"speed_factors", speed_factors},
          {"seed", seed},         {"original_vad", original_vad}};
}

std::vector<Biquad> ButterworthSections(int order, double cutoff_hz, double rate_hz, bool highpass) {
  if (order < 2 || order > 16 || order % 2 != 0)
    throw Error("Butterworth filter: order must be even, 2 to 16 (got " + std::to_string(order) + ")");
  if (!(rate_hz > 0) || !(cutoff_hz > 0) || !(cutoff_hz < rate_hz / 2))
    throw Error("Butterworth filter: need 0 < cutoff < rate / 2 (cutoff " + FormatGeneral(cutoff_hz, 6) + " Hz, rate " +
                FormatGeneral(rate_hz, 6) + " Hz)");
  // Analog prototype: pole pairs s^2 + 2 sin(theta_k) s + 1, theta_k = pi (2k + 1) / (2 order); scaled to
  // the pre-warped cutoff w = K tan(pi fc / rate), K = 2 rate, then s = K (1 - z^-1) / (1 + z^-1).
  // With W = w / K = tan(pi fc / rate) a section's denominator is
  // (1 + 2 sin W + W^2) + 2 (W^2 - 1) z^-1 + (1 - 2 sin W + W^2) z^-2 and its numerator W^2 (1 + z^-1)^2
  // (low-pass, from w^2) or (1 - z^-1)^2 (high-pass, from s^2).
  const double w = std::tan(kPi * cutoff_hz / rate_hz);
  std::vector<Biquad> out;
  for (int k = 0; k < order / 2; ++k) {
    const double st = std::sin(kPi * (2 * k + 1) / (2.0 * order));
    const double a0 = 1 + 2 * st * w + w * w;
    Biquad q;
    q.a1 = 2 * (w * w - 1) / a0;
    q.a2 = (1 - 2 * st * w + w * w) / a0;
    const double g = highpass ? 1 / a0 : w * w / a0;
    q.b0 = g;
    q.b1 = highpass ? -2 * g : 2 * g;
    q.b2 = g;
    out.push_back(q);
  }
  return out;
}

void FilterInPlace(const std::vector<Biquad>& sections, std::vector<float>* x) {
  for (const Biquad& q : sections) {
    double s1 = 0, s2 = 0;
    for (float& v : *x) {
      const double in = v;
      const double y = q.b0 * in + s1;
      s1 = q.b1 * in - q.a1 * y + s2;
      s2 = q.b2 * in - q.a2 * y;
      v = static_cast<float>(y);
    }
  }
}

std::vector<float> MuLaw(const std::vector<float>& x) {
  // torchaudio.functional.mu_law_encoding / mu_law_decoding with 256 channels, on [-1, 1] = x / 32768.
  constexpr double mu = 255;
  const double l = std::log1p(mu);
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = std::clamp(static_cast<double>(x[i]) / 32768.0, -1.0, 1.0);
    const double e = (v < 0 ? -1 : v > 0 ? 1 : 0) * std::log1p(mu * std::fabs(v)) / l;
    const double code = std::floor((e + 1) / 2 * mu + 0.5);  // 0..255
    const double d = code / mu * 2 - 1;
    const double back = (d < 0 ? -1 : d > 0 ? 1 : 0) * std::expm1(std::fabs(d) * l) / mu;
    y[i] = static_cast<float>(back * 32768.0);
  }
  return y;
}

Waveform TelephoneChannel(const Waveform& in, bool mulaw) {
  if (in.rate_hz < 8000)
    throw Error("telephone channel: needs audio at 8 kHz or more (got " + std::to_string(in.rate_hz) + " Hz)");
  Waveform nb = Resample(in, 8000);
  static const std::vector<Biquad> band = [] {
    std::vector<Biquad> s = ButterworthSections(4, 300, 8000, true);
    const std::vector<Biquad> lp = ButterworthSections(4, 3400, 8000, false);
    s.insert(s.end(), lp.begin(), lp.end());
    return s;
  }();
  FilterInPlace(band, &nb.samples);
  if (mulaw) nb.samples = MuLaw(nb.samples);
  Waveform out = Resample(nb, in.rate_hz);
  out.samples.resize(in.samples.size(), 0.0f);  // the round trip may differ by a sample
  return out;
}

std::vector<float> MakeNoise(const std::string& type, int64_t num_samples, int rate_hz, uint64_t seed) {
  if (!kNoises.count(type)) throw Error("noise: unknown type '" + type + "' (known: white, pink, brown)");
  if (rate_hz <= 40) throw Error("noise: rate must be > 40 Hz (got " + std::to_string(rate_hz) + ")");
  if (num_samples < 0) throw Error("noise: negative length");
  SplitMix64 rng(seed);
  std::vector<float> n(static_cast<size_t>(num_samples));
  for (size_t i = 0; i < n.size(); i += 2) {
    // Box-Muller: two independent N(0, 1) from two uniforms (u1 in (0, 1]).
    const double u1 = 1.0 - rng.Uniform(), u2 = rng.Uniform();
    const double r = std::sqrt(-2 * std::log(u1));
    n[i] = static_cast<float>(r * std::cos(2 * kPi * u2));
    if (i + 1 < n.size()) n[i + 1] = static_cast<float>(r * std::sin(2 * kPi * u2));
  }
  std::vector<Biquad> shape;
  if (type == "pink") {
    // Alternating poles and zeros two octaves apart (pole at 10 x 4^i Hz, zero an octave above it):
    // each pole starts a -6 dB/octave stretch that its zero ends an octave later, so the average is
    // -3 dB/octave (the classic pole-zero approximation of 1/f).
    for (double p = 10; 2 * p < rate_hz / 2.0; p *= 4) shape.push_back(FirstOrder(p, 2 * p, rate_hz));
  } else if (type == "brown") {
    shape.push_back(FirstOrder(10, 0, rate_hz));
  }
  FilterInPlace(shape, &n);
  double ms = 0;
  for (float v : n) ms += static_cast<double>(v) * v;
  ms /= std::max<double>(1, static_cast<double>(n.size()));
  if (ms > 0) {
    const double g = 1 / std::sqrt(ms);
    for (float& v : n) v = static_cast<float>(v * g);
  }
  return n;
}

double AddNoiseAtSnr(std::vector<float>* x, const std::vector<float>& noise, double snr_db) {
  if (noise.size() != x->size())
    throw Error("noise: " + std::to_string(noise.size()) + " noise samples for " + std::to_string(x->size()) +
                " signal samples");
  double ps = 0, pn = 0;
  for (float v : *x) ps += static_cast<double>(v) * v;
  for (float v : noise) pn += static_cast<double>(v) * v;
  if (ps == 0) return 0;
  if (pn == 0) throw Error("noise: the noise is all zeros, no SNR can be met");
  const double gain = std::sqrt(ps / (pn * std::pow(10.0, snr_db / 10)));
  for (size_t i = 0; i < x->size(); ++i) (*x)[i] = static_cast<float>((*x)[i] + gain * noise[i]);
  return gain;
}

uint64_t AugmentSeed(uint64_t seed, const std::string& utterance_id, int copy_index) {
  SplitMix64 a(seed ^ Fnv1a64(utterance_id.data(), utterance_id.size()));
  SplitMix64 b(a.Next() + static_cast<uint64_t>(copy_index) * 0xD1B54A32D192ED03ULL);
  return b.Next();
}

AugmentedCopy AugmentUtterance(const Waveform& in, const AugmentOptions& opts, const std::string& utterance_id,
                               int copy_index) {
  opts.Validate();
  if (opts.copies == 0) throw Error("augment: copies is 0, no copy to make");
  SplitMix64 rng(AugmentSeed(opts.seed, utterance_id, copy_index));
  const std::string& kind = opts.kinds[rng.Index(opts.kinds.size())];
  std::set<std::string> steps;
  for (const std::string& s : Split(kind, '+')) steps.insert(s);
  AugmentedCopy out;
  out.wav = in;
  std::string& d = out.description;
  auto add = [&](const std::string& what) { d += (d.empty() ? "" : ", ") + what; };
  if (steps.count("speed")) {
    const double f = opts.speed_factors[rng.Index(opts.speed_factors.size())];
    if (f != 1.0) {
      Waveform played{in.samples, static_cast<int>(std::lround(in.rate_hz * f))};
      out.wav = Resample(played, in.rate_hz);
    }
    add("speed " + FormatGeneral(f, 4));
  }
  if (steps.count("noise")) {
    const std::string& type = opts.noise_types[rng.Index(opts.noise_types.size())];
    const double snr = opts.snr_min_db + (opts.snr_max_db - opts.snr_min_db) * rng.Uniform();
    const uint64_t noise_seed = rng.Next();
    const std::vector<float> noise =
        MakeNoise(type, static_cast<int64_t>(out.wav.samples.size()), out.wav.rate_hz, noise_seed);
    AddNoiseAtSnr(&out.wav.samples, noise, snr);
    add(type + " noise at " + FormatFixed(snr, 1) + " dB SNR");
  }
  if (steps.count("telephone")) {
    out.wav = TelephoneChannel(out.wav, steps.count("mulaw") > 0);
    add(steps.count("mulaw") ? "telephone with mu-law" : "telephone");
  } else if (steps.count("mulaw")) {
    out.wav.samples = MuLaw(out.wav.samples);
    add("mu-law");
  }
  return out;
}

}  // namespace slid
