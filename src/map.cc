#include "slid/map.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "slid/error.h"

namespace slid {

DiagGmm MapAdapt(const DiagGmm& ubm, const GmmStats& stats, const MapOptions& opts) {
  const int k = ubm.NumGauss(), d = ubm.Dim();
  if (k == 0) throw Error("MapAdapt: empty UBM");
  if (stats.NumGauss() != k || stats.Dim() != d) {
    throw Error("MapAdapt: statistics are " + std::to_string(stats.NumGauss()) + " x " + std::to_string(stats.Dim()) +
                ", the UBM " + std::to_string(k) + " x " + std::to_string(d));
  }
  if (!(opts.relevance >= 0) || !std::isfinite(opts.relevance)) {
    throw Error("MapAdapt: relevance must be finite and >= 0, got " + std::to_string(opts.relevance));
  }
  if (!(opts.var_floor > 0)) throw Error("MapAdapt: var_floor must be > 0");
  const VectorD& occ = stats.occupancy();
  const double total = occ.sum();
  if (!(total > 0)) return ubm;

  // All arithmetic in double; the model stores float.
  VectorD w = ubm.weights().cast<double>();
  MatrixD mu = ubm.means().cast<double>();
  MatrixD var = ubm.variances().cast<double>();
  for (int c = 0; c < k; ++c) {
    const double n = occ[c];
    if (!(n > 0)) continue;  // no data: keep the prior (also avoids 0/0 when r = 0)
    const double alpha = n / (n + opts.relevance);
    const Eigen::RowVectorXd ex = stats.first_order().row(c) / n;
    const Eigen::RowVectorXd ubm_mu = mu.row(c);
    if (opts.update_means) mu.row(c) = alpha * ex + (1 - alpha) * ubm_mu;
    if (opts.update_weights) w[c] = alpha * n / total + (1 - alpha) * w[c];
    if (opts.update_variances) {
      const Eigen::RowVectorXd ex2 = stats.second_order().row(c) / n;
      // Reynolds eq. (13) with the adapted mean (the UBM mean when means are not adapted).
      const Eigen::RowVectorXd v =
          alpha * ex2 + (1 - alpha) * (var.row(c) + ubm_mu.cwiseAbs2()) - mu.row(c).cwiseAbs2();
      for (int j = 0; j < d; ++j) var(c, j) = std::max(v[j], static_cast<double>(opts.var_floor));
    }
  }
  if (opts.update_weights) w /= w.sum();  // Reynolds' scale factor gamma
  return DiagGmm(w.cast<float>(), mu.cast<float>(), var.cast<float>());
}

}  // namespace slid
