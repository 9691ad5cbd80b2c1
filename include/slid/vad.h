// Energy-based voice activity detection with Kaldi's compute-vad semantics
// (kaldi src/ivector/voice-activity-detection.cc, ComputeVadEnergy).
#pragma once
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
};

// Throws slid::Error naming the option if a value is out of range (Kaldi's asserts).
void ValidateVadOptions(const VadOptions& opts);

// Column 0 of `features` is taken as log-energy (C0 or Kaldi's energy). Frame t is voiced when, among
// the frames t-c..t+c inside the utterance, at least proportion_threshold of them have column-0 value
// > energy_threshold + energy_mean_scale * mean(column 0). Returns one flag per row (empty for 0 rows).
// opts.enabled is ignored here (the caller decides whether to apply the mask).
std::vector<bool> ComputeVad(const Matrix& features, const VadOptions& opts);

// The rows of `features` whose flag is true, in order. Throws slid::Error if sizes differ.
Matrix SelectVoicedFrames(const Matrix& features, const std::vector<bool>& voiced);

}  // namespace slid
