// Scoring audio against a LanguageModelSet: per-language scores from the model's back-end
// (slid/backend.h), the model's calibration if it has one, the decision and posteriors.
//
//  - avg_loglik[l]: the back-end's score (for "gmm" and "ubm-map" the average frame log-likelihood
//    (1/T) sum_t log p(x_t | language l) over the T voiced feature frames, natural log).
//  - calibrated[l]: (W s + b)_l with the model's calibration over ALL the model's languages' scores s,
//    then restricted to the candidates; empty when the model has no calibration.
//  - decision = argmax_l of calibrated (if present) else avg_loglik (lowest index on ties).
//  - posteriors assume equal priors over the candidates: posterior[l] = softmax_l(posterior_scale * c_l)
//    with c = calibrated if present, else avg_loglik. With calibration and posterior_scale = 1 these are
//    the calibrated posteriors. Without it, posterior_scale = 1 treats the *average* log-likelihood as if
//    it were the evidence of a single frame, which keeps posteriors away from 0/1 but is no probability.
//  - unknown_threshold > 0 and no candidate's posterior reaches it (max_l posterior[l] <
//    unknown_threshold): unknown is set and best is -1 (open set: "none of these languages"). Scores
//    and posteriors are filled in. Meaningful with calibrated posteriors. Not applied without a
//    decision (too little speech, no speech).
//  - Fewer than min_speech_seconds of voiced frames (frames x frame shift): too_little_speech is set,
//    best is -1, and the scores (if any frame) are still filled in but no decision is made.
//  - No speech at all (audio scored by ScoreWaveform/ScoreFile whose VAD speech check, slid/vad.h
//    CheckSpeech, finds no frame clearly above the recording's noise floor: noise, a steady tone, hum,
//    silence): no_speech is set, no frame is scored, best is -1; too_little_speech is set too (there is
//    no decision either way), and tools report the status no_speech. Recordings shorter than the
//    feature context (21 frames for SDC 7-1-3-7) are too short to judge: too_little_speech only.
//    ScoreFeatures (precomputed, already voiced frames) never sets no_speech.
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
  double min_speech_seconds = 0.1;     // voiced speech needed for a decision, seconds (>= 0); 0.1 s since
                                       // 2026-12 (was 0.5: 12 % of real single-word clips went undecided)
  double posterior_scale = 1.0;        // posteriors = softmax(posterior_scale * avg_loglik) (> 0)
  double segment_seconds = 600.0;      // ScoreFile reads long files in chunks of this (> 0); memory only
  double unknown_threshold = 0.0;      // decision "unknown" when no posterior reaches this; 0 = off ([0, 1])
};

// The outcome for one recording. Vectors are indexed like Scorer::languages().
struct ScoreResult {
  std::vector<double> avg_loglik;   // back-end score per candidate language (empty if 0 frames)
  std::vector<double> calibrated;   // calibrated score per candidate (empty if 0 frames or no calibration)
  std::vector<double> posteriors;   // softmax as above (empty if 0 frames)
  int best = -1;                    // the decision; -1 if too_little_speech or unknown
  int64_t num_frames = 0;           // voiced frames scored
  double speech_seconds = 0;        // num_frames x frame shift
  double audio_seconds = 0;         // length of the audio scored
  bool too_little_speech = false;   // speech_seconds < min_speech_seconds (no decision)
  bool no_speech = false;           // the VAD's speech check found none (then too_little_speech too)
  bool unknown = false;             // speech, but no posterior reached ScorerOptions::unknown_threshold
};

class Scorer {
 public:
  // Throws slid::Error if a requested language is not in the model, or options are out of range.
  // Shares the model's back-end (the model object may be destroyed afterwards).
  Scorer(const LanguageModelSet& model, const ScorerOptions& opts);
  ~Scorer();
  Scorer(Scorer&&) noexcept;

  const std::vector<std::string>& languages() const { return languages_; }  // candidates, model order
  const Frontend& frontend() const { return *frontend_; }
  const ScorerOptions& options() const { return opts_; }
  const Backend& backend() const { return *backend_; }
  // The model was trained on external features (slid train --feats): it cannot score audio.
  bool external_frontend() const { return external_frontend_; }

  // A fresh per-recording state of the back-end: Add() blocks of voiced frames, then Finish().
  std::unique_ptr<UtteranceScorer> NewUtterance() const;
  // Makes the result from a recording's state. audio_seconds is only recorded. Thread-safe (const).
  // no_speech is only recorded (the caller's speech check said there is none).
  ScoreResult Finish(const UtteranceScorer& utterance, double audio_seconds, bool no_speech = false) const;

  // Scores features (already voiced frames). audio_seconds is only recorded.
  ScoreResult ScoreFeatures(const Matrix& features, double audio_seconds = 0) const;
  // Runs the frontend (resampling first if wav.rate_hz differs from the model's rate) and scores.
  // ScoreWaveform and ScoreFile throw slid::Error for a model of external features
  // (LanguageModelSet::frontend_external): slid cannot compute them.
  ScoreResult ScoreWaveform(const Waveform& wav) const;
  // Streams a file from disk in segments (bounded memory). Errors name the path.
  ScoreResult ScoreFile(const std::string& path) const;

 private:
  ScorerOptions opts_;
  std::vector<std::string> languages_;
  std::vector<int> picked_;                 // model index of each candidate
  std::shared_ptr<const Backend> backend_;
  Calibration calibration_;
  std::unique_ptr<Frontend> frontend_;
  double frame_shift_seconds_ = 0.01;
  bool external_frontend_ = false;          // model.frontend_external: ScoreWaveform/ScoreFile refuse
};

}  // namespace slid
