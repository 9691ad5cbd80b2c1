// The _slid extension module: models, features, scoring and EM training from Python.
// The Python package slid (python/slid/__init__.py) re-exports everything here.
//
// Conventions kept by every function:
//  - Waveforms are 1-D arrays on Kaldi's 16-bit scale (+-32768 full scale, as slid's audio reader
//    gives): int16 arrays are taken as they are; float arrays holding [-1, 1] audio must be scaled by
//    32768 first. A float32 C-contiguous array is read in place (no copy).
//  - Feature matrices are 2-D float32 arrays (frames x dims); C-contiguous float32 is read in place,
//    anything else is converted once. Returned matrices share the library's buffer (no copy).
//  - The GIL is released while the library computes (features, scoring, reading, training).
//  - Library errors (slid::Error) raise slid.Error with the library's message.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "numpy_bridge.h"
#include "slid/audio.h"
#include "slid/cmvn.h"
#include "slid/em.h"
#include "slid/error.h"
#include "slid/feature_cache.h"
#include "slid/frontend.h"
#include "slid/gmm.h"
#include "slid/mfcc.h"
#include "slid/model.h"
#include "slid/scorer.h"
#include "slid/vad.h"
#include "slid/version.h"

namespace slid::python {
namespace {

// A waveform argument: float32 samples read in place when possible, else converted (int16 values
// are exact in float32).
struct SamplesArg {
  FloatView view;
  int rate_hz = 0;
  double Seconds() const { return rate_hz > 0 ? static_cast<double>(view.rows) / rate_hz : 0; }
  Waveform ToWaveform() const {  // a copy, for the paths that must resample
    Waveform w;
    w.samples.assign(view.data, view.data + view.rows);
    w.rate_hz = rate_hz;
    return w;
  }
};

SamplesArg ReadSamplesArg(const py::handle& samples, int rate_hz) {
  if (rate_hz <= 0) throw py::value_error("rate: must be a positive sampling rate in Hz, got " + std::to_string(rate_hz));
  SamplesArg a;
  a.view = ViewFloat32(samples, "waveform", 1);
  a.rate_hz = rate_hz;
  // As the audio readers do for files: NaN/Inf samples are an error, not silently empty features.
  for (int64_t i = 0; i < a.view.rows; ++i)
    if (!std::isfinite(a.view.data[i]))
      throw Error("waveform: sample " + std::to_string(i) + " is NaN or infinite");
  return a;
}

bool IsPathLike(const py::handle& obj) {
  return py::isinstance<py::str>(obj) || py::hasattr(obj, "__fspath__");
}
std::string PathOf(const py::handle& obj) {
  return py::module_::import("os").attr("fsdecode")(obj).cast<std::string>();
}

FrontendStage ParseStage(const std::string& s) {
  if (s == "mfcc") return FrontendStage::kMfcc;
  if (s == "cmvn") return FrontendStage::kCmvn;
  if (s == "sdc") return FrontendStage::kSdc;
  if (s == "full" || s == "voiced") return FrontendStage::kVoiced;
  throw Error("stage: unknown value '" + s + "' (mfcc, cmvn, sdc or full)");
}

// Frontend plus an MFCC computer at the frontend's rate, so a waveform already at that rate is
// featurised straight from the NumPy buffer (MfccComputer::Compute(const float*, n)).
class PyFrontend {
 public:
  explicit PyFrontend(const FrontendOptions& opts)
      : frontend_(opts), mfcc_(opts.mfcc, opts.sample_rate_hz) {}

  const Frontend& frontend() const { return frontend_; }

