// Terminal progress for the long-running subcommands (train, eval, identify): a counted phase
// ("features 120/800 files, 3.2 h of audio, 41 s left"), free-form status and permanent lines.
//  - On a terminal (stderr is a TTY) the status line is redrawn in place, at most 10 times a second.
//  - Otherwise (logs, pipes, CI) plain lines are written: at most one every `plain_interval_s`
//    seconds per phase, plus one at the end of each phase; Line() always prints.
//  - quiet: nothing at all (errors are not progress: callers print them themselves).
// Thread-safe: workers may call Advance() concurrently.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace slid::tool {

class Progress {
 public:
  // `prefix` starts every line ("slid train"). tty: -1 detect on stderr, 0/1 force.
  Progress(std::string prefix, bool quiet, int tty = -1, double plain_interval_s = 5.0);
  ~Progress();

  // Starts a counted phase: `what` names it, `total` items (files, iterations); `unit` ("files").
  void StartPhase(const std::string& what, int64_t total, const std::string& unit);
  // `n` more items done; `detail` replaces the phase's detail text ("3.1 h audio, 2 failed").
  // force_line: print a plain line now even when not on a TTY (e.g. each EM iteration).
  void Advance(int64_t n, const std::string& detail = "", bool force_line = false);
  // Ends the phase with a final line ("features: 800/800 files in 12.3 s; <detail>").
  void EndPhase(const std::string& detail = "");
  // A permanent line (clears the status line first on a TTY); nothing when quiet.
  void Line(const std::string& text);
  // As Line, but printed even when quiet: skipped files and warnings are not progress.
  void Warn(const std::string& text);

  bool is_tty() const { return tty_; }
  bool quiet() const { return quiet_; }

 private:
  void DrawLocked(bool force_line, bool final_line);
  double Since(std::chrono::steady_clock::time_point t) const;

  std::mutex mu_;
  std::string prefix_;
  bool quiet_ = false;
  bool tty_ = false;
  double plain_interval_s_ = 5.0;
  bool status_shown_ = false;
  std::string what_, unit_, detail_;
  int64_t total_ = 0, done_ = 0;
  std::chrono::steady_clock::time_point phase_start_, last_draw_;
};

// "1 h 02 min", "3 min 05 s", "12 s".
std::string FormatDuration(double seconds);

}  // namespace slid::tool
