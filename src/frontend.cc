// Frontend composition and the option table shared by `slid features`, config files and model files.
#include "slid/frontend.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>

#include "slid/error.h"
#include "util.h"

namespace slid {
namespace {

[[noreturn]] void BadValue(const std::string& name, const std::string& value, const std::string& expect) {
  throw Error("--" + name + ": invalid value '" + value + "' (expected " + expect + ")");
}

int ParseInt(const std::string& name, const std::string& s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) BadValue(name, s, "an integer");
  return v;
}

uint32_t ParseUint(const std::string& name, const std::string& s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) BadValue(name, s, "a non-negative integer");
  return v;
}

// std::from_chars, not strtof: the C locale's '.' whatever locale a host program set (strtof under
// de_DE.UTF-8 stops at the '.' of "0.97"). A leading '+' is accepted, as strtof and Kaldi do.
float ParseFloat(const std::string& name, const std::string& s) {
  if (s.empty()) BadValue(name, s, "a number");
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (*b == '+') ++b;
  float v = 0;
  auto [p, ec] = std::from_chars(b, e, v);
  if (b == e || p != e || ec != std::errc() || !std::isfinite(v)) BadValue(name, s, "a finite number");
  return v;
}

bool ParseBool(const std::string& name, const std::string& s) {
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  BadValue(name, s, "true or false");
}

// Shortest text that reads back as the same float.
std::string FloatText(float v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, p);
}

std::string BoolText(bool v) { return v ? "true" : "false"; }

