// Scoring: the back-end gives one score per model language; the calibration (over all of them) and
// the candidate restriction come after. See slid/scorer.h.
#include "slid/scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "slid/cmvn.h"
#include "slid/deltas.h"
#include "slid/error.h"
#include "slid/mfcc.h"
#include "slid/sdc.h"
#include "slid/vad.h"

namespace slid {

Scorer::Scorer(const LanguageModelSet& model, const ScorerOptions& opts) : opts_(opts) {
  if (!(opts.min_speech_seconds >= 0)) throw Error("scorer: min_speech_seconds must be >= 0");
  if (!(opts.posterior_scale > 0)) throw Error("scorer: posterior_scale must be > 0");
  if (!(opts.segment_seconds > 0)) throw Error("scorer: segment_seconds must be > 0");
  if (!(opts.unknown_threshold >= 0 && opts.unknown_threshold <= 1))
    throw Error("scorer: unknown_threshold must be in [0, 1]");
  std::vector<int> picked;
  if (opts.languages.empty()) {
    for (size_t i = 0; i < model.languages.size(); ++i) picked.push_back(static_cast<int>(i));
  } else {
    for (const std::string& l : opts.languages) {
      const int i = model.LanguageIndex(l);
      if (i < 0) {
        std::string known;
        for (const auto& m : model.languages) known += (known.empty() ? "" : ",") + m;
        throw Error("language '" + l + "' is not in the model (it has: " + known + ")");
      }
      if (std::find(picked.begin(), picked.end(), i) == picked.end()) picked.push_back(i);
    }
    std::sort(picked.begin(), picked.end());
  }
  if (picked.empty()) throw Error("scorer: no candidate languages");
  if (!model.backend) throw Error("scorer: the model has no back-end");
  picked_ = picked;
  for (int i : picked) languages_.push_back(model.languages[i]);
  backend_ = model.backend;
  calibration_ = model.calibration;
  frontend_ = std::make_unique<Frontend>(model.frontend);
  frame_shift_seconds_ = model.frontend.mfcc.frame_shift_ms * 1e-3;
  external_frontend_ = model.frontend_external;
}

namespace {
void RefuseExternal(bool external) {
  if (external)
    throw Error("the model was trained on external features (slid train --feats without frontend options) and "
                "cannot score audio; give it such features");
}
}  // namespace

Scorer::~Scorer() = default;
Scorer::Scorer(Scorer&&) noexcept = default;

std::unique_ptr<UtteranceScorer> Scorer::NewUtterance() const { return backend_->NewUtterance(); }

ScoreResult Scorer::Finish(const UtteranceScorer& utt, double audio_seconds, bool no_speech) const {
  ScoreResult r;
  r.no_speech = no_speech;
  r.num_frames = utt.NumFrames();
  r.audio_seconds = audio_seconds;
  r.speech_seconds = static_cast<double>(r.num_frames) * frame_shift_seconds_;
  r.too_little_speech = r.num_frames == 0 || r.speech_seconds < opts_.min_speech_seconds;
  if (r.num_frames == 0) return r;
  const std::vector<double> all = utt.Scores();
  const std::vector<double> cal = calibration_.empty() ? std::vector<double>() : calibration_.Apply(all);
  const size_t n = languages_.size();
  for (int i : picked_) {
    r.avg_loglik.push_back(all[i]);
    if (!cal.empty()) r.calibrated.push_back(cal[i]);
  }
  const std::vector<double>& c = cal.empty() ? r.avg_loglik : r.calibrated;
  // Stable softmax: scale * (c_i - c_max) is <= 0 and exactly 0 for the best, whatever the scale
  // (scale * c_i - scale * c_max overflowed, and under FMA contraction left a residue of ~1e26
  // for the best language at scale 1e40: every posterior was NaN).
  const double c_max = *std::max_element(c.begin(), c.end());
  double z = 0;
  r.posteriors.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double d = c[i] - c_max;
    z += r.posteriors[i] = d == 0 ? 1.0 : std::exp(opts_.posterior_scale * d);
  }
  for (double& p : r.posteriors) p /= z;
  if (!r.too_little_speech) {
    r.best = 0;
    for (size_t i = 1; i < n; ++i)
      if (c[i] > c[r.best]) r.best = static_cast<int>(i);
    if (opts_.unknown_threshold > 0 && *std::max_element(r.posteriors.begin(), r.posteriors.end()) < opts_.unknown_threshold) {
      r.unknown = true;
      r.best = -1;
    }
  }
  return r;
}

ScoreResult Scorer::ScoreFeatures(const Matrix& features, double audio_seconds) const {
  const std::unique_ptr<UtteranceScorer> u = NewUtterance();
  u->Add(features);
  return Finish(*u, audio_seconds);
}

