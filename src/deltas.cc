// Kaldi add-deltas (src/feat/feature-functions.cc, DeltaFeatures): the order-i filter is the order-1
// regression filter convolved i times with itself; frames are clamped to [0, T) per tap.
#include "slid/deltas.h"

#include <algorithm>
#include <string>
#include <vector>

#include "slid/error.h"

namespace slid {

Matrix ComputeDeltas(const Matrix& x, const DeltaOptions& opts) {
  if (opts.order < 0 || opts.order > 100) throw Error("delta-order: must be in [0, 100], got " + std::to_string(opts.order));
  if (opts.window < 1 || opts.window > 1000) throw Error("delta-window: must be in [1, 1000], got " + std::to_string(opts.window));
  const int64_t T = x.rows();
  const int D = static_cast<int>(x.cols());
  // scales[i] has 2 * i * window + 1 taps (Kaldi's construction).
  std::vector<std::vector<double>> scales(opts.order + 1);
  scales[0] = {1.0};
  for (int i = 1; i <= opts.order; ++i) {
    const std::vector<double>& prev = scales[i - 1];
    int prev_off = static_cast<int>(prev.size() - 1) / 2, cur_off = prev_off + opts.window;
    std::vector<double> cur(prev.size() + 2 * opts.window, 0.0);
    double normalizer = 0.0;
    for (int j = -opts.window; j <= opts.window; ++j) {
      normalizer += j * j;
      for (int k = -prev_off; k <= prev_off; ++k) cur[j + k + cur_off] += j * prev[k + prev_off];
    }
    for (double& v : cur) v /= normalizer;
    scales[i] = std::move(cur);
  }
  Matrix out = Matrix::Zero(T, static_cast<int64_t>(D) * (opts.order + 1));
  for (int i = 0; i <= opts.order; ++i) {
    const std::vector<double>& s = scales[i];
    int max_off = static_cast<int>(s.size() - 1) / 2;
    for (int j = -max_off; j <= max_off; ++j) {
      float scale = static_cast<float>(s[j + max_off]);
      if (scale == 0.0f) continue;
      for (int64_t t = 0; t < T; ++t) {
        int64_t src = std::clamp<int64_t>(t + j, 0, T - 1);
        out.row(t).segment(static_cast<int64_t>(i) * D, D) += scale * x.row(src);
      }
    }
  }
  return out;
}

}  // namespace slid
