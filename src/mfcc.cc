// MFCC following Kaldi (src/feat/feature-window.cc, feature-mfcc.cc, mel-computations.cc) step by
// step: frame extraction (snip-edges or reflected edges), dither, DC removal, raw log-energy,
// pre-emphasis, window, zero padding, |FFT|^2, triangular mel filters on the mel scale
// 1127 ln(1 + f/700) (Nyquist bin never used), log with a FLT_EPSILON floor, orthonormal DCT-II
// rows 0..num_ceps-1, lifter, then C0 replaced by the log-energy if use_energy.
#include "slid/mfcc.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <random>
#include <string>

#include "fft.h"
#include "slid/error.h"

namespace slid {
namespace {

constexpr float kEpsilon = std::numeric_limits<float>::epsilon();
constexpr int kFftBlockFrames = BatchRealFft::kLanes;  // frames processed together (one batched FFT, one DCT GEMM)

double MelScale(double hz) { return 1127.0 * std::log(1.0 + hz / 700.0); }

int FrameSamples(int rate, float ms) {
  const double n = rate * 0.001 * ms;
  // Saturate instead of overflowing the cast (undefined) for absurd or non-finite lengths.
  return n < static_cast<double>(std::numeric_limits<int>::max()) ? static_cast<int>(n) : std::numeric_limits<int>::max();
}

int RoundUpToPowerOfTwo(int n) {
  int p = 1;
  while (p < n) p <<= 1;
  return p;
}

bool KnownWindow(const std::string& w) {
  return w == "povey" || w == "hamming" || w == "hanning" || w == "rectangular" || w == "blackman" ||
         w == "sine";
}

}  // namespace

MfccOptions MfccOptions::KaldiDefaults() {
  MfccOptions o;
  o.dither = 1.0f;
  o.num_ceps = 13;
  o.use_energy = true;
  return o;
}

void ValidateMfccOptions(const MfccOptions& o, int rate) {
  auto fail = [](const std::string& opt, const std::string& what) { throw Error(opt + ": " + what); };
  if (rate <= 0) fail("sample-frequency", "must be > 0, got " + std::to_string(rate));
  if (!(o.frame_length_ms > 0)) fail("frame-length", "must be > 0 ms");
  if (!(o.frame_shift_ms > 0)) fail("frame-shift", "must be > 0 ms");
  if (FrameSamples(rate, o.frame_length_ms) < 2)
    fail("frame-length", "gives fewer than 2 samples at " + std::to_string(rate) + " Hz");
  if (FrameSamples(rate, o.frame_shift_ms) < 1)
    fail("frame-shift", "gives less than 1 sample at " + std::to_string(rate) + " Hz");
  if (FrameSamples(rate, o.frame_length_ms) > (1 << 24)) fail("frame-length", "is unreasonably long");
  if (!(o.dither >= 0) || !std::isfinite(o.dither)) fail("dither", "must be >= 0");
  if (!(o.preemphasis_coefficient >= 0 && o.preemphasis_coefficient <= 1))
    fail("preemphasis-coefficient", "must be in [0, 1]");
  if (!KnownWindow(o.window_type))
    fail("window-type", "unknown window '" + o.window_type +
                            "' (povey, hamming, hanning, rectangular, blackman, sine)");
  if (o.num_mel_bins < 3) fail("num-mel-bins", "must be >= 3");
  if (o.num_ceps < 1) fail("num-ceps", "must be >= 1");
  if (o.num_ceps > o.num_mel_bins)
    fail("num-ceps", std::to_string(o.num_ceps) + " exceeds num-mel-bins " + std::to_string(o.num_mel_bins));
  // An FFT bin lies inside at most two triangular filters, so more filters than FFT points cannot all
  // be non-empty. Checked here, before the filterbank is allocated (num-mel-bins=222222222 took 5 GB).
  const int frame = FrameSamples(rate, o.frame_length_ms);
  const int fft_size = o.round_to_power_of_two ? RoundUpToPowerOfTwo(frame) : frame;
  if (o.num_mel_bins > fft_size)
    fail("num-mel-bins", std::to_string(o.num_mel_bins) + " exceeds the FFT size " + std::to_string(fft_size) +
                             " of frame-length " + std::to_string(o.frame_length_ms) + " ms: mel bins would be empty");
  double nyquist = 0.5 * rate;
  double high = o.high_freq_hz > 0 ? o.high_freq_hz : nyquist + o.high_freq_hz;
  if (!(o.low_freq_hz >= 0) || o.low_freq_hz >= nyquist)
    fail("low-freq", "must be in [0, Nyquist = " + std::to_string(nyquist) + " Hz)");
  if (o.high_freq_hz > nyquist)
    fail("high-freq", std::to_string(o.high_freq_hz) + " Hz is above Nyquist (" + std::to_string(nyquist) +
                          " Hz at sample-frequency " + std::to_string(rate) + ")");
  if (!(high > 0) || high <= o.low_freq_hz)
    fail("high-freq", "effective high frequency " + std::to_string(high) + " Hz must exceed low-freq " +
                          std::to_string(o.low_freq_hz) + " Hz");
  if (!(o.energy_floor >= 0)) fail("energy-floor", "must be >= 0");
  if (!(o.cepstral_lifter >= 0)) fail("cepstral-lifter", "must be >= 0");
}

class MfccComputer::Impl {
 public:
  Impl(const MfccOptions& o, int rate)
      : opts(o),
        rate_hz(rate),
        frame_length(FrameSamples(rate, o.frame_length_ms)),
        frame_shift(FrameSamples(rate, o.frame_shift_ms)),
        padded(o.round_to_power_of_two ? RoundUpToPowerOfTwo(frame_length) : frame_length),
        fft(padded) {
    if (padded >= 4 && (padded & (padded - 1)) == 0) batch_fft = std::make_unique<BatchRealFft>(padded);
    BuildWindow();
    BuildMelBanks();
    BuildDct();
    log_energy_floor = o.energy_floor > 0 ? std::log(o.energy_floor) : -std::numeric_limits<float>::infinity();
  }

