// Terminal progress for the long-running subcommands (train, eval, identify): a counted phase
// ("features 120/800 files, phase: ~41 s left, 3.2 h of audio"), free-form status and permanent lines.
//  - On a terminal (stderr is a TTY) the status line is redrawn in place, at most 10 times a second,
//    cut to the terminal's width (TIOCGWINSZ, else $COLUMNS, else 80) so that it never wraps: a
//    wrapped line left a stale row at every redraw. Each phase ends in one permanent line (so EM
//    shows one line per language, not one per iteration). Output of child processes (the commands
//    of a wav.scp, e.g. sox warnings) is routed through a pipe and printed as whole lines above the
//    status line, never into it.
//  - Otherwise (logs, pipes, CI) plain lines are written: at most one every `plain_interval_s`
//    seconds per phase, plus one at the end of each phase; Line() always prints.
//  - quiet: nothing at all (errors are not progress: callers print them themselves).
// Thread-safe: workers may call Advance() concurrently.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace slid::tool {

class Progress {
 public:
  // `prefix` starts every line ("slid train"). tty: -1 detect on stderr, 0/1 force.
  Progress(std::string prefix, bool quiet, int tty = -1, double plain_interval_s = 5.0);
  ~Progress();

  // Starts a counted phase: `what` names it, `total` items (files, iterations); `unit` ("files").
  void StartPhase(const std::string& what, int64_t total, const std::string& unit);
  // `n` more items done; `detail` replaces the phase's detail text ("3.1 h audio, 2 failed").
  // force_line: print a plain line now when not on a TTY (e.g. each EM iteration, for logs); on a
  // TTY it only redraws the status line at once.
  void Advance(int64_t n, const std::string& detail = "", bool force_line = false);
  // Ends the phase with a final line ("features: 800/800 files in 12.3 s; <detail>").
  void EndPhase(const std::string& detail = "");
  // A permanent line (clears the status line first on a TTY, and is folded to its width there);
  // nothing when quiet.
  void Line(const std::string& text);
  // As Line, but printed even when quiet: skipped files and warnings are not progress.
  void Warn(const std::string& text);

  bool is_tty() const { return tty_; }
  bool quiet() const { return quiet_; }

 private:
  void DrawLocked(bool force_line, bool final_line);
  double Since(std::chrono::steady_clock::time_point t) const;
  void WriteLocked(const std::string& text);  // to the terminal (out_), unbuffered
  void StartStderrRelay();
  void StopStderrRelay();
  void RelayLoop();

  std::mutex mu_;
  std::string prefix_;
  bool quiet_ = false;
  bool tty_ = false;
  double plain_interval_s_ = 5.0;
  bool status_shown_ = false;
  std::string status_text_;    // the status line on the terminal now (TTY), to redraw after other lines
  std::string what_, unit_, detail_;
  int64_t total_ = 0, done_ = 0;
  std::chrono::steady_clock::time_point phase_start_, last_draw_;
  int out_fd_ = 2;             // where progress goes: stderr, or its saved copy while relaying
  int saved_stderr_ = -1;      // the real stderr while fd 2 is the relay pipe
  int relay_read_ = -1;        // read end of the relay pipe
  std::atomic<bool> relay_stop_{false};
  std::thread relay_;
};

// The terminal's file descriptor: 2, or the saved copy of the real stderr while a Progress relays
// fd 2 through its pipe. Read by signal handlers (lock-free, async-signal-safe) to print their line.
extern std::atomic<int> g_terminal_fd;

// Columns of the terminal on standard error: TIOCGWINSZ, else $COLUMNS, else 80.
int TerminalColumns();
// `text` folded at spaces into rows of at most `columns` bytes, continuation rows indented by two.
std::string FoldToColumns(const std::string& text, int columns);
// `text` cut to at most `columns` characters (UTF-8 aware; escape sequences are not expected).
std::string FitToColumns(const std::string& text, int columns);

// "1 h 02 min", "3 min 05 s", "12 s".
std::string FormatDuration(double seconds);

}  // namespace slid::tool
