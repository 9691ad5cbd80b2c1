// ScoreEntry / ScoreEntries / Evaluate; see slid/evaluate.h.
#include "slid/evaluate.h"

#include <algorithm>

#include "driver_util.h"
#include "ordered_parallel.h"
#include "slid/error.h"

namespace slid {

using namespace internal;

ScoreResult ScoreEntry(const Scorer& scorer, const DataEntry& entry) {
  if (entry.is_command) return scorer.ScoreWaveform(ReadEntryAudio(entry, scorer.frontend().options().sample_rate_hz));
  return scorer.ScoreFile(entry.source);
}

int64_t ScoreEntries(const Scorer& scorer, const std::vector<DataEntry>& entries, int threads,
                     const ScoreEntriesCallbacks& cb) {
  if (threads < 1) throw Error("scoring: threads must be >= 1");
  struct Outcome {
    ScoreResult result;
    std::string error;  // non-empty: the entry failed
  };
  int64_t failed = 0;
  OrderedParallel<Outcome>(
      entries.size(), threads,
      [&](size_t i) {
        Outcome o;
        try {
          o.result = ScoreEntry(scorer, entries[i]);
        } catch (const std::exception& ex) {
          o.error = EntryErrorLine(entries[i], ex.what());
        }
        return o;
      },
      [&](size_t i, Outcome o) {
        if (!o.error.empty()) {
          ++failed;
          if (cb.on_error) cb.on_error(i, o.error);
        } else if (cb.on_result) {
          cb.on_result(i, o.result);
        }
      });
  return failed;
}

void SummariseTrials(const std::vector<Trial>& trials, int num_languages, const std::vector<DurationBucket>& buckets,
                     const CavgOptions& cavg, EvalSummary* overall, std::vector<EvalSummary>* by_bucket) {
  *overall = Evaluate(trials, num_languages, cavg);
  by_bucket->clear();
  for (const DurationBucket& b : buckets) {
    std::vector<Trial> sub;
    for (const Trial& t : trials)
      if (t.duration_seconds > b.min_seconds && t.duration_seconds <= b.max_seconds) sub.push_back(t);
    by_bucket->push_back(Evaluate(sub, num_languages, cavg));
  }
}

EvaluateResult Evaluate(const LanguageModelSet& model, const Dataset& data, const EvaluateOptions& opts,
                        const ProgressCallbacks& cb) {
  if (!opts.scorer.languages.empty()) throw Error("evaluate: scorer.languages must be empty (all of the model's)");
  for (const auto& l : data.languages)
    if (model.LanguageIndex(l) < 0) {
      std::string known;
      for (const auto& m : model.languages) known += (known.empty() ? "" : ",") + m;
      throw Error(data.root + ": test language '" + l + "' is not in the model (it has: " + known + ")");
    }
  const Scorer scorer(model, opts.scorer);
  EvaluateResult r;
  r.languages = scorer.languages();
  r.num_utterances = static_cast<int64_t>(data.entries.size());
  r.buckets = opts.buckets;
  std::vector<Trial> trials;
  PhaseStart(cb, "scoring", r.num_utterances, "files");
  auto advance = [&] {
    Advance(cb, 1, std::to_string(r.num_failed) + " failed, " + std::to_string(r.num_too_little_speech) +
                       " too little speech");
  };
  ScoreEntriesCallbacks sc;
  sc.on_result = [&](size_t i, const ScoreResult& res) {
    const DataEntry& e = data.entries[i];
    EvaluatedEntry ee;
    ee.index = i;
    ee.true_language = model.LanguageIndex(e.language);
    ee.result = res;
    r.audio_seconds_scored += res.audio_seconds;
    if (res.too_little_speech) {
      ++r.num_too_little_speech;
    } else {
      Trial t;
      t.true_language = ee.true_language;
      t.scores = res.avg_loglik;
      t.duration_seconds = res.speech_seconds;  // buckets by seconds of speech, as NIST LRE
      trials.push_back(std::move(t));
    }
    r.entries.push_back(std::move(ee));
    advance();
  };
  sc.on_error = [&](size_t, const std::string& message) {
    ++r.num_failed;
    EntryError(cb, message);
    advance();
  };
  ScoreEntries(scorer, data.entries, opts.threads, sc);
  PhaseEnd(cb);
  SummariseTrials(trials, static_cast<int>(r.languages.size()), r.buckets, opts.cavg, &r.overall, &r.by_bucket);
  return r;
}

}  // namespace slid
