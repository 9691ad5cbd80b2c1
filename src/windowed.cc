// Windowed and streaming identification on an incremental frontend. See slid/windowed.h.
#include "slid/windowed.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "slid/cmvn.h"
#include "slid/deltas.h"
#include "slid/error.h"
#include "slid/mfcc.h"
#include "slid/number_text.h"
#include "slid/sdc.h"
#include "slid/vad.h"

namespace slid {

// ---- IncrementalFrontend ----------------------------------------------------------------------
// Three stages, each a FIFO of rows with the absolute index of its first row:
//   raw MFCC (+ VAD input)  ->  normalised (CMN)  ->  features (SDC / deltas), handed out.
// A stage computes row t once every row it reads is known, i.e. with the input length T still
// unknown, as soon as the bounds it would use for T = infinity lie inside what has arrived; those are
// then the bounds for the real T too (edge shifts and clamps only happen at T). Finish() sets T and
// computes the rest with the whole-recording edge rules.
class IncrementalFrontend::Impl {
 public:
  Impl(const FrontendOptions& o, bool causal) : opts_(o), frontend_(Adjusted(o, causal)), geometry_(o.mfcc, o.sample_rate_hz) {
    opts_ = frontend_.options();
    if (!opts_.mfcc.snip_edges)
      throw Error("snip-edges: windowed and streaming identification need snip-edges=true (the frames must not "
                  "depend on where the input ends)");
    if (opts_.cmvn.mode == CmvnMode::kUtterance)
      throw Error("cmvn-mode: utterance CMVN needs the whole recording; windowed identification needs "
                  "cmvn-mode sliding or none");
    num_ceps_ = opts_.mfcc.num_ceps;
    dim_ = frontend_.Dim();
    if (opts_.sdc.enabled) {
      before_ = opts_.sdc.d;
      after_ = (opts_.sdc.k - 1) * opts_.sdc.p + opts_.sdc.d;
      min_frames_ = opts_.sdc.ContextFrames();
    } else if (opts_.use_deltas) {
      before_ = after_ = static_cast<int64_t>(opts_.deltas.window) * opts_.deltas.order;
    }
    vad_on_energy_ = opts_.vad.enabled && opts_.vad.use_log_energy;
    db_per_unit_ = vad_on_energy_ ? 10.0 / std::log(10.0) : Column0DecibelsPerUnit(opts_.mfcc);
  }

  static FrontendOptions Adjusted(FrontendOptions o, bool causal) {
    if (causal) {
      // Warping stays warping (over the same causal window); every other mode becomes sliding CMN.
      if (o.cmvn.mode != CmvnMode::kNone && o.cmvn.mode != CmvnMode::kWarp) o.cmvn.mode = CmvnMode::kSliding;
      o.cmvn.center = false;
    }
    return o;
  }

  void Accept(const float* x, size_t n, Matrix* feats, std::vector<float>* vad) {
    if (finished_) throw Error("IncrementalFrontend: input after Finish()");
    num_samples_ += static_cast<int64_t>(n);
    carry_.insert(carry_.end(), x, x + n);
    const int64_t frames = geometry_.NumFrames(static_cast<int64_t>(carry_.size()));
    if (frames > 0) {
      const int64_t used = (frames - 1) * geometry_.FrameShiftSamples() + geometry_.FrameLengthSamples();
      Waveform piece;
      piece.rate_hz = opts_.sample_rate_hz;
      piece.samples.assign(carry_.begin(), carry_.begin() + used);
      std::vector<float> energy;
      const Matrix m = frontend_.ComputeMfcc(piece, &energy);
      carry_.erase(carry_.begin(), carry_.begin() + frames * geometry_.FrameShiftSamples());
      for (int64_t r = 0; r < m.rows(); ++r) {
        for (int c = 0; c < num_ceps_; ++c) raw_.push_back(m(r, c));
        vad_.push_back(vad_on_energy_ ? energy[static_cast<size_t>(r)] : m(r, 0));
      }
      raw_end_ += m.rows();
    }
    Advance(feats, vad);
  }