  void BuildWindow() {
    window.resize(frame_length);
    double a = 2.0 * M_PI / (frame_length - 1);
    const std::string& t = opts.window_type;
    for (int i = 0; i < frame_length; ++i) {
      double v = 1.0;
      if (t == "hanning") v = 0.5 - 0.5 * std::cos(a * i);
      else if (t == "sine") v = std::sin(0.5 * a * i);
      else if (t == "hamming") v = 0.54 - 0.46 * std::cos(a * i);
      else if (t == "povey") v = std::pow(0.5 - 0.5 * std::cos(a * i), 0.85);
      else if (t == "blackman")
        v = opts.blackman_coeff - 0.5 * std::cos(a * i) + (0.5 - opts.blackman_coeff) * std::cos(2 * a * i);
      window[i] = static_cast<float>(v);
    }
  }

  // Kaldi's MelBanks, in float as Kaldi computes them; each filter stored sparsely.
  void BuildMelBanks() {
    const int num_bins = opts.num_mel_bins;
    const int num_fft_bins = padded / 2;
    float nyquist = 0.5f * rate_hz;
    float low = opts.low_freq_hz;
    float high = opts.high_freq_hz > 0 ? opts.high_freq_hz : nyquist + opts.high_freq_hz;
    float fft_bin_width = static_cast<float>(rate_hz) / padded;
    float mel_low = static_cast<float>(MelScale(low)), mel_high = static_cast<float>(MelScale(high));
    float delta = (mel_high - mel_low) / (num_bins + 1);
    mel_start.assign(num_bins, 0);
    mel_weights.assign(num_bins, {});
    for (int b = 0; b < num_bins; ++b) {
      float left = mel_low + b * delta, center = mel_low + (b + 1) * delta, right = mel_low + (b + 2) * delta;
      int first = -1, last = -1;
      std::vector<float> w(num_fft_bins, 0.0f);
      for (int i = 0; i < num_fft_bins; ++i) {
        float mel = static_cast<float>(MelScale(fft_bin_width * i));
        if (mel > left && mel < right) {
          w[i] = mel <= center ? (mel - left) / (center - left) : (right - mel) / (right - center);
          if (first == -1) first = i;
          last = i;
        }
      }
      if (first == -1)
        throw Error("num-mel-bins: mel bin " + std::to_string(b) + " of " + std::to_string(num_bins) +
                    " contains no FFT bin (too many mel bins for frame-length/low-freq/high-freq)");
      mel_start[b] = first;
      mel_weights[b].assign(w.begin() + first, w.begin() + last + 1);
    }
  }

