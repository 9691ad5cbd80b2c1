// How the subcommands of the `slid` program plug in. Each tools/cmd_<name>.cc defines one
// static CommandRegistration: `setup` adds its options to the CLI11 subcommand and returns the
// function that runs it once parsing succeeded. Tools stay thin: parse, call the library, print.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace slid::tool {

// Exit codes that scripts can trust.
enum ExitCode : int {
  kExitOk = 0,           // everything succeeded
  kExitError = 1,        // the job failed (bad model, unwritable output, ...)
  kExitUsage = 2,        // bad command line or contradictory options
  kExitSomeFailed = 3,   // a batch finished, but at least one input was reported and skipped
  kExitInterrupted = 130 // SIGINT
};

using Runner = std::function<int()>;
using Setup = std::function<Runner(CLI::App&)>;

struct CommandInfo {
  std::string name;
  std::string description;
  Setup setup;
};

std::vector<CommandInfo>& Commands();

struct CommandRegistration {
  CommandRegistration(std::string name, std::string description, Setup setup) {
    Commands().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace slid::tool
