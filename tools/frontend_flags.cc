#include "frontend_flags.h"

#include <cstdio>

#include "command.h"
#include "slid/error.h"
#include "slid/io.h"

namespace slid::tool {

void FrontendFlags::Register(CLI::App& app, const std::string& group) {
  const auto& table = FrontendOptionTable();
  const FrontendOptions defaults;
  values_.assign(table.size(), std::string());
  options_.assign(table.size(), nullptr);
  config_opt_ = app.add_option("--config", config_path_,
                               "Kaldi-style config file of frontend options (e.g. conf/mfcc.conf: one "
                               "--name=value per line); flags given explicitly override it")
                    ->type_name("FILE")
                    ->group(group);
  for (size_t i = 0; i < table.size(); ++i) {
    const FrontendOptionInfo& row = table[i];
    // A bad value fails during parsing, so CLI11 reports it as a usage error (exit code 2).
    CLI::Validator check(
        [row](std::string& value) -> std::string {
          try {
            FrontendOptions scratch;
            row.set(&scratch, value);
          } catch (const Error& e) {
            // CLI11 already prefixes the option name; drop the library's own "<name>: " or "--<name>: ".
            std::string what = e.what();
            for (const std::string& prefix : {"--" + row.name + ": ", row.name + ": "})
              if (what.rfind(prefix, 0) == 0) return what.substr(prefix.size());
            return what;
          }
          return {};
        },
        "", row.name);
    std::string type = row.type == "int" ? "INT" : row.type == "float" ? "FLOAT" : row.type == "bool" ? "BOOL" : "TEXT";
    options_[i] = app.add_option("--" + row.name, values_[i], row.help)
                      ->default_str(row.get(defaults))
                      ->type_name(type)
                      ->check(check)
                      ->group(group);
  }
  RegisterNoEffect(app);
}

void FrontendFlags::RegisterNoEffect(CLI::App& app) {
  // Kaldi options without effect, as Kaldi spells them: a bare flag or --name=value (never a separate
  // value, which would swallow the next argument). Left to the tool where it has an option of that name
  // (features --compress). Hidden from --help: they do nothing.
  const auto& none = KaldiOptionsWithoutEffect();
  no_effect_values_.assign(none.size(), std::string());
  no_effect_options_.assign(none.size(), nullptr);
  for (size_t i = 0; i < none.size(); ++i) {
    if (app.get_option_no_throw("--" + none[i])) continue;
    no_effect_options_[i] = app.add_flag("--" + none[i], no_effect_values_[i], "")->group("");
  }
}

void FrontendFlags::RegisterCheck(CLI::App& app) {
  check_opt_ = app.add_option("--frontend-check", check_path_,
                              "The model's frontend options are always used; with a Kaldi-style config FILE "
                              "(e.g. the conf/mfcc.conf the data was prepared with), stop with an error if any "
                              "option in it differs from the model's")
                   ->type_name("FILE");
  RegisterNoEffect(app);
}

int FrontendFlags::CheckModel(const FrontendOptions& model, bool external, const std::string& model_path) const {
  for (const std::string& n : Notes()) std::fprintf(stderr, "slid: %s\n", n.c_str());
  if (!check_opt_ || check_opt_->count() == 0) return kExitOk;
  std::string diff;
  try {
    if (external)
      throw Error(model_path + " was trained on external features; it has no frontend options to check " +
                  check_path_ + " against");
    FrontendOptions asked = model;
    std::vector<std::string> ignored;
    ApplyKaldiConfig(ReadFileToString(check_path_), check_path_, &asked, &ignored);
    for (const std::string& n : ignored) std::fprintf(stderr, "slid: %s\n", n.c_str());
    for (const auto& row : FrontendOptionTable()) {
      const std::string a = row.get(asked), m = row.get(model);
      if (a != m) diff += (diff.empty() ? "" : ", ") + row.name + "=" + a + " (model: " + m + ")";
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "slid: error: %s\n", e.what());
    return kExitUsage;
  }
  if (diff.empty()) return kExitOk;
  std::fprintf(stderr,
               "slid: error: %s: frontend options differ from those %s was trained with: %s. A model only scores "
               "features made like its training features.\n",
               check_path_.c_str(), model_path.c_str(), diff.c_str());
  return kExitUsage;
}

FrontendOptions FrontendFlags::Resolve(std::vector<std::string>* notes) const {
  const auto& table = FrontendOptionTable();
  FrontendOptions opts;
  if (config_opt_ && config_opt_->count() > 0)
    ApplyKaldiConfig(ReadFileToString(config_path_), config_path_, &opts, notes);
  if (notes) CommandLineNotes(notes);
  for (size_t i = 0; i < options_.size(); ++i)
    if (options_[i] && options_[i]->count() > 0) table[i].set(&opts, values_[i]);
  opts.Validate();
  return opts;
}

std::vector<std::string> FrontendFlags::Notes() const {
  std::vector<std::string> notes;
  if (config_opt_ && config_opt_->count() > 0) {
    FrontendOptions scratch;
    try {
      ApplyKaldiConfig(ReadFileToString(config_path_), config_path_, &scratch, &notes);
    } catch (const Error&) {
      // An unreadable or bad config is reported where it is used (Resolve, or the check against a model).
    }
  }
  CommandLineNotes(&notes);
  return notes;
}

void FrontendFlags::CommandLineNotes(std::vector<std::string>* notes) const {
  for (size_t i = 0; i < no_effect_options_.size(); ++i)
    if (no_effect_options_[i] && no_effect_options_[i]->count() > 0)
      notes->push_back("note: --" + KaldiOptionsWithoutEffect()[i] + " does not change the features; ignored");
}

bool FrontendFlags::AnyGiven() const {
  if (config_opt_ && config_opt_->count() > 0) return true;
  for (const CLI::Option* o : options_)
    if (o && o->count() > 0) return true;
  return false;
}

}  // namespace slid::tool
