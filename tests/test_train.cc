// TrainLanguageModelSet on the shipped sample recordings (real speech, a few seconds each): the model
// does not depend on where the frames were kept (memory or the disk cache) nor on the number of
// threads; unreadable files are skipped and reported; a language without audio is an error naming it;
// callbacks see every phase; UBM-MAP with a huge relevance factor leaves every language at the UBM.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "slid/error.h"
#include "slid/kaldi_io.h"
#include "slid/train.h"
#include "sample_data.h"
#include "temp_dir.h"

namespace fs = std::filesystem;

namespace {


slid::TrainOptions SmallOptions() {
  slid::TrainOptions o;
  o.em.num_gauss = 4;
  o.em.max_iters = 2;
  return o;
}

// The per-language GMMs of a "gmm" or "ubm-map" model.
const std::vector<slid::DiagGmm>& Gmms(const slid::LanguageModelSet& m) {
  if (const auto* g = dynamic_cast<const slid::GmmBackend*>(m.backend.get())) return g->gmms();
  return dynamic_cast<const slid::UbmMapBackend&>(*m.backend).adapted();
}

void CheckSameModel(const slid::LanguageModelSet& a, const slid::LanguageModelSet& b) {
  REQUIRE(a.languages == b.languages);
  REQUIRE(a.backend->Kind() == b.backend->Kind());
  for (size_t l = 0; l < Gmms(a).size(); ++l) {
    CHECK(Gmms(a)[l].weights() == Gmms(b)[l].weights());
    CHECK(Gmms(a)[l].means() == Gmms(b)[l].means());
    CHECK(Gmms(a)[l].variances() == Gmms(b)[l].variances());
  }
}

}  // namespace

TEST_CASE("TrainLanguageModelSet: same model from memory, from the disk cache, and with 2 threads") {
  const slid::Dataset data = SampleData();
  const slid::TrainResult mem = slid::TrainLanguageModelSet(data, SmallOptions());
  CHECK(mem.skipped.empty());
  CHECK(mem.files_used == 6);
  CHECK(mem.frames > 0);
  CHECK(mem.audio_seconds > 15);
  REQUIRE(mem.model.languages == data.languages);
  CHECK(Gmms(mem.model)[0].NumGauss() == 4);
  CHECK(mem.model.summary.at("backend") == "gmm");
  CHECK(mem.model.summary.at("files") == 6);
  mem.model.Validate();

  TempDir tmp("slid-test-train-");
  slid::TrainOptions disk = SmallOptions();
  disk.cache_dir = tmp("cache");
  disk.max_memory_mb = 0.01;  // every language spills after its first file
  std::string phases;
  slid::ProgressCallbacks cb;
  cb.phase_end = [&](const std::string& detail) { phases += detail + "\n"; };
  const slid::TrainResult d = slid::TrainLanguageModelSet(data, disk, cb);
  CheckSameModel(mem.model, d.model);
  CHECK(phases.find("streamed from the disk cache") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp("cache")));  // created by the run, so removed by it

  slid::TrainOptions two = SmallOptions();
  two.threads = 2;
  CheckSameModel(mem.model, slid::TrainLanguageModelSet(data, two).model);
}

