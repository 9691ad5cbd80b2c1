// `slid info MODEL`: what a model file holds (languages, shapes, frontend, training summary).
#include <cstdio>
#include <memory>

#include "command.h"
#include "slid/model.h"

namespace slid::tool {
namespace {

struct InfoArgs {
  std::string model;
  bool json = false;
};

std::string Text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

int Run(const InfoArgs& args) {
  const LanguageModelSet m = LanguageModelSet::Load(args.model);
  nlohmann::json h = m.Header();
  if (args.json) {
    std::printf("%s\n", h.dump(2).c_str());
    return kExitOk;
  }
  std::printf("model:          %s\n", args.model.c_str());
  std::printf("format version: %u\n", m.file_format_version);
  std::printf("back-end:       %s\n", m.backend->Describe().c_str());
  std::printf("calibration:    %s\n", m.calibration.empty() ? "none" : m.calibration.info.value("method", std::string("affine")).c_str());
  std::printf("feature dim:    %d\n", m.Dim());
  std::printf("languages:      %zu\n", m.languages.size());
  const nlohmann::json& s = m.summary;
  const nlohmann::json per = s.value("languages", nlohmann::json::object());
  std::printf("\n  %-12s %8s %12s %10s %6s %14s\n", "language", "gauss", "frames", "hours", "iters", "final avg llk");
  for (size_t i = 0; i < m.languages.size(); ++i) {
    const std::string& l = m.languages[i];
    const nlohmann::json p = per.value(l, nlohmann::json::object());
    auto num = [&](const char* key, const char* fmt) {
      char buf[32];
      if (p.contains(key) && p[key].is_number())
        std::snprintf(buf, sizeof buf, fmt, p[key].get<double>());
      else
        std::snprintf(buf, sizeof buf, "-");
      return std::string(buf);
    };
    std::printf("  %-12s %8d %12s %10s %6s %14s\n", l.c_str(), m.backend->NumGauss(i), num("frames", "%.0f").c_str(),
                num("audio_hours", "%.3f").c_str(), num("iterations", "%.0f").c_str(),
                num("final_avg_loglik", "%.4f").c_str());
  }
  std::printf("\ntraining summary:\n");
  for (const char* key : {"audio_hours", "frames", "files", "failed_files", "data_problems", "data", "data_format",
                          "features", "date", "slid_version", "command_line"})
    if (s.contains(key)) std::printf("  %-14s %s\n", key, Text(s[key]).c_str());
  if (s.contains("em")) std::printf("  %-14s %s\n", "em", s["em"].dump().c_str());
  if (s.contains("ubm") && !s["ubm"].is_null()) std::printf("  %-14s %s\n", "ubm", s["ubm"].dump().c_str());
  if (m.frontend_external) {
    std::printf("\nfrontend:       external (trained on precomputed features from outside slid; scores such "
                "features only, with --feats)\n");
    return kExitOk;
  }
  std::printf("\nfrontend options:\n");
  for (const auto& [k, v] : h["frontend"].items()) std::printf("  --%s=%s\n", k.c_str(), Text(v).c_str());
  return kExitOk;
}

CommandRegistration register_info("info",
                        "Print what a model file holds: languages, GMM shapes, frontend options and training "
                        "summary.\nExample:\n  slid info models/default.slid --json",
                        [](CLI::App& app) -> Runner {
                          auto args = std::make_shared<InfoArgs>();
                          app.add_option("model", args->model, "Model file")->required()->type_name("MODEL");
                          app.add_flag("--json", args->json, "Print the model's JSON header instead");
                          return [args]() { return Run(*args); };
                        });

}  // namespace
}  // namespace slid::tool
