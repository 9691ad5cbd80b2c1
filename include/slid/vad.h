// Energy-based voice activity detection with Kaldi's compute-vad semantics
// (kaldi src/ivector/voice-activity-detection.cc, ComputeVadEnergy), plus a per-recording "is there any
// speech at all" check (CheckSpeech) that Kaldi does not have.
//
// Why the check: Kaldi's threshold is relative (5 + 0.5 x mean of column 0), so in a recording of
// stationary noise, a steady tone, hum or dither-only silence about half the frames are "voiced" and
// get a language. CheckSpeech looks for frames that rise clearly above the recording's own noise
// floor; stationary sounds (and digital silence) have none: their frame levels stay within ~2 dB.
// It is an SNR criterion, not an absolute level: the gain of a recording says nothing about whether it
// holds speech (quiet clean speech is speech), and the floor-relative test already rejects silence at
// any level. It cannot tell speech from other sounds that start and stop (music with pauses or decaying
// notes, knocks): those pass, as they did before.
#pragma once
#include <cstdint>
#include <vector>

#include "slid/matrix.h"

namespace slid {

struct VadOptions {
  bool enabled = true;                  // false: keep every frame ("use-vad")
  float energy_threshold = 5.5f;        // constant part of the threshold ("vad-energy-threshold"; Kaldi's
                                        // compute-vad default is 5.0, its lre07 recipe's vad.conf 5.5)
  float energy_mean_scale = 0.5f;       // + this times the mean of column 0 ("vad-energy-mean-scale")
  int frames_context = 0;               // frames each side used in the vote ("vad-frames-context")
  float proportion_threshold = 0.6f;    // voiced if at least this share of the context frames is
                                        // above the threshold ("vad-proportion-threshold")
  bool use_log_energy = true;           // decide on the frame log-energy (Kaldi's use-energy column)
                                        // even when the features keep C0; false: on column 0 of the
                                        // MFCC (C0 by default), slid's behaviour before 2026-12
                                        // ("vad-log-energy"; see Frontend)
  float min_snr_db = 6.0f;              // CheckSpeech: frames must be this many dB above the noise floor
                                        // to count as sound; 0 = no check ("vad-min-snr-db")
  int snr_min_frames = 20;              // CheckSpeech: a recording with fewer such frames has no speech
                                        // ("vad-snr-min-frames")
};

// What CheckSpeech found in one recording.
struct SpeechCheck {
  bool has_speech = true;     // frames_above >= snr_min_frames (always true when min_snr_db == 0)
  double noise_floor = 0;     // 10th percentile of column 0 (column-0 units)
  int64_t frames_above = 0;   // frames whose column 0 exceeds noise_floor + min_snr_db / db_per_unit
};

// Throws slid::Error naming the option if a value is out of range (Kaldi's asserts).
void ValidateVadOptions(const VadOptions& opts);

// Column 0 of `features` is taken as log-energy (C0 or Kaldi's energy). Frame t is voiced when, among
// the frames t-c..t+c inside the utterance, at least proportion_threshold of them have column-0 value
// > energy_threshold + energy_mean_scale * mean(column 0). Returns one flag per row (empty for 0 rows).
// opts.enabled is ignored here (the caller decides whether to apply the mask).
std::vector<bool> ComputeVad(const Matrix& features, const VadOptions& opts);

// The per-recording speech check. `features` are the raw (un-normalised) frames of the whole recording,
// column 0 the frame level on a log scale; db_per_unit converts a difference of column 0 to decibels
// (Frontend passes 10/ln 10 for log-energy, 10/ln 10/sqrt(num-mel-bins) for C0; see
// Column0DecibelsPerUnit in slid/frontend.h). The noise floor is the value of rank floor(0.1 (T - 1))
// in ascending order of column 0 over the T frames. 0 rows: has_speech false. Throws slid::Error if
// db_per_unit <= 0 or options are out of range.
SpeechCheck CheckSpeech(const Matrix& features, const VadOptions& opts, double db_per_unit);

// The rows of `features` whose flag is true, in order. Throws slid::Error if sizes differ.
Matrix SelectVoicedFrames(const Matrix& features, const std::vector<bool>& voiced);

}  // namespace slid