TEST_CASE("TrainLanguageModelSet: an unreadable file is skipped and reported; callbacks see every phase") {
  slid::Dataset data = SampleData();
  slid::DataEntry bad;
  bad.id = bad.source = "/nonexistent/missing.wav";
  bad.language = "fr";
  data.entries.insert(data.entries.begin() + 3, bad);
  std::vector<std::string> errors, started;
  std::map<std::string, int64_t> advanced, totals;
  std::string current;
  slid::ProgressCallbacks cb;
  cb.entry_error = [&](const std::string& m) { errors.push_back(m); };
  cb.phase_start = [&](const std::string& what, int64_t total, const std::string&) {
    started.push_back(what);
    current = what;
    totals[what] = total;
  };
  cb.advance = [&](int64_t n, const std::string&, bool, double) { advanced[current] += n; };
  const slid::TrainResult r = slid::TrainLanguageModelSet(data, SmallOptions(), cb);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].rfind("/nonexistent/missing.wav", 0) == 0);
  REQUIRE(r.skipped.size() == 1);
  CHECK(r.skipped[0].language == "fr");
  CHECK(r.files_used == 6);
  CHECK(r.model.summary.at("failed_files") == 1);
  REQUIRE(started.size() == 4);  // features, then EM per language
  CHECK(started[0] == "features");
  CHECK(advanced["features"] == 6);  // the missing file is reported before the features phase
  CHECK(started[1] == "EM es (1/3)");
  for (size_t i = 1; i < started.size(); ++i) CHECK(advanced[started[i]] <= totals[started[i]]);
}

TEST_CASE("TrainLanguageModelSet: a language without usable audio, or a bad option, is an error") {
  slid::Dataset data = SampleData();
  slid::DataEntry bad;
  bad.id = bad.source = "/nonexistent/x.wav";
  bad.language = "xx";
  data.entries.push_back(bad);
  data.languages.push_back("xx");
  try {
    slid::TrainLanguageModelSet(data, SmallOptions());
    FAIL("no error");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("language 'xx' has no usable audio (1 file(s) listed, none of them a readable file)") !=
          std::string::npos);
  }
  // A file that exists but is not audio: found when its features are computed.
  TempDir tmp("slid-test-train-");
  {
    std::ofstream(tmp("text.wav")) << "not audio";
  }
  data = SampleData();
  bad.id = bad.source = tmp("text.wav");
  data.entries.push_back(bad);
  data.languages.push_back("xx");
  try {
    slid::TrainLanguageModelSet(data, SmallOptions());
    FAIL("no error");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("language 'xx' has no usable audio (0 files read, 1 failed") != std::string::npos);
  }
  slid::TrainOptions o = SmallOptions();
  o.backend = "nope";
  CHECK_THROWS_AS(slid::TrainLanguageModelSet(SampleData(), o), slid::Error);
  o = SmallOptions();
  o.threads = 0;
  CHECK_THROWS_AS(slid::TrainLanguageModelSet(SampleData(), o), slid::Error);
}

TEST_CASE("TrainLanguageModelSet: data problems are reported first; bad data is refused before any work, every reason at once") {
  slid::Dataset data = SampleData();
  data.problems = {"list.tsv:3: empty language; line skipped", "list.tsv:9: empty path; line skipped"};
  data.ignored = {"x.m4a: ignored: '.m4a' is not an audio format slid reads"};
  std::vector<std::string> errors, warnings, started;
  slid::ProgressCallbacks cb;
  cb.entry_error = [&](const std::string& m) { errors.push_back(m); };
  cb.warning = [&](const std::string& m) { warnings.push_back(m); };
  cb.phase_start = [&](const std::string& what, int64_t, const std::string&) { started.push_back(what); };
  const slid::TrainResult r = slid::TrainLanguageModelSet(data, SmallOptions(), cb);
  CHECK(errors == data.problems);
  REQUIRE(!warnings.empty());
  CHECK(warnings[0] == data.ignored[0]);
  CHECK(r.skipped.empty());
  CHECK(r.model.summary.at("data_problems") == 2);

  // Bad labels, a language whose only file is missing, and too few languages: one error naming all,
  // thrown before the features phase starts.
  slid::Dataset bad;
  bad.root = "DATA";
  for (const char* l : {"en US", "en/US", "ok", "gone"}) {
    slid::DataEntry e = SampleData().entries[0];
    e.id = l;
    e.language = l;
    if (std::string(l) == "gone") e.source = "/nonexistent/gone.wav";
    bad.entries.push_back(e);
    bad.languages.push_back(l);
  }
  std::sort(bad.languages.begin(), bad.languages.end());
  errors.clear();
  started.clear();
  std::string what;
  try {
    slid::TrainLanguageModelSet(bad, SmallOptions(), cb);
  } catch (const slid::Error& e) {
    what = e.what();
  }
  CHECK(started.empty());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].rfind("/nonexistent/gone.wav: ", 0) == 0);
  CHECK(what.rfind("DATA: bad language label(s) 'en US', 'en/US': ", 0) == 0);
  CHECK(what.find("language 'gone' has no usable audio (1 file(s) listed") != std::string::npos);
  CHECK(what.find("needs at least 2 languages with audio; the data has 3") == std::string::npos);  // 3 usable
  // One language only.
  slid::Dataset one = SampleData();
  one.entries.resize(2);
  one.languages = {"es"};
  try {
    slid::TrainLanguageModelSet(one, SmallOptions());
    FAIL("no error");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("needs at least 2 languages with audio; the data has 1 (es)") != std::string::npos);
  }
}

