// Scoring: all candidate GMMs are stacked into one 2D x (sum K) parameter matrix so that a block of
// frames costs one GEMM ([x, x^2] times the stack, as DiagGmm does per model) followed by a
// log-sum-exp over each language's column range.
#include "slid/scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "slid/error.h"

namespace slid {
namespace {
// Frames per GEMM block: 128 x (10 x 256) floats of log-densities (1.3 MB) stays near the L2 cache.
constexpr int kScoreBlockFrames = 128;
}  // namespace

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
  dim_ = model.Dim();
  int total_k = 0;
  offsets_.push_back(0);
  for (int i : picked) {
    languages_.push_back(model.languages[i]);
    total_k += model.gmms[i].NumGauss();
    offsets_.push_back(total_k);
  }
  packed_.resize(2 * dim_, total_k);
  gconsts_.resize(total_k);
  for (size_t c = 0; c < picked.size(); ++c) {
    const DiagGmm& g = model.gmms[picked[c]];
    packed_.middleCols(offsets_[c], g.NumGauss()) = g.packed_params();
    gconsts_.segment(offsets_[c], g.NumGauss()) = g.gconsts();
  }
  frontend_ = std::make_unique<Frontend>(model.frontend);
  frame_shift_seconds_ = model.frontend.mfcc.frame_shift_ms * 1e-3;
}

Scorer::~Scorer() = default;
Scorer::Scorer(Scorer&&) noexcept = default;

void Scorer::AccumulateLogLikelihoods(const Matrix& features, std::vector<double>* sums) const {
  if (features.rows() == 0) return;
  if (features.cols() != dim_)
    throw Error("scorer: features have " + std::to_string(features.cols()) + " dims, the model " +
                std::to_string(dim_));
  const int num_lang = static_cast<int>(languages_.size());
  if (static_cast<int>(sums->size()) != num_lang) sums->assign(num_lang, 0.0);
  Matrix xx(kScoreBlockFrames, 2 * dim_);
  Matrix ll(kScoreBlockFrames, packed_.cols());
  const int64_t n_frames = features.rows();
  for (int64_t begin = 0; begin < n_frames; begin += kScoreBlockFrames) {
    const int n = static_cast<int>(std::min<int64_t>(kScoreBlockFrames, n_frames - begin));
    auto x = features.middleRows(begin, n);
    xx.topLeftCorner(n, dim_) = x;
    xx.block(0, dim_, n, dim_) = x.array().square();
    auto out = ll.topRows(n);
    out.noalias() = xx.topRows(n) * packed_;
    out.rowwise() += gconsts_.transpose();
    for (int c = 0; c < num_lang; ++c) {
      const int k0 = offsets_[c], k = offsets_[c + 1] - offsets_[c];
      double acc = 0;
      for (int r = 0; r < n; ++r) {
        auto seg = out.row(r).segment(k0, k).array();
        const float m = seg.maxCoeff();
        acc += m + std::log(static_cast<double>((seg - m).exp().sum()));
      }
      (*sums)[c] += acc;
    }
  }
}

ScoreResult Scorer::Finish(const std::vector<double>& sums, int64_t num_frames, double audio_seconds) const {
  ScoreResult r;
  r.num_frames = num_frames;
  r.audio_seconds = audio_seconds;
  r.speech_seconds = static_cast<double>(num_frames) * frame_shift_seconds_;
  r.too_little_speech = num_frames == 0 || r.speech_seconds < opts_.min_speech_seconds;
  if (num_frames > 0) {
    const size_t n = languages_.size();
    r.avg_loglik.resize(n);
    for (size_t c = 0; c < n; ++c) r.avg_loglik[c] = sums[c] / static_cast<double>(num_frames);
    // Stable softmax: scale * (a_c - a_max) is <= 0 and exactly 0 for the best, whatever the scale
    // (scale * a_c - scale * a_max overflowed, and under FMA contraction left a residue of ~1e26
    // for the best language at scale 1e40: every posterior was NaN).
    const double a_max = *std::max_element(r.avg_loglik.begin(), r.avg_loglik.end());
    double z = 0;
    r.posteriors.resize(n);
    for (size_t c = 0; c < n; ++c) {
      const double d = r.avg_loglik[c] - a_max;
      z += r.posteriors[c] = d == 0 ? 1.0 : std::exp(opts_.posterior_scale * d);
    }
    for (double& p : r.posteriors) p /= z;
    if (!r.too_little_speech) {
      r.best = 0;
      for (size_t c = 1; c < n; ++c)
        if (r.avg_loglik[c] > r.avg_loglik[r.best]) r.best = static_cast<int>(c);
    }
  }
  return r;
}

ScoreResult Scorer::ScoreFeatures(const Matrix& features, double audio_seconds) const {
  std::vector<double> sums(languages_.size(), 0.0);
  AccumulateLogLikelihoods(features, &sums);
  return Finish(sums, features.rows(), audio_seconds);
}

ScoreResult Scorer::ScoreWaveform(const Waveform& wav) const {
  const int rate = frontend_->options().sample_rate_hz;
  if (wav.rate_hz != rate) return ScoreFeatures(frontend_->Compute(Resample(wav, rate)), wav.Seconds());
  return ScoreFeatures(frontend_->Compute(wav), wav.Seconds());
}

ScoreResult Scorer::ScoreFile(const std::string& path) const {
  AudioReader reader(path, frontend_->options().sample_rate_hz);
  std::vector<double> sums(languages_.size(), 0.0);
  int64_t frames = 0;
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
    AccumulateLogLikelihoods(f, &sums);
    frames += f.rows();
  }
  return Finish(sums, frames, seconds);
}

}  // namespace slid
