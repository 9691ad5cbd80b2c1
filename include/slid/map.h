// MAP adaptation of a diagonal GMM (a "universal background model", UBM) to the statistics of some
// data: the classic GMM-UBM back-end of speaker and language recognition.
// Reference: D. A. Reynolds, T. F. Quatieri, R. B. Dunn, "Speaker verification using adapted Gaussian
// mixture models", Digital Signal Processing 10 (2000) 19-41, eqs. (11)-(14); Kaldi's gmm-adapt-map
// (MapDiagGmmUpdate) adapts the same way.
#pragma once
#include "slid/gmm.h"
#include "slid/gmm_stats.h"

namespace slid {

struct MapOptions {
  double relevance = 16;          // relevance factor r (>= 0): alpha_k = N_k / (N_k + r); 16 is Reynolds' value
  bool update_means = true;       // adapt the means (the usual choice for LID/SID)
  bool update_weights = false;    // adapt the weights too
  bool update_variances = false;  // adapt the variances too (rarely helps; floored at var_floor)
  float var_floor = 1e-6f;        // absolute floor of adapted variances (used only with update_variances)
};

// Returns the UBM adapted to `stats`, which must be the statistics of the adaptation data under
// `ubm` itself (one E-step: GmmStats::Accumulate or AccumulateStats with the UBM; same K and D,
// else slid::Error). With N_k = occupancy, E_k[x] = first_k / N_k, E_k[x^2] = second_k / N_k,
// alpha_k = N_k / (N_k + r), T = sum_k N_k:
//   means:     mu_k'  = alpha_k E_k[x] + (1 - alpha_k) mu_k    (= (N_k E_k[x] + r mu_k) / (N_k + r))
//   weights:   w_k'   = (alpha_k N_k / T + (1 - alpha_k) w_k), then renormalised to sum to 1
//   variances: var_k' = alpha_k E_k[x^2] + (1 - alpha_k)(var_k + mu_k^2) - mu_k'^2, floored
// Parameters not selected stay the UBM's. A component with N_k = 0 keeps its UBM parameters (also for
// r = 0, where alpha_k would be 0/0). r = 0 gives the maximum-likelihood update of one EM step for
// every component with N_k > 0; r -> infinity gives the UBM. Statistics with no frames (T = 0) return
// the UBM unchanged. Errors: empty UBM, shape mismatch, r < 0 or not finite, var_floor <= 0.
DiagGmm MapAdapt(const DiagGmm& ubm, const GmmStats& stats, const MapOptions& opts = {});

}  // namespace slid