  // The same stages as Frontend::Compute(wav, stage), from samples in place.
  Matrix Compute(const SamplesArg& a, FrontendStage stage) const {
    if (a.rate_hz != frontend_.options().sample_rate_hz)
      return frontend_.Compute(Resample(a.ToWaveform(), frontend_.options().sample_rate_hz), stage);
    const VadOptions& vad = frontend_.options().vad;
    std::vector<float> energy;
    const bool want_energy = stage == FrontendStage::kVoiced && vad.enabled && vad.use_log_energy;
    Matrix mfcc = mfcc_.Compute(a.view.data, a.view.rows, want_energy ? &energy : nullptr);
    if (stage == FrontendStage::kMfcc) return mfcc;
    if (stage == FrontendStage::kCmvn) return ApplyCmvn(mfcc, frontend_.options().cmvn);
    Matrix feats = frontend_.ComputeFeatures(mfcc);
    if (stage == FrontendStage::kSdc || feats.rows() == 0) return feats;
    return SelectVoicedFrames(feats, want_energy ? frontend_.ComputeVoiced(mfcc, energy) : frontend_.ComputeVoiced(mfcc));
  }
  // Raw MFCC and, if the VAD decides on the log-energy, the frame log-energies (Frontend::ComputeMfcc).
  Matrix Mfcc(const SamplesArg& a, std::vector<float>* vad_energy) const {
    if (a.rate_hz != frontend_.options().sample_rate_hz)
      return frontend_.ComputeMfcc(Resample(a.ToWaveform(), frontend_.options().sample_rate_hz), vad_energy);
    const VadOptions& vad = frontend_.options().vad;
    vad_energy->clear();
    return mfcc_.Compute(a.view.data, a.view.rows, vad.enabled && vad.use_log_energy ? vad_energy : nullptr);
  }
  Matrix ComputeFile(const std::string& path, FrontendStage stage) const {
    return frontend_.Compute(ReadAudio(path, frontend_.options().sample_rate_hz), stage);
  }

 private:
  Frontend frontend_;
  MfccComputer mfcc_;
};

py::array ComputeAny(const PyFrontend& fe, const py::object& audio, int rate_hz, const std::string& stage_name) {
  const FrontendStage stage = ParseStage(stage_name);
  if (IsPathLike(audio)) {
    const std::string path = PathOf(audio);
    Matrix m;
    {
      py::gil_scoped_release release;
      m = fe.ComputeFile(path, stage);
    }
    return ToNumpy(std::move(m));
  }
  const SamplesArg a = ReadSamplesArg(audio, rate_hz > 0 ? rate_hz : fe.frontend().options().sample_rate_hz);
  Matrix m;
  {
    py::gil_scoped_release release;
    m = fe.Compute(a, stage);
  }
  return ToNumpy(std::move(m));
}

// One recording's scores, with the candidate languages they refer to.
struct PyResult {
  ScoreResult r;
  std::vector<std::string> languages;
};

// Frames fed per call of UtteranceScorer::Add when scoring a NumPy matrix in place: a multiple of
// the gmm back-end's internal block (128 frames), so the sums are bit-identical to
// Scorer::ScoreFeatures on the whole matrix.
constexpr int64_t kScoreChunkFrames = 128 * 64;

class PyScorer {
 public:
  PyScorer(const LanguageModelSet& model, const ScorerOptions& opts)
      : scorer_(std::make_shared<Scorer>(model, opts)), frontend_(std::make_shared<PyFrontend>(model.frontend)),
        external_(model.frontend_external) {}

  const std::vector<std::string>& languages() const { return scorer_->languages(); }
  const ScorerOptions& options() const { return scorer_->options(); }

