// Terminal progress lines; see progress.h.
#include "progress.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace slid::tool {

std::atomic<int> g_terminal_fd{STDERR_FILENO};

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  char buf[64];
  const long s = std::lround(seconds);
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld h %02ld min", s / 3600, (s % 3600) / 60);
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%ld min %02ld s", s / 60, s % 60);
  else if (seconds < 10)
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  else
    std::snprintf(buf, sizeof buf, "%ld s", s);
  return buf;
}

int TerminalColumns() {
  struct winsize ws {};
  if (::ioctl(g_terminal_fd.load(), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS")) {
    const int n = std::atoi(c);
    if (n > 0) return n;
  }
  return 80;
}

std::string FitToColumns(const std::string& text, int columns) {
  if (columns < 1) columns = 1;
  int used = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
    if (++used > columns) return text.substr(0, i);
  }
  return text;
}

Progress::Progress(std::string prefix, bool quiet, int tty, double plain_interval_s)
    : prefix_(std::move(prefix)), quiet_(quiet), plain_interval_s_(plain_interval_s) {
  tty_ = tty < 0 ? ::isatty(STDERR_FILENO) == 1 : tty == 1;
  phase_start_ = last_draw_ = std::chrono::steady_clock::now();
  if (tty_ && !quiet_ && tty < 0) StartStderrRelay();
}

Progress::~Progress() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (tty_ && status_shown_ && !quiet_) WriteLocked("\n");
    status_shown_ = false;
  }
  StopStderrRelay();
}

// While a status line is on the terminal, fd 2 is a pipe read by a thread that prints what arrives
// (a child's warnings, a library's message) as whole lines above the status line. Progress itself
// writes to a saved copy of the terminal. Only on a TTY: logs and pipes get the plain stream (and a
// crash report there is never held in a pipe).
void Progress::StartStderrRelay() {
  int fds[2];
  if (::pipe(fds) != 0) return;
  std::fflush(stderr);
  saved_stderr_ = ::dup(STDERR_FILENO);
  if (saved_stderr_ < 0 || ::dup2(fds[1], STDERR_FILENO) < 0) {
    if (saved_stderr_ >= 0) ::close(saved_stderr_);
    saved_stderr_ = -1;
    ::close(fds[0]);
    ::close(fds[1]);
    return;
  }
  ::close(fds[1]);
  ::fcntl(saved_stderr_, F_SETFD, FD_CLOEXEC);  // children write to the pipe, not around it
  ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  relay_read_ = fds[0];
  out_fd_ = saved_stderr_;
  g_terminal_fd.store(saved_stderr_);
  relay_ = std::thread([this] { RelayLoop(); });
}

void Progress::StopStderrRelay() {
  if (saved_stderr_ < 0) return;
  std::fflush(stderr);
  ::dup2(saved_stderr_, STDERR_FILENO);  // closes our write end of the pipe
  g_terminal_fd.store(STDERR_FILENO);
  relay_stop_.store(true);
  relay_.join();
  ::close(relay_read_);
  ::close(saved_stderr_);
  saved_stderr_ = relay_read_ = -1;
  out_fd_ = STDERR_FILENO;
}

void Progress::RelayLoop() {
  std::string pending;
  char buf[4096];
  for (;;) {
    struct pollfd p {relay_read_, POLLIN, 0};
    const int ready = ::poll(&p, 1, 100);
    ssize_t n = 0;
    if (ready > 0) n = ::read(relay_read_, buf, sizeof buf);
    if (n > 0) pending.append(buf, static_cast<size_t>(n));
    // Whole lines go out at once; a partial line waits for its end (or for the stop).
    const bool stopping = relay_stop_.load() && n <= 0;
    size_t end = pending.rfind('\n');
    if (stopping && !pending.empty() && end != pending.size() - 1) {
      pending += '\n';
      end = pending.size() - 1;
    }
    if (end != std::string::npos) {
      std::lock_guard<std::mutex> lock(mu_);
      if (status_shown_) WriteLocked("\r\033[K");
      WriteLocked(pending.substr(0, end + 1));
      pending.erase(0, end + 1);
      if (status_shown_) WriteLocked(status_text_);
    }
    if (stopping || (ready > 0 && n == 0)) return;
  }
}

