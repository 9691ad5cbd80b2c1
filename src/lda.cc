#include "slid/lda.h"

#include <cmath>
#include <string>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include "slid/error.h"
#include "util.h"

namespace slid {

namespace {

void CheckLabels(const Eigen::MatrixXd& X, const std::vector<int>& labels, int num_classes, const char* what,
                 std::vector<int64_t>* count) {
  if (num_classes < 1) throw Error(std::string(what) + ": num_classes must be >= 1");
  if (static_cast<int64_t>(labels.size()) != X.rows()) {
    throw Error(std::string(what) + ": " + std::to_string(labels.size()) + " labels for " + std::to_string(X.rows()) +
                " samples");
  }
  if (X.cols() < 1) throw Error(std::string(what) + ": samples have no dimensions");
  if (!X.allFinite()) throw Error(std::string(what) + ": non-finite sample value");
  count->assign(num_classes, 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      throw Error(std::string(what) + ": label " + std::to_string(labels[i]) + " of sample " + std::to_string(i) +
                  " is outside [0, " + std::to_string(num_classes) + ")");
    }
    ++(*count)[labels[i]];
  }
  for (int c = 0; c < num_classes; ++c)
    if ((*count)[c] == 0) throw Error(std::string(what) + ": class " + std::to_string(c) + " has no samples");
}

// Pooled within-class scatter / N (S_w) and class means.
Eigen::MatrixXd WithinCovariance(const Eigen::MatrixXd& X, const std::vector<int>& labels, const Eigen::MatrixXd& means) {
  Eigen::MatrixXd centred = X;
  for (int64_t n = 0; n < X.rows(); ++n) centred.row(n) -= means.row(labels[n]);
  return centred.transpose() * centred / static_cast<double>(X.rows());
}

void AddRidge(double ridge, Eigen::MatrixXd* s) {
  const double mean_diag = s->diagonal().mean();
  s->diagonal().array() += ridge * std::max(mean_diag, 1e-300);
}

}  // namespace

Eigen::MatrixXd LengthNormalise(const Eigen::MatrixXd& X, bool to_unit) {
  Eigen::MatrixXd out = X;
  const double target = to_unit ? 1.0 : std::sqrt(static_cast<double>(X.cols()));
  for (int64_t n = 0; n < X.rows(); ++n) {
    const double norm = X.row(n).norm();
    if (norm > 0) out.row(n) *= target / norm;
  }
  return out;
}

Eigen::MatrixXd LinearTransform::Apply(const Eigen::MatrixXd& X) const {
  if (X.cols() != A.cols() || offset.size() != A.cols()) {
    throw Error("LinearTransform: input has " + std::to_string(X.cols()) + " dims, the transform " +
                std::to_string(A.cols()));
  }
  return (X.rowwise() - offset.transpose()) * A.transpose();
}

Eigen::MatrixXd ClassMeans(const Eigen::MatrixXd& X, const std::vector<int>& labels, int num_classes) {
  std::vector<int64_t> count;
  CheckLabels(X, labels, num_classes, "ClassMeans", &count);
  Eigen::MatrixXd means = Eigen::MatrixXd::Zero(num_classes, X.cols());
  for (int64_t n = 0; n < X.rows(); ++n) means.row(labels[n]) += X.row(n);
  for (int c = 0; c < num_classes; ++c) means.row(c) /= static_cast<double>(count[c]);
  return means;
}

LinearTransform TrainLda(const Eigen::MatrixXd& X, const std::vector<int>& labels, int num_classes,
                         const LdaOptions& opts, Eigen::VectorXd* eigenvalues) {
  std::vector<int64_t> count;
  CheckLabels(X, labels, num_classes, "TrainLda", &count);
  if (num_classes < 2) throw Error("TrainLda: needs at least 2 classes");
  if (X.rows() <= num_classes) throw Error("TrainLda: needs more samples than classes");
  if (opts.dim < 0) throw Error("TrainLda: dim must be >= 0");
  const int d_in = static_cast<int>(X.cols());
  int d = opts.dim == 0 ? num_classes - 1 : opts.dim;
  d = std::min({d, num_classes - 1, d_in});
  const Eigen::MatrixXd means = ClassMeans(X, labels, num_classes);
  const Eigen::VectorXd mean = X.colwise().mean().transpose();
  Eigen::MatrixXd sw = WithinCovariance(X, labels, means);
  const Eigen::MatrixXd centred = X.rowwise() - mean.transpose();
  const Eigen::MatrixXd st = centred.transpose() * centred / static_cast<double>(X.rows());
  Eigen::MatrixXd sb = st - sw;
  sb = 0.5 * (sb + sb.transpose());
  AddRidge(opts.within_ridge, &sw);
  // Generalised symmetric problem S_b v = lambda S_w v; eigenvectors come S_w-orthonormal, eigenvalues ascending.
  Eigen::GeneralizedSelfAdjointEigenSolver<Eigen::MatrixXd> es(sb, sw);
  if (es.info() != Eigen::Success) throw Error("TrainLda: eigen-decomposition failed (within-class covariance singular?)");
  LinearTransform t;
  t.A.resize(d, d_in);
  if (eigenvalues) eigenvalues->resize(d);
  for (int i = 0; i < d; ++i) {
    t.A.row(i) = es.eigenvectors().col(d_in - 1 - i).transpose();
    if (eigenvalues) (*eigenvalues)[i] = es.eigenvalues()[d_in - 1 - i];
  }
  t.offset = mean;
  return t;
}