  void Finish(Matrix* feats, std::vector<float>* vad) {
    if (finished_) throw Error("IncrementalFrontend: Finish() called twice");
    finished_ = true;
    carry_.clear();
    Advance(feats, vad);
  }

  int64_t num_samples_ = 0;
  int64_t feat_end_ = 0;  // feature rows handed out
  int dim_ = 0;
  double db_per_unit_ = 1;
  FrontendOptions opts_;

 private:
  float Raw(int64_t t, int c) const { return raw_[static_cast<size_t>((t - raw_base_) * num_ceps_ + c)]; }

  void Normalise() {
    const int64_t T = finished_ ? raw_end_ : std::numeric_limits<int64_t>::max() / 4;
    VectorD sum(num_ceps_), sq(num_ceps_);
    for (int64_t t = norm_end_; t < raw_end_; ++t) {
      int64_t s = 0, e = T;
      if (opts_.cmvn.mode == CmvnMode::kSliding || opts_.cmvn.mode == CmvnMode::kWarp)
        SlidingCmnWindow(opts_.cmvn, t, T, &s, &e);
      if (opts_.cmvn.mode == CmvnMode::kNone) s = e = t;  // unused
      if (e > raw_end_) break;  // needs frames not yet here
      if (opts_.cmvn.mode == CmvnMode::kNone) {
        for (int c = 0; c < num_ceps_; ++c) norm_.push_back(Raw(t, c));
      } else if (opts_.cmvn.mode == CmvnMode::kWarp) {
        // The same count and quantile as ApplyCmvn, so the same bits.
        for (int c = 0; c < num_ceps_; ++c) {
          const float v = Raw(t, c);
          int64_t below = 0, equal = 0;
          for (int64_t u = s; u < e; ++u) {
            const float w = Raw(u, c);
            below += w < v;
            equal += w == v;
          }
          norm_.push_back(equal == 0 ? std::numeric_limits<float>::quiet_NaN()
                                     : static_cast<float>(WarpedValue(below, equal, e - s)));
        }
      } else {
        sum.setZero();
        sq.setZero();
        for (int64_t u = s; u < e; ++u)
          for (int c = 0; c < num_ceps_; ++c) {
            const double v = Raw(u, c);
            sum[c] += v;
            sq[c] += v * v;
          }
        const double n = static_cast<double>(e - s);
        for (int c = 0; c < num_ceps_; ++c) {
          double y = Raw(t, c) - sum[c] / n;
          if (opts_.cmvn.norm_vars) {
            if (e - s == 1) {
              y = 0;
            } else {
              const double var = std::max(sq[c] / n - (sum[c] / n) * (sum[c] / n), 1e-10);
              y /= std::sqrt(var);
            }
          }
          norm_.push_back(static_cast<float>(y));
        }
      }
      ++norm_end_;
    }
    // Every later frame's window starts at or after norm_end_ - cmn_window (also at the end, where it
    // starts at T - cmn_window > norm_end_ - cmn_window).
    const int64_t keep = std::max<int64_t>(0, norm_end_ - opts_.cmvn.cmn_window - 1);
    if (keep > raw_base_) {
      raw_.erase(raw_.begin(), raw_.begin() + (keep - raw_base_) * num_ceps_);
      raw_base_ = keep;
    }
  }

