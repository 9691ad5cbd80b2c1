// The frontend options every `slid` subcommand accepts, in one place: one CLI11 option per row of
// slid::FrontendOptionTable() (Kaldi spelling, e.g. --num-ceps=7; its help and its default shown in
// --help) plus --config FILE, a Kaldi-style config ("--num-ceps=7" per line, '#' comments).
// Precedence: built-in defaults, then the config file, then flags given explicitly on the command line.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "slid/frontend.h"

namespace slid::tool {

class FrontendFlags {
 public:
  // Adds --config and every frontend option to `app`, in an option group named `group`.
  // Values are checked as they are parsed, so a bad value is a usage error naming the option.
  void Register(CLI::App& app, const std::string& group = "Frontend options (Kaldi names; --config applies first)");

  // Defaults <- config file <- explicit flags, then FrontendOptions::Validate().
  // Throws slid::Error naming the config file and line, or the option, on a bad value or contradiction.
  FrontendOptions Resolve() const;

  // True if the user gave --config or any frontend flag (e.g. to warn that a model's options win).
  bool AnyGiven() const;

 private:
  std::string config_path_;
  CLI::Option* config_opt_ = nullptr;
  std::vector<std::string> values_;   // one per FrontendOptionTable() row
  std::vector<CLI::Option*> options_; // one per FrontendOptionTable() row
};

}  // namespace slid::tool
