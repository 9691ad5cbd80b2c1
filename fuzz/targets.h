// The bodies of the libFuzzer targets, one function per target, shared by fuzz/<target>.cc (the
// libFuzzer entry points, built with -DSLID_FUZZ=ON and clang) and tests/test_fuzz_corpus.cc, which
// replays every checked-in input in tests/data/fuzz/<target>/ through the same function in the
// ordinary test suite (and so under the sanitizer build too). Each function must accept any bytes:
// slid::Error is the only acceptable failure; anything else (crash, other exception, sanitizer
// report, hang) is a bug. Where a cheap property holds for every accepted input it is checked, and
// a violation aborts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <vector>
#include <unistd.h>

#include "slid/audio.h"
#include "slid/dataset.h"
#include "slid/frontend.h"
#include "slid/kaldi_io.h"
#include "slid/model.h"
#include "slid/error.h"

namespace slid::fuzz {

// A property of an accepted input does not hold: a bug, reported as a crash.
[[noreturn]] inline void PropertyFailed(const char* what) {
  std::fprintf(stderr, "fuzz property failed: %s\n", what);
  std::abort();
}

// Audio decoding and resampling from memory. The first byte picks the target rate (native, 8 kHz,
// 16 kHz or 44.1 kHz) so the resampler runs on every input its rate allows; the rest is the file.
// Properties: an accepted file's rate is within [kMinSampleRateHz, kMaxSampleRateHz] (a header
// claiming 1 Hz once made a small file resample 16000-fold) and its samples are finite; decoding
// straight to the target rate gives round(n * target / rate) samples (soxr's length contract,
// within one sample) and agrees in length with the one-shot Resample() of the native decoding.
inline int FuzzAudio(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const int kRates[] = {0, 8000, 16000, 44100};
  const int target = kRates[data[0] % 4];
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  Waveform w;
  try {
    w = ReadAudioFromMemory(bytes, "fuzz-input", 0);
  } catch (const Error&) {
    return 0;
  }
  if (w.samples.empty()) PropertyFailed("accepted audio has no samples");
  if (w.rate_hz < kMinSampleRateHz || w.rate_hz > kMaxSampleRateHz) PropertyFailed("rate out of range accepted");
  for (float v : w.samples)
    if (!std::isfinite(v)) PropertyFailed("non-finite sample accepted");
  if (target == 0 || target == w.rate_hz) return 0;
  // The rate range bounds the ratio to 44:1 here, so any accepted length can be resampled; only
  // keep a single input's work to about a second of CPU.
  if (w.samples.size() > 2000000) return 0;
  try {
    const Waveform streamed = ReadAudioFromMemory(bytes, "fuzz-input", target);
    const Waveform oneshot = Resample(w, target);
    if (streamed.rate_hz != target || oneshot.rate_hz != target) PropertyFailed("resampled rate differs");
    if (streamed.samples.size() != oneshot.samples.size()) PropertyFailed("streamed and one-shot lengths differ");
    const double expected = static_cast<double>(w.samples.size()) * target / w.rate_hz;
    if (std::fabs(static_cast<double>(streamed.samples.size()) - expected) > 1.0)
      PropertyFailed("resampled length is not n * target / rate");
    for (float v : streamed.samples)
      if (!std::isfinite(v)) PropertyFailed("non-finite resampled sample");
  } catch (const Error&) {
    PropertyFailed("a file read at its native rate failed when resampled");
  }
  return 0;
}

// Streams (slid::PcmStreamReader: a WAV header parsed from a pipe, or raw PCM). The first byte picks
// the options: bit 0 declares raw s16le at 16 kHz (used when no WAV header is found), bits 1-2 the
// target rate (native, 8 kHz, 16 kHz, native); the rest is written into a pipe the reader reads.
// Properties: accepted samples are finite; raw s16le at its native rate gives one sample per 2 bytes.
inline int FuzzPcmStream(const uint8_t* data, size_t size) {
  if (size < 1 || size > 60000) return 0;  // the whole input must fit in the pipe's buffer (64 KB)
  PcmStreamOptions o;
  if (data[0] & 1) {
    o.raw_format = "s16le";
    o.raw_rate_hz = 16000;
  }
  static const int kRates[] = {0, 8000, 16000, 0};
  const int target = kRates[(data[0] >> 1) & 3];
  int fds[2];
  if (::pipe(fds) != 0) PropertyFailed("pipe");
  const size_t n = size - 1;
  if (n > 0 && ::write(fds[1], data + 1, n) != static_cast<ssize_t>(n)) PropertyFailed("pipe write");
  ::close(fds[1]);
  size_t samples = 0;
  bool wav = false;
  try {
    PcmStreamReader r(fds[0], "fuzz-input", o, target);
    wav = r.is_wav();
    Waveform w;
    while (r.Read(&w)) {
      for (float v : w.samples)
        if (!std::isfinite(v)) PropertyFailed("non-finite sample accepted");
      samples += w.samples.size();
    }
  } catch (const Error&) {
    ::close(fds[0]);
    return 0;
  }
  ::close(fds[0]);
  if (!wav && (data[0] & 1) && target == 0 && samples != n / 2) PropertyFailed("raw s16le: samples != bytes / 2");
  return 0;
}

// A scratch folder for targets whose parser reads files, made once per process and removed at exit.
inline const std::string& ScratchDir() {
  static const std::string dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/slid-fuzz-XXXXXX";
    if (!::mkdtemp(templ.data())) PropertyFailed("cannot create a scratch folder");
    return templ;
  }();
  static const struct Remover {
    ~Remover() {
      std::remove((dir + "/wav.scp").c_str());
      std::remove((dir + "/utt2lang").c_str());
      std::remove((dir + "/segments").c_str());
      std::remove((dir + "/utt2spk").c_str());
      std::remove((dir + "/list.tsv").c_str());
      ::rmdir(dir.c_str());
    }
  } remover;
  return dir;
}