std::vector<FrontendOptionInfo> BuildTable() {
  std::vector<FrontendOptionInfo> t;
#define SLID_INT(NAME, FIELD, HELP)                                                                        \
  t.push_back({NAME, HELP, [](const FrontendOptions& o) { return std::to_string(o.FIELD); },             \
               [](FrontendOptions* o, const std::string& v) { o->FIELD = ParseInt(NAME, v); }, "int"})
#define SLID_FLOAT(NAME, FIELD, HELP)                                                                      \
  t.push_back({NAME, HELP, [](const FrontendOptions& o) { return FloatText(o.FIELD); },                  \
               [](FrontendOptions* o, const std::string& v) { o->FIELD = ParseFloat(NAME, v); }, "float"})
#define SLID_BOOL(NAME, FIELD, HELP)                                                                       \
  t.push_back({NAME, HELP, [](const FrontendOptions& o) { return BoolText(o.FIELD); },                   \
               [](FrontendOptions* o, const std::string& v) { o->FIELD = ParseBool(NAME, v); }, "bool"})

  SLID_INT("sample-frequency", sample_rate_hz, "Sampling rate in Hz the audio is resampled to");
  SLID_FLOAT("frame-length", mfcc.frame_length_ms, "Frame length in milliseconds");
  SLID_FLOAT("frame-shift", mfcc.frame_shift_ms, "Frame shift in milliseconds");
  SLID_FLOAT("dither", mfcc.dither, "Dithering constant (0 = off, reproducible; Kaldi default 1)");
  t.push_back({"dither-seed", "Seed of the dither random generator (re-seeded per utterance)",
               [](const FrontendOptions& o) { return std::to_string(o.mfcc.dither_seed); },
               [](FrontendOptions* o, const std::string& v) { o->mfcc.dither_seed = ParseUint("dither-seed", v); },
               "int"});
  SLID_BOOL("remove-dc-offset", mfcc.remove_dc_offset, "Subtract the mean of each frame");
  SLID_FLOAT("preemphasis-coefficient", mfcc.preemphasis_coefficient, "Pre-emphasis coefficient");
  t.push_back({"window-type", "Window: povey, hamming, hanning, rectangular, blackman, sine",
               [](const FrontendOptions& o) { return o.mfcc.window_type; },
               [](FrontendOptions* o, const std::string& v) { o->mfcc.window_type = v; }, "string"});
  SLID_FLOAT("blackman-coeff", mfcc.blackman_coeff, "Constant of the generalised Blackman window");
  SLID_BOOL("round-to-power-of-two", mfcc.round_to_power_of_two, "Zero-pad frames to a power of two for the FFT");
  SLID_BOOL("snip-edges", mfcc.snip_edges,
            "Only frames that fit in the signal (true), else frames centred on shifts with reflected edges");
  SLID_INT("num-mel-bins", mfcc.num_mel_bins, "Number of triangular mel filters");
  SLID_FLOAT("low-freq", mfcc.low_freq_hz, "Low cut-off of the mel filters in Hz");
  SLID_FLOAT("high-freq", mfcc.high_freq_hz, "High cut-off in Hz (<= 0: offset from Nyquist)");
  SLID_INT("num-ceps", mfcc.num_ceps, "Number of cepstra, C0 included");
  SLID_BOOL("use-energy", mfcc.use_energy, "Replace C0 by the log-energy");
  SLID_BOOL("raw-energy", mfcc.raw_energy, "Energy before pre-emphasis and windowing");
  SLID_FLOAT("energy-floor", mfcc.energy_floor, "Floor on the energy (linear; 0 = none)");
  SLID_FLOAT("cepstral-lifter", mfcc.cepstral_lifter, "Cepstral lifter Q (0 = off)");
  t.push_back({"cmvn-mode",
               "Cepstral normalisation: none, utterance, sliding (mean over cmn-window frames), warp (feature "
               "warping over cmn-window frames)",
               [](const FrontendOptions& o) { return CmvnModeName(o.cmvn.mode); },
               [](FrontendOptions* o, const std::string& v) { o->cmvn.mode = ParseCmvnMode(v); }, "string"});
  SLID_INT("cmn-window", cmvn.cmn_window, "Sliding CMN / warping window in frames (Kaldi default 600)");
  SLID_INT("min-cmn-window", cmvn.min_cmn_window, "Minimum CMN window at the start (non-centred only)");
  SLID_BOOL("center", cmvn.center, "Centre the sliding CMN window on the frame");
  SLID_BOOL("norm-vars", cmvn.norm_vars, "Also normalise variances");
  SLID_BOOL("use-deltas", use_deltas, "Append Kaldi deltas instead of SDC (needs --use-sdc=false)");
  SLID_INT("delta-order", deltas.order, "Delta order (with --use-deltas)");
  SLID_INT("delta-window", deltas.window, "Delta window half-width in frames (with --use-deltas)");
  SLID_BOOL("use-sdc", sdc.enabled, "Compute shifted delta cepstra");
  SLID_INT("sdc-n", sdc.n, "SDC N: number of leading cepstra used (C0 included)");
  SLID_INT("sdc-d", sdc.d, "SDC d: delta half-width in frames");
  SLID_INT("sdc-p", sdc.p, "SDC P: shift between blocks in frames");
  SLID_INT("sdc-k", sdc.k, "SDC k: number of blocks");
  SLID_BOOL("sdc-keep-static", sdc.keep_static, "Prepend the N static cepstra to the SDC");
  SLID_BOOL("use-vad", vad.enabled, "Keep only frames the energy VAD marks voiced");
  SLID_FLOAT("vad-energy-threshold", vad.energy_threshold, "VAD: constant part of the threshold");
  SLID_FLOAT("vad-energy-mean-scale", vad.energy_mean_scale, "VAD: add this times the mean C0 to the threshold");
  SLID_INT("vad-frames-context", vad.frames_context, "VAD: frames of context each side");
  SLID_FLOAT("vad-proportion-threshold", vad.proportion_threshold,
             "VAD: share of context frames above threshold needed");
  SLID_BOOL("vad-log-energy", vad.use_log_energy,
            "VAD on the frame log-energy (false: on MFCC column 0, i.e. C0 unless --use-energy)");
  SLID_FLOAT("vad-min-snr-db", vad.min_snr_db,
             "VAD: a recording has no speech unless --vad-snr-min-frames frames are this many dB above its "
             "noise floor (10th percentile of C0/energy); 0 = no check");
  SLID_INT("vad-snr-min-frames", vad.snr_min_frames, "VAD: frames above the noise floor a recording needs to have speech");
#undef SLID_INT
#undef SLID_FLOAT
#undef SLID_BOOL
  return t;
}

