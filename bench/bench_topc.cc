// Benchmark of the ubm-map back-end's top-C scoring (slid/backend.h) against full scoring of the same
// MAP-adapted GMMs, measured in the same run on the same utterances:
//
//   bench_topc --list LIST [--langs 25] [--train-per-lang 6] [--test-per-lang 4] [--num-gauss 1024]
//              [--iters 4] [--relevance 16] [--chunk-seconds 3] [--cs 1,2,5,10] [--threads 2]
//
// LIST is a "path<TAB>lang" list (slid's TSV data format) of real speech. The `langs` languages with
// the most recordings are used: per language the first train-per-lang recordings (data order) train
// a UBM of num-gauss Gaussians (EM, all languages pooled) and are MAP-adapted (means, relevance r) to
// give that language's GMM; the next test-per-lang recordings' voiced frames are cut into utterances
// of chunk-seconds of speech. Each utterance is then scored by every language with
//   full:  every component of every language (GmmBackend on the adapted GMMs, one GEMM per block),
//   top-C: the C best UBM components per frame (UbmMapBackend),
// on one thread. Printed per C: speed ratio full time / top-C time, the fraction of utterances whose
// decision (argmax) equals full scoring's, the largest |score difference|, and both accuracies
// (informational: the utterances are held out from the UBM/MAP data but are from the same speakers).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "slid/backend.h"
#include "slid/dataset.h"
#include "slid/em.h"
#include "slid/error.h"
#include "slid/feature_cache.h"
#include "slid/frontend.h"
#include "slid/map.h"

using namespace slid;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<int> ParseInts(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::atoi(item.c_str()));
  return v;
}

// Features of every entry, `threads` files at a time; an unreadable file gives 0 rows.
std::vector<Matrix> Features(const std::vector<DataEntry>& entries, const Frontend& fe, int threads) {
  std::vector<Matrix> out(entries.size());
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (size_t i = t; i < entries.size(); i += threads) {
        try {
          out[i] = fe.Compute(ReadEntryAudio(entries[i], fe.options().sample_rate_hz));
        } catch (const Error& e) {
          std::fprintf(stderr, "skipped: %s\n", e.what());
        }
      }
    });
  for (auto& th : pool) th.join();
  return out;
}

Matrix Stack(const std::vector<const Matrix*>& parts, int dim) {
  int64_t n = 0;
  for (const Matrix* p : parts) n += p->rows();
  Matrix all(n, dim);
  int64_t r = 0;
  for (const Matrix* p : parts) {
    all.middleRows(r, p->rows()) = *p;
    r += p->rows();
  }
  return all;
}

int ArgMax(const std::vector<double>& s) { return static_cast<int>(std::max_element(s.begin(), s.end()) - s.begin()); }

}  // namespace