inline void WriteScratch(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) PropertyFailed("cannot write a scratch file");
}

// The data-list parsers of dataset.h (LoadDataset, ReadPathList). The first byte picks the form:
// even, a TSV list file (and the same bytes as a plain path list); odd, a Kaldi data directory whose
// files are the text split at NUL bytes: wav.scp, utt2lang, then (if present) segments and utt2spk. Listed paths need not exist: loading only parses (commands are not
// run). An accepted dataset must keep its documented invariants; what it leaves out is in problems, one
// line each naming a file.
inline int FuzzLists(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string& dir = ScratchDir();
  std::string path;
  if (data[0] % 2 == 0) {
    path = dir + "/list.tsv";
    std::remove((dir + "/wav.scp").c_str());
    WriteScratch(path, text);
  } else {
    path = dir;
    std::vector<std::string> parts(1);
    for (char c : text) {
      if (c == '\0') parts.emplace_back();
      else parts.back() += c;
    }
    WriteScratch(dir + "/wav.scp", parts[0]);
    WriteScratch(dir + "/utt2lang", parts.size() > 1 ? parts[1] : std::string());
    std::remove((dir + "/segments").c_str());
    std::remove((dir + "/utt2spk").c_str());
    if (parts.size() > 2) WriteScratch(dir + "/segments", parts[2]);
    if (parts.size() > 3) WriteScratch(dir + "/utt2spk", parts[3]);
  }
  if (data[0] % 2 == 0) {
    // A plain path list: every non-empty line is one entry, verbatim.
    const std::vector<DataEntry> paths = ReadPathList(text, "fuzz");
    for (const DataEntry& e : paths) {
      if (e.source.empty() || e.is_command || e.id != e.source) PropertyFailed("path list entry altered");
      if (e.source.find('\n') != std::string::npos) PropertyFailed("newline inside a listed path");
    }
  }
  try {
    const Dataset d = LoadDataset(path);
    if (d.entries.empty() && d.problems.empty()) PropertyFailed("empty dataset without a problem to explain it");
    if (d.entries.empty() != d.languages.empty()) PropertyFailed("languages disagree with the entries");
    for (const std::string& p : d.problems)  // one line each, naming the file
      if (p.empty() || p.find('\n') != std::string::npos || p.rfind(dir, 0) != 0) PropertyFailed("malformed problem line");
    const std::set<std::string> langs(d.languages.begin(), d.languages.end());
    if (langs.size() != d.languages.size()) PropertyFailed("languages not distinct");
    std::set<std::string> ids;
    for (size_t i = 0; i < d.entries.size(); ++i) {
      const DataEntry& e = d.entries[i];
      if (e.id.empty() || e.language.empty() || e.source.empty()) PropertyFailed("empty field accepted");
      if (!langs.count(e.language)) PropertyFailed("entry language missing from languages");
      if (!ids.insert(e.id).second) PropertyFailed("duplicate id accepted");
      if (IsSegment(e) && (e.start_seconds < 0 || (e.end_seconds >= 0 && e.end_seconds <= e.start_seconds)))
        PropertyFailed("segment with start >= end accepted");
      if (IsSegment(e) && e.recording.empty()) PropertyFailed("segment without a recording");
      if (i > 0) {
        const DataEntry& p = d.entries[i - 1];
        if (std::make_pair(p.language, p.id) > std::make_pair(e.language, e.id)) PropertyFailed("entries not sorted");
      }
    }
  } catch (const Error&) {
  }
  return 0;
}