const FrontendOptionInfo* FindOption(const std::string& name) {
  for (const auto& row : FrontendOptionTable())
    if (row.name == name) return &row;
  return nullptr;
}

}  // namespace

const std::vector<FrontendOptionInfo>& FrontendOptionTable() {
  static const std::vector<FrontendOptionInfo> table = BuildTable();
  return table;
}

void SetFrontendOption(const std::string& name, const std::string& value, FrontendOptions* opts) {
  const FrontendOptionInfo* row = FindOption(name);
  if (row == nullptr) throw Error("--" + name + ": unknown frontend option");
  row->set(opts, value);
}

nlohmann::json FrontendOptions::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& row : FrontendOptionTable()) {
    std::string v = row.get(*this);
    if (row.type == "int") {
      long long x = 0;
      std::from_chars(v.data(), v.data() + v.size(), x);
      j[row.name] = x;
    } else if (row.type == "float") {
      double x = 0;  // from_chars, not stod: locale-independent (see ParseFloat)
      std::from_chars(v.data(), v.data() + v.size(), x);
      j[row.name] = x;
    }
    else if (row.type == "bool") j[row.name] = (v == "true");
    else j[row.name] = v;
  }
  return j;
}

FrontendOptions FrontendOptions::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("frontend options: expected a JSON object");
  FrontendOptions o;
  // Models written before "vad-log-energy" existed decided voicing on MFCC column 0: an absent key
  // means false, so that they score exactly as they were trained.
  if (!j.contains("vad-log-energy")) o.vad.use_log_energy = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const FrontendOptionInfo* row = FindOption(it.key());
    if (row == nullptr) throw Error("frontend options: unknown option '" + it.key() + "'");
    const auto& v = it.value();
    std::string text;
    if (v.is_string()) text = v.get<std::string>();
    else if (v.is_boolean()) text = v.get<bool>() ? "true" : "false";
    else if (v.is_number_integer()) text = std::to_string(v.get<long long>());
    else if (v.is_number()) text = FloatText(static_cast<float>(v.get<double>()));
    else throw Error("frontend options: '" + it.key() + "' has a value of the wrong type");
    row->set(&o, text);
  }
  return o;
}

bool FrontendOptions::operator==(const FrontendOptions& other) const {
  for (const auto& row : FrontendOptionTable())
    if (row.get(*this) != row.get(other)) return false;
  return true;
}

void FrontendOptions::Validate() const {
  ValidateMfccOptions(mfcc, sample_rate_hz);
  ValidateCmvnOptions(cmvn);
  if (use_deltas && sdc.enabled) throw Error("use-deltas: cannot be combined with use-sdc=true (choose one)");
  if (use_deltas) {
    if (deltas.order < 0 || deltas.order > 100) throw Error("delta-order: must be in [0, 100]");
    if (deltas.window < 1 || deltas.window > 1000) throw Error("delta-window: must be in [1, 1000]");
  }
  if (sdc.enabled) {
    ValidateSdcOptions(sdc);
    if (sdc.n > mfcc.num_ceps)
      throw Error("sdc-n: " + std::to_string(sdc.n) + " exceeds num-ceps " + std::to_string(mfcc.num_ceps));
  }
  if (vad.enabled) ValidateVadOptions(vad);
}

const std::vector<std::string>& KaldiOptionsWithoutEffect() {
  // allow-downsample/upsample: slid always resamples to sample-frequency. verbose, print-args: logging.
  // min-duration: Kaldi skips shorter files, it does not change the features of the others.
  // output-format, write-utt2dur, num-threads, compress: where and how Kaldi writes, not what.
  static const std::vector<std::string> names = {"allow-downsample", "allow-upsample", "verbose",      "print-args",
                                                 "min-duration",     "output-format",  "write-utt2dur", "num-threads",
                                                 "compress"};
  return names;
}

