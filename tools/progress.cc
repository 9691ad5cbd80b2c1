// Terminal progress lines; see progress.h.
#include "progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace slid::tool {

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

Progress::Progress(std::string prefix, bool quiet, int tty, double plain_interval_s)
    : prefix_(std::move(prefix)), quiet_(quiet), plain_interval_s_(plain_interval_s) {
  tty_ = tty < 0 ? ::isatty(STDERR_FILENO) == 1 : tty == 1;
  phase_start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  std::lock_guard<std::mutex> lock(mu_);
  if (tty_ && status_shown_ && !quiet_) std::fputs("\n", stderr);
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
  if (tty_ && status_shown_) std::fputs("\r\033[K", stderr);
  std::fprintf(stderr, "%s: %s\n", prefix_.c_str(), text.c_str());
  status_shown_ = false;
  std::fflush(stderr);
}

void Progress::Line(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  if (quiet_) return;
  if (tty_ && status_shown_) std::fputs("\r\033[K", stderr);
  std::fprintf(stderr, "%s: %s\n", prefix_.c_str(), text.c_str());
  status_shown_ = false;
  std::fflush(stderr);
}

void Progress::DrawLocked(bool force_line, bool final_line) {
  if (quiet_ || what_.empty()) return;
  const double since_draw = Since(last_draw_);
  if (!force_line && !final_line && since_draw < (tty_ ? 0.1 : plain_interval_s_)) return;
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = Since(phase_start_);
  std::string text = prefix_ + ": " + what_ + " " + std::to_string(done_);
  if (total_ > 0) text += "/" + std::to_string(total_);
  text += " " + unit_;
  if (!detail_.empty()) text += ", " + detail_;
  if (final_line) {
    text += " (" + FormatDuration(elapsed) + ")";
  } else if (total_ > 0 && done_ > 0 && done_ < total_) {
    text += ", ~" + FormatDuration(elapsed / done_ * (total_ - done_)) + " left";
  }
  if (tty_) {
    // Redraw in place; permanent lines (forced or final) end with a newline.
    std::fprintf(stderr, "\r\033[K%s%s", text.c_str(), (force_line || final_line) ? "\n" : "");
    status_shown_ = !(force_line || final_line);
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
}

}  // namespace slid::tool