// The Kaldi config parser (ApplyKaldiConfig) and, for what it accepts, option validation, the JSON
// round trip the model file relies on, and the frontend itself: options that pass Validate() and
// the Frontend constructor must give finite features of Dim() columns on 0.3 s of a tone + noise.
inline int FuzzConfig(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  FrontendOptions opts;
  try {
    ApplyKaldiConfig(text, "fuzz.conf", &opts);
  } catch (const Error&) {
    return 0;
  }
  const FrontendOptions back = FrontendOptions::FromJson(opts.ToJson());  // must not throw
  if (!(back == opts)) PropertyFailed("FromJson(ToJson(opts)) != opts");
  try {
    opts.Validate();
    // Keep the work per input bounded: skip absurd but valid analysis sizes.
    if (opts.sample_rate_hz > 48000 || opts.mfcc.frame_length_ms > 200 || opts.mfcc.frame_shift_ms < 1)
      return 0;
    const Frontend frontend(opts);
    Waveform wav;
    wav.rate_hz = opts.sample_rate_hz;
    uint32_t rng = 12345;
    const size_t n = static_cast<size_t>(0.3 * opts.sample_rate_hz);
    for (size_t i = 0; i < n; ++i) {
      rng = rng * 1664525u + 1013904223u;
      const float noise = static_cast<float>(rng >> 8) / 16777216.0f - 0.5f;
      wav.samples.push_back(8000.0f * std::sin(0.05f * static_cast<float>(i)) + 500.0f * noise);
    }
    const Matrix feats = frontend.Compute(wav);
    if (feats.cols() != frontend.Dim()) PropertyFailed("feature columns != Dim()");
    if (!feats.allFinite()) PropertyFailed("non-finite features");
  } catch (const Error&) {
  }
  return 0;
}

// The model loader (LanguageModelSet::FromBytes, the body of Load). The first byte picks the mode:
// odd, the last 8 bytes are replaced by the correct checksum of the rest, so that mutations reach the
// checks behind the checksum (GMM parameters, options) instead of all failing as "damaged". A model
// it accepts must be consistent (Validate) and score frames without NaN.
inline int FuzzModel(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((data[0] & 1) && bytes.size() >= 8) {
    const uint64_t sum = Fnv1a64(bytes.data(), bytes.size() - 8);
    for (int i = 0; i < 8; ++i) bytes[bytes.size() - 8 + i] = static_cast<char>((sum >> (8 * i)) & 0xff);
  }
  LanguageModelSet m;
  try {
    m = LanguageModelSet::FromBytes(bytes, "fuzz.slid");
  } catch (const Error&) {
    return 0;
  }
  m.Validate();  // must not throw for a loaded model
  const Matrix frames = Matrix::Ones(3, m.Dim());
  const std::unique_ptr<UtteranceScorer> u = m.backend->NewUtterance();
  u->Add(frames);
  for (double s : u->Scores())
    if (std::isnan(s)) PropertyFailed("NaN score from a loaded model");
  return 0;
}

// Kaldi table reading (kaldi_io.h). The first byte picks the form: even, the rest is an archive read
// entry by entry (KaldiMatrixReader); odd, one object as an scp offset points at (ReadKaldiMatrix).
// Every accepted matrix must come back bit for bit from a binary write + read, and value for value
// (NaN as NaN) from a text write + read.
inline void CheckKaldiRoundTrip(const Matrix& m) {
  for (const bool binary : {true, false}) {
    std::ostringstream out;
    Matrix back;
    try {
      WriteKaldiMatrix(out, m, binary);
      std::istringstream in(out.str());
      back = ReadKaldiMatrix(in, "round-trip");
    } catch (const Error&) {
      PropertyFailed("an accepted matrix does not survive a Kaldi write + read");
    }
    // A matrix without values is written (as Kaldi's) 0 x 0.
    const bool same_shape = (back.rows() == m.rows() && back.cols() == m.cols()) || (m.size() == 0 && back.size() == 0);
    if (!same_shape) PropertyFailed("Kaldi write + read changed the shape");
    for (Eigen::Index i = 0; i < m.size(); ++i) {
      const float a = m.data()[i], b = back.data()[i];
      const bool same = binary ? std::memcmp(&a, &b, sizeof a) == 0 : (a == b || (std::isnan(a) && std::isnan(b)));
      if (!same) PropertyFailed("Kaldi write + read changed a value");
    }
  }
}

// A finite matrix compresses (or is refused with Error for values beyond +-1e30) and decodes to the
// same shape with finite values.
inline void CheckKaldiCompression(const Matrix& m) {
  if (m.size() == 0 || !m.allFinite()) return;
  KaldiWriteOptions options;
  options.compress = true;
  std::ostringstream out;
  try {
    WriteKaldiMatrix(out, m, true, options);
  } catch (const Error&) {
    return;
  }
  Matrix back;
  try {
    std::istringstream in(out.str());
    back = ReadKaldiMatrix(in, "compressed");
  } catch (const Error&) {
    PropertyFailed("a compressed matrix slid wrote does not read back");
  }
  if (back.rows() != m.rows() || back.cols() != m.cols()) PropertyFailed("compression changed the shape");
  if (!back.allFinite()) PropertyFailed("compression made a value non-finite");
}

inline int FuzzKaldiArk(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  try {
    if (data[0] % 2 == 0) {
      KaldiMatrixReader reader(in, "fuzz.ark");
      std::string key;
      Matrix m;
      while (reader.Next(&key, &m)) {
        if (key.empty()) PropertyFailed("empty key accepted");
        CheckKaldiRoundTrip(m);
        CheckKaldiCompression(m);
      }
    } else {
      const Matrix m = ReadKaldiMatrix(in, "fuzz.obj");
      CheckKaldiRoundTrip(m);
      CheckKaldiCompression(m);
    }
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace slid::fuzz
