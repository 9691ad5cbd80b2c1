// How the long-running library drivers (TrainLanguageModelSet, ScoreDataset, Evaluate) report to their
// caller: the library never prints, it calls these. Every member may be left empty (nothing is called).
// Calls come from the thread that called the driver, or (ScoreDataset's per-entry callbacks) from one
// worker thread at a time, never concurrently.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace slid {

struct ProgressCallbacks {
  // A counted phase starts: `what` names it ("features", "EM en (1/3)"), `total` items of `unit`
  // ("files", "iterations").
  std::function<void(const std::string& what, int64_t total, const std::string& unit)> phase_start;
  // `n` more items of the current phase are done. `detail` describes the state so far ("3.1 h of audio,
  // 2 failed"); `milestone` marks a step worth a line of its own in a log (one EM iteration);
  // `overall_seconds_left` estimates the time left for the whole driver (< 0: no estimate).
  std::function<void(int64_t n, const std::string& detail, bool milestone, double overall_seconds_left)> advance;
  // The current phase ended; `detail` summarises it ("120000 frames, converged").
  std::function<void(const std::string& detail)> phase_end;
  // A line of information ("12 files in 3 languages ...").
  std::function<void(const std::string& text)> info;
  // Something the user should know that does not stop the run ("en: reduced to 12 Gaussians").
  std::function<void(const std::string& text)> warning;
  // One entry of a batch failed and is skipped; `message` is one line naming the entry (path or command).
  std::function<void(const std::string& message)> entry_error;
};

}  // namespace slid