TEST_CASE("TrainLanguageModelSet ubm-map: relevance 1e9 keeps every language at the UBM, 16 separates them") {
  slid::TrainOptions o = SmallOptions();
  o.backend = "ubm-map";
  o.map.relevance = 1e9;
  const slid::TrainResult big = slid::TrainLanguageModelSet(SampleData(), o);
  REQUIRE(big.model.backend->Kind() == "ubm-map");
  REQUIRE(Gmms(big.model).size() == 3);
  CHECK(big.model.summary.at("ubm").at("map_relevance") == 1e9);
  for (int l = 1; l < 3; ++l) CHECK((Gmms(big.model)[l].means() - Gmms(big.model)[0].means()).cwiseAbs().maxCoeff() < 1e-3);
  // Balanced UBM: every language gave as many frames as the smallest one has.
  int64_t smallest = big.frames;
  for (const auto& [l, s] : big.model.summary.at("languages").items()) smallest = std::min<int64_t>(smallest, s.at("frames"));
  CHECK(big.model.summary.at("ubm").at("frames") == 3 * smallest);
  CHECK(smallest * 3 < big.frames);  // the sample languages differ in length, so this subsampled
  o.ubm_balance_languages = false;
  CHECK(slid::TrainLanguageModelSet(SampleData(), o).model.summary.at("ubm").at("frames") == big.frames);
  o.ubm_balance_languages = true;
  o.map.relevance = 16;
  const slid::TrainResult r16 = slid::TrainLanguageModelSet(SampleData(), o);
  for (int l = 1; l < 3; ++l) CHECK((Gmms(r16.model)[l].means() - Gmms(r16.model)[0].means()).cwiseAbs().maxCoeff() > 1e-2);
}

