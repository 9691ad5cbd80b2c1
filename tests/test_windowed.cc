// slid/windowed.h: the incremental frontend against the whole-recording stages (Frontend, ApplyCmvn,
// ComputeSdc) fed the same samples in one piece; windows against a per-window composition of the
// batch VAD/scorer functions and against Scorer::ScoreFile; the streaming identifier against a batch
// causal reference and for independence of piece sizes; the PCM stream reader against ReadAudio; and
// property tests of the timeline smoother.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <set>

#include "slid/audio.h"
#include "slid/cmvn.h"
#include "slid/error.h"
#include "slid/model.h"
#include "slid/scorer.h"
#include "slid/sdc.h"
#include "slid/vad.h"
#include "slid/windowed.h"
#include "random_model.h"
#include "temp_dir.h"

namespace {

const std::string kSample = std::string(SLID_SOURCE_DIR) + "/models/samples/es-conf-onlyperson.wav";

slid::Waveform Sample() { return slid::ReadAudio(kSample, 16000); }

// Feeds `wav` to an IncrementalFrontend in random pieces of 1..max_piece samples.
void RunIncremental(const slid::FrontendOptions& o, bool causal, const slid::Waveform& wav, int max_piece, int seed,
                    slid::Matrix* feats, std::vector<float>* vad) {
  slid::IncrementalFrontend fe(o, causal);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> piece(1, max_piece);
  *feats = slid::Matrix(0, fe.Dim());
  vad->clear();
  size_t at = 0;
  while (at < wav.samples.size()) {
    const size_t n = std::min<size_t>(piece(rng), wav.samples.size() - at);
    fe.Accept(wav.samples.data() + at, n, feats, vad);
    at += n;
  }
  fe.Finish(feats, vad);
  CHECK(fe.NumFrames() == feats->rows());
  CHECK(fe.NumSamples() == static_cast<int64_t>(wav.samples.size()));
}

// Features computed piecewise differ from the whole file's by float rounding only: the MFCC of a piece
// goes through the same FFT and mel/DCT products, but Eigen's products block differently for other
// row counts (2e-5 measured on this sample, relative to 1 + |value|).
constexpr double kTol = 1e-4;

// Largest |a - b| / (1 + |b|) over all entries; shapes must agree.
double MaxRelDiff(const slid::Matrix& a, const slid::Matrix& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  double m = 0;
  for (int64_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::abs(double(a.data()[i]) - b.data()[i]) / (1 + std::abs(double(b.data()[i]))));
  return m;
}

slid::LanguageModelSet OverlappingModel(int num_lang, int k, int seed) {
  RandomGmmOptions o;
  o.mean_scale = 0.3f;  // overlapping languages: decisions that can change from window to window
  return ::RandomModel(num_lang, k, seed, o);
}

// What causal mode must give on the whole file: `o`'s normalisation over a window ending at the frame
// (center=false), then SDC.
slid::Matrix CausalReference(const slid::FrontendOptions& o, const slid::Waveform& wav) {
  slid::CmvnOptions c = o.cmvn;
  c.center = false;
  return slid::ComputeSdc(slid::ApplyCmvn(slid::Frontend(o).ComputeMfcc(wav), c), o.sdc);
}

}  // namespace

