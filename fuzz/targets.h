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
#include <string>

#include "slid/audio.h"
#include "slid/error.h"

namespace slid::fuzz {

// A property of an accepted input does not hold: a bug, reported as a crash.
[[noreturn]] inline void PropertyFailed(const char* what) {
  std::fprintf(stderr, "fuzz property failed: %s\n", what);
  std::abort();
}

// Audio decoding from memory. The first byte picks the target rate (native, 8 kHz or 16 kHz) so
// the resampler is exercised too; the rest is the file.
inline int FuzzAudio(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const int kRates[] = {0, 8000, 16000};
  const int target = kRates[data[0] % 3];
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    Waveform w = ReadAudioFromMemory(bytes, "fuzz-input", 0);
    if (w.samples.empty()) PropertyFailed("accepted audio has no samples");
    if (w.rate_hz <= 0) PropertyFailed("accepted audio has no rate");
    for (float v : w.samples)
      if (!std::isfinite(v)) PropertyFailed("non-finite sample accepted");
    // Resample only plausible rates and lengths: a 1 Hz file resampled to 16 kHz is legitimately
    // 16000 times larger. The streaming path (resampling while decoding) and the one-shot
    // Resample() must agree on the length: round(n * target / rate).
    if (target > 0 && w.rate_hz >= 1000 && w.rate_hz <= 400000 && w.samples.size() < 100000) {
      const Waveform streamed = ReadAudioFromMemory(bytes, "fuzz-input", target);
      const Waveform oneshot = Resample(w, target);
      if (streamed.rate_hz != target || oneshot.rate_hz != target) PropertyFailed("resampled rate differs");
      if (streamed.samples.size() != oneshot.samples.size()) PropertyFailed("streamed and one-shot lengths differ");
    }
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace slid::fuzz
