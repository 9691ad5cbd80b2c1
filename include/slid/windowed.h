// Windowed and streaming identification: decisions over time for long, code-switched or live audio,
// in memory bounded whatever the length of the input.
//
// Both run an IncrementalFrontend: samples go in as they arrive, feature frames come out as soon as
// everything they depend on is known, and only the frames still needed are kept.
//
//  - Whole-file ("offline") mode, used by IdentifyWindows: the model's own frontend. MFCC frames are cut
//    from a sample stream carried across reads; sliding CMN (centred or not) waits for the frames its
//    window needs (cmn-window/2 = 150 frames ahead by default) and at the end of the input shifts its
//    window left as ApplyCmvn does; SDC/deltas wait for their context. So every frame equals the frame
//    of Frontend::ComputeFeatures on the whole recording, to float rounding (the CMN sums run in a
//    different order; feature warping, cmvn-mode warp, waits for the same window and gives the same
//    bits). cmvn-mode utterance needs the whole recording and is refused (slid::Error).
//  - Causal ("streaming") mode, used by StreamingIdentifier: CMN is Kaldi's apply-cmvn-sliding
//    --center=false (frame t is normalised by the mean of frames [t - cmn-window, t], except the first
//    min-cmn-window frames, which all use frames [0, min-cmn-window) as Kaldi does: the first frame
//    comes out after min-cmn-window frames, 1 s by default); SDC still needs its (k-1)P+d = 19 frames
//    (190 ms) of look-ahead. Differences from the whole-file frontend (so a streamed file can score a
//    little differently from `slid identify FILE`): the CMN window ends at the frame instead of being
//    centred on it (the model was trained with centred CMN: a small mismatch), and the VAD threshold
//    uses the running mean of the VAD input over the frames so far instead of the recording's mean.
//    A model trained with cmvn-mode warp is warped over that same causal window (the rank of frame t
//    among frames [t - cmn-window, t], or among [0, min-cmn-window) for the first ones); every other
//    mode becomes sliding CMN.
//
// Windows (IdentifyWindows): window k covers feature frames [k H, k H + W) (W, H: window and hop in
// frames, rounded from seconds by the frame shift); the last window is the first that reaches the end
// of the input, and may be shorter. Each window is judged as `slid identify` judges a file: the VAD
// threshold and the speech check (slid/vad.h) use the window's own frames, then its voiced frames are
// scored; a window with too little voiced speech gets too_little_speech (no_speech if the speech check
// finds none). So a window that covers a whole recording gives the result of Scorer::ScoreFile, to
// float rounding. Memory: one read block, the frontend's look-ahead and the frames of one window plus
// one hop; nothing accumulates (results go to a callback).
//
// Timeline (SmoothTimeline): a pure function from per-window labels to merged runs; see there.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "slid/audio.h"
#include "slid/frontend.h"
#include "slid/matrix.h"
#include "slid/scorer.h"

namespace slid {

// Samples in, final feature frames (every frame, not VAD-selected) out. Not thread-safe.
class IncrementalFrontend {
 public:
  // causal: streaming mode (CMN forced to sliding, or kept as warp, with center=false; see the top of
  // this file).
  // Throws slid::Error if the options are invalid, use cmvn-mode utterance (offline mode), or
  // snip-edges=false (a frame's samples must not depend on where the input ends). With dither > 0
  // each piece draws its own noise (as Scorer::ScoreFile's segments do).
  IncrementalFrontend(const FrontendOptions& opts, bool causal);
  ~IncrementalFrontend();
  IncrementalFrontend(const IncrementalFrontend&) = delete;
  IncrementalFrontend& operator=(const IncrementalFrontend&) = delete;

  int Dim() const;  // feature dims (as Frontend::Dim())
  // The options actually applied (causal mode: cmvn sliding or warp, center=false).
  const FrontendOptions& options() const;