TEST_CASE("IncrementalFrontend (whole-file mode) equals the batch frontend, whatever the piece sizes") {
  const slid::Waveform wav = Sample();
  slid::FrontendOptions o;
  SUBCASE("defaults: centred sliding CMN, SDC, VAD on log-energy") {}
  SUBCASE("non-centred CMN with variance normalisation, VAD on C0") {
    o.cmvn.center = false;
    o.cmvn.norm_vars = true;
    o.vad.use_log_energy = false;
  }
  SUBCASE("deltas instead of SDC, short CMN window") {
    o.sdc.enabled = false;
    o.use_deltas = true;
    o.cmvn.cmn_window = 37;
  }
  SUBCASE("no CMN") { o.cmvn.mode = slid::CmvnMode::kNone; }
  SUBCASE("feature warping, window shorter than the file") {
    o.cmvn.mode = slid::CmvnMode::kWarp;
    o.cmvn.cmn_window = 101;
  }
  const slid::Frontend batch(o);
  std::vector<float> energy;
  const slid::Matrix mfcc = batch.ComputeMfcc(wav, &energy);
  const slid::Matrix ref = batch.ComputeFeatures(mfcc);
  REQUIRE(ref.rows() == mfcc.rows());
  for (int max_piece : {1 << 16, 3000, 97}) {
    slid::Matrix f;
    std::vector<float> vad;
    RunIncremental(o, false, wav, max_piece, max_piece, &f, &vad);
    if (o.cmvn.mode == slid::CmvnMode::kWarp) {
      // Warping uses ranks: equal ranks give the same bits, but two MFCC values closer than the
      // piecewise rounding (above) may swap, moving a warped value by a quantile step. So: at most
      // 1 % of the values differ (none on this sample with gcc, Release).
      REQUIRE(f.rows() == ref.rows());
      const int64_t differ = ((f - ref).array().abs() > 1e-6f).count();
      CHECK(differ <= ref.size() / 100);
    } else {
      CHECK(MaxRelDiff(f, ref) < kTol);
    }
    REQUIRE(vad.size() == static_cast<size_t>(mfcc.rows()));
    for (int64_t t = 0; t < mfcc.rows(); ++t)
      CHECK(vad[t] == doctest::Approx(o.vad.use_log_energy ? energy[t] : mfcc(t, 0)).epsilon(1e-5));
  }
}

TEST_CASE("IncrementalFrontend: recordings shorter than the SDC context give no frame, as the batch frontend") {
  const slid::Waveform full = Sample();
  const slid::FrontendOptions o;
  const slid::Frontend batch(o);
  for (int frames : {0, 1, 20, 21, 22, 40}) {
    slid::Waveform w;
    w.rate_hz = 16000;
    const size_t n = frames == 0 ? 100 : static_cast<size_t>(400 + 160 * (frames - 1));
    w.samples.assign(full.samples.begin() + 16000, full.samples.begin() + 16000 + n);
    const slid::Matrix ref = batch.ComputeFeatures(batch.ComputeMfcc(w));
    slid::Matrix f;
    std::vector<float> vad;
    RunIncremental(o, false, w, 50, frames, &f, &vad);
    CHECK(f.rows() == ref.rows());
    CHECK(f.rows() == (frames >= 21 ? frames : 0));
    if (f.rows() > 0) CHECK(MaxRelDiff(f, ref) < kTol);
  }
}

TEST_CASE("IncrementalFrontend (causal mode) equals non-centred ApplyCmvn then ComputeSdc on the whole file") {
  const slid::Waveform wav = Sample();
  const slid::FrontendOptions o;  // centred in the model; causal mode overrides
  slid::IncrementalFrontend probe(o, true);
  CHECK(probe.options().cmvn.center == false);
  CHECK(probe.options().cmvn.mode == slid::CmvnMode::kSliding);
  const slid::Matrix ref = CausalReference(o, wav);
  slid::Matrix f;
  std::vector<float> vad;
  RunIncremental(o, true, wav, 2000, 7, &f, &vad);
  CHECK(MaxRelDiff(f, ref) < kTol);
  // Causality: the frames computed from a prefix equal the whole file's, except the last SDC context.
  slid::Waveform prefix = wav;
  prefix.samples.resize(wav.samples.size() / 2);
  slid::IncrementalFrontend fe(o, true);
  slid::Matrix g(0, fe.Dim());
  std::vector<float> v;
  fe.Accept(prefix.samples.data(), prefix.samples.size(), &g, &v);
  REQUIRE(g.rows() > 100);
  CHECK(MaxRelDiff(g, ref.topRows(g.rows())) < kTol);
}

TEST_CASE("IncrementalFrontend (causal mode) keeps feature warping, over the non-centred window") {
  const slid::Waveform wav = Sample();
  slid::FrontendOptions o;
  o.cmvn.mode = slid::CmvnMode::kWarp;
  o.cmvn.cmn_window = 120;
  slid::IncrementalFrontend probe(o, true);
  CHECK(probe.options().cmvn.mode == slid::CmvnMode::kWarp);
  CHECK(probe.options().cmvn.center == false);
  const slid::Matrix ref = CausalReference(o, wav);
  slid::Matrix f;
  std::vector<float> vad;
  RunIncremental(o, true, wav, 2000, 7, &f, &vad);
  REQUIRE(f.rows() == ref.rows());
  // As in the whole-file test: ranks may swap where MFCC values are closer than piecewise rounding.
  CHECK(((f - ref).array().abs() > 1e-6f).count() <= ref.size() / 100);
}

