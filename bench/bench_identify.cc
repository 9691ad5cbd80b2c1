// Identification throughput on one thread, end to end (frontend included), in x real time, with
// baselines measured in the same run.
//
// Model: 10 languages x 256 Gaussians x 56 dims (the default frontend). It is NOT trained: each
// language's means are 256 feature frames drawn at random (seeded, different per language) from the
// benchmark audio's own features, variances are the global per-dimension feature variance times a
// random factor in [0.5, 1.5], weights are equal. Scoring cost does not depend on the values; these
// keep the log-densities in a realistic range.
//
// Audio: the asterisk-core-sounds prompts (real 8 kHz speech), read and resampled to 16 kHz in
// sorted order until >= --min-seconds (600) of audio; each prompt is one utterance. Decoding and
// resampling are not in the main figure (it measures Scorer::ScoreWaveform: frontend + GMM scoring);
// a second figure times Scorer::ScoreFile, which also decodes and resamples each file.
//
// Baselines: the frontend alone (Frontend::Compute), and per-frame scalar GMM evaluation (a loop per
// frame, language, Gaussian and dimension, with log-sum-exp per language, double accumulation) on the
// same features; the scalar baseline runs on the first --baseline-seconds of audio and is expressed in
// x real time of that audio. The fast and scalar average log-likelihoods are compared as a check.
//
// Usage: bench_identify [--min-seconds S (600)] [--runs N (3)] [--sounds DIR] [--baseline-seconds S (60)]
//                       [--save-model M --save-list L: write the model and the file list, so that
//                        `time slid identify --model M --list L` measures the program itself]
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "slid/audio.h"
#include "slid/error.h"
#include "slid/frontend.h"
#include "slid/model.h"
#include "slid/scorer.h"

namespace fs = std::filesystem;

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of the calling thread: unlike wall time, not inflated when other processes share the cores.
double ThreadCpu() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

struct Timing {
  double wall = 1e300;  // best wall-clock seconds over the runs
  double cpu = 1e300;   // best thread CPU seconds over the runs
};

// Per-frame scalar evaluation: sum over frames of log sum_k w_k N(x | mu_k, var_k), per language.
std::vector<double> ScalarSums(const slid::LanguageModelSet& m, const slid::Matrix& x) {
  const std::vector<slid::DiagGmm>& gmms = dynamic_cast<const slid::GmmBackend&>(*m.backend).gmms();
  std::vector<double> sums(gmms.size(), 0.0);
  const int d = m.Dim();
  std::vector<double> comp;
  for (size_t l = 0; l < gmms.size(); ++l) {
    const slid::DiagGmm& g = gmms[l];
    const int k = g.NumGauss();
    comp.resize(k);
    for (int64_t t = 0; t < x.rows(); ++t) {
      double mx = -1e300;
      for (int c = 0; c < k; ++c) {
        double s = std::log(g.weights()[c]) - 0.5 * d * std::log(2 * M_PI);
        for (int j = 0; j < d; ++j) {
          const double v = g.variances()(c, j), diff = x(t, j) - g.means()(c, j);
          s -= 0.5 * (std::log(v) + diff * diff / v);
        }
        comp[c] = s;
        mx = std::max(mx, s);
      }
      double z = 0;
      for (int c = 0; c < k; ++c) z += std::exp(comp[c] - mx);
      sums[l] += mx + std::log(z);
    }
  }
  return sums;
}

}  // namespace