void ApplyKaldiConfig(const std::string& text, const std::string& source, FrontendOptions* opts,
                      std::vector<std::string>* notes) {
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line = line.substr(0, hash);
    line = Trim(line);
    if (line.empty()) continue;
    auto where = [&] { return source + ":" + std::to_string(line_no) + ": "; };
    if (line.rfind("--", 0) != 0) throw Error(where() + "expected --name=value, got '" + line + "'");
    std::string body = line.substr(2), name = body, value = "true";
    size_t eq = body.find('=');
    if (eq != std::string::npos) {
      name = Trim(body.substr(0, eq));
      value = Trim(body.substr(eq + 1));
    }
    const auto& ignored = KaldiOptionsWithoutEffect();
    if (FindOption(name) == nullptr && std::find(ignored.begin(), ignored.end(), name) != ignored.end()) {
      if (notes) notes->push_back(where() + "note: --" + name + " does not change the features; ignored");
      continue;
    }
    try {
      SetFrontendOption(name, value, opts);
    } catch (const Error& e) {
      throw Error(where() + e.what());
    }
  }
}

Frontend::Frontend(const FrontendOptions& opts)
    : opts_((opts.Validate(), opts)), mfcc_(opts.mfcc, opts.sample_rate_hz) {}
Frontend::~Frontend() = default;
Frontend::Frontend(Frontend&&) noexcept = default;
Frontend& Frontend::operator=(Frontend&&) noexcept = default;

int Frontend::Dim(FrontendStage stage) const {
  if (stage == FrontendStage::kMfcc || stage == FrontendStage::kCmvn) return opts_.mfcc.num_ceps;
  if (opts_.sdc.enabled) return opts_.sdc.Dim();
  if (opts_.use_deltas) return opts_.mfcc.num_ceps * (opts_.deltas.order + 1);
  return opts_.mfcc.num_ceps;
}

int Frontend::Dim() const { return Dim(FrontendStage::kVoiced); }

Matrix Frontend::ComputeMfcc(const Waveform& wav) const {
  if (wav.rate_hz != opts_.sample_rate_hz)
    throw Error("Frontend: waveform at " + std::to_string(wav.rate_hz) + " Hz, but sample-frequency is " +
                std::to_string(opts_.sample_rate_hz) + " Hz (resample first)");
  return mfcc_.Compute(wav.samples);
}

Matrix Frontend::ComputeMfcc(const Waveform& wav, std::vector<float>* vad_energy) const {
  vad_energy->clear();
  if (!opts_.vad.enabled || !opts_.vad.use_log_energy) return ComputeMfcc(wav);
  if (wav.rate_hz != opts_.sample_rate_hz) ComputeMfcc(wav);  // throws the rate error
  return mfcc_.Compute(wav.samples.data(), static_cast<int64_t>(wav.samples.size()), vad_energy);
}

double Column0DecibelsPerUnit(const MfccOptions& m) {
  // log-energy: natural log of the frame energy, so 10 log10(e) dB per unit. C0 = sqrt(1/M) sum_m log E_m
  // (Kaldi's DCT row 0; the lifter leaves C0 alone): a level change of g dB in every mel band moves it
  // by sqrt(M) g / (10 log10 e).
  const double db_per_neper = 10.0 / std::log(10.0);
  return m.use_energy ? db_per_neper : db_per_neper / std::sqrt(static_cast<double>(m.num_mel_bins));
}

