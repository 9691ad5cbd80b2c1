// Options structs as Python classes: keyword-argument constructors starting from the C++ defaults,
// read/write attributes, __repr__ and to_dict().
#include <charconv>
#include <cstdlib>
#include <sstream>

#include <pybind11/stl.h>

#include "bindings.h"
#include "slid/em.h"
#include "slid/error.h"
#include "slid/frontend.h"
#include "slid/map.h"
#include "slid/scorer.h"
#include "slid/train.h"

namespace slid::python {

py::object JsonToPython(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
    case nlohmann::json::value_t::string: return py::str(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const auto& e : j) l.append(JsonToPython(e));
      return std::move(l);
    }
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d[py::str(it.key())] = JsonToPython(it.value());
      return std::move(d);
    }
    default: return py::none();
  }
}

namespace {

// "num-ceps" <-> "num_ceps"
std::string PyName(std::string s) {
  for (char& c : s) if (c == '-') c = '_';
  return s;
}

// Python value -> the text SetFrontendOption parses (locale-independent: Python's repr of a float).
std::string OptionText(const py::handle& v) {
  if (py::isinstance<py::bool_>(v)) return v.cast<bool>() ? "true" : "false";
  if (py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v)) return py::repr(v).cast<std::string>();
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  throw py::type_error("expected a bool, number or string, got " + py::repr(v).cast<std::string>());
}

// Sets keyword arguments as attributes of a bound options object, so unknown names raise
// AttributeError/TypeError and values go through the same setters as attribute assignment.
template <typename T>
T FromKwargs(const py::kwargs& kw) {
  py::object obj = py::cast(T{});
  for (const auto& item : kw) {
    if (!py::hasattr(obj, item.first)) throw py::type_error("unexpected keyword argument '" + item.first.cast<std::string>() + "'");
    py::setattr(obj, item.first, item.second);
  }
  return obj.cast<T>();
}

// "Name(a=1, b=2.0)" from the bound object's to_dict().
std::string ReprFromDict(const char* name, const py::object& self) {
  std::ostringstream out;
  out << name << "(";
  bool first = true;
  for (const auto& item : self.attr("to_dict")().cast<py::dict>()) {
    out << (first ? "" : ", ") << item.first.cast<std::string>() << "=" << py::repr(item.second).cast<std::string>();
    first = false;
  }
  out << ")";
  return out.str();
}

// A float field as the Python float of its shortest decimal form (1e-3f shows as 0.001, not
// 0.0010000000474974513), for to_dict() and __repr__.
double ShortFloat(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::strtod(std::string(buf, r.ptr).c_str(), nullptr);
}

// Spelled as `slid train --init` (slid::GmmInitName): "kmeans" (k-means++) or "split".
GmmInit ParseGmmInit(const std::string& s) {
  if (s == "kmeans" || s == "kmeans++") return GmmInit::kKMeansPlusPlus;
  if (s == "split") return GmmInit::kBinarySplit;
  throw Error("init: unknown value '" + s + "' (kmeans or split)");
}

}  // namespace

