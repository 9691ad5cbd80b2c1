// Scoring and evaluating data sets: the drivers behind `slid identify` and `slid eval`.
//
// ScoreEntry is the one way an entry of a data set or list is scored: a file, or a piped command's
// output copied to a temporary file (WithEntryFile), is streamed from disk in segments
// (Scorer::ScoreFile); a Kaldi segment is read with ReadEntryAudio (a seek) and scored whole.
// ScoreEntries runs it over many entries on threads and hands each outcome to the caller in entry
// order (so output does not depend on the number of threads); a failing entry is reported with one
// line naming it and the batch continues.
// Evaluate scores a labelled Dataset and summarises it (slid/metrics.h), overall and by duration.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "slid/calibration.h"
#include "slid/callbacks.h"
#include "slid/dataset.h"
#include "slid/metrics.h"
#include "slid/model.h"
#include "slid/scorer.h"

namespace slid {

// Scores one entry. Throws slid::Error naming the entry if it cannot be read.
ScoreResult ScoreEntry(const Scorer& scorer, const DataEntry& entry);

// What ScoreEntries hands back, in entry order, one call at a time (never concurrently).
struct ScoreEntriesCallbacks {
  // entries[index] was scored.
  std::function<void(size_t index, const ScoreResult& result)> on_result;
  // entries[index] failed; `message` is one line naming it. The batch continues.
  std::function<void(size_t index, const std::string& message)> on_error;
};

// Scores every entry with `threads` threads (>= 1). Returns the number of entries that failed.
// An exception thrown by a callback stops the batch and is rethrown.
int64_t ScoreEntries(const Scorer& scorer, const std::vector<DataEntry>& entries, int threads,
                     const ScoreEntriesCallbacks& callbacks);

class FeatureReader;  // slid/feature_io.h

// Scores precomputed final features (the voiced frames of the model's frontend) read from `reader`,
// in reader order, `threads` at a time (>= 1), holding at most 4 x threads matrices. Every utterance
// must have the scorer's feature dimension (one without rows is scored as too little speech);
// otherwise throws Error naming the source, the utterance and both dimensions before scoring its
// batch. on_result(id, result) is called in order, one call at a time. Returns the utterances scored.
int64_t ScoreFeatureStream(const Scorer& scorer, FeatureReader& reader, int threads,
                           const std::function<void(const std::string& id, const ScoreResult& result)>& on_result);

struct EvaluateOptions {
  ScorerOptions scorer;   // min_speech_seconds etc. (languages must stay empty: all of the model's);
                          // unknown_threshold > 0 makes it an open-set evaluation (see OpenSetSummary)
  int threads = 1;        // entries scored in parallel (>= 1)
  CavgOptions cavg;       // Cavg cost parameters
  std::vector<DurationBucket> buckets = DefaultDurationBuckets();  // buckets of seconds of speech (VAD), as NIST LRE
};

// One test language in an open-set evaluation.
struct OpenSetLanguage {
  std::string language;     // as named by the test data
  bool in_set = false;      // the model has it
  int64_t num_trials = 0;   // its recordings with enough speech (a language or unknown)
  int64_t num_unknown = 0;  // of those, called unknown
  int64_t num_correct = 0;  // of those, given their own language (in-set only)
};

// Open-set figures (EvaluateOptions::scorer.unknown_threshold > 0). Recordings of languages the model
// lacks are "out of set"; only recordings with a decision or unknown count (not too little / no speech).
// Rates are -1 when their denominator is 0.
struct OpenSetSummary {
  double threshold = 0;                  // the unknown threshold (0: no open-set evaluation)
  int64_t in_set_trials = 0;             // recordings of model languages
  int64_t in_set_unknown = 0;            // of those, called unknown: false rejections
  int64_t in_set_correct = 0;            // of those, given their own language
  int64_t out_of_set_trials = 0;         // recordings of languages the model lacks
  int64_t out_of_set_unknown = 0;        // of those, called unknown: correct rejections
  double false_rejection_rate = -1;      // in_set_unknown / in_set_trials
  double rejection_rate = -1;            // out_of_set_unknown / out_of_set_trials
  double open_set_accuracy = -1;         // (in_set_correct + out_of_set_unknown) / all trials
  std::vector<OpenSetLanguage> languages;  // every test language, in Dataset::languages order
};

// One scored (readable) entry of the data set.
struct EvaluatedEntry {
  size_t index = 0;       // index into Dataset::entries
  int true_language = -1; // index into EvaluateResult::languages; -1: a language the model lacks (open set)
  ScoreResult result;     // its scores (result.too_little_speech: not counted in the metrics)
};

struct EvaluateResult {
  std::vector<std::string> languages;     // the model's languages (score order)
  int64_t num_utterances = 0;             // entries in the data set
  int64_t num_failed = 0;                 // unreadable (reported through entry_error)
  int64_t num_too_little_speech = 0;      // excluded from the metrics: speech, but too little
  int64_t num_no_speech = 0;              // excluded from the metrics: no speech (ScoreResult::no_speech)
  double audio_seconds_scored = 0;        // audio length of the readable entries
  EvalSummary overall;                    // all counted utterances
  std::vector<DurationBucket> buckets;    // = options.buckets
  std::vector<EvalSummary> by_bucket;     // one per bucket
  std::vector<EvaluatedEntry> entries;    // readable entries, in data order
  OpenSetSummary open_set;                // threshold 0 unless options.scorer.unknown_threshold > 0
};

// The metrics of `trials` overall and per bucket (a trial is in a bucket iff min < duration <= max).
void SummariseTrials(const std::vector<Trial>& trials, int num_languages, const std::vector<DurationBucket>& buckets,
                     const CavgOptions& cavg, EvalSummary* overall, std::vector<EvalSummary>* by_bucket);

// Scores every entry of `data` with `model` and summarises (an Error for a model of external features,
// LanguageModelSet::frontend_external, which cannot score audio). First reports data.problems through
// callbacks.entry_error and data.ignored through callbacks.warning (not counted in num_failed). Throws
// slid::Error (before scoring) if data has no entries, a language of the data is not in the model
// (unless scorer.unknown_threshold > 0: then its recordings are out of set, left out of the closed-set
// metrics and counted in open_set) or the options are bad; unreadable entries are counted, reported
// through callbacks.entry_error and skipped. Progress: one phase "scoring" over the entries.
EvaluateResult Evaluate(const LanguageModelSet& model, const Dataset& data, const EvaluateOptions& opts,
                        const ProgressCallbacks& callbacks = {});

// Evaluate on precomputed features (`slid eval --feats RSPECIFIER --utt2lang FILE`): scores the
// matrices read from `features` (a FeatureReader source, as ScoreFeatureStream: final features of the
// model's dimension, else an Error) and summarises like Evaluate. `labels` (LoadUtt2Lang) gives each
// utterance's true language; EvaluatedEntry::index points into labels.entries, and entries come in
// labels order. labels.problems are reported first; an utterance without a label is reported through
// entry_error and skipped, and so, at the end, is a labelled utterance the features do not hold
// (counted in num_failed). num_utterances = labels.entries.size(); audio seconds are unknown (0).
// Throws like Evaluate for labels that are empty or name a language the model lacks.
EvaluateResult EvaluateFeatures(const LanguageModelSet& model, const std::string& features, const Dataset& labels,
                                const EvaluateOptions& opts, const ProgressCallbacks& callbacks = {});

struct CalibrateOptions {
  CalibrationOptions calibration;  // how the calibration is trained
  ScorerOptions scorer;            // min_speech_seconds etc. (languages must stay empty)
  int threads = 1;                 // entries scored in parallel (>= 1)
  bool require_all_languages = false;  // true: a model language without usable development data is an
                                       // error (else it gets the tied offset of TrainCalibration)
};

struct CalibrateResult {
  Calibration calibration;          // to store in the model (LanguageModelSet::calibration)
  CalibrationReport report;         // cross-entropy before/after, scale
  int64_t num_used = 0;             // development recordings trained on
  int64_t num_failed = 0;           // unreadable (reported through entry_error)
  int64_t num_too_little_speech = 0;  // left out (too little speech, or none)
  std::vector<std::string> languages_without_data;  // model languages with no usable development recording
};

// Scores the labelled development data `dev` with `model`'s back-end (ignoring any calibration the
// model already has) and trains a calibration on those scores (TrainCalibration). Model languages
// without a usable development recording are listed in languages_without_data and calibrated with the
// tied offset (slid/calibration.h). Throws slid::Error if a language of `dev` is not in the model, if
// fewer than 2 model languages have usable recordings, or (require_all_languages) if any has none.
CalibrateResult CalibrateOnDataset(const LanguageModelSet& model, const Dataset& dev, const CalibrateOptions& opts,
                                   const ProgressCallbacks& callbacks = {});

}  // namespace slid