LinearTransform TrainWccn(const Eigen::MatrixXd& X, const std::vector<int>& labels, int num_classes, double ridge) {
  std::vector<int64_t> count;
  CheckLabels(X, labels, num_classes, "TrainWccn", &count);
  const Eigen::MatrixXd means = ClassMeans(X, labels, num_classes);
  const int64_t dim = X.cols();
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(dim, dim);
  for (int c = 0; c < num_classes; ++c) {
    Eigen::MatrixXd xc(count[c], dim);
    int64_t r = 0;
    for (int64_t n = 0; n < X.rows(); ++n)
      if (labels[n] == c) xc.row(r++) = X.row(n) - means.row(c);
    w += xc.transpose() * xc / static_cast<double>(count[c]);
  }
  w /= num_classes;
  AddRidge(ridge, &w);
  // W^-1 = B B' with B = L^-T where W = L L': A = B' = L^-1, so A W A' = I.
  Eigen::LLT<Eigen::MatrixXd> llt(w);
  if (llt.info() != Eigen::Success) throw Error("TrainWccn: within-class covariance is not positive definite");
  LinearTransform t;
  t.A = llt.matrixL().solve(Eigen::MatrixXd::Identity(dim, dim));
  t.offset = Eigen::VectorXd::Zero(dim);
  return t;
}

GaussianBackend::GaussianBackend(const Eigen::MatrixXd& X, const std::vector<int>& labels, int num_classes,
                                 double ridge) {
  std::vector<int64_t> count;
  CheckLabels(X, labels, num_classes, "GaussianBackend", &count);
  if (X.rows() <= num_classes) throw Error("GaussianBackend: needs more samples than classes");
  means_ = ClassMeans(X, labels, num_classes);
  covariance_ = WithinCovariance(X, labels, means_);
  AddRidge(ridge, &covariance_);
  Precompute();
}

GaussianBackend::GaussianBackend(Eigen::MatrixXd means, Eigen::MatrixXd covariance)
    : means_(std::move(means)), covariance_(std::move(covariance)) {
  if (means_.rows() < 1 || means_.cols() < 1 || covariance_.rows() != means_.cols() ||
      covariance_.cols() != means_.cols()) {
    throw Error("GaussianBackend: means and covariance shapes do not match");
  }
  if (!means_.allFinite() || !covariance_.allFinite()) throw Error("GaussianBackend: non-finite parameters");
  Precompute();
}

void GaussianBackend::Precompute() {
  Eigen::LLT<Eigen::MatrixXd> llt(covariance_);
  if (llt.info() != Eigen::Success) throw Error("GaussianBackend: covariance is not positive definite");
  const int64_t dim = covariance_.rows();
  chol_inv_ = llt.matrixL().solve(Eigen::MatrixXd::Identity(dim, dim));
  const Eigen::MatrixXd prec = chol_inv_.transpose() * chol_inv_;
  prec_means_ = means_ * prec;
  const double logdet = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
  consts_.resize(means_.rows());
  for (int64_t c = 0; c < means_.rows(); ++c)
    consts_[c] = -0.5 * (dim * kLog2Pi + logdet + prec_means_.row(c).dot(means_.row(c)));
}

Eigen::MatrixXd GaussianBackend::Scores(const Eigen::MatrixXd& X) const {
  if (means_.size() == 0) throw Error("GaussianBackend: empty model");
  if (X.cols() != Dim()) {
    throw Error("GaussianBackend: samples have " + std::to_string(X.cols()) + " dims, the model " + std::to_string(Dim()));
  }
  // log N(x | m_c, S) = x' S^-1 m_c - 0.5 x' S^-1 x + const_c.
  Eigen::MatrixXd s = X * prec_means_.transpose();
  const Eigen::VectorXd quad = (X * chol_inv_.transpose()).rowwise().squaredNorm();
  s.colwise() -= 0.5 * quad;
  s.rowwise() += consts_.transpose();
  return s;
}

Eigen::MatrixXd CosineScores(const Eigen::MatrixXd& X, const Eigen::MatrixXd& means) {
  if (X.cols() != means.cols()) throw Error("CosineScores: samples and means differ in dimension");
  Eigen::VectorXd xn = X.rowwise().norm(), mn = means.rowwise().norm();
  Eigen::MatrixXd s = X * means.transpose();
  for (int64_t n = 0; n < s.rows(); ++n)
    for (int64_t c = 0; c < s.cols(); ++c) s(n, c) = (xn[n] > 0 && mn[c] > 0) ? s(n, c) / (xn[n] * mn[c]) : 0.0;
  return s;
}

}  // namespace slid
