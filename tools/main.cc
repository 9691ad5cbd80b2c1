// The `slid` program: one binary, one subcommand per job (features, train, identify, eval, info).
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>

#include <signal.h>
#include <unistd.h>

#include "command.h"
#include "slid/error.h"
#include "slid/io.h"

namespace slid::tool {
std::vector<CommandInfo>& Commands() {
  static std::vector<CommandInfo> commands;
  return commands;
}
}  // namespace slid::tool

namespace {

// Ctrl-C (SIGINT), SIGTERM, SIGHUP: remove the temporary files of atomic writes in flight, say so
// on one line and exit with 128 + signal (130 for Ctrl-C). Finished outputs were renamed into place
// whole and stay; unfinished ones never appear. Only async-signal-safe calls here.
extern "C" void OnStopSignal(int sig) {
  slid::RemoveRegisteredTempFiles();
  static const char kMsg[] = "slid: interrupted, unfinished outputs removed\n";
  ssize_t ignored = ::write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
  (void)ignored;
  ::_exit(128 + sig);
}

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&sa.sa_mask, sig);  // one handler run at a time
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace slid::tool;
  InstallStopHandlers();
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
  // CLI11 would only say "A subcommand is required" for a mistyped one: name it and list the commands.
  if (argc > 1 && argv[1][0] != '-' &&
      std::none_of(commands.begin(), commands.end(), [&](const CommandInfo& c) { return c.name == argv[1]; })) {
    std::string names;
    for (const auto& c : commands) names += (names.empty() ? "" : ", ") + c.name;
    std::fprintf(stderr, "slid: error: unknown command '%s' (commands: %s; see slid --help)\n", argv[1], names.c_str());
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) {
        const int code = run();
        // Results printed to a full disk or a closed pipe must not be lost silently.
        errno = 0;
        const bool flushed = std::fflush(stdout) == 0;
        if (!flushed || std::ferror(stdout)) {
          std::fprintf(stderr, "slid: error: standard output: write failed (%s)\n",
                       !flushed && errno != 0 ? std::strerror(errno) : "disk full or closed?");
          return kExitError;
        }
        return code;
      }
  } catch (const slid::Error& e) {
    std::fprintf(stderr, "slid: error: %s\n", e.what());
    return kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "slid: error: %s\n", e.what());
    return kExitError;
  }
  return kExitUsage;
}
