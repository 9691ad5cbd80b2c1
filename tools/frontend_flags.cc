#include "frontend_flags.h"

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
}

FrontendOptions FrontendFlags::Resolve() const {
  const auto& table = FrontendOptionTable();
  FrontendOptions opts;
  if (config_opt_ && config_opt_->count() > 0)
    ApplyKaldiConfig(ReadFileToString(config_path_), config_path_, &opts);
  for (size_t i = 0; i < options_.size(); ++i)
    if (options_[i] && options_[i]->count() > 0) table[i].set(&opts, values_[i]);
  opts.Validate();
  return opts;
}

bool FrontendFlags::AnyGiven() const {
  if (config_opt_ && config_opt_->count() > 0) return true;
  for (const CLI::Option* o : options_)
    if (o && o->count() > 0) return true;
  return false;
}

}  // namespace slid::tool
