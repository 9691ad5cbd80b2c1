// Multinomial logistic regression against scikit-learn (tests/data/logreg/make_logreg_fixtures.py).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slid/error.h"
#include "slid/logreg.h"

using namespace slid;

namespace {

Eigen::MatrixXd ToMatrix(const nlohmann::json& j) {
  Eigen::MatrixXd m(j.size(), j[0].size());
  for (int i = 0; i < m.rows(); ++i)
    for (int c = 0; c < m.cols(); ++c) m(i, c) = j[i][c].get<double>();
  return m;
}

}  // namespace

TEST_CASE("TrainLogReg matches scikit-learn LogisticRegression(multinomial, C = 1/l2) within 1e-5") {
  std::ifstream in(std::string(SLID_TEST_DATA) + "/logreg/sklearn_logreg.json");
  REQUIRE(in);
  const nlohmann::json j = nlohmann::json::parse(in);
  REQUIRE(j["cases"].size() == 8);
  for (const auto& c : j["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    const Eigen::MatrixXd x = ToMatrix(c["x"]);
    const std::vector<int> y = c["labels"].get<std::vector<int>>();
    LogRegOptions o;
    o.l2 = c["l2"];
    o.balance_priors = c["balance_priors"];
    o.tol = 1e-10;
    const LogRegModel m = TrainLogReg(x, y, c["num_classes"], o);
    CHECK(m.converged);
    const Eigen::MatrixXd w = ToMatrix(c["W"]);
    Eigen::VectorXd b(c["b"].size());
    for (int i = 0; i < b.size(); ++i) b[i] = c["b"][i].get<double>();
    // Our L-BFGS stops where the objective stops decreasing in double precision (gradient ~1e-8), so
    // on the worse-conditioned cases (l2 = 0.1) the coefficients agree to ~1e-6 relative: tolerance
    // 1e-5 relative to the largest coefficient, 1e-4 absolute on log posteriors (tiny ones included).
    CHECK((m.W - w).cwiseAbs().maxCoeff() < 1e-5 * std::max(1.0, w.cwiseAbs().maxCoeff()));
    CHECK((m.b - b).cwiseAbs().maxCoeff() < 1e-5 * std::max(1.0, b.cwiseAbs().maxCoeff()));
    const Eigen::MatrixXd lp = LogPosteriors(m, x), ref = ToMatrix(c["log_proba"]);
    CHECK((lp - ref).cwiseAbs().maxCoeff() < 1e-4);
  }
}

TEST_CASE("balance_priors: duplicating one class leaves the balanced model unchanged") {
  // Class 1 copied 3 times: the balanced weights (N / (C' n_c)) still give both classes equal total
  // weight, 6 each instead of 3, so with l2 doubled the optimum is the same; without balancing the
  // intercept of class 1 grows.
  Eigen::MatrixXd x(6, 1);
  x << -2, -1, 0.5, 1, 2, 0;
  const std::vector<int> y = {0, 0, 0, 1, 1, 1};
  Eigen::MatrixXd x3(12, 1);
  std::vector<int> y3;
  int r = 0;
  for (int i = 0; i < 6; ++i) {
    const int copies = y[i] == 1 ? 3 : 1;
    for (int k = 0; k < copies; ++k) { x3(r++, 0) = x(i, 0); y3.push_back(y[i]); }
  }
  LogRegOptions o;
  o.l2 = 0.5;
  const LogRegModel a = TrainLogReg(x, y, 2, o);
  o.l2 = 1.0;
  const LogRegModel b = TrainLogReg(x3, y3, 2, o);
  CHECK((a.W - b.W).cwiseAbs().maxCoeff() < 1e-6);
  CHECK((a.b - b.b).cwiseAbs().maxCoeff() < 1e-6);
  o.balance_priors = false;
  const LogRegModel c = TrainLogReg(x3, y3, 2, o);
  CHECK(c.b[1] - c.b[0] > a.b[1] - a.b[0] + 0.5);
  // Posteriors are normalised.
  const Eigen::MatrixXd lp = LogPosteriors(a, x);
  for (int i = 0; i < 6; ++i) CHECK(lp.row(i).array().exp().sum() == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("TrainLogReg errors") {
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(3, 2);
  CHECK_THROWS_AS(TrainLogReg(x, {0, 1}, 2), Error);          // label count
  CHECK_THROWS_AS(TrainLogReg(x, {0, 1, 2}, 2), Error);       // label out of range
  CHECK_THROWS_AS(TrainLogReg(x, {0, 1, 0}, 1), Error);       // one class
  x(1, 1) = std::nan("");
  CHECK_THROWS_AS(TrainLogReg(x, {0, 1, 0}, 2), Error);
  LogRegOptions o;
  o.l2 = -1;
  CHECK_THROWS_AS(TrainLogReg(Eigen::MatrixXd::Zero(3, 2), {0, 1, 0}, 2, o), Error);
  const LogRegModel m = TrainLogReg(Eigen::MatrixXd::Identity(3, 2), {0, 1, 0}, 2);
  CHECK_THROWS_AS(LogPosteriors(m, Eigen::MatrixXd::Zero(2, 3)), Error);
}