TEST_CASE("IncrementalFrontend refuses what it cannot follow") {
  slid::FrontendOptions o;
  o.cmvn.mode = slid::CmvnMode::kUtterance;
  CHECK_THROWS_AS(slid::IncrementalFrontend(o, false), slid::Error);
  CHECK_NOTHROW(slid::IncrementalFrontend(o, true));  // causal mode uses sliding CMN anyway
  o = slid::FrontendOptions();
  o.mfcc.snip_edges = false;
  CHECK_THROWS_AS(slid::IncrementalFrontend(o, false), slid::Error);
  slid::IncrementalFrontend fe(slid::FrontendOptions(), false);
  slid::Matrix f;
  std::vector<float> v;
  fe.Finish(&f, &v);
  CHECK_THROWS_AS(fe.Finish(&f, &v), slid::Error);
  const float x = 0;
  CHECK_THROWS_AS(fe.Accept(&x, 1, &f, &v), slid::Error);
}

TEST_CASE("IdentifyWindows: each window is its frames judged as a file; a window covering the file is ScoreFile") {
  const slid::LanguageModelSet model = OverlappingModel(3, 8, 4);
  const slid::Scorer scorer(model, slid::ScorerOptions());
  const slid::Waveform wav = Sample();
  const slid::Frontend& fr = scorer.frontend();
  std::vector<float> energy;
  const slid::Matrix mfcc = fr.ComputeMfcc(wav, &energy);
  const slid::Matrix feats = fr.ComputeFeatures(mfcc);
  const int64_t T = feats.rows();

  slid::WindowOptions wo;
  wo.window_seconds = 1.5;
  wo.hop_seconds = 0.5;
  wo.read_seconds = 0.37;  // many reads per window
  std::vector<slid::WindowResult> got;
  const double seconds = slid::IdentifyWindows(scorer, kSample, wo, [&](const slid::WindowResult& w) { got.push_back(w); });
  CHECK(seconds == doctest::Approx(wav.Seconds()));
  // Windows start every 50 frames; the last is the first reaching frame T.
  const int64_t expected = T <= 150 ? 1 : (T - 150 + 49) / 50 + 1;
  REQUIRE(static_cast<int64_t>(got.size()) == expected);
  for (size_t k = 0; k < got.size(); ++k) {
    const int64_t a = static_cast<int64_t>(k) * 50, b = std::min<int64_t>(a + 150, T);
    CHECK(got[k].index == static_cast<int64_t>(k));
    CHECK(got[k].start_seconds == doctest::Approx(a * 0.01));
    CHECK(got[k].end_seconds == doctest::Approx(k + 1 == got.size() ? seconds : (a + 150) * 0.01));
    // Reference: the batch VAD pieces on the window's rows of the whole-file features.
    slid::Matrix x(b - a, 1);
    for (int64_t t = a; t < b; ++t) x(t - a, 0) = energy[t];
    const bool speech = slid::CheckSpeech(x, fr.options().vad, 10 / std::log(10.0)).has_speech;
    const std::vector<bool> voiced = speech ? slid::ComputeVad(x, fr.options().vad) : std::vector<bool>(b - a, false);
    const slid::ScoreResult ref = scorer.ScoreFeatures(slid::SelectVoicedFrames(feats.middleRows(a, b - a), voiced));
    const slid::ScoreResult& r = got[k].result;
    CHECK(r.num_frames == ref.num_frames);
    CHECK(r.no_speech == !speech);
    CHECK(r.best == ref.best);
    REQUIRE(r.avg_loglik.size() == ref.avg_loglik.size());
    for (size_t l = 0; l < r.avg_loglik.size(); ++l) CHECK(r.avg_loglik[l] == doctest::Approx(ref.avg_loglik[l]).epsilon(1e-5));
  }

  wo.window_seconds = 1000;
  got.clear();
  slid::IdentifyWindows(scorer, kSample, wo, [&](const slid::WindowResult& w) { got.push_back(w); });
  REQUIRE(got.size() == 1);
  const slid::ScoreResult whole = scorer.ScoreFile(kSample);
  CHECK(got[0].result.num_frames == whole.num_frames);
  CHECK(got[0].result.best == whole.best);
  for (size_t l = 0; l < whole.avg_loglik.size(); ++l)
    CHECK(got[0].result.avg_loglik[l] == doctest::Approx(whole.avg_loglik[l]).epsilon(1e-5));
  CHECK(got[0].end_seconds == doctest::Approx(wav.Seconds()));
}

