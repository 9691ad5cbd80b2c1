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

namespace slid {

// Power spectra of kLanes real frames at once, for power-of-two sizes: an iterative radix-2 FFT whose
// every "sample" is a vector of kLanes floats, one per frame (structure of arrays), so each butterfly
// is a handful of full-width SIMD operations with no shuffles. Same maths as RealFft (n/2-point
// complex FFT + real split); tests/test_mfcc.cc checks the two agree.
class BatchRealFft {
 public:
  static constexpr int kLanes = 16;

  explicit BatchRealFft(int n);  // n a power of two, >= 4

  int size() const { return n_; }

  // Size of the packed buffer: n * kLanes floats.
  size_t PackedSize() const { return static_cast<size_t>(n_) * kLanes; }
  // Writes the n reals of one frame into lane `lane` of `packed` (structure-of-arrays layout:
  // z[k] = frame[2k] + i frame[2k+1], real parts then imaginary parts, lanes innermost).
  void Pack(const float* frame, int lane, float* packed) const;
  // From a filled packed buffer (overwritten): power (n/2 + 1) x kLanes,
  // power[k * kLanes + l] = |X_l[k]|^2 of lane l's frame.
  void PowerSpectra(float* packed, float* power) const;

 private:
  int n_, m_, log2m_;
  std::vector<int> bitrev_;         // bit reversal of 0..m-1 over log2(m) bits
  std::vector<float> tw_re_, tw_im_;  // exp(-2 pi i j / m), j = 0..m/2-1
  std::vector<float> sp_re_, sp_im_;  // exp(-2 pi i k / n), k = 0..m (real split)
};

}  // namespace slid
