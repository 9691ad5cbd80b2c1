// ScoreEntries / Evaluate / SummariseTrials: results in entry order whatever the number of threads,
// failures counted and named while the batch continues, the metrics equal slid::Evaluate (metrics.h)
// on the same trials, and duration buckets partition the trials at their stated bounds.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <utility>

#include "slid/error.h"
#include "slid/evaluate.h"
#include "slid/kaldi_io.h"
#include "slid/train.h"
#include "sample_data.h"
#include "temp_dir.h"

namespace {


const slid::LanguageModelSet& SmallModel() {
  static const slid::LanguageModelSet m = [] {
    slid::TrainOptions o;
    o.em.num_gauss = 4;
    o.em.max_iters = 2;
    return slid::TrainLanguageModelSet(SampleData(), o).model;
  }();
  return m;
}

}  // namespace

TEST_CASE("ScoreEntries: entry order with 1 and 3 threads, a bad entry reported and skipped") {
  slid::Dataset data = SampleData();
  slid::DataEntry bad;
  bad.id = bad.source = "/nonexistent/missing.wav";
  data.entries.insert(data.entries.begin() + 2, bad);
  const slid::Scorer scorer(SmallModel(), {});
  for (int threads : {1, 3}) {
    std::vector<size_t> order;
    std::vector<slid::ScoreResult> results;
    std::vector<std::string> errors;
    slid::ScoreEntriesCallbacks cb;
    cb.on_result = [&](size_t i, const slid::ScoreResult& r) {
      order.push_back(i);
      results.push_back(r);
    };
    cb.on_error = [&](size_t i, const std::string& m) {
      order.push_back(i);
      errors.push_back(m);
    };
    CHECK(slid::ScoreEntries(scorer, data.entries, threads, cb) == 1);
    REQUIRE(order.size() == 7);
    for (size_t i = 0; i < order.size(); ++i) CHECK(order[i] == i);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].rfind("/nonexistent/missing.wav:", 0) == 0);
    // The same numbers as scoring one entry directly.
    const slid::ScoreResult direct = slid::ScoreEntry(scorer, data.entries[4]);
    CHECK(results[3].avg_loglik == direct.avg_loglik);
  }
  CHECK_THROWS_AS(slid::ScoreEntries(scorer, data.entries, 0, {}), slid::Error);
}

TEST_CASE("Evaluate: counts, and the metrics of the scored trials") {
  slid::Dataset data = SampleData();
  slid::DataEntry bad;
  bad.id = bad.source = "/nonexistent/missing.wav";
  bad.language = "it";
  data.entries.push_back(bad);
  slid::EvaluateOptions opts;
  opts.threads = 2;
  int errors = 0;
  slid::ProgressCallbacks cb;
  cb.entry_error = [&](const std::string&) { ++errors; };
  const slid::EvaluateResult r = slid::Evaluate(SmallModel(), data, opts, cb);
  CHECK(errors == 1);
  CHECK(r.num_utterances == 7);
  CHECK(r.num_failed == 1);
  REQUIRE(r.entries.size() == 6);
  CHECK(r.languages == SmallModel().languages);
  std::vector<slid::Trial> trials;
  double seconds = 0;
  for (const slid::EvaluatedEntry& e : r.entries) {
    CHECK(r.languages[e.true_language] == data.entries[e.index].language);
    seconds += e.result.audio_seconds;
    if (e.result.too_little_speech) continue;
    trials.push_back({e.true_language, e.result.avg_loglik, e.result.audio_seconds});
  }
  CHECK(r.audio_seconds_scored == doctest::Approx(seconds));
  CHECK(r.num_too_little_speech + static_cast<int64_t>(trials.size()) == 6);
  const slid::EvalSummary ref = slid::Evaluate(trials, 3);
  CHECK(r.overall.num_trials == ref.num_trials);
  CHECK(r.overall.accuracy == ref.accuracy);
  CHECK(r.overall.cavg == ref.cavg);
  CHECK(r.overall.eer == ref.eer);
  int64_t in_buckets = 0;
  for (const slid::EvalSummary& b : r.by_bucket) in_buckets += b.num_trials;
  CHECK(in_buckets == r.overall.num_trials);

  slid::Dataset other = SampleData();
  other.entries[0].language = "xx";
  other.languages.push_back("xx");
  CHECK_THROWS_WITH_AS(slid::Evaluate(SmallModel(), other, opts), doctest::Contains("'xx' is not in the model"),
                       slid::Error);
}