TEST_CASE("IdentifyWindows: bad options and files") {
  const slid::LanguageModelSet model = OverlappingModel(2, 4, 1);
  const slid::Scorer scorer(model, slid::ScorerOptions());
  auto run = [&](double w, double h, const std::string& path) {
    slid::WindowOptions o;
    o.window_seconds = w;
    o.hop_seconds = h;
    slid::IdentifyWindows(scorer, path, o, [](const slid::WindowResult&) {});
  };
  CHECK_THROWS_WITH_AS(run(0, 1, kSample), doctest::Contains("--window"), slid::Error);
  CHECK_THROWS_WITH_AS(run(2, 3, kSample), doctest::Contains("--hop"), slid::Error);
  CHECK_THROWS_WITH_AS(run(2, 0, kSample), doctest::Contains("--hop"), slid::Error);
  CHECK_THROWS_WITH_AS(run(2, 1, "/nonexistent.wav"), doctest::Contains("/nonexistent.wav:"), slid::Error);
}

TEST_CASE("SmoothTimeline: hand-checked cases") {
  auto win = [](const std::vector<std::string>& labels) {
    std::vector<slid::TimelineWindow> w;
    for (size_t i = 0; i < labels.size(); ++i) w.push_back({double(i), double(i) + 3, labels[i]});
    return w;  // centres 1.5, 2.5, ...
  };
  slid::TimelineOptions off;
  off.smooth_windows = 1;
  off.min_run_seconds = 0;
  auto runs = slid::SmoothTimeline(win({"a", "a", "b", "b", "b"}), 7, off);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].label == "a");
  CHECK(runs[0].start_seconds == 0);
  CHECK(runs[0].end_seconds == doctest::Approx(3.0));  // midpoint of centres 2.5 and 3.5
  CHECK(runs[0].num_windows == 2);
  CHECK(runs[1].end_seconds == 7);
  // Majority of 3: an isolated label flips; a tie at the edges keeps the window's own label.
  slid::TimelineOptions maj = off;
  maj.smooth_windows = 3;
  runs = slid::SmoothTimeline(win({"a", "a", "b", "a", "a", "b"}), 8, maj);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].label == "a");
  CHECK(runs[0].num_windows == 5);
  CHECK(runs[1].label == "b");
  // Minimum run: the 1 s "x" run joins its longer neighbour, then equal neighbours merge.
  slid::TimelineOptions mr = off;
  mr.min_run_seconds = 1.5;
  runs = slid::SmoothTimeline(win({"a", "a", "a", "x", "a", "b", "b", "b", "b"}), 11.5, mr);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].label == "a");
  CHECK(runs[0].num_windows == 5);
  CHECK(runs[1].label == "b");
  CHECK(runs[1].start_seconds == doctest::Approx(6.0));  // x [4,5) and a [5,6) tie; x (first) goes first
  CHECK(slid::SmoothTimeline({}, 10, maj).empty());
  CHECK_THROWS_AS(slid::SmoothTimeline({{5, 8, "a"}, {0, 3, "b"}}, 10, maj), slid::Error);
  maj.smooth_windows = 2;
  CHECK_THROWS_AS(slid::SmoothTimeline(win({"a"}), 3, maj), slid::Error);
  mr.min_run_seconds = -1;
  CHECK_THROWS_AS(slid::SmoothTimeline(win({"a"}), 3, mr), slid::Error);
}

