// Small pieces shared by several library sources (not installed).
#pragma once
#include <cerrno>
#include <cstring>
#include <string>

namespace slid {

// log(2 pi), the constant of the Gaussian log-density.
inline constexpr double kLog2Pi = 1.8378770664093453;

// The text of the current errno ("No such file or directory"). Call right after the failing call.
inline std::string ErrnoText() { return std::strerror(errno); }

}  // namespace slid