  void Advance(Matrix* feats, std::vector<float>* vad) {
    Normalise();
    // Whole-recording rule: fewer frames than the SDC context give no features at all.
    const bool enough = finished_ ? raw_end_ >= min_frames_ : raw_end_ >= min_frames_ || min_frames_ <= 1;
    if (!enough) return;
    const int64_t last = finished_ && norm_end_ == raw_end_ ? norm_end_ - 1 : norm_end_ - 1 - after_;
    if (last < feat_end_) return;
    const int64_t lo = std::max<int64_t>(0, feat_end_ - before_);
    const int64_t hi = finished_ && norm_end_ == raw_end_ ? norm_end_ : last + after_ + 1;
    const Eigen::Map<const Matrix> slice(norm_.data() + (lo - norm_base_) * num_ceps_, hi - lo, num_ceps_);
    Matrix f;
    if (opts_.sdc.enabled)
      f = ComputeSdc(slice, opts_.sdc);
    else if (opts_.use_deltas)
      f = ComputeDeltas(slice, opts_.deltas);
    else
      f = slice;
    const int64_t count = last - feat_end_ + 1;
    const int64_t old = feats->rows();
    feats->conservativeResize(old + count, dim_);
    feats->middleRows(old, count) = f.middleRows(feat_end_ - lo, count);
    for (int64_t t = feat_end_; t <= last; ++t) vad->push_back(vad_[static_cast<size_t>(t - vad_base_)]);
    feat_end_ = last + 1;
    // Drop what no later row reads.
    if (feat_end_ > vad_base_) {
      vad_.erase(vad_.begin(), vad_.begin() + (feat_end_ - vad_base_));
      vad_base_ = feat_end_;
    }
    const int64_t keep = std::max<int64_t>(0, feat_end_ - before_);
    if (keep > norm_base_) {
      norm_.erase(norm_.begin(), norm_.begin() + (keep - norm_base_) * num_ceps_);
      norm_base_ = keep;
    }
  }

