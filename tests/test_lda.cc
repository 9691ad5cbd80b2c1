// LDA, WCCN, Gaussian back-end and cosine scoring against scikit-learn / numpy
// (tests/data/lda/make_lda_fixtures.py) and properties.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <Eigen/SVD>
#include <nlohmann/json.hpp>

#include "slid/error.h"
#include "slid/lda.h"

using namespace slid;

namespace {

Eigen::MatrixXd ToMatrix(const nlohmann::json& j) {
  Eigen::MatrixXd m(j.size(), j[0].size());
  for (int i = 0; i < m.rows(); ++i)
    for (int c = 0; c < m.cols(); ++c) m(i, c) = j[i][c].get<double>();
  return m;
}

struct Fixture {
  nlohmann::json j;
  Eigen::MatrixXd x;
  std::vector<int> y;
  int c = 0;
};

Fixture Load() {
  std::ifstream in(std::string(SLID_TEST_DATA) + "/lda/lda_reference.json");
  REQUIRE(in);
  Fixture f;
  f.j = nlohmann::json::parse(in);
  f.x = ToMatrix(f.j["x"]);
  f.y = f.j["labels"].get<std::vector<int>>();
  f.c = f.j["num_classes"];
  return f;
}

// Within-class covariance averaged over classes (the WCCN definition).
Eigen::MatrixXd MeanClassCovariance(const Eigen::MatrixXd& x, const std::vector<int>& y, int c) {
  const Eigen::MatrixXd means = ClassMeans(x, y, c);
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(x.cols(), x.cols());
  for (int k = 0; k < c; ++k) {
    Eigen::MatrixXd s = Eigen::MatrixXd::Zero(x.cols(), x.cols());
    int n = 0;
    for (int i = 0; i < x.rows(); ++i)
      if (y[i] == k) {
        const Eigen::VectorXd d = (x.row(i) - means.row(k)).transpose();
        s += d * d.transpose();
        ++n;
      }
    w += s / n;
  }
  return w / c;
}

}  // namespace

TEST_CASE("LDA: same directions and class separation as scikit-learn (sign/scale invariant, 1e-6)") {
  const Fixture f = Load();
  Eigen::VectorXd ev;
  const LinearTransform lda = TrainLda(f.x, f.y, f.c, {}, &ev);
  REQUIRE(lda.A.rows() == f.c - 1);
  const Eigen::MatrixXd sk = ToMatrix(f.j["sklearn_scalings"]);  // D x (C-1), S_w-orthonormal columns
  // Each direction: |cos angle| between our row i and scikit-learn's column i is 1 (distinct eigenvalues);
  // both are S_w-normalised, so they also agree in length (equal up to sign).
  for (int i = 0; i < f.c - 1; ++i) {
    const double cosang = std::abs(lda.A.row(i).dot(sk.col(i).transpose())) / (lda.A.row(i).norm() * sk.col(i).norm());
    CAPTURE(i);
    CHECK(cosang > 1.0 - 1e-6);
    CHECK(lda.A.row(i).norm() == doctest::Approx(sk.col(i).norm()).epsilon(1e-6));
  }
  // The subspace as a whole: principal angles all zero (singular values of Q1' Q2 all 1).
  const Eigen::MatrixXd q1 = Eigen::HouseholderQR<Eigen::MatrixXd>(lda.A.transpose()).householderQ() *
                             Eigen::MatrixXd::Identity(f.x.cols(), f.c - 1);
  const Eigen::MatrixXd q2 = Eigen::HouseholderQR<Eigen::MatrixXd>(sk).householderQ() *
                             Eigen::MatrixXd::Identity(f.x.cols(), f.c - 1);
  const Eigen::VectorXd sv = Eigen::JacobiSVD<Eigen::MatrixXd>(q1.transpose() * q2).singularValues();
  CHECK(sv.minCoeff() > 1.0 - 1e-6);
  // Class separation per direction: eigenvalue shares equal scikit-learn's explained_variance_ratio_.
  for (int i = 0; i < f.c - 1; ++i)
    CHECK(ev[i] / ev.sum() == doctest::Approx(f.j["sklearn_explained_variance_ratio"][i].get<double>()).epsilon(1e-6));
  // Property: the projected within-class covariance is the identity, the projected mean is 0.
  const Eigen::MatrixXd y = lda.Apply(f.x);
  const Eigen::MatrixXd means = ClassMeans(y, f.y, f.c);
  Eigen::MatrixXd cent = y;
  for (int i = 0; i < y.rows(); ++i) cent.row(i) -= means.row(f.y[i]);
  const Eigen::MatrixXd sw = cent.transpose() * cent / static_cast<double>(y.rows());
  CHECK((sw - Eigen::MatrixXd::Identity(f.c - 1, f.c - 1)).cwiseAbs().maxCoeff() < 1e-6);
  CHECK(y.colwise().mean().cwiseAbs().maxCoeff() < 1e-9);
  // dim option: 1 dimension = the first direction.
  LdaOptions o;
  o.dim = 1;
  const LinearTransform one = TrainLda(f.x, f.y, f.c, o);
  CHECK(one.A.rows() == 1);
  CHECK((one.A.row(0) - lda.A.row(0)).cwiseAbs().maxCoeff() < 1e-9);
}

