// Multi-condition training data: degraded copies of a training utterance (additive noise, a telephone
// channel, mu-law coding, speed perturbation), so that the models also see the channels they will be
// asked about. The idea and the SNR range are Kaldi's multi-condition recipes (e.g. egs/voxceleb/v2
// and egs/sre16/v2 add MUSAN noise at 0-15 dB SNR; egs/aspire; Ko et al., "Audio augmentation for
// speech recognition", Interspeech 2015, for the 0.9/1.0/1.1 speed factors). No noise corpus ships
// here, so the noises are synthetic (white, pink, brown Gaussian noise).
//
// Determinism: copy k of utterance `id` depends only on (options, id, k) and its input samples, never
// on threads or file order: its random numbers come from AugmentSeed(opts.seed, id, k) through a
// generator written out here (SplitMix64, Box-Muller), not from <random>'s distributions, whose
// output differs between standard libraries.
//
// One copy is made in this order (steps not drawn are skipped):
//  1. speed: the samples are played at factor f (drawn from speed_factors): taken as if sampled at
//     f x rate and resampled to rate with slid's resampler (Resample, libsoxr), so the copy lasts 1/f
//     as long and its pitch and formants move by f (sox `speed`, as Kaldi's perturb_data_dir_speed.sh).
//  2. noise: Gaussian noise of one type drawn from noise_types at an SNR drawn uniformly in
//     [snr_min_db, snr_max_db] is added. SNR = 10 log10(P_s / P_n) with P_s the mean square of the
//     utterance's samples (after step 1; the whole utterance, pauses included, as Kaldi's
//     wav-reverberate and torchaudio.functional.add_noise define it) and P_n that of the noise added,
//     which is scaled to meet the SNR exactly (to float rounding). An utterance of digital silence
//     (P_s = 0) gets no noise.
//  3. telephone: TelephoneChannel (8 kHz round trip, 300-3400 Hz band-pass, optional mu-law).
//  4. mu-law without telephone: MuLaw at the utterance's own rate.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slid/audio.h"

namespace slid {

struct AugmentOptions {
  int copies = 0;                      // degraded copies of every training utterance, trained on besides
                                       // the original (0 = no augmentation)
  std::vector<std::string> kinds = {"noise", "telephone", "telephone+noise"};
                                       // conditions, one drawn uniformly per copy; each is '+'-joined
                                       // steps among noise, telephone, mulaw, speed (applied in the
                                       // order of the header comment, whatever the order written)
  std::vector<std::string> noise_types = {"white", "pink", "brown"};
                                       // noises, one drawn uniformly per noisy copy: white, pink (power
                                       // ~ 1/f), brown (power ~ 1/f^2)
  double snr_min_db = 0;               // SNR of the added noise, drawn uniformly in [min, max] (dB)
  double snr_max_db = 15;
  std::vector<double> speed_factors = {0.9, 1.1};  // speed step: one factor drawn uniformly (each in [0.5, 2])
  uint64_t seed = 1;                   // seed of every draw (see AugmentSeed)
  bool original_vad = true;            // training (slid/train.h): a copy as long as its original (no
                                       // speed step) keeps the original's voiced frames instead of
                                       // running the VAD on the degraded audio, as Kaldi's
                                       // egs/sre16/v2 and egs/voxceleb/v2 reuse the clean vad.scp
                                       // for their augmented copies; false: the copy's own VAD

  // Throws slid::Error naming the option: copies < 0 or > 100, no kind, an unknown step or noise type,
  // snr_min_db > snr_max_db or a non-finite SNR, a speed factor outside [0.5, 2], an empty list that
  // a kind needs.
  void Validate() const;
  // Every field, for the model summary and feature caches (option sets that make different copies differ).
  nlohmann::json ToJson() const;
};

// One second-order section (biquad) of an IIR filter, a0 = 1:
// y[n] = b0 x[n] + b1 x[n-1] + b2 x[n-2] - a1 y[n-1] - a2 y[n-2].
struct Biquad {
  double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
};

// Digital Butterworth low-pass or high-pass filter of even `order` (2..16) with its -3 dB point at
// cutoff_hz (0 < cutoff_hz < rate_hz / 2), by the bilinear transform with pre-warping (the design of
// scipy.signal.butter(order, cutoff_hz, btype, fs=rate_hz)), as order/2 sections whose cascade has
// unit gain at DC (low-pass) or Nyquist (high-pass). Throws slid::Error on bad arguments.
std::vector<Biquad> ButterworthSections(int order, double cutoff_hz, double rate_hz, bool highpass);

// Runs `x` through the cascade of `sections` (zero initial state, transposed direct form II, double
// precision state), in place.
void FilterInPlace(const std::vector<Biquad>& sections, std::vector<float>* x);

// G.711 mu-law (mu = 255, 8 bits) encode and decode of every sample, on Kaldi's 16-bit scale (full
// scale 32768; values beyond it are clipped): the quantisation noise of a telephone codec.
std::vector<float> MuLaw(const std::vector<float>& x);

// A telephone channel: `in` resampled to 8 kHz (Resample), a 4th-order Butterworth high-pass at
// 300 Hz and low-pass at 3400 Hz (ITU-T G.712's pass band), optionally mu-law coded (MuLaw), and
// resampled back to in.rate_hz; the output has as many samples as `in`. in.rate_hz must be >= 8000.
Waveform TelephoneChannel(const Waveform& in, bool mulaw);

// `num_samples` of Gaussian noise with unit mean square (over the samples made), of type "white",
// "pink" (white through a pole-zero cascade whose power response falls 3 dB per octave from 10 Hz to
// rate_hz / 2, within about 1 dB) or "brown" (white through a one-pole low-pass at 10 Hz: 6 dB per
// octave above it), from `seed`. Throws slid::Error on an unknown type or rate_hz <= 40.
std::vector<float> MakeNoise(const std::string& type, int64_t num_samples, int rate_hz, uint64_t seed);

// Adds `noise` (as many samples as x) scaled so that 10 log10(mean(x^2) / mean(scaled^2)) = snr_db.
// Returns the gain applied (0 if x is all zeros: nothing is added). Throws slid::Error if the sizes
// differ or the noise is all zeros while x is not.
double AddNoiseAtSnr(std::vector<float>* x, const std::vector<float>& noise, double snr_db);

// The seed of copy `copy_index` of utterance `utterance_id`: SplitMix64 of seed, FNV-1a 64 of the id
// and the index. Different ids or indices give unrelated streams.
uint64_t AugmentSeed(uint64_t seed, const std::string& utterance_id, int copy_index);

// One degraded copy and what was done to it.
struct AugmentedCopy {
  Waveform wav;             // at the input's rate
  std::string description;  // e.g. "speed 0.9, pink noise at 7.3 dB SNR, telephone"
};

// Copy `copy_index` (0-based) of utterance `utterance_id` with samples `in` (see the header comment).
// Throws slid::Error on invalid options (Validate) or if a telephone copy is asked of audio below 8 kHz.
AugmentedCopy AugmentUtterance(const Waveform& in, const AugmentOptions& opts, const std::string& utterance_id,
                               int copy_index);

}  // namespace slid