ScoreResult Scorer::ScoreWaveform(const Waveform& wav) const {
  RefuseExternal(external_frontend_);
  const int rate = frontend_->options().sample_rate_hz;
  const Waveform resampled = wav.rate_hz != rate ? Resample(wav, rate) : Waveform();
  const Waveform& w = wav.rate_hz != rate ? resampled : wav;
  // Frontend::Compute's steps, keeping the speech check's answer.
  std::vector<float> energy;
  const Matrix mfcc = frontend_->ComputeMfcc(w, &energy);
  const Matrix feats = frontend_->ComputeFeatures(mfcc);
  const std::unique_ptr<UtteranceScorer> u = NewUtterance();
  if (feats.rows() == 0) return Finish(*u, wav.Seconds());  // too short to judge
  const bool no_speech = !frontend_->CheckSpeech(mfcc, energy).has_speech;
  u->Add(SelectVoicedFrames(feats, frontend_->ComputeVoiced(mfcc, energy)));
  return Finish(*u, wav.Seconds(), no_speech);
}

// ScoreFile gives the result of scoring the whole file at once, whatever segment_seconds is (with
// snip-edges, the default; see scorer.h). The audio is streamed in segments, but:
//  1. MFCC frames are cut from a sample stream carried across segments, so every frame is the one a
//     whole-file analysis makes (frames are independent of each other given their samples);
//  2. the raw MFCC of the whole file (num-ceps floats per 10 ms: 30 MB for 3 hours) is kept, so the
//     VAD threshold (from the file's mean C0) and CMVN (sliding windows or utterance statistics)
//     see the whole file, as they do in one piece;
//  3. SDC (or deltas), the only wide stage, is computed in blocks that carry enough normalised
//     frames of context on both sides and keep only their own frames.
// Memory is one audio segment, the file's MFCC and one block of features.
ScoreResult Scorer::ScoreFile(const std::string& path) const {
  RefuseExternal(external_frontend_);
  AudioReader reader(path, frontend_->options().sample_rate_hz);
  const std::unique_ptr<UtteranceScorer> u = NewUtterance();
  const FrontendOptions& fo = frontend_->options();
  const MfccComputer mfcc(fo.mfcc, fo.sample_rate_hz);  // for its frame geometry only
  const bool exact = fo.mfcc.snip_edges;
  const int64_t frame_length = mfcc.FrameLengthSamples(), frame_shift = mfcc.FrameShiftSamples();

  std::vector<float> raw;  // the file's MFCC, row-major, num_ceps per frame
  std::vector<float> energy, piece_energy;  // the file's frame log-energies, if the VAD decides on them
  const int num_ceps = fo.mfcc.num_ceps;
  std::vector<float> carry;  // samples not yet consumed by a whole frame
  double seconds = 0;
  Waveform chunk;
  try {
    while (reader.Read(opts_.segment_seconds, &chunk)) {
      seconds += chunk.Seconds();
      Matrix m;
      if (exact) {
        carry.insert(carry.end(), chunk.samples.begin(), chunk.samples.end());
        const int64_t n = mfcc.NumFrames(static_cast<int64_t>(carry.size()));
        if (n == 0) continue;
        const int64_t used = (n - 1) * frame_shift + frame_length;
        Waveform piece;
        piece.rate_hz = chunk.rate_hz;
        piece.samples.assign(carry.begin(), carry.begin() + used);
        m = frontend_->ComputeMfcc(piece, &piece_energy);
        carry.erase(carry.begin(), carry.begin() + n * frame_shift);
      } else {
        m = frontend_->ComputeMfcc(chunk, &piece_energy);  // --snip-edges=false: joins are file edges
      }
      energy.insert(energy.end(), piece_energy.begin(), piece_energy.end());
      raw.insert(raw.end(), m.data(), m.data() + m.size());
    }
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind(path + ":", 0) == 0) throw;
    ThrowFileError(path, what);
  }
  const int64_t total = static_cast<int64_t>(raw.size()) / std::max(1, num_ceps);
  const Eigen::Map<const Matrix> all(raw.data(), total, num_ceps);
  const int context_needed = fo.sdc.enabled ? fo.sdc.ContextFrames() : 1;
  if (total == 0 || total < context_needed) return Finish(*u, seconds);
  const bool no_speech = !frontend_->CheckSpeech(all, energy).has_speech;
  const std::vector<bool> voiced = frontend_->ComputeVoiced(all, energy);
  const Matrix normed = ApplyCmvn(all, fo.cmvn);
  // Frames of context each side that SDC or deltas read (with room to spare).
  const int64_t ctx = fo.sdc.enabled    ? fo.sdc.ContextFrames() + 2
                      : fo.use_deltas   ? static_cast<int64_t>(fo.deltas.window) * fo.deltas.order + 2
                                        : 0;
  constexpr int64_t kBlock = 60000;  // 10 minutes of 10 ms frames: 13 MB of 56-dim features
  for (int64_t a = 0; a < total; a += kBlock) {
    const int64_t b = std::min(total, a + kBlock);
    const int64_t lo = std::max<int64_t>(0, a - ctx), hi = std::min(total, b + ctx);
    const Matrix slice = normed.middleRows(lo, hi - lo);
    const Matrix f = fo.sdc.enabled ? ComputeSdc(slice, fo.sdc) : fo.use_deltas ? ComputeDeltas(slice, fo.deltas) : slice;
    const Matrix own = f.middleRows(a - lo, b - a);
    const std::vector<bool> own_voiced(voiced.begin() + a, voiced.begin() + b);
    const Matrix v = SelectVoicedFrames(own, own_voiced);
    u->Add(v);
  }
  return Finish(*u, seconds, no_speech);
}

}  // namespace slid
