// The frontend options every `slid` subcommand accepts, in one place: one CLI11 option per row of
// slid::FrontendOptionTable() (Kaldi spelling, e.g. --num-ceps=7; its help and its default shown in
// --help) plus --config FILE, a Kaldi-style config ("--num-ceps=7" per line, '#' comments).
// Precedence: built-in defaults, then the config file, then flags given explicitly on the command line.
// Kaldi options that do not change the features (slid::KaldiOptionsWithoutEffect(): --allow-downsample,
// --allow-upsample, --verbose, ...) are accepted too, on the command line (as Kaldi writes them:
// --name or --name=value) and in the config file, each giving a one-line note for the tool to print.
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
  // `notes` (if given) receives one line per Kaldi option without effect that was given (config file
  // or command line): "<where>: note: --<name> does not change the features; ignored".
  FrontendOptions Resolve(std::vector<std::string>* notes = nullptr) const;

  // The notes alone (reads the config file; never throws: a bad config is reported where it is used);
  // for tools that do not Resolve.
  std::vector<std::string> Notes() const;

  // True if the user gave --config or any frontend flag that changes features (e.g. to warn that a
  // model's options win). Kaldi options without effect do not count.
  bool AnyGiven() const;

 private:
  void CommandLineNotes(std::vector<std::string>* notes) const;  // appends one per no-effect flag given

  std::string config_path_;
  CLI::Option* config_opt_ = nullptr;
  std::vector<std::string> values_;   // one per FrontendOptionTable() row
  std::vector<CLI::Option*> options_; // one per FrontendOptionTable() row
  std::vector<std::string> no_effect_values_;    // one per KaldiOptionsWithoutEffect() name
  std::vector<CLI::Option*> no_effect_options_;  // null where the tool has an option of that name itself
};

}  // namespace slid::tool