int main(int argc, char** argv) {
  double min_seconds = 600, baseline_seconds = 60;
  int runs = 3;
  std::string sounds = "/usr/share/asterisk/sounds";
  std::string save_model, save_list;  // optional: the model and the file list, to time `slid identify` itself
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--min-seconds" && i + 1 < argc) min_seconds = std::atof(argv[++i]);
    else if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--sounds" && i + 1 < argc) sounds = argv[++i];
    else if (a == "--baseline-seconds" && i + 1 < argc) baseline_seconds = std::atof(argv[++i]);
    else if (a == "--save-model" && i + 1 < argc) save_model = argv[++i];
    else if (a == "--save-list" && i + 1 < argc) save_list = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: %s [--min-seconds S (600)] [--runs N (3)] [--sounds DIR] [--baseline-seconds S (60)] [--save-model M] [--save-list L]\n",
                   argv[0]);
      return 2;
    }
  }
  try {
    slid::LanguageModelSet model;  // default frontend options
    const int rate = model.frontend.sample_rate_hz;
    std::vector<std::string> paths;
    if (fs::is_directory(sounds))
      for (const auto& e : fs::recursive_directory_iterator(sounds))
        if (e.is_regular_file() && e.path().extension() == ".wav") paths.push_back(e.path().string());
    std::sort(paths.begin(), paths.end());
    std::vector<slid::Waveform> utts;
    std::vector<std::string> used_paths;
    double total = 0;
    for (const auto& p : paths) {
      if (total >= min_seconds) break;
      slid::Waveform w = slid::ReadAudio(p, rate);
      total += w.Seconds();
      utts.push_back(std::move(w));
      used_paths.push_back(p);
    }
    if (total < min_seconds) {
      std::fprintf(stderr, "only %.1f s of audio under %s (need %.1f)\n", total, sounds.c_str(), min_seconds);
      return 1;
    }
    std::printf("audio: %zu utterances, %.1f s (%.1f min) at %d Hz from %s\n", utts.size(), total, total / 60, rate,
                sounds.c_str());

    // Features once, to build the model and for the scoring-only figures.
    const slid::Frontend fe(model.frontend);
    std::vector<slid::Matrix> feats;
    int64_t voiced = 0;
    for (const auto& u : utts) {
      feats.push_back(fe.Compute(u));
      voiced += feats.back().rows();
    }
    const int d = fe.Dim();
    slid::Matrix all(voiced, d);
    {
      int64_t r = 0;
      for (const auto& f : feats) {
        all.middleRows(r, f.rows()) = f;
        r += f.rows();
      }
    }
    const Eigen::RowVectorXf mean = all.colwise().mean();
    const Eigen::RowVectorXf var = (all.rowwise() - mean).array().square().colwise().mean();
    std::mt19937 rng(2024);
    std::uniform_int_distribution<int64_t> pick(0, voiced - 1);
    std::uniform_real_distribution<float> scale(0.5f, 1.5f);
    const int num_lang = 10, k = 256;
    std::vector<slid::DiagGmm> gmms;
    for (int l = 0; l < num_lang; ++l) {
      slid::Vector w = slid::Vector::Constant(k, 1.0f / k);
      slid::Matrix mu(k, d), v(k, d);
      for (int c = 0; c < k; ++c) {
        mu.row(c) = all.row(pick(rng));
        for (int j = 0; j < d; ++j) v(c, j) = var[j] * scale(rng);
      }
      model.languages.push_back("lang" + std::to_string(l));
      gmms.emplace_back(w, mu, v);
    }
    model.backend = std::make_shared<slid::GmmBackend>(std::move(gmms));
    std::printf("model: %d languages x %d Gaussians x %d dims (random, from the audio's own frames; not trained)\n",
                num_lang, k, d);
    std::printf("voiced frames: %lld (%.1f%% of %.0f s)\n", static_cast<long long>(voiced),
                100.0 * voiced / (total * 100), total);

    if (!save_model.empty()) model.Save(save_model);
    if (!save_list.empty()) {
      std::FILE* f = std::fopen(save_list.c_str(), "w");
      if (!f) throw slid::Error(save_list + ": cannot write");
      for (const auto& p : used_paths) std::fprintf(f, "%s\n", p.c_str());
      std::fclose(f);
    }
    slid::ScorerOptions so;
    so.min_speech_seconds = 0;
    const slid::Scorer scorer(model, so);
    const auto& gmm_backend = dynamic_cast<const slid::GmmBackend&>(*model.backend);
    auto best_of = [&](auto&& fn) {
      Timing best;
      for (int r = 0; r < runs; ++r) {
        const double w0 = Now(), c0 = ThreadCpu();
        fn();
        best.cpu = std::min(best.cpu, ThreadCpu() - c0);
        best.wall = std::min(best.wall, Now() - w0);
      }
      return best;
    };
    volatile double sink = 0;
    const Timing t_e2e = best_of([&] {
      for (const auto& u : utts) {
        const slid::ScoreResult r = scorer.ScoreWaveform(u);
        if (!r.avg_loglik.empty()) sink = sink + r.avg_loglik[0];
      }
    });
    const Timing t_fe = best_of([&] {
      for (const auto& u : utts) sink = sink + fe.Compute(u).rows();
    });
    const Timing t_score = best_of([&] {
      for (const auto& f : feats) {
        std::vector<double> sums(num_lang, 0.0);
        gmm_backend.AccumulateLogLikelihoods(f, &sums);
        sink = sink + sums[0];
      }
    });
    const Timing t_file = best_of([&] {
      for (const auto& p : used_paths) {
        const slid::ScoreResult r = scorer.ScoreFile(p);
        if (!r.avg_loglik.empty()) sink = sink + r.avg_loglik[0];
      }
    });

    // Scalar baseline on the first baseline_seconds of audio.
    std::vector<const slid::Matrix*> base_feats;
    double base_audio = 0;
    int64_t base_frames = 0;
    for (size_t i = 0; i < utts.size() && base_audio < baseline_seconds; ++i) {
      base_feats.push_back(&feats[i]);
      base_audio += utts[i].Seconds();
      base_frames += feats[i].rows();
    }
    std::vector<double> scalar(num_lang, 0.0), fast(num_lang, 0.0);
    const double w0 = Now(), c0 = ThreadCpu();
    for (const auto* f : base_feats) {
      const std::vector<double> s = ScalarSums(model, *f);
      for (int l = 0; l < num_lang; ++l) scalar[l] += s[l];
    }
    const Timing t_scalar{Now() - w0, ThreadCpu() - c0};
    for (const auto* f : base_feats) gmm_backend.AccumulateLogLikelihoods(*f, &fast);
    double max_rel = 0;
    for (int l = 0; l < num_lang; ++l)
      max_rel = std::max(max_rel, std::abs(fast[l] - scalar[l]) / std::abs(scalar[l]));

    std::printf("\none thread, best of %d runs; x real time from thread CPU time (wall-clock in brackets,\n"
                "inflated when other processes share the cores):\n", runs);
    auto line = [&](const char* what, const Timing& t, double audio) {
      std::printf("  %-58s %7.3f s CPU %7.0fx real time   [wall %7.3f s, %6.0fx]\n", what, t.cpu, audio / t.cpu,
                  t.wall, audio / t.wall);
    };
    line("identify end to end (frontend + 10x256 scoring, in memory)", t_e2e, total);
    line("identify from files (decode + resample + the above)", t_file, total);
    line("baseline: frontend alone", t_fe, total);
    line("scoring alone (stacked GEMM)", t_score, total);
    char what[128];
    std::snprintf(what, sizeof what, "baseline: per-frame scalar GMM scoring (first %.0f s)", base_audio);
    line(what, t_scalar, base_audio);
    std::printf("  scalar baseline frames: %lld; max relative difference of summed log-likelihoods, fast vs scalar: %.2e\n",
                static_cast<long long>(base_frames), max_rel);
    std::printf("  target >= 1000x real time end to end (CPU time): %s\n", total / t_e2e.cpu >= 1000 ? "met" : "NOT met");
    return 0;
  } catch (const slid::Error& e) {
    std::fprintf(stderr, "bench_identify: %s\n", e.what());
    return 1;
  }
}
