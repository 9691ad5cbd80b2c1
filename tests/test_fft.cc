// The two private FFTs behind the MFCC (src/fft.h) against a direct double-precision DFT.
#include <doctest/doctest.h>

#include <cmath>
#include <complex>
#include <random>
#include <vector>

#include "fft.h"

namespace {

// |X[k]|^2, k = 0..n/2, by the definition of the DFT, in double.
std::vector<double> DirectPowerSpectrum(const std::vector<float>& x) {
  const int n = static_cast<int>(x.size());
  std::vector<double> p(n / 2 + 1);
  for (int k = 0; k <= n / 2; ++k) {
    std::complex<double> s = 0;
    for (int t = 0; t < n; ++t) s += double(x[t]) * std::polar(1.0, -2.0 * M_PI * k * t / n);
    p[k] = std::norm(s);
  }
  return p;
}

std::vector<float> RandomFrame(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 1000.f);
  std::vector<float> x(n);
  for (auto& v : x) v = g(rng);
  return x;
}

// Relative to the frame's total power, which is what float32 rounding scales with.
double MaxRelError(const std::vector<double>& want, const float* got, int stride) {
  double total = 0, worst = 0;
  for (double w : want) total += w;
  for (size_t k = 0; k < want.size(); ++k) worst = std::max(worst, std::abs(want[k] - got[k * stride]) / total);
  return worst;
}

}  // namespace

TEST_CASE("RealFft power spectrum equals the direct DFT (even, odd and power-of-two sizes)") {
  for (int n : {4, 6, 15, 200, 256, 400, 512}) {
    CAPTURE(n);
    slid::RealFft fft(n);
    std::vector<float> x = RandomFrame(n, 7 + n), power(n / 2 + 1);
    std::vector<std::complex<float>> scratch;
    fft.PowerSpectrum(x.data(), power.data(), &scratch);
    CHECK(MaxRelError(DirectPowerSpectrum(x), power.data(), 1) < 1e-6);
  }
}

TEST_CASE("BatchRealFft equals the direct DFT in every lane") {
  for (int n : {4, 8, 64, 256, 512, 1024}) {
    CAPTURE(n);
    slid::BatchRealFft fft(n);
    constexpr int L = slid::BatchRealFft::kLanes;
    std::vector<float> packed(fft.PackedSize()), power((n / 2 + 1) * L);
    std::vector<std::vector<float>> frames;
    for (int l = 0; l < L; ++l) {
      frames.push_back(RandomFrame(n, 100 * n + l));
      fft.Pack(frames.back().data(), l, packed.data());
    }
    fft.PowerSpectra(packed.data(), power.data());
    for (int l = 0; l < L; ++l) {
      CAPTURE(l);
      CHECK(MaxRelError(DirectPowerSpectrum(frames[l]), power.data() + l, L) < 1e-6);
    }
  }
}
