// Frontend throughput: audio -> MFCC -> CMVN -> SDC -> VAD on one thread, in x real time, beside a
// baseline measured in the same run.
//
// Input: the asterisk-core-sounds prompts (real 8 kHz speech in several languages) read with
// slid::ReadAudio and resampled to 16 kHz, taken in sorted order until >= --min-seconds (600) of
// audio; each prompt is one utterance. Reading and resampling are not timed.
//
// Baseline: a straightforward MFCC written the way kaldi-native-fbank does it: a kiss_fftr plan
// created per frame, the mel filterbank applied densely (every FFT bin x every filter) and the DCT as
// a per-frame double loop with the cosines evaluated in it (window precomputed, as there), followed
// by the same slid CMVN/SDC/VAD code, so the ratio isolates the MFCC work. Its voiced-frame count
// may differ from slid's by a frame or two (float rounding at the VAD threshold).
//
// Usage: bench_frontend [--min-seconds S] [--runs N] [--sounds DIR] [--no-baseline (for profiling)]
#include <kissfft/kiss_fftr.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <time.h>

#include "slid/audio.h"
#include "slid/error.h"
#include "slid/frontend.h"

namespace fs = std::filesystem;

namespace {

// ---- Baseline MFCC: per-frame plan, dense mel, per-frame DCT loops (Kaldi formulas) ----
class BaselineMfcc {
 public:
  BaselineMfcc(const slid::MfccOptions& o, int rate) : o_(o), rate_(rate) {
    len_ = static_cast<int>(rate * 0.001 * o.frame_length_ms);
    shift_ = static_cast<int>(rate * 0.001 * o.frame_shift_ms);
    padded_ = 1;
    while (padded_ < len_) padded_ <<= 1;
    window_.resize(len_);
    double a = 2 * M_PI / (len_ - 1);
    for (int i = 0; i < len_; ++i) window_[i] = std::pow(0.5 - 0.5 * std::cos(a * i), 0.85);  // povey
    auto mel = [](double f) { return 1127.0 * std::log(1.0 + f / 700.0); };
    int nfft = padded_ / 2;
    double high = o.high_freq_hz > 0 ? o.high_freq_hz : 0.5 * rate + o.high_freq_hz;
    double ml = mel(o.low_freq_hz), mh = mel(high), d = (mh - ml) / (o.num_mel_bins + 1);
    fbank_.assign(o.num_mel_bins, std::vector<float>(nfft, 0.0f));
    for (int b = 0; b < o.num_mel_bins; ++b)
      for (int i = 0; i < nfft; ++i) {
        double m = mel(static_cast<double>(rate) / padded_ * i), l = ml + b * d, c = l + d, r = c + d;
        if (m > l && m < r) fbank_[b][i] = static_cast<float>(m <= c ? (m - l) / (c - l) : (r - m) / (r - c));
      }
  }

  slid::Matrix Compute(const std::vector<float>& x) const {
    int64_t n = static_cast<int64_t>(x.size());
    int64_t frames = n < len_ ? 0 : 1 + (n - len_) / shift_;
    const int M = o_.num_mel_bins, C = o_.num_ceps;
    slid::Matrix out(frames, C);
    std::vector<float> w(padded_);
    std::vector<kiss_fft_cpx> spec(padded_ / 2 + 1);
    std::vector<float> logmel(M);
    for (int64_t t = 0; t < frames; ++t) {
      std::fill(w.begin(), w.end(), 0.0f);
      std::copy(x.begin() + t * shift_, x.begin() + t * shift_ + len_, w.begin());
      float mean = 0;
      for (int i = 0; i < len_; ++i) mean += w[i];
      mean /= len_;
      for (int i = 0; i < len_; ++i) w[i] -= mean;
      for (int i = len_ - 1; i > 0; --i) w[i] -= o_.preemphasis_coefficient * w[i - 1];
      w[0] -= o_.preemphasis_coefficient * w[0];
      for (int i = 0; i < len_; ++i) w[i] *= window_[i];
      kiss_fftr_cfg cfg = kiss_fftr_alloc(padded_, 0, nullptr, nullptr);  // per frame
      kiss_fftr(cfg, w.data(), spec.data());
      kiss_fftr_free(cfg);
      for (int b = 0; b < M; ++b) {
        float e = 0;
        for (int i = 0; i < padded_ / 2; ++i) e += fbank_[b][i] * (spec[i].r * spec[i].r + spec[i].i * spec[i].i);
        logmel[b] = std::log(std::max(e, std::numeric_limits<float>::epsilon()));
      }
      for (int k = 0; k < C; ++k) {
        double s = 0;
        double norm = k == 0 ? std::sqrt(1.0 / M) : std::sqrt(2.0 / M);
        for (int m = 0; m < M; ++m) s += norm * std::cos(M_PI / M * (m + 0.5) * k) * logmel[m];
        double lift = o_.cepstral_lifter != 0 ? 1.0 + 0.5 * o_.cepstral_lifter * std::sin(M_PI * k / o_.cepstral_lifter) : 1.0;
        out(t, k) = static_cast<float>(s * lift);
      }
    }
    return out;
  }

