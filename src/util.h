// Small pieces shared by several library sources (not installed).
#pragma once
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace slid {

// log(2 pi), the constant of the Gaussian log-density.
inline constexpr double kLog2Pi = 1.8378770664093453;

// `s` without leading and trailing ASCII white space (space, \t, \n, \v, \f, \r).
inline std::string Trim(const std::string& s) {
  const char* kSpace = " \t\n\v\f\r";
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

// The text of the current errno ("No such file or directory"). Call right after the failing call.
inline std::string ErrnoText() { return std::strerror(errno); }

// "r x c", for messages about matrix shapes.
inline std::string Shape(int64_t r, int64_t c) { return std::to_string(r) + " x " + std::to_string(c); }

// Flushes the file's data to the disk, so that a rename after it cannot expose an empty file after a
// crash. False if the file cannot be opened or synced (src/io.cc).
bool SyncFile(const std::string& path);

}  // namespace slid
