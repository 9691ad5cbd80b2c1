#include "fft.h"

#include <kiss_fft.h>

#include <cmath>
#include <string>

#include "slid/error.h"

namespace slid {

RealFft::RealFft(int n) : n_(n) {
  if (n < 1) throw Error("RealFft: size must be >= 1, got " + std::to_string(n));
  // For even n, one complex FFT of n/2 points on z[k] = x[2k] + i x[2k+1] followed by the usual split
  // (as kiss_fftr does, but with caller-owned scratch: kiss_fftr writes into its config, which would
  // make a shared plan unsafe across threads; kiss_fft with distinct in/out buffers only reads it).
  int m = (n % 2 == 0) ? n / 2 : n;
  plan_ = kiss_fft_alloc(m, 0, nullptr, nullptr);
  if (plan_ == nullptr) throw Error("RealFft: kiss_fft_alloc failed for size " + std::to_string(m));
  if (n % 2 == 0) {
    twiddle_.resize(n / 2 + 1);
    for (int k = 0; k <= n / 2; ++k) {
      double a = -2.0 * M_PI * k / n;
      twiddle_[k] = std::complex<float>(static_cast<float>(std::cos(a)), static_cast<float>(std::sin(a)));
    }
  }
}

RealFft::~RealFft() { kiss_fft_free(plan_); }

void RealFft::PowerSpectrum(const float* in, float* power,
                            std::vector<std::complex<float>>* scratch) const {
  auto cfg = static_cast<kiss_fft_cfg>(plan_);
  if (n_ % 2 != 0) {
    scratch->resize(2 * static_cast<size_t>(n_));
    std::complex<float>* zin = scratch->data();
    std::complex<float>* zout = zin + n_;
    for (int i = 0; i < n_; ++i) zin[i] = std::complex<float>(in[i], 0.0f);
    kiss_fft(cfg, reinterpret_cast<const kiss_fft_cpx*>(zin), reinterpret_cast<kiss_fft_cpx*>(zout));
    for (int k = 0; k <= n_ / 2; ++k) power[k] = std::norm(zout[k]);
    return;
  }
  const int m = n_ / 2;
  scratch->resize(static_cast<size_t>(m));
  std::complex<float>* z = scratch->data();
  // The input is read as m interleaved complex values (x[2k], x[2k+1]).
  kiss_fft(cfg, reinterpret_cast<const kiss_fft_cpx*>(in), reinterpret_cast<kiss_fft_cpx*>(z));
  // X[k] = E[k] + w^k O[k], E[k] = (Z[k] + conj Z[m-k]) / 2, O[k] = (Z[k] - conj Z[m-k]) / (2i).
  power[0] = (z[0].real() + z[0].imag()) * (z[0].real() + z[0].imag());
  power[m] = (z[0].real() - z[0].imag()) * (z[0].real() - z[0].imag());
  const std::complex<float>* w = twiddle_.data();
  for (int k = 1; k < m; ++k) {
    float zr = z[k].real(), zi = z[k].imag();
    float cr = z[m - k].real(), ci = -z[m - k].imag();  // conj Z[m-k]
    float er = 0.5f * (zr + cr), ei = 0.5f * (zi + ci);
    // (Z - conjZ') / (2i) = (dr + i di) / (2i) = (di - i dr) / 2
    float dr = zr - cr, di = zi - ci;
    float orr = 0.5f * di, oi = -0.5f * dr;
    float wr = w[k].real(), wi = w[k].imag();
    float xr = er + wr * orr - wi * oi;
    float xi = ei + wr * oi + wi * orr;
    power[k] = xr * xr + xi * xi;
  }
}

}  // namespace slid
