// Scoring: the back-end gives one score per model language; the calibration (over all of them) and
// the candidate restriction come after. See slid/scorer.h.
#include "slid/scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "slid/error.h"

namespace slid {

Scorer::Scorer(const LanguageModelSet& model, const ScorerOptions& opts) : opts_(opts) {
  if (!(opts.min_speech_seconds >= 0)) throw Error("scorer: min_speech_seconds must be >= 0");
  if (!(opts.posterior_scale > 0)) throw Error("scorer: posterior_scale must be > 0");
  if (!(opts.segment_seconds > 0)) throw Error("scorer: segment_seconds must be > 0");
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
}

Scorer::~Scorer() = default;
Scorer::Scorer(Scorer&&) noexcept = default;

std::unique_ptr<UtteranceScorer> Scorer::NewUtterance() const { return backend_->NewUtterance(); }

ScoreResult Scorer::Finish(const UtteranceScorer& utt, double audio_seconds) const {
  ScoreResult r;
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
  double m = -std::numeric_limits<double>::infinity();
  for (double a : c) m = std::max(m, opts_.posterior_scale * a);
  double z = 0;
  r.posteriors.resize(n);
  for (size_t i = 0; i < n; ++i) z += r.posteriors[i] = std::exp(opts_.posterior_scale * c[i] - m);
  for (double& p : r.posteriors) p /= z;
  if (!r.too_little_speech) {
    r.best = 0;
    for (size_t i = 1; i < n; ++i)
      if (c[i] > c[r.best]) r.best = static_cast<int>(i);
  }
  return r;
}

ScoreResult Scorer::ScoreFeatures(const Matrix& features, double audio_seconds) const {
  const std::unique_ptr<UtteranceScorer> u = NewUtterance();
  u->Add(features);
  return Finish(*u, audio_seconds);
}

ScoreResult Scorer::ScoreWaveform(const Waveform& wav) const {
  const int rate = frontend_->options().sample_rate_hz;
  if (wav.rate_hz != rate) return ScoreFeatures(frontend_->Compute(Resample(wav, rate)), wav.Seconds());
  return ScoreFeatures(frontend_->Compute(wav), wav.Seconds());
}

ScoreResult Scorer::ScoreFile(const std::string& path) const {
  AudioReader reader(path, frontend_->options().sample_rate_hz);
  const std::unique_ptr<UtteranceScorer> u = NewUtterance();
  double seconds = 0;
  Waveform chunk;
  while (reader.Read(opts_.segment_seconds, &chunk)) {
    seconds += chunk.Seconds();
    Matrix f;
    try {
      f = frontend_->Compute(chunk);
    } catch (const Error& e) {
      ThrowFileError(path, e.what());
    }
    u->Add(f);
  }
  return Finish(*u, seconds);
}

}  // namespace slid