TEST_CASE("Gaussian back-end log-likelihoods equal scipy's multivariate_normal.logpdf (1e-9)") {
  const Fixture f = Load();
  const GaussianBackend gb(f.x, f.y, f.c, 0.0);
  const Eigen::MatrixXd ref = ToMatrix(f.j["gaussian_scores"]);
  const Eigen::MatrixXd s = gb.Scores(f.x);
  CHECK((s - ref).cwiseAbs().maxCoeff() < 1e-9 * ref.cwiseAbs().maxCoeff());
  // Reconstructed from its parameters it scores the same.
  const GaussianBackend copy(gb.means(), gb.covariance());
  CHECK((copy.Scores(f.x) - s).cwiseAbs().maxCoeff() < 1e-9);
  CHECK_THROWS_AS(gb.Scores(Eigen::MatrixXd::Zero(2, 3)), Error);
  CHECK_THROWS_AS(GaussianBackend(gb.means(), -gb.covariance()), Error);
}

TEST_CASE("WCCN equals numpy's inv(cholesky(mean class covariance)) and whitens it") {
  const Fixture f = Load();
  const LinearTransform w = TrainWccn(f.x, f.y, f.c, 0.0);
  const Eigen::MatrixXd ref = ToMatrix(f.j["wccn_A"]);
  CHECK((w.A - ref).cwiseAbs().maxCoeff() < 1e-9 * ref.cwiseAbs().maxCoeff());
  const Eigen::MatrixXd cov = MeanClassCovariance(w.Apply(f.x), f.y, f.c);
  CHECK((cov - Eigen::MatrixXd::Identity(cov.rows(), cov.cols())).cwiseAbs().maxCoeff() < 1e-9);
}

TEST_CASE("length normalisation and cosine scores") {
  Eigen::MatrixXd x(3, 2);
  x << 3, 4, 0, 0, -1, 0;
  const Eigen::MatrixXd n = LengthNormalise(x);
  CHECK(n.row(0).norm() == doctest::Approx(std::sqrt(2.0)));
  CHECK(n(0, 0) / n(0, 1) == doctest::Approx(0.75));
  CHECK(n.row(1).norm() == 0.0);
  CHECK(LengthNormalise(x, true).row(2).norm() == doctest::Approx(1.0));
  Eigen::MatrixXd means(2, 2);
  means << 1, 0, 0, 2;
  const Eigen::MatrixXd c = CosineScores(x, means);
  CHECK(c(0, 0) == doctest::Approx(0.6));
  CHECK(c(0, 1) == doctest::Approx(0.8));
  CHECK(c(1, 0) == 0.0);
  CHECK(c(2, 0) == doctest::Approx(-1.0));
}

TEST_CASE("LDA / WCCN / back-end errors") {
  const Eigen::MatrixXd x = Eigen::MatrixXd::Random(10, 3);
  CHECK_THROWS_AS(TrainLda(x, {0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, 3), Error);  // class 2 empty
  CHECK_THROWS_AS(TrainLda(x, {0, 1, 0}, 2), Error);                        // label count
  CHECK_THROWS_AS(TrainLda(x, {0, 1, 0, 1, 0, 1, 0, 1, 0, 5}, 2), Error);  // label range
  CHECK_THROWS_AS(TrainLda(x.topRows(2), {0, 1}, 2), Error);               // N <= C
  const LinearTransform t{Eigen::MatrixXd::Zero(1, 3), Eigen::VectorXd::Zero(3)};
  CHECK_THROWS_AS(t.Apply(Eigen::MatrixXd::Zero(2, 2)), Error);
  CHECK_THROWS_AS(CosineScores(x, Eigen::MatrixXd::Zero(2, 2)), Error);
}
