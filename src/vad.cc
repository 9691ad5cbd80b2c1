// Kaldi compute-vad (src/ivector/voice-activity-detection.cc, ComputeVadEnergy).
#include "slid/vad.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "slid/error.h"

namespace slid {

void ValidateVadOptions(const VadOptions& o) {
  if (!(o.energy_mean_scale >= 0)) throw Error("vad-energy-mean-scale: must be >= 0");
  if (o.frames_context < 0) throw Error("vad-frames-context: must be >= 0, got " + std::to_string(o.frames_context));
  if (!(o.proportion_threshold > 0 && o.proportion_threshold < 1))
    throw Error("vad-proportion-threshold: must be in (0, 1)");
  if (!(o.min_snr_db >= 0) || !std::isfinite(o.min_snr_db))
    throw Error("vad-min-snr-db: must be a finite number >= 0 (0 = no speech check)");
  if (o.snr_min_frames < 1) throw Error("vad-snr-min-frames: must be >= 1, got " + std::to_string(o.snr_min_frames));
}

// The floor is a low percentile rather than the minimum so that a few dropped or zeroed frames do
// not set it; frames above it by min_snr_db are counted rather than, say, the 95th percentile taken,
// so that a long recording with a short utterance in it still has speech.
SpeechCheck CheckSpeech(const Matrix& x, const VadOptions& o, double db_per_unit) {
  ValidateVadOptions(o);
  if (!(db_per_unit > 0)) throw Error("CheckSpeech: db_per_unit must be > 0");
  SpeechCheck c;
  const int64_t T = x.rows();
  if (T == 0) {
    c.has_speech = false;
    return c;
  }
  if (x.cols() < 1) throw Error("CheckSpeech: features have no column 0");
  std::vector<float> level(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) level[t] = x(t, 0);
  std::vector<float> sorted = level;
  const size_t k = static_cast<size_t>((T - 1) / 10);  // floor(0.1 (T - 1))
  std::nth_element(sorted.begin(), sorted.begin() + k, sorted.end());
  c.noise_floor = sorted[k];
  const double above = c.noise_floor + o.min_snr_db / db_per_unit;
  for (float v : level) c.frames_above += v > above;
  c.has_speech = o.min_snr_db == 0 || c.frames_above >= o.snr_min_frames;
  return c;
}

std::vector<bool> ComputeVad(const Matrix& x, const VadOptions& o) {
  ValidateVadOptions(o);
  const int64_t T = x.rows();
  std::vector<bool> voiced(static_cast<size_t>(T), false);
  if (T == 0) return voiced;
  if (x.cols() < 1) throw Error("ComputeVad: features have no column 0");
  double threshold = o.energy_threshold;
  if (o.energy_mean_scale != 0) threshold += o.energy_mean_scale * (x.col(0).cast<double>().sum() / T);
  // Kaldi compares floats: log_energy > float(threshold).
  const float thr = static_cast<float>(threshold);
  std::vector<int64_t> above(static_cast<size_t>(T) + 1, 0);  // prefix counts
  for (int64_t t = 0; t < T; ++t) above[t + 1] = above[t] + (x(t, 0) > thr ? 1 : 0);
  const int64_t c = o.frames_context;
  for (int64_t t = 0; t < T; ++t) {
    int64_t s = std::max<int64_t>(t - c, 0), e = std::min<int64_t>(t + c + 1, T);
    int64_t num = above[e] - above[s], den = e - s;
    voiced[t] = num >= den * o.proportion_threshold;
  }
  return voiced;
}

Matrix SelectVoicedFrames(const Matrix& x, const std::vector<bool>& voiced) {
  if (static_cast<int64_t>(voiced.size()) != x.rows())
    throw Error("SelectVoicedFrames: " + std::to_string(voiced.size()) + " flags for " +
                std::to_string(x.rows()) + " frames");
  int64_t n = std::count(voiced.begin(), voiced.end(), true);
  Matrix out(n, x.cols());
  int64_t r = 0;
  for (int64_t t = 0; t < x.rows(); ++t)
    if (voiced[t]) out.row(r++) = x.row(t);
  return out;
}

}  // namespace slid