  PyResult FromFile(const std::string& path) const {
    py::gil_scoped_release release;
    return Wrap(scorer_->ScoreFile(path));
  }
  PyResult FromWaveform(const py::handle& samples, int rate_hz) const {
    if (external_)  // as Scorer::ScoreWaveform, which this does in two steps
      throw Error("the model was trained on external features and cannot score audio; give it such features");
    const SamplesArg a = ReadSamplesArg(samples, rate_hz > 0 ? rate_hz : frontend_->frontend().options().sample_rate_hz);
    py::gil_scoped_release release;
    // Compute(a, kVoiced)'s steps, keeping the VAD speech check's answer (as Scorer::ScoreWaveform).
    const Frontend& fe = frontend_->frontend();
    std::vector<float> energy;
    const Matrix mfcc = frontend_->Mfcc(a, &energy);
    const Matrix feats = fe.ComputeFeatures(mfcc);
    const bool no_speech = feats.rows() > 0 && !fe.CheckSpeech(mfcc, energy).has_speech;
    const std::unique_ptr<UtteranceScorer> u = scorer_->NewUtterance();
    if (feats.rows() > 0) u->Add(SelectVoicedFrames(feats, fe.ComputeVoiced(mfcc, energy)));
    return Wrap(scorer_->Finish(*u, a.Seconds(), no_speech));
  }
  PyResult FromFeatures(const py::handle& features) const {
    const FloatView v = ViewFloat32(features, "features", 2);
    py::gil_scoped_release release;
    const std::unique_ptr<UtteranceScorer> u = scorer_->NewUtterance();
    Matrix block;
    for (int64_t begin = 0; begin < v.rows; begin += kScoreChunkFrames) {
      CopyRows(v, begin, std::min(kScoreChunkFrames, v.rows - begin), &block);
      u->Add(block);
    }
    if (v.rows == 0 && v.cols != scorer_->backend().Dim())  // no block was added
      throw Error("scorer: features have " + std::to_string(v.cols) + " dims, the model " +
                  std::to_string(scorer_->backend().Dim()));
    return Wrap(scorer_->Finish(*u, 0));
  }
  PyResult Any(const py::object& x, int rate_hz) const {
    if (IsPathLike(x)) return FromFile(PathOf(x));
    const py::array a = py::array::ensure(x);
    if (a && a.ndim() == 2) return FromFeatures(x);
    return FromWaveform(x, rate_hz);
  }

 private:
  PyResult Wrap(ScoreResult r) const { return PyResult{std::move(r), scorer_->languages()}; }
  std::shared_ptr<Scorer> scorer_;
  std::shared_ptr<PyFrontend> frontend_;
  bool external_ = false;  // the model's frontend_external
};

// Training frames from NumPy arrays (each frames x dim), streamed in blocks without copying the
// arrays as a whole: each block is copied into a reused Matrix.
class NumpyFrameSource : public FrameSource {
 public:
  NumpyFrameSource(std::vector<FloatView> parts, int dim) : parts_(std::move(parts)), dim_(dim) {
    for (const FloatView& p : parts_) frames_ += p.rows;
  }
  int Dim() const override { return dim_; }
  int64_t NumFrames() const override { return frames_; }
  void ForEachBlock(int64_t block_frames, const std::function<void(const Matrix&)>& fn) const override {
    if (block_frames < 1) throw Error("block_frames must be >= 1");
    Matrix block(std::min<int64_t>(block_frames, std::max<int64_t>(frames_, 1)), dim_);
    int64_t filled = 0;
    for (const FloatView& p : parts_) {
      for (int64_t r = 0; r < p.rows;) {
        const int64_t n = std::min(p.rows - r, static_cast<int64_t>(block.rows()) - filled);
        std::copy(p.data + r * dim_, p.data + (r + n) * dim_, block.data() + filled * dim_);
        filled += n;
        r += n;
        if (filled == block.rows()) {
          fn(block);
          filled = 0;
        }
      }
    }
    if (filled > 0) {
      const Matrix last = block.topRows(filled);
      fn(last);
    }
  }