TEST_CASE("SmoothTimeline: properties on random label sequences") {
  std::mt19937 rng(12);
  const char* const names[] = {"es", "fr", "-", "unknown"};
  for (int trial = 0; trial < 500; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 60);
    const double window = 0.5 + (rng() % 40) / 10.0;
    const double hop = std::max(0.1, window * (1 + rng() % 10) / 10.0);
    const int nlab = 1 + static_cast<int>(rng() % 4);
    std::vector<slid::TimelineWindow> w;
    for (int i = 0; i < n; ++i) {
      // Mostly long stretches of one label, with flips.
      const std::string l = (rng() % 5 == 0 || w.empty()) ? names[rng() % nlab] : w.back().label;
      w.push_back({i * hop, i * hop + window, l});
    }
    // The last window cut short by the end of the audio, as IdentifyWindows makes it: still past the
    // end of the window before it.
    const double prev_end = n > 1 ? w[n - 2].end_seconds : w.back().start_seconds;
    w.back().end_seconds = prev_end + (w.back().end_seconds - prev_end) * (rng() % 10 + 1) / 10.0;
    const double duration = w.back().end_seconds;
    slid::TimelineOptions o;
    o.smooth_windows = 1 + 2 * static_cast<int>(rng() % 3);
    o.min_run_seconds = (rng() % 3) * hop * 1.7;
    const std::vector<slid::TimelineRun> runs = slid::SmoothTimeline(w, duration, o);
    REQUIRE(!runs.empty());
    CHECK(runs.front().start_seconds == 0);
    CHECK(runs.back().end_seconds == duration);
    int64_t windows = 0;
    std::set<std::string> input_labels;
    for (const auto& x : w) input_labels.insert(x.label);
    for (size_t i = 0; i < runs.size(); ++i) {
      CHECK(runs[i].end_seconds > runs[i].start_seconds);
      CHECK(input_labels.count(runs[i].label) == 1);
      windows += runs[i].num_windows;
      if (i > 0) {
        CHECK(runs[i].start_seconds == runs[i - 1].end_seconds);  // no gap, no overlap
        CHECK(runs[i].label != runs[i - 1].label);                // merged
      }
      if (runs.size() > 1) CHECK(runs[i].end_seconds - runs[i].start_seconds >= o.min_run_seconds);
    }
    CHECK(windows == n);
    if (o.smooth_windows == 1 && o.min_run_seconds == 0) {
      // Runs are exactly the input labels with repeats collapsed.
      std::vector<std::string> collapsed;
      for (const auto& x : w)
        if (collapsed.empty() || collapsed.back() != x.label) collapsed.push_back(x.label);
      REQUIRE(collapsed.size() == runs.size());
      for (size_t i = 0; i < runs.size(); ++i) CHECK(runs[i].label == collapsed[i]);
    }
  }
}

TEST_CASE("StreamingIdentifier: decisions do not depend on piece sizes and equal a batch causal reference") {
  const slid::LanguageModelSet model = OverlappingModel(3, 8, 7);
  const slid::Scorer scorer(model, slid::ScorerOptions());
  const slid::Waveform wav = Sample();
  slid::StreamOptions so;
  so.hop_seconds = 0.5;
  auto run = [&](int max_piece, int seed) {
    std::vector<slid::StreamDecision> out;
    slid::StreamingIdentifier id(scorer, so);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> piece(1, max_piece);
    size_t at = 0;
    while (at < wav.samples.size()) {
      const size_t n = std::min<size_t>(piece(rng), wav.samples.size() - at);
      CHECK(id.Accept(wav.samples.data() + at, n, [&](const slid::StreamDecision& d) { out.push_back(d); }));
      at += n;
    }
    id.Finish([&](const slid::StreamDecision& d) { out.push_back(d); });
    return out;
  };
  const std::vector<slid::StreamDecision> a = run(1 << 16, 1), b = run(333, 2);
  const size_t hops = wav.samples.size() / 8000;
  REQUIRE(a.size() == hops + 1);
  REQUIRE(b.size() == a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].index == static_cast<int64_t>(i));
    CHECK(a[i].final == (i + 1 == a.size()));
    CHECK(!a[i].early_stop);
    CHECK(a[i].end_seconds == doctest::Approx(i + 1 == a.size() ? wav.Seconds() : 0.5 * (i + 1)));
    CHECK(a[i].result.num_frames == b[i].result.num_frames);
    CHECK(a[i].result.best == b[i].result.best);
    for (size_t l = 0; l < a[i].result.avg_loglik.size(); ++l)
      CHECK(a[i].result.avg_loglik[l] == doctest::Approx(b[i].result.avg_loglik[l]).epsilon(1e-6));
  }
  // Batch reference of the final decision: non-centred CMN, SDC, VAD with the running mean, the
  // speech check over all frames, every voiced frame scored.
  const slid::Frontend& fr = scorer.frontend();
  std::vector<float> energy;
  const slid::Matrix mfcc = fr.ComputeMfcc(wav, &energy);
  slid::CmvnOptions c = fr.options().cmvn;
  c.center = false;
  const slid::Matrix feats = slid::ComputeSdc(slid::ApplyCmvn(mfcc, c), fr.options().sdc);
  const slid::VadOptions& vo = fr.options().vad;
  std::vector<bool> voiced(feats.rows());
  double sum = 0;
  for (int64_t t = 0; t < feats.rows(); ++t) {
    sum += energy[t];
    voiced[t] = energy[t] > static_cast<float>(vo.energy_threshold + vo.energy_mean_scale * sum / (t + 1));
  }
  const slid::ScoreResult ref = scorer.ScoreFeatures(slid::SelectVoicedFrames(feats, voiced));
  const slid::ScoreResult& fin = a.back().result;
  CHECK(fin.num_frames == ref.num_frames);
  CHECK(fin.best == ref.best);
  CHECK(!fin.no_speech);
  for (size_t l = 0; l < ref.avg_loglik.size(); ++l)
    CHECK(fin.avg_loglik[l] == doctest::Approx(ref.avg_loglik[l]).epsilon(1e-5));
  // The first decision (0.5 s: less than the 1 s the non-centred CMN needs) has no frame yet.
  CHECK(a[0].result.num_frames == 0);
  CHECK(a[0].result.best == -1);
  CHECK(a[0].result.too_little_speech);
  CHECK(!a[0].result.no_speech);  // nothing judged yet: not "no speech"
}