  void BuildDct() {
    const int m = opts.num_mel_bins, c = opts.num_ceps;
    dct.resize(m, c);  // transposed: log-mel row (1 x m) times dct (m x c)
    for (int n = 0; n < m; ++n) dct(n, 0) = static_cast<float>(std::sqrt(1.0 / m));
    for (int k = 1; k < c; ++k)
      for (int n = 0; n < m; ++n)
        dct(n, k) = static_cast<float>(std::sqrt(2.0 / m) * std::cos(M_PI / m * (n + 0.5) * k));
    lifter.resize(c);
    for (int i = 0; i < c; ++i)
      lifter[i] = opts.cepstral_lifter != 0
                      ? static_cast<float>(1.0 + 0.5 * opts.cepstral_lifter * std::sin(M_PI * i / opts.cepstral_lifter))
                      : 1.0f;
  }

  int64_t NumFrames(int64_t n) const {
    if (opts.snip_edges) {
      if (n < frame_length) return 0;
      return 1 + (n - frame_length) / frame_shift;
    }
    return (n + frame_shift / 2) / frame_shift;
  }

  // Copies frame t into `out` (frame_length values), reflecting at the edges if not snip_edges.
  void ExtractFrame(const float* x, int64_t n, int64_t t, float* out) const {
    int64_t start = opts.snip_edges ? t * frame_shift : t * frame_shift + frame_shift / 2 - frame_length / 2;
    if (start >= 0 && start + frame_length <= n) {
      std::copy(x + start, x + start + frame_length, out);
      return;
    }
    for (int s = 0; s < frame_length; ++s) {
      int64_t i = start + s;
      while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - 1 - i;
      out[s] = x[i];
    }
  }

  // Dither, DC removal, raw energy, pre-emphasis and window, in place on one frame (Kaldi's
  // ProcessWindow order). Returns the log-energy (only meaningful if use_energy or want_energy).
  float ProcessFrame(float* w, std::mt19937* rng, std::normal_distribution<float>* gauss, bool want_energy) const {
    const bool energy = opts.use_energy || want_energy;
    float log_energy = 0.0f;
    if (opts.dither != 0.0f)
      for (int i = 0; i < frame_length; ++i) w[i] += opts.dither * (*gauss)(*rng);
    if (opts.remove_dc_offset) {
      float sum = 0.0f;
      for (int i = 0; i < frame_length; ++i) sum += w[i];
      float mean = sum / frame_length;
      for (int i = 0; i < frame_length; ++i) w[i] -= mean;
    }
    if (energy && opts.raw_energy) {
      float e = 0.0f;
      for (int i = 0; i < frame_length; ++i) e += w[i] * w[i];
      log_energy = std::log(std::max(e, kEpsilon));
    }
    const float coeff = opts.preemphasis_coefficient;
    if (coeff != 0.0f) {
      for (int i = frame_length - 1; i > 0; --i) w[i] -= coeff * w[i - 1];
      w[0] -= coeff * w[0];
    }
    const float* win = window.data();
    for (int i = 0; i < frame_length; ++i) w[i] *= win[i];
    // w[frame_length..padded) is zero padding.
    if (energy && !opts.raw_energy) {
      float e = 0.0f;
      for (int i = 0; i < frame_length; ++i) e += w[i] * w[i];
      log_energy = std::log(std::max(e, kEpsilon));
    }
    return log_energy;
  }

