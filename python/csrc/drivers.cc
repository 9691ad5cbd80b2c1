// The library's data-set drivers from Python: slid.train (TrainLanguageModelSet) and slid.evaluate
// (Evaluate), on a folder of <lang>/ folders, a Kaldi data directory or a TSV list (slid/dataset.h).
// Progress reaches a Python callable progress(kind, text); without one, warnings and skipped files
// become Python warnings (RuntimeWarning), so nothing the library reports is lost.
#include <memory>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.h"
#include "slid/callbacks.h"
#include "slid/dataset.h"
#include "slid/evaluate.h"
#include "slid/model.h"
#include "slid/train.h"

namespace slid::python {
namespace {

// Every callback takes the GIL: the drivers call them from their own thread or one worker at a time.
ProgressCallbacks MakeCallbacks(const py::object& progress) {
  ProgressCallbacks cb;
  auto send = [progress](const char* kind, const std::string& text) {
    py::gil_scoped_acquire acquire;
    if (!progress.is_none()) {
      progress(kind, text);
    } else if (std::string(kind) == "warning" || std::string(kind) == "entry_error") {
      py::module_::import("warnings").attr("warn")(text, py::module_::import("builtins").attr("RuntimeWarning"), 2);
    }
  };
  cb.warning = [send](const std::string& t) { send("warning", t); };
  cb.entry_error = [send](const std::string& t) { send("entry_error", t); };
  if (progress.is_none()) return cb;
  cb.info = [send](const std::string& t) { send("info", t); };
  cb.phase_start = [send](const std::string& what, int64_t total, const std::string& unit) {
    send("phase_start", what + " (" + std::to_string(total) + " " + unit + ")");
  };
  cb.advance = [send](int64_t, const std::string& detail, bool milestone, double) {
    if (milestone) send("milestone", detail);
  };
  cb.phase_end = [send](const std::string& t) { send("phase_end", t); };
  return cb;
}

py::object OrNone(double v) { return v < 0 ? py::object(py::none()) : py::object(py::float_(v)); }

py::dict SummaryDict(const EvalSummary& s, const std::vector<std::string>& languages) {
  py::dict d;
  d["num_trials"] = s.num_trials;
  d["accuracy"] = s.num_trials > 0 ? py::object(py::float_(s.accuracy)) : py::object(py::none());
  d["eer"] = OrNone(s.eer);
  d["cavg"] = OrNone(s.cavg);
  py::dict per;
  for (size_t l = 0; l < languages.size() && l < s.per_language.size(); ++l) {
    py::dict x;
    x["num_trials"] = s.per_language[l].num_trials;
    x["num_decided"] = s.per_language[l].num_decided;
    x["precision"] = s.per_language[l].precision;
    x["recall"] = s.per_language[l].recall;
    per[py::str(languages[l])] = x;
  }
  d["per_language"] = per;
  d["confusion"] = s.confusion;  // rows: true language, columns: decision (both in `languages` order)
  return d;
}

}  // namespace

void BindDrivers(py::module_& m) {
  py::class_<TrainResult>(m, "TrainResult", "What slid.train returns: the model and what happened.")
      .def_property_readonly("model", [](const TrainResult& r) { return std::make_shared<LanguageModelSet>(r.model); })
      .def_readonly("files_used", &TrainResult::files_used)
      .def_readonly("audio_seconds", &TrainResult::audio_seconds)
      .def_readonly("frames", &TrainResult::frames)
      .def_property_readonly("skipped", [](const TrainResult& r) {
        py::list l;
        for (const SkippedFile& f : r.skipped) {
          py::dict d;
          d["entry"] = f.entry; d["language"] = f.language; d["error"] = f.error;
          l.append(d);
        }
        return l;
      })
      .def("__repr__", [](const TrainResult& r) {
        return "TrainResult(languages=" + std::to_string(r.model.languages.size()) + ", files_used=" +
               std::to_string(r.files_used) + ", frames=" + std::to_string(r.frames) + ", skipped=" +
               std::to_string(r.skipped.size()) + ")";
      });

  m.def("train",
        [](const std::string& data, const py::object& frontend, const std::string& backend, const py::object& em,
           const py::object& map, int threads, const std::string& cache_dir, double max_memory_mb,
           const py::object& progress) {
          TrainOptions o;
          if (!frontend.is_none()) o.frontend = frontend.cast<FrontendOptions>();
          if (!em.is_none()) o.em = em.cast<EmOptions>();
          if (!map.is_none()) o.map = map.cast<MapOptions>();
          o.backend = backend;
          o.threads = threads;
          o.cache_dir = cache_dir;
          o.max_memory_mb = max_memory_mb;
          const ProgressCallbacks cb = MakeCallbacks(progress);
          py::gil_scoped_release release;
          return TrainLanguageModelSet(LoadDataset(data), o, cb);
        },
        py::arg("data"), py::arg("frontend") = py::none(), py::arg("backend") = TrainOptions{}.backend,
        py::arg("em") = py::none(), py::arg("map") = py::none(), py::arg("threads") = TrainOptions{}.threads,
        py::arg("cache_dir") = TrainOptions{}.cache_dir, py::arg("max_memory_mb") = TrainOptions{}.max_memory_mb,
        py::arg("progress") = py::none(),
        "Trains a model from a data set (folder of <lang>/ folders, Kaldi data dir or TSV list), as `slid train`: "
        "backend 'gmm' or 'ubm-map'; frontend/em/map: FrontendOptions/EmOptions/MapOptions. progress(kind, text) "
        "receives phase_start/milestone/phase_end/info/warning/entry_error. Returns a TrainResult (.model).");

  m.def("evaluate",
        [](const std::shared_ptr<LanguageModelSet>& model, const std::string& data, const py::object& scorer,
           int threads, const py::object& progress) {
          EvaluateOptions o;
          if (!scorer.is_none()) o.scorer = scorer.cast<ScorerOptions>();
          o.threads = threads;
          const ProgressCallbacks cb = MakeCallbacks(progress);
          Dataset ds;
          EvaluateResult r;
          {
            py::gil_scoped_release release;
            ds = LoadDataset(data);
            r = Evaluate(*model, ds, o, cb);
          }
          py::dict d;
          d["languages"] = r.languages;
          d["num_utterances"] = r.num_utterances;
          d["num_failed"] = r.num_failed;
          d["num_too_little_speech"] = r.num_too_little_speech;
          d["audio_seconds_scored"] = r.audio_seconds_scored;
          d["overall"] = SummaryDict(r.overall, r.languages);
          py::dict buckets;
          for (size_t b = 0; b < r.buckets.size() && b < r.by_bucket.size(); ++b)
            buckets[py::str(r.buckets[b].name)] = SummaryDict(r.by_bucket[b], r.languages);
          d["by_duration"] = buckets;
          py::list entries;
          for (const EvaluatedEntry& e : r.entries) {
            const DataEntry& de = ds.entries[e.index];
            py::dict x;
            x["id"] = de.id;
            x["language"] = de.language;
            x["decision"] = e.result.best >= 0 ? py::object(py::str(r.languages[e.result.best])) : py::object(py::none());
            x["scores"] = e.result.avg_loglik;
            x["posteriors"] = e.result.posteriors;
            x["audio_seconds"] = e.result.audio_seconds;
            x["speech_seconds"] = e.result.speech_seconds;
            entries.append(x);
          }
          d["entries"] = entries;
          return d;
        },
        py::arg("model"), py::arg("data"), py::arg("scorer") = py::none(), py::arg("threads") = EvaluateOptions{}.threads,
        py::arg("progress") = py::none(),
        "Scores a labelled data set with a Model, as `slid eval`: a dict with accuracy, per-language precision/"
        "recall, confusion, EER and Cavg overall ('overall') and by duration ('by_duration'), and every "
        "readable entry's scores ('entries').");
}

}  // namespace slid::python