  Frontend frontend_;
  MfccComputer geometry_;
  int num_ceps_ = 0;
  int64_t before_ = 0, after_ = 0;  // feature context: rows read before / after the frame
  int64_t min_frames_ = 1;          // fewer MFCC frames than this give no features
  bool vad_on_energy_ = false;
  bool finished_ = false;
  std::vector<float> carry_;        // samples not yet consumed by a whole frame
  std::vector<float> raw_;          // raw MFCC rows [raw_base_, raw_end_)
  int64_t raw_base_ = 0, raw_end_ = 0;
  std::vector<float> vad_;          // VAD input of rows [vad_base_, raw_end_)
  int64_t vad_base_ = 0;
  std::vector<float> norm_;         // normalised rows [norm_base_, norm_end_)
  int64_t norm_base_ = 0, norm_end_ = 0;
};

IncrementalFrontend::IncrementalFrontend(const FrontendOptions& opts, bool causal)
    : impl_(std::make_unique<Impl>(opts, causal)) {}
IncrementalFrontend::~IncrementalFrontend() = default;
int IncrementalFrontend::Dim() const { return impl_->dim_; }
const FrontendOptions& IncrementalFrontend::options() const { return impl_->opts_; }
void IncrementalFrontend::Accept(const float* samples, size_t n, Matrix* features, std::vector<float>* vad_input) {
  impl_->Accept(samples, n, features, vad_input);
}
void IncrementalFrontend::Finish(Matrix* features, std::vector<float>* vad_input) { impl_->Finish(features, vad_input); }
int64_t IncrementalFrontend::NumSamples() const { return impl_->num_samples_; }
int64_t IncrementalFrontend::NumFrames() const { return impl_->feat_end_; }
double IncrementalFrontend::VadDecibelsPerUnit() const { return impl_->db_per_unit_; }

// ---- windows ----------------------------------------------------------------------------------

void ValidateWindowOptions(const WindowOptions& o) {
  if (!(o.window_seconds > 0) || !std::isfinite(o.window_seconds))
    throw Error("--window: must be a length in seconds > 0, got " + FormatGeneral(o.window_seconds));
  if (!(o.hop_seconds > 0) || !std::isfinite(o.hop_seconds))
    throw Error("--hop: must be a length in seconds > 0, got " + FormatGeneral(o.hop_seconds));
  if (o.hop_seconds > o.window_seconds)
    throw Error("--hop: " + FormatGeneral(o.hop_seconds) + " s is longer than the window (" +
                FormatGeneral(o.window_seconds) + " s); windows would leave gaps");
  if (!(o.read_seconds > 0)) throw Error("read_seconds: must be > 0");
}

namespace {

// A window's frames judged as Scorer judges a file: its own VAD threshold and speech check.
ScoreResult JudgeFrames(const Scorer& scorer, const Matrix& feats, const std::vector<float>& vad_in,
                        double db_per_unit, double seconds) {
  const VadOptions& vo = scorer.frontend().options().vad;
  const std::unique_ptr<UtteranceScorer> u = scorer.NewUtterance();
  const int64_t n = feats.rows();
  if (n == 0) return scorer.Finish(*u, seconds);  // nothing to judge: too_little_speech
  Matrix x(n, 1);
  for (int64_t t = 0; t < n; ++t) x(t, 0) = vad_in[static_cast<size_t>(t)];
  bool has_speech = true;
  std::vector<bool> voiced(static_cast<size_t>(n), true);
  if (vo.enabled) {
    if (vo.min_snr_db != 0) has_speech = CheckSpeech(x, vo, db_per_unit).has_speech;
    voiced = has_speech ? ComputeVad(x, vo) : std::vector<bool>(static_cast<size_t>(n), false);
  }
  u->Add(SelectVoicedFrames(feats, voiced));
  return scorer.Finish(*u, seconds, !has_speech);
}

}  // namespace

double IdentifyWindows(const Scorer& scorer, const std::string& path, const WindowOptions& opts,
                       const WindowCallback& on_window) {
  ValidateWindowOptions(opts);
  if (scorer.external_frontend())
    throw Error("the model was trained on external features and cannot score audio");
  const FrontendOptions& fo = scorer.frontend().options();
  IncrementalFrontend fe(fo, false);
  const double shift = fo.mfcc.frame_shift_ms * 1e-3;
  const int64_t W = std::max<int64_t>(1, std::llround(opts.window_seconds / shift));
  const int64_t H = std::max<int64_t>(1, std::min<int64_t>(W, std::llround(opts.hop_seconds / shift)));
  const int D = fe.Dim();

  std::vector<float> buf;      // feature rows [base, base + rows), row-major
  std::vector<float> buf_vad;  // their VAD inputs
  int64_t base = 0;
  int64_t k = 0;               // next window
  Matrix feats;
  std::vector<float> vad;
  auto take = [&]() {          // moves the frontend's new rows into the buffer
    buf.insert(buf.end(), feats.data(), feats.data() + feats.size());  // row-major Matrix
    buf_vad.insert(buf_vad.end(), vad.begin(), vad.end());
    feats.resize(0, D);
    vad.clear();
  };
  auto emit = [&](int64_t a, int64_t b, double start_s, double end_s) {
    const int64_t n = std::max<int64_t>(0, b - a);
    const Eigen::Map<const Matrix> rows(buf.data() + (a - base) * D, n, D);
    const std::vector<float> v(buf_vad.begin() + (a - base), buf_vad.begin() + (a - base) + n);
    WindowResult w;
    w.index = k;
    w.start_seconds = start_s;
    w.end_seconds = end_s;
    w.result = JudgeFrames(scorer, rows, v, fe.VadDecibelsPerUnit(), end_s - start_s);
    on_window(w);
    ++k;
    const int64_t next = k * H;  // drop rows before the next window
    if (next > base) {
      const int64_t drop = std::min<int64_t>(next - base, static_cast<int64_t>(buf_vad.size()));
      buf.erase(buf.begin(), buf.begin() + drop * D);
      buf_vad.erase(buf_vad.begin(), buf_vad.begin() + drop);
      base += drop;
    }
  };
  double seconds = 0;
  try {
    AudioReader reader(path, fo.sample_rate_hz);
    Waveform chunk;
    while (reader.Read(opts.read_seconds, &chunk)) {
      seconds += chunk.Seconds();
      fe.Accept(chunk.samples.data(), chunk.samples.size(), &feats, &vad);
      take();
      while (k * H + W <= fe.NumFrames()) emit(k * H, k * H + W, k * H * shift, (k * H + W) * shift);
    }
    fe.Finish(&feats, &vad);
    take();
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind(path + ":", 0) == 0) throw;
    ThrowFileError(path, what);
  }
  const int64_t T = fe.NumFrames();
  while (k * H + W <= T) emit(k * H, k * H + W, k * H * shift, (k * H + W) * shift);
  // The window that reaches the end, cut short by it (unless the last full one ended exactly there).
  if (k == 0 || (k - 1) * H + W < T) {
    const double start = std::min(seconds, k * H * shift);
    emit(k * H, T, start, std::max(start, seconds));
  }
  return seconds;
}

