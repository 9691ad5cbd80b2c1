// The library drivers' callbacks (slid/callbacks.h) drawn on a terminal Progress: phases and
// advances become progress lines, warnings "warning: ...", skipped entries "skipped: ..." (the last
// two are printed even with --quiet).
#pragma once
#include "progress.h"
#include "slid/callbacks.h"

namespace slid::tool {

inline ProgressCallbacks ProgressCallbacksFor(Progress& progress) {
  ProgressCallbacks cb;
  cb.phase_start = [&progress](const std::string& what, int64_t total, const std::string& unit) {
    progress.StartPhase(what, total, unit);
  };
  cb.advance = [&progress](int64_t n, const std::string& detail, bool milestone, double overall_seconds_left) {
    progress.Advance(n, overall_seconds_left < 0 ? detail : detail + ", total: ~" + FormatDuration(overall_seconds_left) + " left",
                     milestone);
  };
  cb.phase_end = [&progress](const std::string& detail) { progress.EndPhase(detail); };
  cb.info = [&progress](const std::string& text) { progress.Line(text); };
  cb.warning = [&progress](const std::string& text) { progress.Warn("warning: " + text); };
  cb.entry_error = [&progress](const std::string& message) { progress.Warn("skipped: " + message); };
  return cb;
}

}  // namespace slid::tool
