// Scoring: all candidate GMMs are stacked into one 2D x (sum K) parameter matrix so that a block of
// frames costs one GEMM ([x, x^2] times the stack, as DiagGmm does per model) followed by a
// log-sum-exp over each language's column range.
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
  AudioReader reader(path, frontend_->options().sample_rate_hz);
  const FrontendOptions& fo = frontend_->options();
  const MfccComputer mfcc(fo.mfcc, fo.sample_rate_hz);  // for its frame geometry only
  const bool exact = fo.mfcc.snip_edges;
  const int64_t frame_length = mfcc.FrameLengthSamples(), frame_shift = mfcc.FrameShiftSamples();

  std::vector<float> raw;  // the file's MFCC, row-major, num_ceps per frame
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
        m = frontend_->ComputeMfcc(piece);
        carry.erase(carry.begin(), carry.begin() + n * frame_shift);
      } else {
        m = frontend_->ComputeMfcc(chunk);  // --snip-edges=false: segment joins are treated as file edges
      }
      raw.insert(raw.end(), m.data(), m.data() + m.size());
    }
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind(path + ":", 0) == 0) throw;
    ThrowFileError(path, what);
  }
  std::vector<double> sums(languages_.size(), 0.0);
  const int64_t total = static_cast<int64_t>(raw.size()) / std::max(1, num_ceps);
  const Eigen::Map<const Matrix> all(raw.data(), total, num_ceps);
  const int context_needed = fo.sdc.enabled ? fo.sdc.ContextFrames() : 1;
  if (total == 0 || total < context_needed) return Finish(sums, 0, seconds);
  const std::vector<bool> voiced = frontend_->ComputeVoiced(all);
  const Matrix normed = ApplyCmvn(all, fo.cmvn);
  // Frames of context each side that SDC or deltas read (with room to spare).
  const int64_t ctx = fo.sdc.enabled    ? fo.sdc.ContextFrames() + 2
                      : fo.use_deltas   ? static_cast<int64_t>(fo.deltas.window) * fo.deltas.order + 2
                                        : 0;
  constexpr int64_t kBlock = 60000;  // 10 minutes of 10 ms frames: 13 MB of 56-dim features
  int64_t frames = 0;
  for (int64_t a = 0; a < total; a += kBlock) {
    const int64_t b = std::min(total, a + kBlock);
    const int64_t lo = std::max<int64_t>(0, a - ctx), hi = std::min(total, b + ctx);
    const Matrix slice = normed.middleRows(lo, hi - lo);
    const Matrix f = fo.sdc.enabled ? ComputeSdc(slice, fo.sdc) : fo.use_deltas ? ComputeDeltas(slice, fo.deltas) : slice;
    const Matrix own = f.middleRows(a - lo, b - a);
    const std::vector<bool> own_voiced(voiced.begin() + a, voiced.begin() + b);
    const Matrix v = SelectVoicedFrames(own, own_voiced);
    AccumulateLogLikelihoods(v, &sums);
    frames += v.rows();
  }
  return Finish(sums, frames, seconds);
}

}  // namespace slid