// ---- timeline ---------------------------------------------------------------------------------

void ValidateTimelineOptions(const TimelineOptions& o) {
  if (o.smooth_windows < 1 || o.smooth_windows % 2 == 0)
    throw Error("--smooth-windows: must be an odd number >= 1 (1 = no smoothing), got " +
                std::to_string(o.smooth_windows));
  if (!(o.min_run_seconds >= 0) || !std::isfinite(o.min_run_seconds))
    throw Error("--min-run: must be a length in seconds >= 0, got " + FormatGeneral(o.min_run_seconds));
}

std::vector<TimelineRun> SmoothTimeline(const std::vector<TimelineWindow>& windows, double duration_seconds,
                                        const TimelineOptions& opts) {
  ValidateTimelineOptions(opts);
  const size_t n = windows.size();
  std::vector<TimelineRun> runs;
  if (n == 0) return runs;
  std::vector<double> centre(n);
  for (size_t i = 0; i < n; ++i) {
    centre[i] = 0.5 * (windows[i].start_seconds + windows[i].end_seconds);
    if (i > 0 && centre[i] < centre[i - 1])
      throw Error("timeline: windows are not in time order (window " + std::to_string(i) + ")");
  }
  // Majority filter.
  const int64_t h = opts.smooth_windows / 2;
  std::vector<std::string> label(n);
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
    const int64_t a = std::max<int64_t>(0, i - h), b = std::min<int64_t>(n - 1, i + h);
    std::map<std::string, int> count;
    for (int64_t j = a; j <= b; ++j) ++count[windows[j].label];
    int best = count[windows[i].label];
    std::string pick = windows[i].label;
    for (int64_t d = 1; d <= h; ++d)  // nearest first, earlier first
      for (int64_t j : {i - d, i + d}) {
        if (j < a || j > b) continue;
        if (count[windows[j].label] > best) {
          best = count[windows[j].label];
          pick = windows[j].label;
        }
      }
    label[i] = pick;
  }
  // Stretches and merging.
  const double end = std::max(duration_seconds, centre.back());
  for (size_t i = 0; i < n; ++i) {
    const double s = i == 0 ? 0.0 : 0.5 * (centre[i - 1] + centre[i]);
    const double e = i + 1 == n ? end : 0.5 * (centre[i] + centre[i + 1]);
    if (!runs.empty() && runs.back().label == label[i]) {
      runs.back().end_seconds = e;
      ++runs.back().num_windows;
    } else {
      runs.push_back({s, e, label[i], 1});
    }
  }
  // Short runs: the shortest goes first, into its longer neighbour; equal neighbours then merge.
  while (opts.min_run_seconds > 0 && runs.size() > 1) {
    size_t shortest = 0;
    for (size_t i = 1; i < runs.size(); ++i)
      if (runs[i].end_seconds - runs[i].start_seconds < runs[shortest].end_seconds - runs[shortest].start_seconds)
        shortest = i;
    const TimelineRun& r = runs[shortest];
    if (r.end_seconds - r.start_seconds >= opts.min_run_seconds) break;
    size_t into;
    if (shortest == 0) {
      into = 1;
    } else if (shortest + 1 == runs.size()) {
      into = shortest - 1;
    } else {
      const TimelineRun& p = runs[shortest - 1];
      const TimelineRun& q = runs[shortest + 1];
      into = (q.end_seconds - q.start_seconds > p.end_seconds - p.start_seconds) ? shortest + 1 : shortest - 1;
    }
    runs[into].num_windows += r.num_windows;
    if (into < shortest)
      runs[into].end_seconds = r.end_seconds;
    else
      runs[into].start_seconds = r.start_seconds;
    runs.erase(runs.begin() + static_cast<std::ptrdiff_t>(shortest));
    // The neighbours of the removed run may now share a label.
    for (size_t i = 1; i < runs.size();) {
      if (runs[i].label == runs[i - 1].label) {
        runs[i - 1].end_seconds = runs[i].end_seconds;
        runs[i - 1].num_windows += runs[i].num_windows;
        runs.erase(runs.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
  }
  return runs;
}

// ---- streaming --------------------------------------------------------------------------------

void ValidateStreamOptions(const StreamOptions& o) {
  if (!(o.hop_seconds > 0) || !std::isfinite(o.hop_seconds))
    throw Error("--hop: must be a length in seconds > 0, got " + FormatGeneral(o.hop_seconds));
  if (!(o.early_stop_posterior >= 0 && o.early_stop_posterior < 1))
    throw Error("--early-stop: must be a posterior in (0, 1), or 0 for off; got " + FormatGeneral(o.early_stop_posterior));
  if (o.early_stop_decisions < 1)
    throw Error("--early-stop-decisions: must be >= 1, got " + std::to_string(o.early_stop_decisions));
}

namespace {
const FrontendOptions& CheckedStreamOptions(const Scorer& scorer, const StreamOptions& opts) {
  ValidateStreamOptions(opts);
  if (scorer.external_frontend())
    throw Error("the model was trained on external features and cannot score audio");
  if (scorer.frontend().options().vad.enabled && scorer.frontend().options().vad.frames_context != 0)
    throw Error("vad-frames-context: streaming identification needs 0 (a causal VAD has no look-ahead)");
  return scorer.frontend().options();
}
}  // namespace

StreamingIdentifier::StreamingIdentifier(const Scorer& scorer, const StreamOptions& opts)
    : scorer_(scorer), opts_(opts), frontend_(CheckedStreamOptions(scorer, opts), true), utt_(scorer.NewUtterance()) {
  rate_hz_ = frontend_.options().sample_rate_hz;
  hop_samples_ = std::max<int64_t>(1, std::llround(opts.hop_seconds * rate_hz_));
  next_decision_samples_ = hop_samples_;
}

StreamingIdentifier::~StreamingIdentifier() = default;

void StreamingIdentifier::Consume(const Matrix& feats, const std::vector<float>& vad_in) {
  const VadOptions& vo = frontend_.options().vad;
  std::vector<bool> voiced(static_cast<size_t>(feats.rows()), true);
  for (int64_t t = 0; t < feats.rows(); ++t) {
    const float v = vad_in[static_cast<size_t>(t)];
    vad_sum_ += v;
    ++vad_count_;
    if (vo.enabled) {
      // compute-vad's threshold with the mean over the frames so far (a float compare, as ComputeVad).
      const float thr = static_cast<float>(vo.energy_threshold + vo.energy_mean_scale * (vad_sum_ / vad_count_));
      voiced[static_cast<size_t>(t)] = v > thr;
    }
    if (!speech_found_) vad_history_.push_back(v);
  }
  utt_->Add(SelectVoicedFrames(feats, voiced));
}

ScoreResult StreamingIdentifier::Current() const {
  // no_speech only once there are frames to judge: before the frontend's first frame (about 1.2 s
  // with the defaults) the status is too_little_speech.
  ScoreResult r = scorer_.Finish(*utt_, static_cast<double>(frontend_.NumSamples()) / rate_hz_,
                                 !speech_found_ && vad_count_ > 0);
  if (!speech_found_) {  // no decision without speech (the scores, if any, stay for inspection)
    r.best = -1;
    r.too_little_speech = true;
    r.unknown = false;
  }
  return r;
}

void StreamingIdentifier::Decide(bool final, bool early, const StreamCallback& cb) {
  const VadOptions& vo = frontend_.options().vad;
  if (!speech_found_) {
    if (!vo.enabled || vo.min_snr_db == 0) {
      speech_found_ = vad_count_ > 0;
    } else if (!vad_history_.empty()) {
      const Eigen::Map<const Matrix> x(vad_history_.data(), static_cast<int64_t>(vad_history_.size()), 1);
      speech_found_ = CheckSpeech(x, vo, frontend_.VadDecibelsPerUnit()).has_speech;
    }
    if (speech_found_) std::vector<float>().swap(vad_history_);
  }
  StreamDecision d;
  d.index = index_++;
  d.end_seconds = static_cast<double>(frontend_.NumSamples()) / rate_hz_;
  d.result = Current();
  if (!final && opts_.early_stop_posterior > 0) {
    const int best = d.result.best;
    if (best >= 0 && d.result.posteriors[best] > opts_.early_stop_posterior) {
      streak_ = best == streak_language_ ? streak_ + 1 : 1;
      streak_language_ = best;
    } else {
      streak_ = 0;
      streak_language_ = -1;
    }
    if (streak_ >= opts_.early_stop_decisions) final = early = true;
  }
  d.final = final;
  d.early_stop = early;
  if (final) stopped_ = true;
  cb(d);
}

bool StreamingIdentifier::Accept(const float* samples, size_t n, const StreamCallback& cb) {
  if (stopped_) return false;
  Matrix feats;
  std::vector<float> vad;
  while (n > 0) {
    // Up to the next decision point exactly, so that decisions do not depend on the piece sizes.
    const size_t m = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), next_decision_samples_ - frontend_.NumSamples()));
    feats.resize(0, frontend_.Dim());
    vad.clear();
    frontend_.Accept(samples, m, &feats, &vad);
    Consume(feats, vad);
    samples += m;
    n -= m;
    if (frontend_.NumSamples() == next_decision_samples_) {
      next_decision_samples_ += hop_samples_;
      Decide(false, false, cb);
      if (stopped_) return false;
    }
  }
  return true;
}

void StreamingIdentifier::Finish(const StreamCallback& cb) {
  if (stopped_) return;
  Matrix feats(0, frontend_.Dim());
  std::vector<float> vad;
  frontend_.Finish(&feats, &vad);
  Consume(feats, vad);
  Decide(true, false, cb);
}

double IdentifyStream(const Scorer& scorer, PcmStreamReader& reader, const StreamOptions& opts,
                      const StreamCallback& on_decision) {
  StreamingIdentifier id(scorer, opts);
  if (reader.rate_hz() != scorer.frontend().options().sample_rate_hz)
    ThrowFileError(reader.name(), "stream rate " + std::to_string(reader.rate_hz()) + " Hz differs from the model's " +
                                      std::to_string(scorer.frontend().options().sample_rate_hz) + " Hz");
  double seconds = 0;
  Waveform chunk;
  try {
    while (reader.Read(&chunk)) {
      seconds += chunk.Seconds();
      if (!id.Accept(chunk.samples.data(), chunk.samples.size(), on_decision)) return seconds;
    }
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind(reader.name() + ":", 0) == 0) throw;
    ThrowFileError(reader.name(), what);
  }
  id.Finish(on_decision);
  return seconds;
}

}  // namespace slid