TEST_CASE("StreamingIdentifier: early stop") {
  const slid::LanguageModelSet model = OverlappingModel(2, 4, 3);
  const slid::Scorer scorer(model, slid::ScorerOptions());
  const slid::Waveform wav = Sample();
  slid::StreamOptions so;
  so.hop_seconds = 0.5;
  so.early_stop_posterior = 0.5;  // with 2 languages every decision's best is above it
  so.early_stop_decisions = 2;
  slid::StreamingIdentifier id(scorer, so);
  std::vector<slid::StreamDecision> out;
  const bool more = id.Accept(wav.samples.data(), wav.samples.size(), [&](const slid::StreamDecision& d) { out.push_back(d); });
  CHECK(!more);
  CHECK(id.stopped());
  REQUIRE(out.size() >= 2);
  CHECK(out.back().early_stop);
  CHECK(out.back().final);
  CHECK(out[out.size() - 2].result.best == out.back().result.best);
  CHECK(out[out.size() - 3].result.best == -1);  // the decision before the streak had none
  id.Finish([&](const slid::StreamDecision& d) { out.push_back(d); });  // nothing more
  CHECK(out.back().early_stop);
  slid::StreamOptions bad;
  bad.early_stop_posterior = 1.0;
  CHECK_THROWS_WITH_AS(slid::StreamingIdentifier(scorer, bad), doctest::Contains("--early-stop"), slid::Error);
  bad = slid::StreamOptions();
  bad.hop_seconds = 0;
  CHECK_THROWS_WITH_AS(slid::StreamingIdentifier(scorer, bad), doctest::Contains("--hop"), slid::Error);
}

namespace {
std::string Le16(int v) { return std::string{char(v & 0xFF), char((v >> 8) & 0xFF)}; }
std::string Le32(uint32_t v) { return Le16(v & 0xFFFF) + Le16(v >> 16); }
// A WAV header as a writer into a pipe leaves it (data size 0xFFFFFFFF).
std::string WavHeader(int rate, int channels, bool pipe_size, uint32_t data_bytes) {
  std::string h = "RIFF" + Le32(pipe_size ? 0xFFFFFFFFu : 36 + data_bytes) + "WAVE";
  h += "fmt " + Le32(16) + Le16(1) + Le16(channels) + Le32(rate) + Le32(rate * channels * 2) + Le16(channels * 2) + Le16(16);
  h += "LIST" + Le32(5) + "abcde" + std::string(1, '\0');  // a chunk to skip (odd size: padded)
  h += "data" + Le32(pipe_size ? 0xFFFFFFFFu : data_bytes);
  return h;
}
std::vector<float> ReadAllStream(const std::string& path, const slid::PcmStreamOptions& o, int target) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  std::vector<float> all;
  try {
    slid::PcmStreamReader r(fd, path, o, target);
    slid::Waveform w;
    while (r.Read(&w)) all.insert(all.end(), w.samples.begin(), w.samples.end());
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return all;
}
}  // namespace

