// The one exception type the slid library throws. The library never prints or exits;
// tools catch slid::Error, print its message on one line and return non-zero.
#pragma once
#include <stdexcept>
#include <string>

namespace slid {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Error("<path>: <what>"): the form every file-related error takes.
[[noreturn]] inline void ThrowFileError(const std::string& path, const std::string& what) {
  throw Error(path + ": " + what);
}

}  // namespace slid
