// The `slid` program: one binary, one subcommand per job (features, train, identify, eval, info).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <sstream>

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

// CLI11 2.1 does not wrap descriptions: long option texts and examples ran to 130 columns. This
// formatter lays help out as CLI11 does and then folds every line longer than kHelpColumns at spaces;
// continuation lines are indented like the text they continue (an option's description column, or
// the line's own indentation), so nothing is lost and each line fits an 80-column terminal.
class WrappingFormatter : public CLI::Formatter {
 public:
  static constexpr size_t kHelpColumns = 80;
  WrappingFormatter() { column_width(30); }
  // The descriptions were written with hard line breaks for a wider screen. Prose lines are joined
  // again (a line starting with a lower-case letter continues the one before) and folded; indented
  // lines are example commands, folded with a shell continuation (" \\") so they stay runnable.
  std::string make_description(const CLI::App* app) const override {
    const std::string text = CLI::Formatter::make_description(app);
    std::vector<std::string> lines;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(pos, end - pos);
      if (!lines.empty() && !lines.back().empty() && lines.back()[0] != ' ' && !line.empty() &&
          std::islower(static_cast<unsigned char>(line[0])) && lines.back().back() != ':')
        lines.back() += " " + line;
      else
        lines.push_back(std::move(line));
      pos = end + 1;
    }
    std::string out;
    for (const std::string& l : lines) out += (l.rfind("  ", 0) == 0 ? FoldCommand(l) : Fold(l)) + "\n";
    if (!text.empty() && text.back() != '\n') out.pop_back();
    return out;
  }

  // `slid --help` lists each subcommand with the first sentence of its description only.
  std::string make_subcommand(const CLI::App* sub) const override {
    std::string d = sub->get_description();
    for (size_t i = 0; i < d.size(); ++i)
      if (d[i] == '.' && (i + 1 == d.size() || std::isspace(static_cast<unsigned char>(d[i + 1])))) {
        d.resize(i + 1);
        break;
      }
    for (char& c : d)
      if (c == '\n') c = ' ';
    std::stringstream out;
    CLI::detail::format_help(out, sub->get_display_name(), d, column_width_);
    return out.str();
  }

  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override {
    const std::string text = CLI::Formatter::make_help(app, std::move(name), mode);
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      out += Fold(text.substr(pos, end - pos));
      if (end < text.size()) out += '\n';
      pos = end + 1;
    }
    return out;
  }

 private:
  // Where continuation lines start: after a gap of two or more spaces that follows the first word
  // (an option row: "  --name TYPE    description"), else at the line's own indentation.
  static size_t HangingIndent(const std::string& line) {
    const size_t lead = line.find_first_not_of(' ');
    if (lead == std::string::npos) return 0;
    const size_t gap = line.find("  ", lead);
    if (gap != std::string::npos && gap < kHelpColumns / 2) {
      const size_t desc = line.find_first_not_of(' ', gap);
      if (desc != std::string::npos && desc < kHelpColumns / 2) return desc;
    }
    return lead;
  }

  static std::string Fold(std::string line) {
    if (line.size() <= kHelpColumns) return line;
    const size_t indent = HangingIndent(line);
    std::string out;
    while (line.size() > kHelpColumns) {
      size_t cut = line.rfind(' ', kHelpColumns);
      if (cut == std::string::npos || cut <= indent) cut = kHelpColumns;  // one word longer than the room
      out += line.substr(0, line.find_last_not_of(' ', cut) + 1) + "\n";
      const size_t next = line.find_first_not_of(' ', cut);
      line = next == std::string::npos ? std::string() : std::string(indent, ' ') + line.substr(next);
    }
    return out + line;
  }

  // An example command: folded at spaces before kHelpColumns - 2, each cut ending in " \\".
  static std::string FoldCommand(std::string line) {
    if (line.size() <= kHelpColumns) return line;
    const size_t indent = line.find_first_not_of(' ') + 2;
    std::string out;
    while (line.size() > kHelpColumns) {
      size_t cut = line.rfind(' ', kHelpColumns - 2);
      if (cut == std::string::npos || cut <= indent) return out + Fold(line);
      out += line.substr(0, cut) + " \\\n";
      line = std::string(indent, ' ') + line.substr(cut + 1);
    }
    return out + line;
  }
};

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
  app.formatter(std::make_shared<WrappingFormatter>());  // inherited by the subcommands added below
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
