// Mel-frequency cepstral coefficients with Kaldi's options and exact semantics
// (kaldi src/feat/feature-window.cc, feature-mfcc.cc, mel-computations.cc; option names as in
// compute-mfcc-feats). Input samples are on Kaldi's 16-bit scale (see audio.h), so Kaldi's energies
// and thresholds mean the same here.
//
// Defaults are slid's language-identification defaults, not Kaldi's: where they differ the field
// comment says "Kaldi: ...". MfccOptions::KaldiDefaults() returns Kaldi's own defaults.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "slid/matrix.h"

namespace slid {

struct MfccOptions {
  float frame_length_ms = 25.0f;        // analysis window length in ms ("frame-length")
  float frame_shift_ms = 10.0f;         // hop between frame starts in ms ("frame-shift")
  float dither = 0.0f;                  // Gaussian dither std-dev in 16-bit sample units; 0 = off,
                                        // exactly reproducible output. Kaldi: 1.0
  uint32_t dither_seed = 0;             // seed of the dither RNG, re-seeded per Compute() call
  bool remove_dc_offset = true;         // subtract each frame's mean before anything else
  float preemphasis_coefficient = 0.97f;// x[i] -= c * x[i-1] (x[0] -= c * x[0]); 0 = off
  std::string window_type = "povey";    // povey | hamming | hanning | rectangular | blackman | sine
  float blackman_coeff = 0.42f;         // the constant of the generalised Blackman window
  bool round_to_power_of_two = true;    // zero-pad each frame to the next power of two for the FFT
  bool snip_edges = true;               // true: only whole frames inside the signal (Kaldi default);
                                        // false: frames centred on multiples of the shift, reflected
                                        // edges, num_frames = (samples + shift/2) / shift
  int num_mel_bins = 23;                // triangular mel filters
  float low_freq_hz = 20.0f;            // low cut-off of the filterbank in Hz
  float high_freq_hz = 0.0f;            // high cut-off in Hz; <= 0 means Nyquist + high_freq_hz
  int num_ceps = 7;                     // cepstra kept, C0 included. Kaldi: 13
  bool use_energy = false;              // replace C0 by the frame log-energy. Kaldi: true
  bool raw_energy = true;               // energy before pre-emphasis and windowing (else after)
  float energy_floor = 0.0f;            // floor on the energy (linear, not log); 0 = no floor
  float cepstral_lifter = 22.0f;        // Q of the lifter 1 + Q/2 sin(pi i / Q); 0 = off

  // Kaldi compute-mfcc-feats defaults (num-ceps 13, use-energy true, dither 1), for comparisons.
  static MfccOptions KaldiDefaults();
};

// Computes MFCC for whole waveforms. The FFT plan, window, sparse mel filterbank (start bin + weights
// per filter) and DCT matrix are built once in the constructor; Compute() processes frames in blocks
// (the DCT of a block is one matrix product). Compute() is const and thread-safe.
class MfccComputer {
 public:
  // Throws slid::Error naming the option if `opts` cannot work at `sample_rate_hz` (high_freq above
  // Nyquist, num_ceps > num_mel_bins, a mel bin with no FFT bin, unknown window type, ...).
  MfccComputer(const MfccOptions& opts, int sample_rate_hz);
  ~MfccComputer();
  MfccComputer(MfccComputer&&) noexcept;
  MfccComputer& operator=(MfccComputer&&) noexcept;

  int Dim() const;                       // num_ceps
  int sample_rate_hz() const;
  int FrameLengthSamples() const;        // int(rate * 0.001 * frame_length_ms), as Kaldi
  int FrameShiftSamples() const;         // int(rate * 0.001 * frame_shift_ms), as Kaldi
  int PaddedFrameLength() const;         // FFT size
  // Number of frames Compute() returns for `num_samples` samples (Kaldi's NumFrames()).
  int64_t NumFrames(int64_t num_samples) const;

  // frames x num_ceps. Fewer samples than one frame (snip_edges) or no samples gives 0 rows.
  Matrix Compute(const float* samples, int64_t num_samples) const;
  // As above, and also the frame log-energy (as use-energy would put in C0: raw or windowed per
  // raw_energy, floored at energy_floor) in *log_energy, one value per row, whatever use_energy says.
  Matrix Compute(const float* samples, int64_t num_samples, std::vector<float>* log_energy) const;
  Matrix Compute(const std::vector<float>& samples) const {
    return Compute(samples.data(), static_cast<int64_t>(samples.size()));
  }

  class Impl;  // defined in src/mfcc.cc

 private:
  std::unique_ptr<Impl> impl_;
};

// Throws slid::Error("<option>: <problem>") if `opts` is inconsistent at `sample_rate_hz`.
void ValidateMfccOptions(const MfccOptions& opts, int sample_rate_hz);

}  // namespace slid