TEST_CASE("PcmStreamReader: WAV and raw streams give ReadAudio's samples; bad streams are named errors") {
  TempDir tmp("slid_test_windowed_");
  std::string pcm;  // stereo, 2000 frames
  std::mt19937 rng(3);
  for (int f = 0; f < 2000; ++f) {
    const int l = static_cast<int>(rng() % 20000) - 10000, r = static_cast<int>(rng() % 20000) - 10000;
    pcm += Le16(l) + Le16(r);
  }
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(tmp(name), std::ios::binary) << bytes;
    return tmp(name);
  };
  const std::string wav = write("a.wav", WavHeader(16000, 2, false, static_cast<uint32_t>(pcm.size())) + pcm + "JUNKtrailer");
  const std::string piped = write("p.wav", WavHeader(16000, 2, true, 0) + pcm);
  const std::string raw = write("a.raw", pcm);
  const std::vector<float> from_file = slid::ReadAudio(wav, 0).samples;
  REQUIRE(from_file.size() == 2000);
  CHECK(ReadAllStream(wav, {}, 0) == from_file);
  CHECK(ReadAllStream(piped, {}, 0) == from_file);
  slid::PcmStreamOptions ro;
  ro.raw_format = "s16le";
  ro.raw_rate_hz = 16000;
  ro.raw_channels = 2;
  CHECK(ReadAllStream(raw, ro, 0) == from_file);
  // Resampled: as ReadAudio's (the same streaming libsoxr), to float rounding.
  const std::vector<float> down = ReadAllStream(wav, {}, 8000), down_ref = slid::ReadAudio(wav, 8000).samples;
  REQUIRE(down.size() == down_ref.size());
  for (size_t i = 0; i < down.size(); ++i) CHECK(down[i] == doctest::Approx(down_ref[i]).epsilon(1e-5));

  // A declared data size ending inside a sample: the partial sample is ignored (as libsndfile does).
  const std::string part = write("part.wav", WavHeader(16000, 2, false, 4 * 10 + 3) + pcm);
  CHECK(ReadAllStream(part, {}, 0) == std::vector<float>(from_file.begin(), from_file.begin() + 10));
  // A float sample finite as such but not on Kaldi's scale.
  std::string big = WavHeader(16000, 1, true, 0);
  big[20] = 3;   // format: float
  big[34] = 32;  // bits
  CHECK_THROWS_WITH_AS(ReadAllStream(write("big.wav", big + Le32(0x7F000000u)), {}, 0), doctest::Contains("beyond full scale"), slid::Error);
  CHECK_THROWS_WITH_AS(ReadAllStream(write("t.txt", "hello, this is text\n"), {}, 0), doctest::Contains("not a WAV stream"), slid::Error);
  CHECK_THROWS_WITH_AS(ReadAllStream(write("e.raw", ""), {}, 0), doctest::Contains("empty stream"), slid::Error);
  CHECK_THROWS_WITH_AS(ReadAllStream(write("f.flac", std::string("fLaC\0\0\0\x22", 8) + std::string(40, '\0')), {}, 0),
                       doctest::Contains("only WAV or raw PCM"), slid::Error);
  CHECK_THROWS_WITH_AS(ReadAllStream(write("odd.raw", pcm + "x"), ro, 0), doctest::Contains("inside a sample"), slid::Error);
  ro.raw_rate_hz = 0;
  CHECK_THROWS_WITH_AS(ReadAllStream(raw, ro, 0), doctest::Contains("rate"), slid::Error);
  std::string h8 = WavHeader(16000, 1, true, 0);
  h8[34] = 8;  // bits per sample
  CHECK_THROWS_WITH_AS(ReadAllStream(write("b8.wav", h8 + "abcd"), {}, 0), doctest::Contains("cannot be streamed"), slid::Error);
}
