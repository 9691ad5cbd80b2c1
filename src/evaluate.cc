// ScoreEntry / ScoreEntries / Evaluate; see slid/evaluate.h.
#include "slid/evaluate.h"

#include <algorithm>
#include <map>

#include "driver_util.h"
#include "ordered_parallel.h"
#include "slid/error.h"
#include "slid/feature_io.h"

namespace slid {

using namespace internal;

ScoreResult ScoreEntry(const Scorer& scorer, const DataEntry& entry) {
  // A segment is read (seeking) and scored whole; a file or a command's output is streamed.
  if (IsSegment(entry)) return scorer.ScoreWaveform(ReadEntryAudio(entry, scorer.frontend().options().sample_rate_hz));
  ScoreResult r;
  WithEntryFile(entry, [&](const std::string& path) { r = scorer.ScoreFile(path); });
  return r;
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
  // What the data set left out, reported before any other check (slid/dataset.h).
  for (const std::string& p : data.problems) EntryError(cb, p);
  for (const std::string& w : data.ignored) Warning(cb, w);
  if (data.entries.empty()) throw Error(data.root + ": no usable entries (every problem is reported above)");
  if (model.frontend_external)
    throw Error("the model was trained on external features (slid train --feats without frontend options) and "
                "cannot score audio; give it such features (--feats)");
  const bool open_set = opts.scorer.unknown_threshold > 0;
  for (const auto& l : data.languages)
    if (model.LanguageIndex(l) < 0 && !open_set) {
      std::string known;
      for (const auto& m : model.languages) known += (known.empty() ? "" : ",") + m;
      throw Error(data.root + ": test language '" + l + "' is not in the model (it has: " + known +
                  "; an open-set evaluation with an unknown threshold accepts such languages)");
    }
  const Scorer scorer(model, opts.scorer);
  EvaluateResult r;
  OpenSetSummary& os = r.open_set;
  if (open_set) {
    os.threshold = opts.scorer.unknown_threshold;
    for (const auto& l : data.languages) {
      OpenSetLanguage ol;
      ol.language = l;
      ol.in_set = model.LanguageIndex(l) >= 0;
      os.languages.push_back(ol);
    }
  }
  auto open_language = [&](const std::string& name) -> OpenSetLanguage& {
    for (OpenSetLanguage& ol : os.languages)
      if (ol.language == name) return ol;
    OpenSetLanguage ol;  // an entry whose language the data set did not list (not expected)
    ol.language = name;
    ol.in_set = model.LanguageIndex(name) >= 0;
    os.languages.push_back(ol);
    return os.languages.back();
  };
  r.languages = scorer.languages();
  r.num_utterances = static_cast<int64_t>(data.entries.size());
  r.buckets = opts.buckets;
  std::vector<Trial> trials;
  PhaseStart(cb, "scoring", r.num_utterances, "files");
  auto advance = [&] {
    Advance(cb, 1, std::to_string(r.num_failed) + " failed, " + std::to_string(r.num_too_little_speech) +
                       " too little speech, " + std::to_string(r.num_no_speech) + " no speech");
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
      ++(res.no_speech ? r.num_no_speech : r.num_too_little_speech);
    } else {
      if (ee.true_language >= 0) {  // closed-set metrics: the model's languages only, argmax decision
        Trial t;
        t.true_language = ee.true_language;
        t.scores = res.calibrated.empty() ? res.avg_loglik : res.calibrated;
        t.duration_seconds = res.speech_seconds;  // buckets by seconds of speech, as NIST LRE
        trials.push_back(std::move(t));
      }
      if (open_set) {
        OpenSetLanguage& ol = open_language(e.language);
        ++ol.num_trials;
        ol.num_unknown += res.unknown;
        ol.num_correct += !res.unknown && ee.true_language >= 0 && res.best == ee.true_language;
      }
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
  if (open_set) {
    for (const OpenSetLanguage& ol : os.languages) {
      if (ol.in_set) {
        os.in_set_trials += ol.num_trials;
        os.in_set_unknown += ol.num_unknown;
        os.in_set_correct += ol.num_correct;
      } else {
        os.out_of_set_trials += ol.num_trials;
        os.out_of_set_unknown += ol.num_unknown;
      }
    }
    auto rate = [](int64_t a, int64_t b) { return b > 0 ? static_cast<double>(a) / b : -1.0; };
    os.false_rejection_rate = rate(os.in_set_unknown, os.in_set_trials);
    os.rejection_rate = rate(os.out_of_set_unknown, os.out_of_set_trials);
    os.open_set_accuracy = rate(os.in_set_correct + os.out_of_set_unknown, os.in_set_trials + os.out_of_set_trials);
  }
  return r;
}

int64_t ScoreFeatureStream(const Scorer& scorer, FeatureReader& reader, int threads,
                           const std::function<void(const std::string& id, const ScoreResult& result)>& on_result) {
  if (threads < 1) throw Error("threads must be >= 1");
  const int dim = scorer.backend().Dim();  // (a model of external features has no slid frontend)
  std::vector<std::pair<std::string, Matrix>> batch;
  const size_t batch_size = 4 * static_cast<size_t>(threads);
  int64_t scored = 0;
  for (bool more = true; more;) {
    batch.clear();
    std::string id;
    Matrix m;
    while (batch.size() < batch_size && (more = reader.Next(&id, &m))) {
      if (m.rows() == 0) m.resize(0, dim);  // no frames (Kaldi writes 0 x 0): too little speech
      if (m.cols() != dim)
        throw Error(reader.source() + ": utterance '" + id + "' has " + std::to_string(m.cols()) +
                    "-dimensional features; the model expects " + std::to_string(dim) +
                    " (precomputed features must be final: what slid features writes with the model's frontend options)");
      batch.emplace_back(id, std::move(m));
    }
    OrderedParallel<ScoreResult>(
        batch.size(), threads, [&](size_t i) { return scorer.ScoreFeatures(batch[i].second); },
        [&](size_t i, ScoreResult r) {
          ++scored;
          if (on_result) on_result(batch[i].first, r);
        });
  }
  return scored;
}

EvaluateResult EvaluateFeatures(const LanguageModelSet& model, const std::string& features, const Dataset& labels,
                                const EvaluateOptions& opts, const ProgressCallbacks& cb) {
  if (!opts.scorer.languages.empty()) throw Error("evaluate: scorer.languages must be empty (all of the model's)");
  for (const std::string& p : labels.problems) EntryError(cb, p);
  if (labels.entries.empty()) throw Error(labels.root + ": no usable labels (every problem is reported above)");
  for (const auto& l : labels.languages)
    if (model.LanguageIndex(l) < 0) throw Error(labels.root + ": test language '" + l + "' is not in the model");
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < labels.entries.size(); ++i) index[labels.entries[i].id] = i;
  const Scorer scorer(model, opts.scorer);
  EvaluateResult r;
  r.languages = scorer.languages();
  r.num_utterances = static_cast<int64_t>(labels.entries.size());
  r.buckets = opts.buckets;
  FeatureReader reader(features);
  std::vector<bool> seen(labels.entries.size(), false);
  PhaseStart(cb, "scoring", r.num_utterances, "utterances");
  ScoreFeatureStream(scorer, reader, opts.threads, [&](const std::string& id, const ScoreResult& res) {
    auto it = index.find(id);
    if (it == index.end() || seen[it->second]) {
      EntryError(cb, reader.source() + ": utterance '" + id + "' " +
                         (it == index.end() ? "has no label in " + labels.root : std::string("appears again")) + "; skipped");
      return;
    }
    seen[it->second] = true;
    EvaluatedEntry ee;
    ee.index = it->second;
    ee.true_language = model.LanguageIndex(labels.entries[it->second].language);
    ee.result = res;
    if (res.too_little_speech) ++r.num_too_little_speech;
    r.entries.push_back(std::move(ee));
    Advance(cb, 1, std::to_string(r.num_too_little_speech) + " too little speech");
  });
  PhaseEnd(cb);
  for (size_t i = 0; i < labels.entries.size(); ++i)
    if (!seen[i]) {
      ++r.num_failed;
      EntryError(cb, labels.entries[i].origin + ": utterance '" + labels.entries[i].id + "' is not in " + features + "; skipped");
    }
  std::sort(r.entries.begin(), r.entries.end(), [](const EvaluatedEntry& a, const EvaluatedEntry& b) { return a.index < b.index; });
  std::vector<Trial> trials;
  for (const EvaluatedEntry& e : r.entries) {
    if (e.result.too_little_speech) continue;
    Trial t;
    t.true_language = e.true_language;
    t.scores = e.result.calibrated.empty() ? e.result.avg_loglik : e.result.calibrated;
    t.duration_seconds = e.result.speech_seconds;
    trials.push_back(std::move(t));
  }
  SummariseTrials(trials, static_cast<int>(r.languages.size()), r.buckets, opts.cavg, &r.overall, &r.by_bucket);
  return r;
}

CalibrateResult CalibrateOnDataset(const LanguageModelSet& model, const Dataset& dev, const CalibrateOptions& opts,
                                   const ProgressCallbacks& cb) {
  LanguageModelSet raw = model;
  raw.calibration = Calibration();
  EvaluateOptions eo;
  eo.scorer = opts.scorer;
  eo.threads = opts.threads;
  const EvaluateResult r = Evaluate(raw, dev, eo, cb);
  CalibrateResult out;
  out.num_failed = r.num_failed;
  out.num_too_little_speech = r.num_too_little_speech + r.num_no_speech;
  std::vector<std::vector<double>> scores;
  std::vector<int> labels;
  std::vector<int64_t> count(r.languages.size(), 0);
  for (const EvaluatedEntry& e : r.entries) {
    if (e.result.too_little_speech) continue;
    scores.push_back(e.result.avg_loglik);
    labels.push_back(e.true_language);
    ++count[e.true_language];
  }
  std::string missing;
  int num_present = 0;
  for (size_t l = 0; l < count.size(); ++l) {
    if (count[l] > 0) {
      ++num_present;
      continue;
    }
    missing += (missing.empty() ? "" : ",") + r.languages[l];
    out.languages_without_data.push_back(r.languages[l]);
  }
  if (!missing.empty() && opts.require_all_languages)
    throw Error(dev.root + ": no usable development recording of the model language(s) " + missing +
                " (every language required)");
  if (num_present < 2)
    throw Error(dev.root + ": usable development recordings of " + std::to_string(num_present) +
                " model language(s); calibration needs at least 2");
  out.num_used = static_cast<int64_t>(scores.size());
  out.calibration = TrainCalibration(scores, labels, static_cast<int>(r.languages.size()), opts.calibration, &out.report);
  out.calibration.info["data"] = dev.root;
  out.calibration.info["languages_without_data"] = out.languages_without_data;  // names, not indices
  return out;
}

}  // namespace slid