TEST_CASE("SummariseTrials: buckets at their stated bounds") {
  // Durations on the bucket edges: 0 and 3 s in "<=3s", 3.5 and 10 s in "3-10s", 10.5 s in ">10s".
  std::vector<slid::Trial> trials;
  const double durations[] = {0, 3, 3.5, 10, 10.5};
  for (int i = 0; i < 5; ++i) trials.push_back({i % 2, {i % 2 == 0 ? 1.0 : 0.0, i % 2 == 1 ? 1.0 : 0.0}, durations[i]});
  slid::EvalSummary overall;
  std::vector<slid::EvalSummary> by;
  slid::SummariseTrials(trials, 2, slid::DefaultDurationBuckets(), {}, &overall, &by);
  REQUIRE(by.size() == 3);
  CHECK(overall.num_trials == 5);
  CHECK(overall.accuracy == 1.0);
  CHECK(by[0].num_trials == 2);
  CHECK(by[1].num_trials == 2);
  CHECK(by[2].num_trials == 1);
}

TEST_CASE("EvaluateFeatures: the audio's own features evaluate as the audio; missing and unlabelled utterances named") {
  const slid::Dataset data = SampleData();
  const slid::LanguageModelSet& model = SmallModel();
  TempDir tmp("slid-test-evaluate-feats-");
  {
    const slid::Frontend frontend(model.frontend);
    slid::KaldiMatrixWriter w("ark:" + tmp("f.ark"));
    for (size_t i = data.entries.size(); i-- > 0;)  // reverse order: results still come in labels order
      w.Write(data.entries[i].id, frontend.Compute(slid::ReadEntryAudio(data.entries[i], model.frontend.sample_rate_hz)));
    w.Write("unlabelled", slid::Matrix::Zero(10, model.Dim()));
    w.Close();
    std::ofstream u(tmp("utt2lang"));
    for (const slid::DataEntry& e : data.entries) u << e.id << " " << e.language << "\n";
    u << "ghost it\n";
  }
  const slid::Dataset labels = slid::LoadUtt2Lang(tmp("utt2lang"));
  std::vector<std::string> errors;
  slid::ProgressCallbacks cb;
  cb.entry_error = [&](const std::string& m) { errors.push_back(m); };
  slid::EvaluateOptions o;
  o.threads = 2;
  const slid::EvaluateResult f = slid::EvaluateFeatures(model, "ark:" + tmp("f.ark"), labels, o, cb);
  const slid::EvaluateResult a = slid::Evaluate(model, data, o);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0] == "ark:" + tmp("f.ark") + ": utterance 'unlabelled' has no label in " + tmp("utt2lang") + "; skipped");
  CHECK(errors[1] == tmp("utt2lang") + ":7: utterance 'ghost' is not in ark:" + tmp("f.ark") + "; skipped");
  CHECK(f.num_utterances == 7);
  CHECK(f.num_failed == 1);
  REQUIRE(f.entries.size() == a.entries.size());
  std::map<std::string, const slid::EvaluatedEntry*> by_id;  // the audio's results
  for (const slid::EvaluatedEntry& e : a.entries) by_id[data.entries[e.index].id] = &e;
  for (size_t i = 0; i < f.entries.size(); ++i) {
    if (i > 0) CHECK(f.entries[i].index > f.entries[i - 1].index);  // labels order
    const slid::EvaluatedEntry& ae = *by_id.at(labels.entries[f.entries[i].index].id);
    CHECK(f.entries[i].true_language == ae.true_language);
    CHECK(f.entries[i].result.best == ae.result.best);
    for (size_t l = 0; l < a.languages.size(); ++l)
      CHECK(f.entries[i].result.avg_loglik[l] == doctest::Approx(ae.result.avg_loglik[l]).epsilon(1e-5));
  }
  CHECK(f.overall.accuracy == a.overall.accuracy);
  // Features of another dimension than the model's: an error naming the utterance.
  {
    slid::KaldiMatrixWriter w("ark:" + tmp("g.ark"));
    w.Write(data.entries[0].id, slid::Matrix::Ones(30, 7));
    w.Close();
  }
  CHECK_THROWS_WITH_AS(slid::EvaluateFeatures(model, "ark:" + tmp("g.ark"), labels, o),
                       doctest::Contains("7-dimensional features; the model expects 56"), slid::Error);
}

