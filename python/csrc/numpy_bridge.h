// NumPy <-> slid matrices for the Python module, without copies where the layout allows.
//  - In: a float32, C-contiguous, 1-D or 2-D array is read in place (FloatView points into the
//    array's own buffer); anything else (float64, int16, Fortran order, strided views) is converted
//    once by NumPy into a new float32 C-order array, which the view then keeps alive.
//  - Out: a Matrix/Vector returned by the library is moved to the heap and handed to NumPy with a
//    capsule that frees it, so the array shares the library's buffer (no copy).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "slid/error.h"
#include "slid/matrix.h"

namespace slid::python {

namespace py = pybind11;

// A read-only float32 row-major view of a NumPy array (1-D arrays are n x 1 unless read as samples).
struct FloatView {
  py::array_t<float, py::array::c_style> array;  // keeps the buffer alive while the view is used
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  bool copied = false;  // true if NumPy had to convert the input
};

// `what` names the argument in errors. ndim must be 1 or 2 (`want_ndim` 0: either).
inline FloatView ViewFloat32(const py::handle& obj, const char* what, int want_ndim) {
  FloatView v;
  // isinstance checks the dtype (native-endian float32) and the C-contiguity flag.
  if (py::isinstance<py::array_t<float, py::array::c_style>>(obj)) {
    v.array = py::reinterpret_borrow<py::array_t<float, py::array::c_style>>(obj);
  } else {
    v.array = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(obj);
    if (!v.array) {
      PyErr_Clear();
      throw py::type_error(std::string(what) + ": expected a NumPy array (or something numpy.asarray accepts)");
    }
    v.copied = true;
  }
  const int ndim = static_cast<int>(v.array.ndim());
  if ((want_ndim != 0 && ndim != want_ndim) || ndim < 1 || ndim > 2)
    throw py::value_error(std::string(what) + ": expected a " +
                          (want_ndim == 1 ? "1-D" : want_ndim == 2 ? "2-D" : "1-D or 2-D") + " array, got " +
                          std::to_string(ndim) + "-D");
  v.data = v.array.data();
  v.rows = v.array.shape(0);
  v.cols = ndim == 2 ? v.array.shape(1) : 1;
  return v;
}

// Moves `m` into a NumPy array that owns it (no copy of the elements).
template <typename EigenType>
py::array ToNumpy(EigenType&& m) {
  using Plain = std::decay_t<EigenType>;
  using Scalar = typename Plain::Scalar;
  auto* owned = new Plain(std::move(m));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<Plain*>(p); });
  if constexpr (Plain::ColsAtCompileTime == 1) {
    return py::array_t<Scalar>({static_cast<py::ssize_t>(owned->size())}, {static_cast<py::ssize_t>(sizeof(Scalar))},
                               owned->data(), free_when_done);
  } else {
    static_assert(Plain::IsRowMajor, "only row-major matrices map to C-order arrays");
    const py::ssize_t r = owned->rows(), c = owned->cols();
    return py::array_t<Scalar>({r, c}, {c * static_cast<py::ssize_t>(sizeof(Scalar)), static_cast<py::ssize_t>(sizeof(Scalar))},
                               owned->data(), free_when_done);
  }
}

template <typename T>
py::array VectorToNumpy(std::vector<T> v) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(owned->size())}, {static_cast<py::ssize_t>(sizeof(T))}, owned->data(),
                        free_when_done);
}

// Copies rows [begin, begin + n) of a view into *block (resized to n x cols).
inline void CopyRows(const FloatView& v, int64_t begin, int64_t n, Matrix* block) {
  block->resize(n, v.cols);
  std::copy(v.data + begin * v.cols, v.data + (begin + n) * v.cols, block->data());
}

}  // namespace slid::python