  // Feeds n samples at options().sample_rate_hz (Kaldi 16-bit scale). Appends the frames that became
  // final to *features (resized: rows appended, Dim() columns) and their VAD inputs (the frame
  // log-energy with vad-log-energy, else raw MFCC column 0) to *vad_input, one per row.
  void Accept(const float* samples, size_t n, Matrix* features, std::vector<float>* vad_input);
  // End of input: appends the remaining frames. Afterwards Accept/Finish throw slid::Error.
  // If the whole input had fewer MFCC frames than the SDC context (21), no frame is ever produced
  // (as Frontend::ComputeFeatures returns 0 rows for such a stub).
  void Finish(Matrix* features, std::vector<float>* vad_input);

  int64_t NumSamples() const;  // samples accepted so far
  int64_t NumFrames() const;   // feature frames produced so far
  // Decibels per unit of the VAD input (for CheckSpeech).
  double VadDecibelsPerUnit() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// ---- windowed identification ------------------------------------------------------------------

struct WindowOptions {
  double window_seconds = 3.0;  // window length, seconds (> 0; at least one frame)
  double hop_seconds = 1.0;     // start-to-start distance of windows, seconds (0 < hop <= window)
  double read_seconds = 10.0;   // audio decoded per read (> 0); memory only, results do not depend on it
};

// Throws slid::Error("--window: ..." / "--hop: ...") if the options are out of range.
void ValidateWindowOptions(const WindowOptions& opts);

// One window's outcome.
struct WindowResult {
  int64_t index = 0;         // 0, 1, ... in time order
  double start_seconds = 0;  // first frame's start: index x hop (in whole frames)
  double end_seconds = 0;    // start + window, or the end of the audio for a window cut short by it
  ScoreResult result;        // as Scorer gives for a file; audio_seconds = end - start
};
using WindowCallback = std::function<void(const WindowResult&)>;

// Reads `path` in blocks (AudioReader, resampled to the model's rate) and calls on_window for every
// window, in order, as soon as it is complete. Returns the audio length in seconds. Throws slid::Error
// ("<path>: ...") on unreadable audio, and for models of external features or options
// IncrementalFrontend refuses. A recording shorter than one window gives one window.
double IdentifyWindows(const Scorer& scorer, const std::string& path, const WindowOptions& opts,
                       const WindowCallback& on_window);

// ---- timeline ---------------------------------------------------------------------------------

struct TimelineOptions {
  int smooth_windows = 3;        // majority (mode) filter over this many consecutive windows (odd >= 1;
                                 // 1 = off). A window keeps its label when that label ties for the most
                                 // frequent; otherwise it takes the most frequent one (nearest on ties).
  double min_run_seconds = 2.0;  // after merging, a run shorter than this is absorbed into its longer
                                 // neighbour (the earlier on ties), shortest run first (>= 0; 0 = off).
                                 // 2 s: shorter than the default 3 s window, so a run that short rests
                                 // on one or two windows straddling a change or an edge

};

// Throws slid::Error("--smooth-windows: ..." / "--min-run: ...") if out of range.
void ValidateTimelineOptions(const TimelineOptions& opts);

struct TimelineWindow {
  double start_seconds = 0;
  double end_seconds = 0;
  std::string label;  // a language, or "-" (no decision) / "unknown", as the window's decision column
};

struct TimelineRun {
  double start_seconds = 0;
  double end_seconds = 0;
  std::string label;
  int64_t num_windows = 0;  // windows whose (smoothed) label made this run
};

// The language timeline. Each window stands for the stretch around its centre: the boundary between
// windows k and k+1 is the midpoint of their centres, the first stretch starts at 0 and the last ends
// at duration_seconds. Labels are smoothed (TimelineOptions), consecutive stretches with the same label
// are merged, then short runs absorbed. Contract: for windows in time order (non-decreasing centres)
// and duration_seconds >= the last window's centre, the runs cover [0, duration_seconds] without gap
// or overlap, in order, and no two neighbouring runs share a label; num_windows sums to the number of
// windows. No windows: no runs. Throws slid::Error if windows are not in time order.
std::vector<TimelineRun> SmoothTimeline(const std::vector<TimelineWindow>& windows, double duration_seconds,
                                        const TimelineOptions& opts);

// ---- streaming identification -----------------------------------------------------------------

struct StreamOptions {
  double hop_seconds = 1.0;             // a running decision after every hop of audio received (> 0)
  double early_stop_posterior = 0.0;    // stop once the decided language's posterior has been above this
                                        // for early_stop_decisions consecutive decisions ((0, 1); 0 = off)
  int early_stop_decisions = 3;         // consecutive decisions needed to stop early (>= 1)
};

// Throws slid::Error("--hop: ..." / "--early-stop: ...") if out of range.
void ValidateStreamOptions(const StreamOptions& opts);

// A running (or final) decision: over everything received so far, [0, end_seconds].
struct StreamDecision {
  int64_t index = 0;         // 0, 1, ...
  double end_seconds = 0;    // audio received when the decision was made
  bool final = false;        // the last decision: end of input, or early stop
  bool early_stop = false;   // final because of early stop
  ScoreResult result;        // as Scorer gives for a file of the audio so far (causal frontend)
};
using StreamCallback = std::function<void(const StreamDecision&)>;

// Causal identification of audio arriving in pieces. Feed samples with Accept (any piece sizes: the
// decisions do not depend on them); each time another hop of audio has arrived, on_decision gets the
// decision over all audio so far. Voiced frames are scored as they come (the back-end's running sums;
// per-recording memory is the frontend's look-ahead plus, until the speech check first passes, the VAD
// input of every frame so far, 4 bytes per 10 ms). Speech check: CheckSpeech over the frames so far;
// once it has passed it stays passed; until then there is no decision (status no_speech, or
// too_little_speech while the frontend has produced no frame yet). Not thread-safe.
class StreamingIdentifier {
 public:
  // Throws slid::Error for a model of external features, or options IncrementalFrontend refuses
  // (plus vad-frames-context > 0, which would need look-ahead).
  StreamingIdentifier(const Scorer& scorer, const StreamOptions& opts);
  ~StreamingIdentifier();