namespace {

// The column the VAD decides on: the frame log-energies if vad-log-energy (then *db_per_unit is the
// log-energy's), else column 0 of the MFCC (C0, or the energy with use-energy).
Matrix VadInput(const FrontendOptions& o, const Matrix& mfcc, const std::vector<float>* log_energy,
                double* db_per_unit) {
  if (o.vad.use_log_energy && log_energy != nullptr) {
    if (static_cast<int64_t>(log_energy->size()) != mfcc.rows())
      throw Error("Frontend: " + std::to_string(log_energy->size()) + " log-energies for " +
                  std::to_string(mfcc.rows()) + " frames");
    *db_per_unit = 10.0 / std::log(10.0);
    Matrix e(mfcc.rows(), 1);
    for (int64_t t = 0; t < e.rows(); ++t) e(t, 0) = (*log_energy)[static_cast<size_t>(t)];
    return e;
  }
  *db_per_unit = Column0DecibelsPerUnit(o.mfcc);
  return mfcc.leftCols(std::min<Eigen::Index>(1, mfcc.cols()));
}

SpeechCheck CheckSpeechOn(const VadOptions& vad, const Matrix& x, double db_per_unit) {
  if (!vad.enabled || vad.min_snr_db == 0) {
    SpeechCheck c;
    c.has_speech = x.rows() > 0;
    return c;
  }
  return slid::CheckSpeech(x, vad, db_per_unit);
}

std::vector<bool> VoicedOn(const VadOptions& vad, const Matrix& x, double db_per_unit) {
  if (!vad.enabled) return std::vector<bool>(static_cast<size_t>(x.rows()), true);
  if (!CheckSpeechOn(vad, x, db_per_unit).has_speech) return std::vector<bool>(static_cast<size_t>(x.rows()), false);
  return ComputeVad(x, vad);
}

}  // namespace

SpeechCheck Frontend::CheckSpeech(const Matrix& mfcc) const {
  double db = 0;
  const Matrix x = VadInput(opts_, mfcc, nullptr, &db);  // sets db
  return CheckSpeechOn(opts_.vad, x, db);
}

SpeechCheck Frontend::CheckSpeech(const Matrix& mfcc, const std::vector<float>& log_energy) const {
  if (!opts_.vad.enabled || !opts_.vad.use_log_energy) return CheckSpeech(mfcc);
  double db = 0;
  const Matrix x = VadInput(opts_, mfcc, &log_energy, &db);  // sets db
  return CheckSpeechOn(opts_.vad, x, db);
}

std::vector<bool> Frontend::ComputeVoiced(const Matrix& mfcc) const {
  double db = 0;
  const Matrix x = VadInput(opts_, mfcc, nullptr, &db);  // sets db
  return VoicedOn(opts_.vad, x, db);
}

Matrix Frontend::ComputeFeatures(const Matrix& mfcc) const {
  if (opts_.sdc.enabled && mfcc.rows() < opts_.sdc.ContextFrames()) return Matrix(0, Dim());
  Matrix normed = ApplyCmvn(mfcc, opts_.cmvn);
  if (opts_.sdc.enabled) return ComputeSdc(normed, opts_.sdc);
  if (opts_.use_deltas) return ComputeDeltas(normed, opts_.deltas);
  return normed;
}

std::vector<bool> Frontend::ComputeVoiced(const Matrix& mfcc, const std::vector<float>& log_energy) const {
  if (!opts_.vad.enabled || !opts_.vad.use_log_energy) return ComputeVoiced(mfcc);
  double db = 0;
  const Matrix x = VadInput(opts_, mfcc, &log_energy, &db);  // sets db
  return VoicedOn(opts_.vad, x, db);
}

Matrix Frontend::Compute(const Waveform& wav, FrontendStage stage) const {
  if (stage != FrontendStage::kVoiced) {
    const Matrix mfcc = ComputeMfcc(wav);
    if (stage == FrontendStage::kMfcc) return mfcc;
    if (stage == FrontendStage::kCmvn) return ApplyCmvn(mfcc, opts_.cmvn);
    return ComputeFeatures(mfcc);
  }
  std::vector<float> energy;
  const Matrix mfcc = ComputeMfcc(wav, &energy);
  Matrix feats = ComputeFeatures(mfcc);
  if (feats.rows() == 0) return feats;
  return SelectVoicedFrames(feats, ComputeVoiced(mfcc, energy));
}

Matrix Frontend::Compute(const Waveform& wav) const { return Compute(wav, FrontendStage::kVoiced); }

}  // namespace slid
