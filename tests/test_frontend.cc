#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string>

#include "slid/audio.h"
#include "slid/error.h"
#include "slid/frontend.h"

namespace {
const std::string kDir = std::string(SLID_TEST_DATA) + "/mfcc/";

bool ThrowsNaming(const std::function<void()>& f, const std::string& what) {
  try {
    f();
  } catch (const slid::Error& e) {
    return std::string(e.what()).find(what) != std::string::npos;
  }
  return false;
}
}  // namespace

TEST_CASE("Default frontend: 56 dims, voiced frames only, on real speech") {
  slid::FrontendOptions opts;
  slid::Frontend fe(opts);
  CHECK(fe.Dim() == 56);
  slid::Waveform wav = slid::ReadAudio(kDir + "fr16k.wav", 0);
  slid::Matrix mfcc = fe.ComputeMfcc(wav);
  CHECK(mfcc.cols() == 7);
  slid::Matrix all = fe.Compute(wav, slid::FrontendStage::kSdc);
  CHECK(all.rows() == mfcc.rows());
  slid::Matrix out = fe.Compute(wav);
  CHECK(out.cols() == 56);
  // VAD on the raw frame log-energy (vad-log-energy, the default): Kaldi's use-energy column 0.
  slid::MfccOptions with_energy = opts.mfcc;
  with_energy.use_energy = true;
  const slid::Matrix energy = slid::MfccComputer(with_energy, 16000).Compute(wav.samples);
  std::vector<bool> voiced = slid::ComputeVad(energy, opts.vad);
  int64_t n = std::count(voiced.begin(), voiced.end(), true);
  CHECK(out.rows() == n);
  CHECK(n > 0);
  CHECK(n < mfcc.rows());
  // The pipeline equals the stages composed by hand.
  slid::CmvnOptions cmvn = opts.cmvn;
  slid::Matrix by_hand = slid::SelectVoicedFrames(slid::ComputeSdc(slid::ApplyCmvn(mfcc, cmvn), opts.sdc), voiced);
  CHECK(by_hand == out);
  CHECK(out.allFinite());
  // MfccComputer's log-energy output is that column, and leaves the MFCC unchanged.
  std::vector<float> log_energy;
  const slid::Matrix mfcc2 = slid::MfccComputer(opts.mfcc, 16000).Compute(wav.samples.data(),
                                                                          static_cast<int64_t>(wav.samples.size()), &log_energy);
  CHECK(mfcc2 == mfcc);
  REQUIRE(static_cast<int64_t>(log_energy.size()) == mfcc.rows());
  for (int64_t t = 0; t < mfcc.rows(); ++t) CHECK(log_energy[static_cast<size_t>(t)] == energy(t, 0));
  CHECK(fe.ComputeVoiced(mfcc, log_energy) == voiced);
  // vad-log-energy=false: the decision on MFCC column 0 (C0), slid's behaviour before this option.
  slid::FrontendOptions c0 = opts;
  c0.vad.use_log_energy = false;
  const std::vector<bool> voiced_c0 = slid::ComputeVad(mfcc, c0.vad);
  const slid::Matrix out_c0 = slid::Frontend(c0).Compute(wav);
  CHECK(out_c0.rows() == std::count(voiced_c0.begin(), voiced_c0.end(), true));
  CHECK(out_c0 == slid::SelectVoicedFrames(slid::ComputeSdc(slid::ApplyCmvn(mfcc, cmvn), opts.sdc), voiced_c0));
}

TEST_CASE("A model header without vad-log-energy (written before it existed) decides VAD on C0") {
  slid::FrontendOptions defaults;
  CHECK(defaults.vad.use_log_energy);
  nlohmann::json j = defaults.ToJson();
  CHECK(j.contains("vad-log-energy"));
  CHECK(slid::FrontendOptions::FromJson(j).vad.use_log_energy);
  j.erase("vad-log-energy");
  CHECK_FALSE(slid::FrontendOptions::FromJson(j).vad.use_log_energy);
}

TEST_CASE("Empty, sub-frame and shorter-than-SDC-context audio give 0 x Dim()") {
  slid::Frontend fe(slid::FrontendOptions{});
  slid::Waveform w;
  w.rate_hz = 16000;
  slid::Matrix m = fe.Compute(w);
  CHECK(m.rows() == 0);
  CHECK(m.cols() == 56);
  w.samples.assign(399, 1000.0f);  // shorter than one 400-sample frame
  CHECK(fe.Compute(w).rows() == 0);
  CHECK(fe.Compute(w).cols() == 56);
  // 20 frames (< 21-frame SDC context): 400 + 19 * 160 samples.
  w.samples.assign(400 + 19 * 160, 0.0f);
  for (size_t i = 0; i < w.samples.size(); ++i) w.samples[i] = 3000.0f * std::sin(0.1f * i);
  CHECK(fe.ComputeMfcc(w).rows() == 20);
  CHECK(fe.Compute(w).rows() == 0);
  CHECK(fe.Compute(w).cols() == 56);
  // 21 frames is enough.
  w.samples.resize(400 + 20 * 160);
  for (size_t i = 0; i < w.samples.size(); ++i) w.samples[i] = 3000.0f * std::sin(0.1f * i);
  CHECK(fe.Compute(w, slid::FrontendStage::kSdc).rows() == 21);
  // Wrong rate is an error, not silent garbage.
  w.rate_hz = 8000;
  CHECK(ThrowsNaming([&] { fe.Compute(w); }, "sample-frequency"));
}