  // Samples at the model's rate (Scorer::frontend().options().sample_rate_hz). Returns false once an
  // early stop happened (its final decision has then been given; later calls do nothing).
  bool Accept(const float* samples, size_t n, const StreamCallback& on_decision);
  // End of input: gives the final decision (unless an early stop already did).
  void Finish(const StreamCallback& on_decision);
  bool stopped() const { return stopped_; }

 private:
  ScoreResult Current() const;
  void Decide(bool final, bool early, const StreamCallback& cb);
  void Consume(const Matrix& feats, const std::vector<float>& vad_in);

  const Scorer& scorer_;
  StreamOptions opts_;
  IncrementalFrontend frontend_;
  std::unique_ptr<UtteranceScorer> utt_;
  int64_t hop_samples_ = 0;
  int64_t next_decision_samples_ = 0;
  int64_t index_ = 0;
  int rate_hz_ = 0;
  double vad_sum_ = 0;              // running sum of the VAD input (causal VAD threshold)
  int64_t vad_count_ = 0;
  bool speech_found_ = false;       // the speech check has passed once
  std::vector<float> vad_history_;  // VAD inputs until the speech check passes (then freed)
  int streak_ = 0;                  // consecutive decisions above early_stop_posterior
  int streak_language_ = -1;
  bool stopped_ = false;
};

// Reads `reader` to its end (or an early stop) and feeds a StreamingIdentifier. Returns the audio
// seconds read. Errors from the reader name its stream.
double IdentifyStream(const Scorer& scorer, PcmStreamReader& reader, const StreamOptions& opts,
                      const StreamCallback& on_decision);

}  // namespace slid