TEST_CASE("TrainLanguageModelSetOnFeatures: slid's own features give the audio's model; external ones the same GMMs") {
  const slid::Dataset data = SampleData();
  const slid::TrainOptions o = SmallOptions();
  TempDir tmp("slid-test-train-feats-");
  // The features of the audio, in data order, as `slid features --ark` writes them; their labels.
  {
    const slid::Frontend frontend(o.frontend);
    slid::KaldiMatrixWriter w("ark:" + tmp("f.ark"));
    for (const slid::DataEntry& e : data.entries)
      w.Write(e.id, frontend.Compute(slid::ReadEntryAudio(e, o.frontend.sample_rate_hz)));
    w.Close();
    std::ofstream u(tmp("utt2lang"));
    for (const slid::DataEntry& e : data.entries) u << e.id << " " << e.language << "\n";
  }
  const slid::Dataset labels = slid::LoadUtt2Lang(tmp("utt2lang"));
  REQUIRE(labels.problems.empty());
  const slid::TrainResult audio = slid::TrainLanguageModelSet(data, o);
  const slid::TrainResult known = slid::TrainLanguageModelSetOnFeatures("ark:" + tmp("f.ark"), labels, false, o);
  CheckSameModel(audio.model, known.model);
  CHECK(known.frames == audio.frames);
  CHECK(known.files_used == 6);
  CHECK_FALSE(known.model.frontend_external);
  CHECK(known.model.frontend == o.frontend);
  CHECK(known.model.summary.at("data_format") == "features");
  CHECK(known.model.summary.at("audio_hours").is_null());
  const slid::TrainResult ext = slid::TrainLanguageModelSetOnFeatures("ark:" + tmp("f.ark"), labels, true, o);
  CheckSameModel(audio.model, ext.model);
  CHECK(ext.model.frontend_external);
  CHECK(ext.model.summary.at("frontend") == "external");

  // A label without features, an utterance without a label: reported and skipped.
  {
    std::ofstream u(tmp("part"));
    for (size_t i = 1; i < data.entries.size(); ++i) u << data.entries[i].id << " " << data.entries[i].language << "\n";
    u << "ghost " << data.entries[0].language << "\n";
  }
  std::vector<std::string> errors;
  slid::ProgressCallbacks cb;
  cb.entry_error = [&](const std::string& m) { errors.push_back(m); };
  const slid::TrainResult part =
      slid::TrainLanguageModelSetOnFeatures("ark:" + tmp("f.ark"), slid::LoadUtt2Lang(tmp("part")), true, o, cb);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0] == "ark:" + tmp("f.ark") + ": utterance '" + data.entries[0].id + "' has no label in " + tmp("part") +
                         "; skipped");
  CHECK(errors[1] == tmp("part") + ":6: utterance 'ghost' is not in ark:" + tmp("f.ark") + "; skipped");
  CHECK(part.skipped.size() == 2);
  CHECK(part.files_used == 5);

  // Features of another dimension than the frontend's: an error before any training.
  {
    slid::KaldiMatrixWriter w("ark:" + tmp("g.ark"));
    w.Write(data.entries[0].id, slid::Matrix::Ones(30, 7));
    w.Close();
  }
  try {
    slid::TrainLanguageModelSetOnFeatures("ark:" + tmp("g.ark"), labels, false, o);
    FAIL("no error");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("has 7-dimensional features, the frontend options give 56") != std::string::npos);
  }
}

TEST_CASE("TrainLanguageModelSet with augmentation: copies counted, frames grow, model independent of threads") {
  const slid::Dataset data = SampleData();
  const slid::TrainResult plain = slid::TrainLanguageModelSet(data, SmallOptions());
  slid::TrainOptions o = SmallOptions();
  o.augment.copies = 2;
  const slid::TrainResult a = slid::TrainLanguageModelSet(data, o);
  CHECK(a.files_used == 6);
  CHECK(a.augmented_copies == 12);
  CHECK(a.augmented_seconds == doctest::Approx(2 * a.audio_seconds).epsilon(0.01));  // no speed step by default
  CHECK(a.audio_seconds == doctest::Approx(plain.audio_seconds));
  CHECK(a.frames == 3 * plain.frames);  // original_vad: every copy keeps its original's voiced frames
  CHECK(a.model.summary.at("augment").at("copies") == 2);
  CHECK(a.model.summary.at("augment").at("copies_made") == 12);
  o.threads = 2;
  CheckSameModel(a.model, slid::TrainLanguageModelSet(data, o).model);
  slid::TrainOptions own = o;
  own.augment.original_vad = false;  // the VAD decides on each degraded copy
  CHECK(slid::TrainLanguageModelSet(data, own).frames != a.frames);
  o.augment.seed = 5;  // other copies, another model
  CHECK(Gmms(slid::TrainLanguageModelSet(data, o).model)[0].means() != Gmms(a.model)[0].means());
  o.augment.kinds = {"reverb"};
  CHECK_THROWS_WITH_AS(slid::TrainLanguageModelSet(data, o), doctest::Contains("unknown step 'reverb'"), slid::Error);
}
