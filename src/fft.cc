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

namespace slid {

BatchRealFft::BatchRealFft(int n) : n_(n), m_(n / 2), log2m_(0) {
  if (n < 4 || (n & (n - 1)) != 0) throw Error("BatchRealFft: size must be a power of two >= 4, got " + std::to_string(n));
  while ((1 << log2m_) < m_) ++log2m_;
  bitrev_.resize(m_);
  for (int k = 0; k < m_; ++k) {
    int r = 0;
    for (int b = 0; b < log2m_; ++b)
      if (k & (1 << b)) r |= 1 << (log2m_ - 1 - b);
    bitrev_[k] = r;
  }
  tw_re_.resize(m_ / 2 + 1);
  tw_im_.resize(m_ / 2 + 1);
  for (int j = 0; j <= m_ / 2; ++j) {
    double a = -2.0 * M_PI * j / m_;
    tw_re_[j] = static_cast<float>(std::cos(a));
    tw_im_[j] = static_cast<float>(std::sin(a));
  }
  sp_re_.resize(m_ + 1);
  sp_im_.resize(m_ + 1);
  for (int k = 0; k <= m_; ++k) {
    double a = -2.0 * M_PI * k / n_;
    sp_re_[k] = static_cast<float>(std::cos(a));
    sp_im_[k] = static_cast<float>(std::sin(a));
  }
}

void BatchRealFft::Pack(const float* frame, int lane, float* packed) const {
  constexpr int L = kLanes;
  float* re = packed + lane;
  float* im = packed + static_cast<size_t>(m_) * L + lane;
  for (int k = 0; k < m_; ++k) {
    re[static_cast<size_t>(k) * L] = frame[2 * k];
    im[static_cast<size_t>(k) * L] = frame[2 * k + 1];
  }
}

void BatchRealFft::PowerSpectra(float* packed, float* power) const {
  constexpr int L = kLanes;
  const int m = m_;
  float* __restrict re = packed;
  float* __restrict im = packed + static_cast<size_t>(m) * L;
  // Decimation-in-frequency radix-2 butterflies, natural order in, bit-reversed order out.
  for (int s = m, stride = 1; s >= 2; s >>= 1, stride <<= 1) {
    const int half = s / 2;
    for (int g = 0; g < m; g += s) {
      for (int j = 0; j < half; ++j) {
        const float wr = tw_re_[j * stride], wi = tw_im_[j * stride];
        float* __restrict ar = re + static_cast<size_t>(g + j) * L;
        float* __restrict ai = im + static_cast<size_t>(g + j) * L;
        float* __restrict br = ar + static_cast<size_t>(half) * L;
        float* __restrict bi = ai + static_cast<size_t>(half) * L;
        if (j == 0) {
          for (int l = 0; l < L; ++l) {
            float tr = ar[l] - br[l], ti = ai[l] - bi[l];
            ar[l] += br[l];
            ai[l] += bi[l];
            br[l] = tr;
            bi[l] = ti;
          }
          continue;
        }
        for (int l = 0; l < L; ++l) {
          float tr = ar[l] - br[l], ti = ai[l] - bi[l];
          ar[l] += br[l];
          ai[l] += bi[l];
          br[l] = wr * tr - wi * ti;
          bi[l] = wr * ti + wi * tr;
        }
      }
    }
  }
  // Real split: X[k] = E[k] + w^k O[k], E = (Z[k] + conj Z[m-k]) / 2, O = (Z[k] - conj Z[m-k]) / (2i);
  // Z[k] sits in row bitrev(k).
  for (int l = 0; l < L; ++l) {
    float s = re[l] + im[l], d = re[l] - im[l];
    power[l] = s * s;
    power[static_cast<size_t>(m) * L + l] = d * d;
  }
  for (int k = 1; k < m; ++k) {
    const float* zr = re + static_cast<size_t>(bitrev_[k]) * L;
    const float* zi = im + static_cast<size_t>(bitrev_[k]) * L;
    const float* cr = re + static_cast<size_t>(bitrev_[m - k]) * L;
    const float* ci = im + static_cast<size_t>(bitrev_[m - k]) * L;
    const float wr = sp_re_[k], wi = sp_im_[k];
    float* p = power + static_cast<size_t>(k) * L;
    for (int l = 0; l < L; ++l) {
      float er = 0.5f * (zr[l] + cr[l]), ei = 0.5f * (zi[l] - ci[l]);
      float orr = 0.5f * (zi[l] + ci[l]), oi = -0.5f * (zr[l] - cr[l]);
      float xr = er + wr * orr - wi * oi;
      float xi = ei + wr * oi + wi * orr;
      p[l] = xr * xr + xi * xi;
    }
  }
}

}  // namespace slid