int main(int argc, char** argv) {
  std::string list;
  int num_langs = 25, train_per_lang = 6, test_per_lang = 4, num_gauss = 1024, iters = 4, threads = 2;
  double relevance = 16, chunk_seconds = 3;
  std::string cs_text = "1,2,5,10";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--list") list = next();
    else if (a == "--langs") num_langs = std::atoi(next().c_str());
    else if (a == "--train-per-lang") train_per_lang = std::atoi(next().c_str());
    else if (a == "--test-per-lang") test_per_lang = std::atoi(next().c_str());
    else if (a == "--num-gauss") num_gauss = std::atoi(next().c_str());
    else if (a == "--iters") iters = std::atoi(next().c_str());
    else if (a == "--relevance") relevance = std::atof(next().c_str());
    else if (a == "--chunk-seconds") chunk_seconds = std::atof(next().c_str());
    else if (a == "--cs") cs_text = next();
    else if (a == "--threads") threads = std::max(1, std::atoi(next().c_str()));
    else {
      std::fprintf(stderr,
                   "usage: %s --list LIST [--langs 25] [--train-per-lang 6] [--test-per-lang 4] [--num-gauss 1024]\n"
                   "          [--iters 4] [--relevance 16] [--chunk-seconds 3] [--cs 1,2,5,10] [--threads 2]\n",
                   argv[0]);
      return 2;
    }
  }
  if (list.empty()) {
    std::fprintf(stderr, "bench_topc: --list LIST is required (path<TAB>lang lines of real speech)\n");
    return 2;
  }
  try {
    const Dataset data = LoadDataset(list);
    std::map<std::string, std::vector<DataEntry>> by_lang;
    for (const DataEntry& e : data.entries) by_lang[e.language].push_back(e);
    std::vector<std::pair<size_t, std::string>> order;
    for (const auto& [l, v] : by_lang)
      if (static_cast<int>(v.size()) >= train_per_lang + test_per_lang) order.emplace_back(v.size(), l);
    std::sort(order.rbegin(), order.rend());
    if (static_cast<int>(order.size()) < num_langs) {
      std::fprintf(stderr, "bench_topc: only %zu languages have %d recordings\n", order.size(), train_per_lang + test_per_lang);
      return 1;
    }
    order.resize(num_langs);
    std::vector<std::string> langs;
    for (const auto& o : order) langs.push_back(o.second);
    std::sort(langs.begin(), langs.end());
    std::vector<DataEntry> train, test;
    std::vector<int> train_lang, test_lang;
    for (int l = 0; l < num_langs; ++l) {
      const auto& v = by_lang[langs[l]];
      for (int i = 0; i < train_per_lang; ++i) train.push_back(v[i]), train_lang.push_back(l);
      for (int i = 0; i < test_per_lang; ++i) test.push_back(v[train_per_lang + i]), test_lang.push_back(l);
    }
    const Frontend fe{FrontendOptions()};
    const int d = fe.Dim();
    auto t0 = Clock::now();
    const std::vector<Matrix> train_f = Features(train, fe, threads), test_f = Features(test, fe, threads);
    std::printf("features: %zu + %zu recordings of %d languages in %.1f s\n", train.size(), test.size(), num_langs, Seconds(t0));

    // UBM on all languages' training frames, then MAP per language.
    std::vector<const Matrix*> all;
    for (const Matrix& m : train_f) all.push_back(&m);
    const Matrix pooled = Stack(all, d);
    EmOptions em;
    em.num_gauss = num_gauss;
    em.max_iters = iters;
    em.threads = threads;
    t0 = Clock::now();
    const EmResult ubm = TrainDiagGmm(MatrixFrameSource(pooled), em);
    std::printf("UBM: %d Gaussians x %d dims on %lld frames, %d EM iterations in %.1f s\n", ubm.gmm.NumGauss(), d,
                static_cast<long long>(pooled.rows()), iters, Seconds(t0));
    MapOptions mo;
    mo.relevance = relevance;
    std::vector<DiagGmm> adapted;
    for (int l = 0; l < num_langs; ++l) {
      std::vector<const Matrix*> mine;
      for (size_t i = 0; i < train.size(); ++i)
        if (train_lang[i] == l) mine.push_back(&train_f[i]);
      const Matrix x = Stack(mine, d);
      adapted.push_back(MapAdapt(ubm.gmm, AccumulateStats(ubm.gmm, MatrixFrameSource(x), threads, 4096), mo));
    }

    // Utterances: chunk_seconds of voiced frames each (the last, shorter piece of a recording dropped).
    const int chunk = std::max(1, static_cast<int>(std::lround(chunk_seconds * 100)));
    std::vector<Matrix> utts;
    std::vector<int> utt_lang;
    for (size_t i = 0; i < test.size(); ++i)
      for (int64_t b = 0; b + chunk <= test_f[i].rows(); b += chunk) {
        utts.push_back(test_f[i].middleRows(b, chunk));
        utt_lang.push_back(test_lang[i]);
      }
    std::printf("test: %zu utterances of %d voiced frames (%.1f s of speech)\n\n", utts.size(), chunk, chunk / 100.0);

    auto run = [&](const Backend& b, std::vector<std::vector<double>>* scores) {
      scores->clear();
      const auto s0 = Clock::now();
      for (const Matrix& u : utts) {
        auto st = b.NewUtterance();
        st->Add(u);
        scores->push_back(st->Scores());
      }
      return Seconds(s0);
    };
    UbmMapScoringOptions full_opts;
    full_opts.top_c = 0;
    const UbmMapBackend full(ubm.gmm, adapted, full_opts);
    std::vector<std::vector<double>> ref;
    run(full, &ref);  // warm-up
    const double t_full = run(full, &ref);
    int correct_full = 0;
    for (size_t u = 0; u < utts.size(); ++u) correct_full += ArgMax(ref[u]) == utt_lang[u];
    const double frames = static_cast<double>(utts.size()) * chunk;
    std::printf("%-6s %10s %12s %8s %10s %12s %9s\n", "C", "seconds", "x real time", "speed", "agreement", "max |diff|", "accuracy");
    std::printf("%-6s %10.3f %12.0f %8s %10s %12s %8.1f%%\n", "full", t_full, frames / 100 / t_full, "1.00x", "-", "-",
                100.0 * correct_full / utts.size());
    for (int c : ParseInts(cs_text)) {
      UbmMapScoringOptions o;
      o.top_c = c;
      const UbmMapBackend b(ubm.gmm, adapted, o);
      std::vector<std::vector<double>> s;
      const double t = run(b, &s);
      int agree = 0, correct = 0;
      double max_diff = 0;
      for (size_t u = 0; u < utts.size(); ++u) {
        agree += ArgMax(s[u]) == ArgMax(ref[u]);
        correct += ArgMax(s[u]) == utt_lang[u];
        for (int l = 0; l < num_langs; ++l) max_diff = std::max(max_diff, std::abs(s[u][l] - ref[u][l]));
      }
      std::printf("top-%-2d %10.3f %12.0f %7.2fx %9.2f%% %12.4f %8.1f%%\n", c, t, frames / 100 / t, t_full / t,
                  100.0 * agree / utts.size(), max_diff, 100.0 * correct / utts.size());
    }
    std::printf("\n(scoring on 1 thread; full = every component of all %d languages x %d Gaussians)\n", num_langs,
                num_gauss);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_topc: %s\n", e.what());
    return 1;
  }
  return 0;
}
