// The `slid` program: one binary, one subcommand per job (features, train, identify, eval, info).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <map>

#include "command.h"
#include "slid/error.h"

namespace slid::tool {
std::vector<CommandInfo>& Commands() {
  static std::vector<CommandInfo> commands;
  return commands;
}
}  // namespace slid::tool

int main(int argc, char** argv) {
  using namespace slid::tool;
  CLI::App app{"slid: spoken language identification with MFCC/SDC features and per-language GMMs.\n"
               "Exit codes: 0 ok, 1 error, 2 usage, 3 batch finished but some inputs failed."};
  app.set_version_flag("--version", std::string("slid ") + SLID_VERSION);
  app.require_subcommand(1);
  auto commands = Commands();
  std::sort(commands.begin(), commands.end(),
            [](const CommandInfo& a, const CommandInfo& b) { return a.name < b.name; });
  std::map<CLI::App*, Runner> runners;
  for (const auto& c : commands) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    runners[sub] = c.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
  } catch (const slid::Error& e) {
    std::fprintf(stderr, "slid: error: %s\n", e.what());
    return kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "slid: error: %s\n", e.what());
    return kExitError;
  }
  return kExitUsage;
}