 private:
  std::vector<FloatView> parts_;
  int dim_ = 0;
  int64_t frames_ = 0;
};

py::dict EmSummary(const EmResult& r, int64_t frames) {
  py::dict d;
  d["frames"] = frames;
  d["num_gauss"] = r.gmm.NumGauss();
  d["iterations"] = r.history.size();
  d["converged"] = r.converged;
  d["avg_loglik"] = r.history.empty() ? py::object(py::none()) : py::object(py::float_(r.history.back().avg_loglik));
  d["warnings"] = r.warnings;
  return d;
}

// data: {language: array or list of arrays}. Returns the trained LanguageModelSet.
LanguageModelSet TrainArrays(const py::dict& data, const FrontendOptions& frontend, const EmOptions& em,
                             const py::object& progress) {
  if (data.size() == 0) throw Error("train_arrays: no languages given");
  const int dim = Frontend(frontend).Dim();
  LanguageModelSet model;
  std::vector<DiagGmm> gmms;
  model.frontend = frontend;
  nlohmann::json per_lang = nlohmann::json::object();
  for (const auto& item : data) {
    const std::string lang = py::str(item.first).cast<std::string>();
    std::vector<FloatView> parts;
    if (py::isinstance<py::list>(item.second) || py::isinstance<py::tuple>(item.second)) {
      for (const py::handle& h : item.second) parts.push_back(ViewFloat32(h, ("features of '" + lang + "'").c_str(), 2));
    } else {
      parts.push_back(ViewFloat32(item.second, ("features of '" + lang + "'").c_str(), 2));
    }
    for (const FloatView& p : parts)
      if (p.cols != dim)
        throw Error("train_arrays: features of '" + lang + "' have " + std::to_string(p.cols) +
                    " columns, the frontend options give " + std::to_string(dim));
    NumpyFrameSource source(std::move(parts), dim);
    std::function<void(const EmProgress&)> cb;
    if (!progress.is_none()) {
      cb = [&progress, lang](const EmProgress& p) {
        py::gil_scoped_acquire acquire;
        py::dict d;
        d["iteration"] = p.iteration; d["avg_loglik"] = p.avg_loglik; d["seconds"] = p.seconds;
        d["num_gauss"] = p.num_gauss; d["num_frames"] = p.num_frames;
        progress(lang, d);
      };
    }
    EmResult r;
    {
      py::gil_scoped_release release;
      r = TrainDiagGmm(source, em, cb);
    }
    nlohmann::json s = {{"frames", source.NumFrames()}, {"num_gauss", r.gmm.NumGauss()},
                        {"iterations", r.history.size()}, {"converged", r.converged},
                        {"warnings", r.warnings}};
    if (!r.history.empty()) s["avg_loglik"] = r.history.back().avg_loglik;
    per_lang[lang] = s;
    model.languages.push_back(lang);
    gmms.push_back(std::move(r.gmm));
  }
  model.backend = std::make_shared<GmmBackend>(std::move(gmms));
  model.summary = {{"trainer", "slid.train_arrays (Python)"}, {"version", Version()}, {"languages", per_lang}};
  model.Validate();
  return model;
}

py::dict ResultDict(const PyResult& p) {
  py::dict d;
  d["languages"] = p.languages;
  d["scores"] = p.r.avg_loglik;
  d["posteriors"] = p.r.posteriors;
  d["decision"] = p.r.best >= 0 ? py::object(py::str(p.languages[p.r.best])) : py::object(py::none());
  d["num_frames"] = p.r.num_frames;
  d["speech_seconds"] = p.r.speech_seconds;
  d["audio_seconds"] = p.r.audio_seconds;
  d["too_little_speech"] = p.r.too_little_speech;
  d["no_speech"] = p.r.no_speech;
  d["unknown"] = p.r.unknown;
  return d;
}

}  // namespace

PYBIND11_MODULE(_slid, m) {
  m.doc() = "slid: spoken language identification (MFCC/SDC features, one diagonal GMM per language)";
  m.attr("__version__") = Version();
  py::register_exception<Error>(m, "Error", PyExc_RuntimeError);

  BindOptions(m);
  BindDrivers(m);

  m.def("_float32_view", [](const py::object& a) {
        const FloatView v = ViewFloat32(a, "array", 0);
        return py::make_tuple(reinterpret_cast<uintptr_t>(v.data), v.copied);
      },
      "Test hook: the buffer address the library reads for `a` and whether NumPy had to convert it.");

  m.def("read_audio", [](const std::string& path, int rate_hz) {
        Waveform w;
        {
          py::gil_scoped_release release;
          w = ReadAudio(path, rate_hz);
        }
        const int rate = w.rate_hz;
        return py::make_tuple(VectorToNumpy(std::move(w.samples)), rate);
      },
      py::arg("path"), py::arg("rate") = 0,
      "Reads an audio file as (samples, rate): mono float32 on Kaldi's 16-bit scale, resampled to `rate` (0: native).");

  py::class_<PyFrontend, std::shared_ptr<PyFrontend>>(m, "Frontend", "The feature pipeline for a set of FrontendOptions.")
      .def(py::init([](const py::object& options) {
             return std::make_shared<PyFrontend>(options.is_none() ? FrontendOptions{} : options.cast<FrontendOptions>());
           }),
           py::arg("options") = py::none())
      .def_property_readonly("options", [](const PyFrontend& f) { return f.frontend().options(); })
      .def_property_readonly("dim", [](const PyFrontend& f) { return f.frontend().Dim(); })
      .def("compute", &ComputeAny, py::arg("audio"), py::arg("rate") = 0, py::arg("stage") = "full",
           "Features (frames x dim float32) of a path or a 1-D waveform at `rate` Hz (0: the options' rate). "
           "stage: 'mfcc', 'cmvn', 'sdc' (all frames) or 'full' (voiced frames only).");

  m.def("compute_features",
        [](const py::object& audio, int rate_hz, const py::object& options, const std::string& stage) {
          const PyFrontend fe(options.is_none() ? FrontendOptions{} : options.cast<FrontendOptions>());
          return ComputeAny(fe, audio, rate_hz, stage);
        },
        py::arg("audio"), py::arg("rate") = 0, py::arg("options") = py::none(), py::arg("stage") = "full",
        "Features of a file or waveform with FrontendOptions (default: slid's defaults); see Frontend.compute.");

  py::class_<DiagGmm>(m, "DiagGmm", "A diagonal-covariance GMM (weights K, means K x D, variances K x D).")
      .def(py::init([](const py::handle& w, const py::handle& mu, const py::handle& var) {
             const FloatView vw = ViewFloat32(w, "weights", 1), vm = ViewFloat32(mu, "means", 2), vv = ViewFloat32(var, "variances", 2);
             Vector weights = Eigen::Map<const Vector>(vw.data, vw.rows);
             Matrix means = Eigen::Map<const Matrix>(vm.data, vm.rows, vm.cols);
             Matrix vars = Eigen::Map<const Matrix>(vv.data, vv.rows, vv.cols);
             return DiagGmm(std::move(weights), std::move(means), std::move(vars));
           }),
           py::arg("weights"), py::arg("means"), py::arg("variances"))
      .def_property_readonly("num_gauss", &DiagGmm::NumGauss)
      .def_property_readonly("dim", &DiagGmm::Dim)
      .def_property_readonly("weights", [](const DiagGmm& g) { return ToNumpy(Vector(g.weights())); })
      .def_property_readonly("means", [](const DiagGmm& g) { return ToNumpy(Matrix(g.means())); })
      .def_property_readonly("variances", [](const DiagGmm& g) { return ToNumpy(Matrix(g.variances())); })
      .def("average_log_likelihood",
           [](const DiagGmm& g, const py::handle& frames) {
             const FloatView v = ViewFloat32(frames, "frames", 2);
             py::gil_scoped_release release;
             return g.AverageLogLikelihood(Eigen::Map<const Matrix>(v.data, v.rows, v.cols));
           },
           py::arg("frames"), "Mean over frames of log p(x) (natural log).")
      .def("__repr__", [](const DiagGmm& g) {
        return "DiagGmm(num_gauss=" + std::to_string(g.NumGauss()) + ", dim=" + std::to_string(g.Dim()) + ")";
      });

  py::class_<PyResult>(m, "Result", "Scores of one recording against a model's candidate languages.")
      .def_property_readonly("languages", [](const PyResult& p) { return p.languages; })
      .def_property_readonly("scores", [](const PyResult& p) { return VectorToNumpy(p.r.avg_loglik); },
                             "average frame log-likelihood per language (empty if no voiced frame)")
      .def_property_readonly("posteriors", [](const PyResult& p) { return VectorToNumpy(p.r.posteriors); },
                             "softmax(posterior_scale x scores), equal priors (empty if no voiced frame)")
      .def_property_readonly("decision",
                             [](const PyResult& p) -> py::object {
                               if (p.r.best < 0) return py::none();
                               return py::str(p.languages[p.r.best]);
                             },
                             "the best language, or None if too little speech")
      .def_property_readonly("best", [](const PyResult& p) { return p.r.best; }, "index of the decision, -1 if none")
      .def_property_readonly("num_frames", [](const PyResult& p) { return p.r.num_frames; })
      .def_property_readonly("speech_seconds", [](const PyResult& p) { return p.r.speech_seconds; })
      .def_property_readonly("audio_seconds", [](const PyResult& p) { return p.r.audio_seconds; })
      .def_property_readonly("too_little_speech", [](const PyResult& p) { return p.r.too_little_speech; })
      .def_property_readonly("no_speech", [](const PyResult& p) { return p.r.no_speech; },
                             "the VAD's speech check found no speech (noise, tone, silence)")
      .def_property_readonly("unknown", [](const PyResult& p) { return p.r.unknown; },
                             "no posterior reached the scorer's unknown_threshold")
      .def("to_dict", &ResultDict)
      .def("__repr__", [](const PyResult& p) {
        return "Result(decision=" + (p.r.best >= 0 ? "'" + p.languages[p.r.best] + "'" : std::string("None")) +
               ", num_frames=" + std::to_string(p.r.num_frames) + ")";
      });

  py::class_<PyScorer>(m, "Scorer", "Scores recordings against a model (see Model.scorer).")
      .def_property_readonly("languages", &PyScorer::languages)
      .def_property_readonly("options", &PyScorer::options)
      .def("identify", &PyScorer::Any, py::arg("x"), py::arg("rate") = 0,
           "x: a path, a 1-D waveform (at `rate` Hz; 0: the model's rate) or 2-D features (voiced frames).")
      .def("identify_file", [](const PyScorer& s, const py::object& path) { return s.FromFile(PathOf(path)); }, py::arg("path"))
      .def("identify_waveform", &PyScorer::FromWaveform, py::arg("samples"), py::arg("rate") = 0)
      .def("identify_features", &PyScorer::FromFeatures, py::arg("features"));

  py::class_<LanguageModelSet, std::shared_ptr<LanguageModelSet>>(m, "Model", "A trained model: frontend options and one GMM per language.")
      .def_static("load", [](const py::object& path) {
            const std::string p = PathOf(path);
            py::gil_scoped_release release;
            return std::make_shared<LanguageModelSet>(LanguageModelSet::Load(p));
          }, py::arg("path"))
      .def("save", [](const LanguageModelSet& s, const py::object& path) {
            const std::string p = PathOf(path);
            py::gil_scoped_release release;
            s.Save(p);
          }, py::arg("path"), "Writes the model file atomically.")
      .def_property_readonly("languages", [](const LanguageModelSet& s) { return s.languages; })
      .def_property_readonly("dim", &LanguageModelSet::Dim)
      .def_property_readonly("frontend", [](const LanguageModelSet& s) { return s.frontend; })
      .def_property_readonly("summary", [](const LanguageModelSet& s) { return JsonToPython(s.summary); })
      .def("info", [](const LanguageModelSet& s) { return JsonToPython(s.Header()); },
           "The model file's JSON header as a dict: format, frontend options, languages, training summary.")
      .def("gmm", [](const LanguageModelSet& s, const std::string& lang) {
            const int i = s.LanguageIndex(lang);
            if (i < 0) throw Error("model has no language '" + lang + "'");
            if (const auto* g = dynamic_cast<const GmmBackend*>(s.backend.get())) return g->gmms()[i];
            if (const auto* u = dynamic_cast<const UbmMapBackend*>(s.backend.get())) return u->adapted()[i];
            throw Error("the model's " + s.backend->Kind() + " back-end has no per-language GMMs");
          }, py::arg("language"))
      .def("scorer", [](const LanguageModelSet& s, const py::object& options, const py::kwargs& kw) {
            ScorerOptions o = options.is_none() ? ScorerOptions{} : options.cast<ScorerOptions>();
            if (kw.size() > 0) {
              py::object po = py::cast(o);
              for (const auto& item : kw) {
                if (!py::hasattr(po, item.first)) throw py::type_error("unexpected keyword argument '" + item.first.cast<std::string>() + "'");
                py::setattr(po, item.first, item.second);
              }
              o = po.cast<ScorerOptions>();
            }
            return PyScorer(s, o);
          }, py::arg("options") = py::none(),
          "A Scorer (ScorerOptions, or its fields as keyword arguments); reuse it for many recordings.")
      .def("identify", [](const LanguageModelSet& s, const py::object& x, int rate_hz) {
            return PyScorer(s, ScorerOptions{}).Any(x, rate_hz);
          }, py::arg("x"), py::arg("rate") = 0,
          "Scores a path, a 1-D waveform or 2-D features with default ScorerOptions (see Scorer.identify).")
      .def("features", [](const LanguageModelSet& s, const py::object& audio, int rate_hz) {
            return ComputeAny(PyFrontend(s.frontend), audio, rate_hz, "full");
          }, py::arg("audio"), py::arg("rate") = 0, "Features of a path or waveform with the model's frontend options.")
      .def("__repr__", [](const LanguageModelSet& s) {
        std::string l;
        for (const std::string& x : s.languages) l += (l.empty() ? "" : ", ") + x;
        return "Model(languages=[" + l + "], dim=" + std::to_string(s.Dim()) + ")";
      });

  m.def("train_gmm", [](const py::object& frames, const EmOptions& em) {
        const FloatView v = ViewFloat32(frames, "frames", 2);
        std::vector<FloatView> parts{v};
        NumpyFrameSource source(std::move(parts), static_cast<int>(v.cols));
        EmResult r;
        {
          py::gil_scoped_release release;
          r = TrainDiagGmm(source, em);
        }
        return py::make_tuple(r.gmm, EmSummary(r, source.NumFrames()));
      },
      py::arg("frames"), py::arg("options") = EmOptions{},
      "EM-trains one diagonal GMM on frames (N x D); returns (DiagGmm, summary dict).");

  m.def("train_arrays",
        [](const py::dict& data, const py::object& frontend, const py::object& em, const py::object& progress) {
          const FrontendOptions fo = frontend.is_none() ? FrontendOptions{} : frontend.cast<FrontendOptions>();
          const EmOptions eo = em.is_none() ? EmOptions{} : em.cast<EmOptions>();
          return std::make_shared<LanguageModelSet>(TrainArrays(data, fo, eo, progress));
        },
        py::arg("data"), py::arg("frontend") = py::none(), py::arg("em") = py::none(), py::arg("progress") = py::none(),
        "Trains one GMM per language from features: data = {language: array or list of arrays (frames x dim, "
        "computed with `frontend`)}. progress(language, dict) is called after every EM iteration. Returns a Model.");
}

}  // namespace slid::python
