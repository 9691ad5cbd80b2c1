// `slid version`: prints the version, for scripts that record what produced their results.
#include <cstdio>

#include "command.h"
#include "slid/version.h"

namespace {
slid::tool::CommandRegistration register_version("version", "Print the slid version", [](CLI::App&) {
  return []() {
    std::printf("slid %s\n", slid::Version());
    return 0;
  };
});
}  // namespace