TEST_CASE("Evaluate with an unknown threshold: out-of-set languages accepted, counted apart from the closed set") {
  slid::Dataset data = SampleData();
  const std::string s = std::string(SLID_SOURCE_DIR) + "/models/samples/";
  for (const auto& [lang, file] : {std::pair<const char*, const char*>{"en", "en-conf-onlyperson.wav"},
                                   {"ru", "ru-conf-onlyperson.wav"}}) {
    slid::DataEntry e;
    e.id = file;
    e.source = s + file;
    e.language = lang;
    data.entries.push_back(e);
    data.languages.push_back(lang);
  }
  slid::EvaluateOptions opts;
  opts.scorer.unknown_threshold = 0.9;
  const slid::EvaluateResult r = slid::Evaluate(SmallModel(), data, opts);
  REQUIRE(r.entries.size() == 8);
  const slid::OpenSetSummary& os = r.open_set;
  CHECK(os.threshold == 0.9);
  REQUIRE(os.languages.size() == 5);
  CHECK(os.languages[3].language == "en");
  CHECK_FALSE(os.languages[3].in_set);
  CHECK(os.languages[0].in_set);
  // Recount from the entries.
  int64_t in_n = 0, in_u = 0, in_c = 0, out_n = 0, out_u = 0, closed = 0;
  for (const slid::EvaluatedEntry& e : r.entries) {
    if (e.result.too_little_speech) continue;
    const bool in_set = e.true_language >= 0;
    CHECK(in_set == (data.entries[e.index].language != "en" && data.entries[e.index].language != "ru"));
    CHECK(e.result.unknown == (*std::max_element(e.result.posteriors.begin(), e.result.posteriors.end()) < 0.9));
    (in_set ? in_n : out_n) += 1;
    (in_set ? in_u : out_u) += e.result.unknown;
    in_c += in_set && e.result.best == e.true_language;
    closed += in_set;
  }
  CHECK(os.in_set_trials == in_n);
  CHECK(os.in_set_unknown == in_u);
  CHECK(os.in_set_correct == in_c);
  CHECK(os.out_of_set_trials == out_n);
  CHECK(out_n == 2);
  CHECK(os.out_of_set_unknown == out_u);
  CHECK(os.rejection_rate == doctest::Approx(out_u / 2.0));
  CHECK(os.open_set_accuracy == doctest::Approx(static_cast<double>(in_c + out_u) / (in_n + out_n)));
  // The closed-set figures see only the model's languages.
  CHECK(r.overall.num_trials == closed);
  // Without a threshold the same data is refused, as before.
  CHECK_THROWS_WITH_AS(slid::Evaluate(SmallModel(), data, slid::EvaluateOptions{}),
                       doctest::Contains("'en' is not in the model"), slid::Error);
  CHECK(slid::Evaluate(SmallModel(), SampleData(), slid::EvaluateOptions{}).open_set.threshold == 0);
}