 private:
  slid::MfccOptions o_;
  int rate_, len_, shift_, padded_;
  std::vector<double> window_;
  std::vector<std::vector<float>> fbank_;
};

slid::Matrix BaselinePipeline(const BaselineMfcc& mfcc, const slid::FrontendOptions& o, const std::vector<float>& x) {
  slid::Matrix m = mfcc.Compute(x);
  if (m.rows() < o.sdc.ContextFrames()) return slid::Matrix(0, o.sdc.Dim());
  std::vector<bool> voiced = slid::ComputeVad(m, o.vad);
  return slid::SelectVoicedFrames(slid::ComputeSdc(slid::ApplyCmvn(m, o.cmvn), o.sdc), voiced);
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of this thread: unlike wall time, it does not count time the thread spent descheduled
// on a loaded machine (the 2 cores here are shared with other jobs).
double ThreadCpuNow() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  double min_seconds = 600;
  int runs = 5;
  bool baseline = true;
  std::string sounds = "/usr/share/asterisk/sounds";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--min-seconds" && i + 1 < argc) min_seconds = std::atof(argv[++i]);
    else if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--sounds" && i + 1 < argc) sounds = argv[++i];
    else if (a == "--no-baseline") baseline = false;
    else {
      std::fprintf(stderr, "usage: %s [--min-seconds S (600)] [--runs N (5)] [--sounds DIR] [--no-baseline]\n", argv[0]);
      return 2;
    }
  }
  try {
    slid::FrontendOptions opts;  // the LID defaults: 16 kHz, 7 ceps, sliding CMN 300, SDC 7-1-3-7, VAD
    std::vector<std::string> paths;
    if (fs::is_directory(sounds))
      for (const auto& e : fs::recursive_directory_iterator(sounds))
        if (e.is_regular_file() && e.path().extension() == ".wav") paths.push_back(e.path().string());
    std::sort(paths.begin(), paths.end());
    std::vector<slid::Waveform> utts;
    double total = 0;
    for (const auto& p : paths) {
      if (total >= min_seconds) break;
      slid::Waveform w = slid::ReadAudio(p, opts.sample_rate_hz);
      total += w.Seconds();
      utts.push_back(std::move(w));
    }
    if (total < min_seconds) {
      std::fprintf(stderr, "only %.1f s of audio under %s (need %.1f)\n", total, sounds.c_str(), min_seconds);
      return 1;
    }
    std::printf("audio: %zu utterances, %.1f s (%.1f min) at %d Hz from %s\n", utts.size(), total, total / 60,
                opts.sample_rate_hz, sounds.c_str());

    slid::Frontend fe(opts);
    BaselineMfcc base(opts.mfcc, opts.sample_rate_hz);
    // Best wall time over the runs; *cpu_out gets the best thread CPU time.
    auto time_best = [&](auto&& fn, int64_t* frames_out, double* cpu_out) {
      double best = 1e300, best_cpu = 1e300;
      for (int r = 0; r < runs; ++r) {
        int64_t frames = 0;
        double t0 = Now(), c0 = ThreadCpuNow();
        for (const auto& u : utts) frames += fn(u).rows();
        best_cpu = std::min(best_cpu, ThreadCpuNow() - c0);
        best = std::min(best, Now() - t0);
        *frames_out = frames;
      }
      *cpu_out = best_cpu;
      return best;
    };
    double c_slid = 0, c_mfcc = 0, c_base = 0;
    int64_t f_slid = 0, f_base = 0, f_mfcc = 0;
    double t_slid = time_best([&](const slid::Waveform& u) { return fe.Compute(u); }, &f_slid, &c_slid);
    double t_mfcc = time_best([&](const slid::Waveform& u) { return fe.ComputeMfcc(u); }, &f_mfcc, &c_mfcc);
    auto line = [&](const char* what, double t, double c) {
      std::printf("%-36s wall %7.3f s = %6.0f x real time | thread CPU %7.3f s = %6.0f x real time\n", what, t,
                  total / t, c, total / c);
    };
    if (!baseline) {
      line("slid frontend (MFCC+CMVN+SDC+VAD)", t_slid, c_slid);
      line("  of which MFCC only", t_mfcc, c_mfcc);
      return 0;
    }
    double t_base = time_best([&](const slid::Waveform& u) { return BaselinePipeline(base, opts, u.samples); }, &f_base, &c_base);
    if (std::abs(f_slid - f_base) > f_slid / 1000 + 1) {
      std::fprintf(stderr, "frame counts differ: slid %lld, baseline %lld\n", (long long)f_slid, (long long)f_base);
      return 1;
    }
    std::printf("one thread, best of %d runs; output %lld voiced frames x %d dims (baseline %lld)\n", runs,
                (long long)f_slid, fe.Dim(), (long long)f_base);
    line("slid frontend (MFCC+CMVN+SDC+VAD)", t_slid, c_slid);
    line("  of which MFCC only", t_mfcc, c_mfcc);
    line("baseline (per-frame plan, dense)", t_base, c_base);
    std::printf("speed-up over baseline: %.2f x (wall), %.2f x (thread CPU)\n", t_base / t_slid, c_base / c_slid);
    return 0;
  } catch (const slid::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
