// Matrix types shared across slid. Features are frames x dims, row-major, single precision.
#pragma once
#include <Eigen/Core>

namespace slid {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXf;
using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using VectorD = Eigen::VectorXd;

}  // namespace slid
