// Scoring audio against a LanguageModelSet: per-language average frame log-likelihoods, the decision
// and posteriors.
//
//  - avg_loglik[l] = (1/T) sum_t log p(x_t | GMM_l) over the T voiced feature frames (natural log).
//  - decision = argmax_l avg_loglik[l] (lowest index on ties).
//  - posteriors assume equal priors: posterior[l] = softmax_l(posterior_scale * avg_loglik[l]).
//    With posterior_scale = 1 this treats the *average* log-likelihood as if it were the evidence of a
//    single frame, which keeps posteriors away from 0/1; posterior_scale = T would be the exact Bayes
//    posterior under frame independence (always near 0/1 for seconds of audio).
//  - Fewer than min_speech_seconds of voiced frames (frames x frame shift): too_little_speech is set,
//    best is -1, and the scores (if any frame) are still filled in but no decision is made.
//  - Long files (ScoreFile) are read with AudioReader in segments of segment_seconds, and the result
//    does not depend on segment_seconds: MFCC frames are cut from a sample stream carried across
//    segments, the VAD threshold and CMVN use the whole file's MFCC (kept: num-ceps floats per frame,
//    about 30 MB for 3 hours), and SDC/deltas are computed in blocks with context on both sides.
//    Scores equal those of ScoreWaveform on the whole file up to float summation order. Exception:
//    with snip_edges = false each segment's ends are reflected as file edges (as a separate file
//    would be), which changes a few frames per segment; and dither > 0 draws new noise per segment.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "slid/audio.h"
#include "slid/frontend.h"
#include "slid/matrix.h"
#include "slid/model.h"

namespace slid {

struct ScorerOptions {
  std::vector<std::string> languages;  // candidate languages (subset of the model's); empty = all
  double min_speech_seconds = 0.5;     // voiced speech needed for a decision, seconds (>= 0)
  double posterior_scale = 1.0;        // posteriors = softmax(posterior_scale * avg_loglik) (> 0)
  double segment_seconds = 600.0;      // ScoreFile reads long files in chunks of this (> 0); memory only
};

// The outcome for one recording. Vectors are indexed like Scorer::languages().
struct ScoreResult {
  std::vector<double> avg_loglik;   // average frame log-likelihood per candidate language (empty if 0 frames)
  std::vector<double> posteriors;   // softmax as above (empty if 0 frames)
  int best = -1;                    // argmax of avg_loglik; -1 if too_little_speech
  int64_t num_frames = 0;           // voiced frames scored
  double speech_seconds = 0;        // num_frames x frame shift
  double audio_seconds = 0;         // length of the audio scored
  bool too_little_speech = false;   // speech_seconds < min_speech_seconds
};

class Scorer {
 public:
  // Throws slid::Error if a requested language is not in the model, or options are out of range.
  // Keeps a copy of what it needs from `model` (the model may be destroyed afterwards).
  Scorer(const LanguageModelSet& model, const ScorerOptions& opts);
  ~Scorer();
  Scorer(Scorer&&) noexcept;

  const std::vector<std::string>& languages() const { return languages_; }  // candidates, model order
  const Frontend& frontend() const { return *frontend_; }
  const ScorerOptions& options() const { return opts_; }

  // Sums of frame log-likelihoods per candidate language for `features` (frames x Dim()), computed as
  // one GEMM per block against all candidates' stacked parameters. Adds into *sums (size = number of
  // candidates). Error on a dim mismatch. Thread-safe (const).
  void AccumulateLogLikelihoods(const Matrix& features, std::vector<double>* sums) const;

  // Scores features (already voiced frames). audio_seconds is only recorded.
  ScoreResult ScoreFeatures(const Matrix& features, double audio_seconds = 0) const;
  // Runs the frontend (resampling first if wav.rate_hz differs from the model's rate) and scores.
  ScoreResult ScoreWaveform(const Waveform& wav) const;
  // Streams a file from disk in segments (bounded memory). Errors name the path.
  ScoreResult ScoreFile(const std::string& path) const;
  // Makes the result from sums accumulated over num_frames frames.
  ScoreResult Finish(const std::vector<double>& sums, int64_t num_frames, double audio_seconds) const;

 private:
  ScorerOptions opts_;
  std::vector<std::string> languages_;
  std::unique_ptr<Frontend> frontend_;
  int dim_ = 0;
  std::vector<int> offsets_;  // start column of each candidate in the stacked parameters; size L+1
  Matrix packed_;             // 2D x sum K: [mu/var; -0.5/var] of every candidate side by side
  Vector gconsts_;            // sum K
  double frame_shift_seconds_ = 0.01;
};

}  // namespace slid
