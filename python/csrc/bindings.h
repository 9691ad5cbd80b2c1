// Shared declarations of the _slid extension module's parts (one .cc per part).
#pragma once
#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>

namespace slid::python {

namespace py = pybind11;

py::object JsonToPython(const nlohmann::json& j);
void BindOptions(py::module_& m);  // options.cc: FrontendOptions, EmOptions, ScorerOptions

}  // namespace slid::python
