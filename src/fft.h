// Private RAII wrapper around kissfft: the power spectrum of a real frame. Not part of the public API
// (no kissfft type may appear in include/slid).
#pragma once
#include <complex>
#include <vector>

namespace slid {

class RealFft {
 public:
  // n >= 1. The plan (and, for even n, the twiddles of the real-to-complex split) is built once.
  explicit RealFft(int n);
  ~RealFft();
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;

  int size() const { return n_; }

  // power[k] = |X[k]|^2 for k = 0..n/2 (n/2 + 1 values) of the DFT X of the n reals in `in`.
  // `scratch` is caller-owned work space (resized here), so one RealFft serves many threads.
  void PowerSpectrum(const float* in, float* power, std::vector<std::complex<float>>* scratch) const;

 private:
  int n_;
  void* plan_ = nullptr;                       // kiss_fft_cfg of size n/2 (even n) or n (odd n)
  std::vector<std::complex<float>> twiddle_;   // exp(-2 pi i k / n), k = 0..n/2 (even n)
};

}  // namespace slid