TEST_CASE("FrontendOptions JSON round trip, equality, table and Kaldi config") {
  slid::FrontendOptions a;
  CHECK(a == slid::FrontendOptions::FromJson(a.ToJson()));
  nlohmann::json j = a.ToJson();
  CHECK(j["num-ceps"] == 7);
  CHECK(j["dither"] == 0.0);
  CHECK(j["window-type"] == "povey");
  CHECK(j["use-energy"] == false);
  CHECK(j["cmn-window"] == 300);
  CHECK(j["sdc-k"] == 7);
  slid::FrontendOptions b = a;
  b.mfcc.preemphasis_coefficient = 0.95f;
  CHECK(b != a);
  CHECK(slid::FrontendOptions::FromJson(b.ToJson()) == b);
  CHECK(slid::FrontendOptions::FromJson(b.ToJson()).mfcc.preemphasis_coefficient == 0.95f);
  CHECK_THROWS_AS(slid::FrontendOptions::FromJson(nlohmann::json{{"num-cepz", 7}}), slid::Error);
  CHECK_THROWS_AS(slid::FrontendOptions::FromJson(nlohmann::json{{"num-ceps", "seven"}}), slid::Error);

  // Every row round-trips its own default text, and names are unique.
  std::set<std::string> names;
  for (const auto& row : slid::FrontendOptionTable()) {
    CHECK(names.insert(row.name).second);
    slid::FrontendOptions o;
    row.set(&o, row.get(a));
    CHECK(o == a);
    CHECK(!row.help.empty());
  }
  for (const char* n : {"sample-frequency", "frame-length", "frame-shift", "dither", "remove-dc-offset",
                        "preemphasis-coefficient", "window-type", "round-to-power-of-two", "snip-edges",
                        "num-mel-bins", "low-freq", "high-freq", "num-ceps", "use-energy", "raw-energy",
                        "energy-floor", "cepstral-lifter", "cmvn-mode", "cmn-window", "min-cmn-window", "center",
                        "norm-vars", "sdc-n", "sdc-d", "sdc-p", "sdc-k", "vad-energy-threshold",
                        "vad-energy-mean-scale", "vad-frames-context", "vad-proportion-threshold"})
    CHECK_MESSAGE(names.count(n) == 1, n);

  slid::FrontendOptions c;
  slid::ApplyKaldiConfig("# lre07-like\n--sample-frequency=8000\n\n  --num-ceps=7  # trailing\n--snip-edges=false\n"
                         "--high-freq=3700\n--norm-vars\n",
                         "conf/mfcc.conf", &c);
  CHECK(c.sample_rate_hz == 8000);
  CHECK(c.mfcc.snip_edges == false);
  CHECK(c.mfcc.high_freq_hz == 3700.0f);
  CHECK(c.cmvn.norm_vars == true);
  CHECK(ThrowsNaming([&] { slid::ApplyKaldiConfig("--num-ceps=7\n--bogus=1\n", "x.conf", &c); }, "x.conf:2:"));
  CHECK(ThrowsNaming([&] { slid::ApplyKaldiConfig("--num-ceps=abc\n", "x.conf", &c); }, "num-ceps"));
  CHECK(ThrowsNaming([&] { slid::ApplyKaldiConfig("num-ceps=7\n", "x.conf", &c); }, "x.conf:1:"));
  CHECK(ThrowsNaming([&] { slid::SetFrontendOption("use-energy", "maybe", &c); }, "use-energy"));
}

TEST_CASE("Validate rejects contradictions with the option's name") {
  auto fails = [](const std::function<void(slid::FrontendOptions*)>& change, const std::string& name) {
    slid::FrontendOptions o;
    change(&o);
    return ThrowsNaming([&] { o.Validate(); }, name) && ThrowsNaming([&] { slid::Frontend fe(o); }, name);
  };
  CHECK_NOTHROW(slid::FrontendOptions{}.Validate());
  CHECK(fails([](auto* o) { o->sample_rate_hz = 8000; o->mfcc.high_freq_hz = 6000; }, "high-freq"));
  CHECK(fails([](auto* o) { o->mfcc.num_ceps = 30; }, "num-ceps"));
  CHECK(fails([](auto* o) { o->mfcc.frame_length_ms = 0; }, "frame-length"));
  CHECK(fails([](auto* o) { o->mfcc.low_freq_hz = 9000; }, "low-freq"));
  CHECK(fails([](auto* o) { o->sdc.n = 8; }, "sdc-n"));
  CHECK(fails([](auto* o) { o->use_deltas = true; }, "use-deltas"));
  CHECK(fails([](auto* o) { o->cmvn.cmn_window = 0; }, "cmn-window"));
  CHECK(fails([](auto* o) { o->vad.proportion_threshold = 0; }, "vad-proportion-threshold"));
  CHECK(fails([](auto* o) { o->mfcc.window_type = "kaiser"; }, "window-type"));
  CHECK(fails([](auto* o) { o->sample_rate_hz = 0; }, "sample-frequency"));
}

TEST_CASE("Frontend variants: no SDC, deltas, no VAD, 8 kHz") {
  slid::Waveform wav = slid::ReadAudio(kDir + "en8k.wav", 0);
  slid::FrontendOptions o;
  o.sample_rate_hz = 8000;
  o.vad.enabled = false;
  slid::Frontend fe(o);
  slid::Matrix all = fe.Compute(wav);
  CHECK(all.rows() == fe.ComputeMfcc(wav).rows());
  o.sdc.enabled = false;
  o.use_deltas = true;
  slid::Frontend fd(o);
  CHECK(fd.Dim() == 21);
  CHECK(fd.Compute(wav).cols() == 21);
  o.use_deltas = false;
  slid::Frontend fm(o);
  CHECK(fm.Dim() == 7);
  CHECK(fm.Compute(wav) == fm.Compute(wav, slid::FrontendStage::kCmvn));
}