  Matrix Compute(const float* x, int64_t n, std::vector<float>* energy_out) const {
    const int64_t num_frames = n > 0 ? NumFrames(n) : 0;
    const int num_ceps = opts.num_ceps, num_bins = opts.num_mel_bins;
    Matrix out(num_frames, num_ceps);
    if (energy_out) energy_out->assign(static_cast<size_t>(num_frames), 0.0f);
    if (num_frames == 0) return out;

    constexpr int L = kFftBlockFrames;
    const int spec_len = padded / 2 + 1;
    // Per-frame buffer for the kissfft path; one frame + the packed lanes for the batched path.
    std::vector<float> frames(static_cast<size_t>(batch_fft ? 1 : L) * padded, 0.0f);  // padding stays zero
    std::vector<float> packed(batch_fft ? batch_fft->PackedSize() : 0, 0.0f);
    std::vector<float> power(static_cast<size_t>(L) * spec_len);
    std::vector<std::complex<float>> scratch;
    std::vector<float> log_energy(L), acc(L);
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> log_mel(L, num_bins);
    std::mt19937 rng(opts.dither_seed);
    std::normal_distribution<float> gauss(0.0f, 1.0f);

    for (int64_t b0 = 0; b0 < num_frames; b0 += L) {
      const int nb = static_cast<int>(std::min<int64_t>(L, num_frames - b0));
      for (int f = 0; f < nb; ++f) {
        float* w = frames.data() + (batch_fft ? 0 : static_cast<size_t>(f) * padded);
        ExtractFrame(x, n, b0 + f, w);
        log_energy[f] = ProcessFrame(w, &rng, &gauss, energy_out != nullptr);
        if (batch_fft) batch_fft->Pack(w, f, packed.data());
      }
      if (batch_fft) {
        // Lanes nb..L-1 of the last block hold stale frames; their outputs are ignored.
        batch_fft->PowerSpectra(packed.data(), power.data());
        for (int b = 0; b < num_bins; ++b) {
          const std::vector<float>& wt = mel_weights[b];
          const float* p = power.data() + static_cast<size_t>(mel_start[b]) * L;
          std::fill(acc.begin(), acc.end(), 0.0f);
          float* a = acc.data();
          for (size_t i = 0; i < wt.size(); ++i) {
            const float wi = wt[i];
            const float* pi = p + i * L;
            for (int l = 0; l < L; ++l) a[l] += wi * pi[l];
          }
          for (int f = 0; f < nb; ++f) log_mel(f, b) = std::log(std::max(a[f], kEpsilon));
        }
      } else {
        for (int f = 0; f < nb; ++f) {
          float* p = power.data() + static_cast<size_t>(f) * spec_len;
          fft.PowerSpectrum(frames.data() + static_cast<size_t>(f) * padded, p, &scratch);
          for (int b = 0; b < num_bins; ++b) {
            const std::vector<float>& wt = mel_weights[b];
            const float* pp = p + mel_start[b];
            float e = 0.0f;
            for (size_t i = 0; i < wt.size(); ++i) e += wt[i] * pp[i];
            log_mel(f, b) = std::log(std::max(e, kEpsilon));
          }
        }
      }
      auto block = out.middleRows(b0, nb);
      block.noalias() = log_mel.topRows(nb) * dct;
      if (opts.cepstral_lifter != 0.0f) block.array().rowwise() *= lifter.array().transpose();
      if (opts.use_energy)
        for (int f = 0; f < nb; ++f) block(f, 0) = std::max(log_energy[f], log_energy_floor);
      if (energy_out)
        for (int f = 0; f < nb; ++f) (*energy_out)[b0 + f] = std::max(log_energy[f], log_energy_floor);
    }
    return out;
  }

  MfccOptions opts;
  int rate_hz;
  int frame_length, frame_shift, padded;
  RealFft fft;                          // any size (kissfft)
  std::unique_ptr<BatchRealFft> batch_fft;  // power-of-two sizes: 16 frames per call
  std::vector<float> window;
  std::vector<int> mel_start;
  std::vector<std::vector<float>> mel_weights;
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> dct;
  Eigen::VectorXf lifter;
  float log_energy_floor;
};

MfccComputer::MfccComputer(const MfccOptions& opts, int sample_rate_hz) {
  ValidateMfccOptions(opts, sample_rate_hz);
  impl_ = std::make_unique<Impl>(opts, sample_rate_hz);
}
MfccComputer::~MfccComputer() = default;
MfccComputer::MfccComputer(MfccComputer&&) noexcept = default;
MfccComputer& MfccComputer::operator=(MfccComputer&&) noexcept = default;

int MfccComputer::Dim() const { return impl_->opts.num_ceps; }
int MfccComputer::sample_rate_hz() const { return impl_->rate_hz; }
int MfccComputer::FrameLengthSamples() const { return impl_->frame_length; }
int MfccComputer::FrameShiftSamples() const { return impl_->frame_shift; }
int MfccComputer::PaddedFrameLength() const { return impl_->padded; }
int64_t MfccComputer::NumFrames(int64_t num_samples) const {
  return num_samples > 0 ? impl_->NumFrames(num_samples) : 0;
}
Matrix MfccComputer::Compute(const float* samples, int64_t num_samples) const {
  return impl_->Compute(samples, num_samples, nullptr);
}

Matrix MfccComputer::Compute(const float* samples, int64_t num_samples, std::vector<float>* log_energy) const {
  return impl_->Compute(samples, num_samples, log_energy);
}

}  // namespace slid
