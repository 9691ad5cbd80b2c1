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

  // For identify and eval, which take the frontend from the model: only --frontend-check FILE (a Kaldi
  // config whose options must agree with the model's) and the hidden Kaldi options without effect.
  void RegisterCheck(CLI::App& app);

  // After RegisterCheck: prints the notes, then, if --frontend-check was given, compares its options
  // with `model` (the options of the model at `model_path`; `external`: the model has no slid
  // frontend). Returns kExitOk if they agree (or nothing was given), else prints one line naming the
  // file and every differing option (or the bad value) and returns kExitUsage.
  int CheckModel(const FrontendOptions& model, bool external, const std::string& model_path) const;

  // True if the user gave --config or any frontend flag that changes features (e.g. to warn that a
  // model's options win). Kaldi options without effect do not count.
  bool AnyGiven() const;

 private:
  void CommandLineNotes(std::vector<std::string>* notes) const;  // appends one per no-effect flag given

  void RegisterNoEffect(CLI::App& app);  // the hidden Kaldi options without effect

  std::string config_path_;
  CLI::Option* config_opt_ = nullptr;
  std::string check_path_;               // --frontend-check FILE (RegisterCheck)
  CLI::Option* check_opt_ = nullptr;
  std::vector<std::string> values_;   // one per FrontendOptionTable() row
  std::vector<CLI::Option*> options_; // one per FrontendOptionTable() row
  std::vector<std::string> no_effect_values_;    // one per KaldiOptionsWithoutEffect() name
  std::vector<CLI::Option*> no_effect_options_;  // null where the tool has an option of that name itself
};

}  // namespace slid::tool