void Progress::WriteLocked(const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(out_fd_, text.data() + off, text.size() - off);
    if (n <= 0) return;  // a closed terminal: progress is not worth failing for
    off += static_cast<size_t>(n);
  }
}

double Progress::Since(std::chrono::steady_clock::time_point t) const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void Progress::StartPhase(const std::string& what, int64_t total, const std::string& unit) {
  std::lock_guard<std::mutex> lock(mu_);
  what_ = what;
  unit_ = unit;
  total_ = total;
  done_ = 0;
  detail_.clear();
  phase_start_ = std::chrono::steady_clock::now();
  last_draw_ = phase_start_ - std::chrono::hours(1);  // draw the first update at once
  if (tty_) DrawLocked(false, false);
}

void Progress::Advance(int64_t n, const std::string& detail, bool force_line) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += n;
  if (!detail.empty()) detail_ = detail;
  DrawLocked(force_line, false);
}

void Progress::EndPhase(const std::string& detail) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!detail.empty()) detail_ = detail;
  DrawLocked(true, true);
  what_.clear();
}

void Progress::Warn(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  if (tty_ && status_shown_) WriteLocked("\r\033[K");
  WriteLocked(prefix_ + ": " + text + "\n");
  if (tty_ && status_shown_) WriteLocked(status_text_);
}

// A permanent line folded at spaces to the terminal's width, continuation rows indented by two.
std::string FoldToColumns(const std::string& text, int columns) {
  const size_t width = static_cast<size_t>(std::max(columns, 20));
  std::string out, rest = text;
  while (rest.size() > width) {
    size_t cut = rest.rfind(' ', width);
    if (cut == std::string::npos || cut < 3) cut = width;
    out += rest.substr(0, cut) + "\n";
    rest = "  " + rest.substr(rest[cut] == ' ' ? cut + 1 : cut);
  }
  return out + rest;
}

void Progress::Line(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  if (quiet_) return;
  if (tty_ && status_shown_) WriteLocked("\r\033[K");
  const std::string line = prefix_ + ": " + text;
  WriteLocked((tty_ ? FoldToColumns(line, TerminalColumns() - 1) : line) + "\n");
  if (tty_ && status_shown_) WriteLocked(status_text_);
}

void Progress::DrawLocked(bool force_line, bool final_line) {
  if (quiet_ || what_.empty()) return;
  const double since_draw = Since(last_draw_);
  if (!force_line && !final_line && since_draw < (tty_ ? 0.1 : plain_interval_s_)) return;
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = Since(phase_start_);
  // Counts and the phase's time left come first, so that cutting the line to the terminal's width
  // loses only the detail.
  std::string text = prefix_ + ": " + what_ + " " + std::to_string(done_);
  if (total_ > 0) text += "/" + std::to_string(total_);
  text += " " + unit_;
  if (final_line) {
    text += " in " + FormatDuration(elapsed);
  } else if (total_ > 0 && done_ > 0 && done_ < total_) {
    text += ", phase: ~" + FormatDuration(elapsed / done_ * (total_ - done_)) + " left";
  }
  if (!detail_.empty()) text += ", " + detail_;
  if (tty_) {
    // Redrawn in place, cut to one column less than the width (writing the last column makes some
    // terminals wrap). The phase's last state stays as a permanent line.
    text = FitToColumns(text, TerminalColumns() - 1);
    WriteLocked("\r\033[K" + text + (final_line ? "\n" : ""));
    status_shown_ = !final_line;
    status_text_ = status_shown_ ? text : std::string();
  } else {
    WriteLocked(text + "\n");
  }
}

}  // namespace slid::tool