void BindOptions(py::module_& m) {
  // FrontendOptions: every row of FrontendOptionTable() becomes an attribute (Kaldi name with '_'
  // for '-'), so the Python names are the command line's and stay in step with it.
  py::class_<FrontendOptions> fo(m, "FrontendOptions",
                                 "Feature frontend options (MFCC -> CMVN -> SDC -> VAD); keyword arguments are the "
                                 "`slid features` flags with '_' for '-', defaults as in C++.");
  fo.def(py::init([](const py::kwargs& kw) { return FromKwargs<FrontendOptions>(kw); }));
  for (const FrontendOptionInfo& row : FrontendOptionTable()) {
    const std::string name = row.name;
    fo.def_property(
        PyName(name).c_str(),
        [name](const FrontendOptions& o) { return JsonToPython(o.ToJson().at(name)); },
        [name](FrontendOptions& o, const py::object& v) { SetFrontendOption(name, OptionText(v), &o); },
        row.help.c_str());
  }
  fo.def("to_dict", [](const FrontendOptions& o) {
    py::dict d;
    const nlohmann::json j = o.ToJson();
    for (const FrontendOptionInfo& row : FrontendOptionTable()) d[py::str(PyName(row.name))] = JsonToPython(j.at(row.name));
    return d;
  });
  fo.def("validate", &FrontendOptions::Validate, "Raises slid.Error on contradictory options.");
  fo.def("dim", [](const FrontendOptions& o) { return Frontend(o).Dim(); },
         "Feature dimension of the full pipeline (validates the options).");
  fo.def("__eq__", [](const FrontendOptions& a, const FrontendOptions& b) { return a == b; });
  fo.def("__repr__", [](const py::object& self) { return ReprFromDict("FrontendOptions", self); });

  py::class_<EmOptions> em(m, "EmOptions", "EM training options for one diagonal GMM (include/slid/em.h); defaults as in C++.");
  em.def(py::init([](const py::kwargs& kw) { return FromKwargs<EmOptions>(kw); }))
      .def_readwrite("num_gauss", &EmOptions::num_gauss, "K, target number of components (>= 1)")
      .def_readwrite("max_iters", &EmOptions::max_iters, "EM iterations after initialisation (>= 0)")
      .def_readwrite("tol", &EmOptions::tol, "stop when the relative gain of the average log-likelihood is below this")
      .def_readwrite("var_floor_rel", &EmOptions::var_floor_rel, "variance floor = this x global variance per dim")
      .def_readwrite("min_weight", &EmOptions::min_weight, "components lighter than this are replaced")
      .def_readwrite("seed", &EmOptions::seed, "seeds subsampling and k-means++: same seed, same model")
      .def_readwrite("threads", &EmOptions::threads, "E-step threads (the model does not depend on it)")
      .def_property(
          "init", [](const EmOptions& o) { return GmmInitName(o.init); },
          [](EmOptions& o, const std::string& s) { o.init = ParseGmmInit(s); }, "'kmeans' (k-means++) or 'split'")
      .def_readwrite("init_max_frames", &EmOptions::init_max_frames, "k-means++ subsample size")
      .def_readwrite("kmeans_iters", &EmOptions::kmeans_iters, "Lloyd iterations after seeding")
      .def_readwrite("split_em_iters", &EmOptions::split_em_iters, "binary split: EM iterations after each split")
      .def_readwrite("block_frames", &EmOptions::block_frames, "frames per block and per thread task")
      .def_readwrite("min_posterior", &EmOptions::min_posterior, "E-step: drop posteriors below this (0 = exact)")
      .def("to_dict", [](const EmOptions& o) {
        py::dict d;
        d["num_gauss"] = o.num_gauss; d["max_iters"] = o.max_iters; d["tol"] = o.tol;
        d["var_floor_rel"] = ShortFloat(o.var_floor_rel); d["min_weight"] = ShortFloat(o.min_weight); d["seed"] = o.seed;
        d["threads"] = o.threads; d["init"] = GmmInitName(o.init); d["init_max_frames"] = o.init_max_frames;
        d["kmeans_iters"] = o.kmeans_iters; d["split_em_iters"] = o.split_em_iters;
        d["block_frames"] = o.block_frames; d["min_posterior"] = ShortFloat(o.min_posterior);
        return d;
      })
      .def("__repr__", [](const py::object& self) { return ReprFromDict("EmOptions", self); });

  py::class_<MapOptions> mo(m, "MapOptions", "MAP adaptation options for the ubm-map back-end (include/slid/map.h).");
  mo.def(py::init([](const py::kwargs& kw) { return FromKwargs<MapOptions>(kw); }))
      .def_readwrite("relevance", &MapOptions::relevance, "relevance factor r (>= 0)")
      .def_readwrite("update_means", &MapOptions::update_means, "adapt the means")
      .def_readwrite("update_weights", &MapOptions::update_weights, "adapt the weights too")
      .def_readwrite("update_variances", &MapOptions::update_variances, "adapt the variances too")
      .def_readwrite("var_floor", &MapOptions::var_floor, "absolute floor of adapted variances")
      .def("to_dict", [](const MapOptions& o) {
        py::dict d;
        d["relevance"] = o.relevance; d["update_means"] = o.update_means; d["update_weights"] = o.update_weights;
        d["update_variances"] = o.update_variances; d["var_floor"] = ShortFloat(o.var_floor);
        return d;
      })
      .def("__repr__", [](const py::object& self) { return ReprFromDict("MapOptions", self); });

  py::class_<ScorerOptions> so(m, "ScorerOptions", "Scoring options (include/slid/scorer.h); defaults as in C++.");
  so.def(py::init([](const py::kwargs& kw) { return FromKwargs<ScorerOptions>(kw); }))
      .def_readwrite("languages", &ScorerOptions::languages, "candidate languages (subset of the model's); empty = all")
      .def_readwrite("min_speech_seconds", &ScorerOptions::min_speech_seconds, "voiced speech needed for a decision")
      .def_readwrite("posterior_scale", &ScorerOptions::posterior_scale, "posteriors = softmax(scale x avg_loglik)")
      .def_readwrite("segment_seconds", &ScorerOptions::segment_seconds, "files are scored in segments of this")
      .def_readwrite("unknown_threshold", &ScorerOptions::unknown_threshold,
                     "decision None (unknown=True) when no posterior reaches this; 0 = off")
      .def("to_dict", [](const ScorerOptions& o) {
        py::dict d;
        d["languages"] = o.languages; d["min_speech_seconds"] = o.min_speech_seconds;
        d["posterior_scale"] = o.posterior_scale; d["segment_seconds"] = o.segment_seconds;
        d["unknown_threshold"] = o.unknown_threshold;
        return d;
      })
      .def("__repr__", [](const py::object& self) { return ReprFromDict("ScorerOptions", self); });
}

}  // namespace slid::python
