// The i-vector back-end after extraction (Dehak et al. 2011; Kaldi egs/lre07/v1): length normalisation,
// linear discriminant analysis, within-class covariance normalisation (WCCN), a Gaussian back-end with
// shared covariance, and cosine scoring. Samples are rows: X is N x D, labels are class indices.
#pragma once
#include <vector>

#include <Eigen/Core>

namespace slid {

// Each row scaled to Euclidean norm sqrt(D) (Kaldi ivector-normalize-length, scaleup=true) or to 1
// (Garcia-Romero & Espy-Wilson 2011) when to_unit is true. All-zero rows stay zero.
Eigen::MatrixXd LengthNormalise(const Eigen::MatrixXd& X, bool to_unit = false);

// An affine map y = A (x - offset): A is d x D, offset D.
struct LinearTransform {
  Eigen::MatrixXd A;       // d x D
  Eigen::VectorXd offset;  // D
  // N x d transformed rows of X (N x D, D == A.cols(), else slid::Error).
  Eigen::MatrixXd Apply(const Eigen::MatrixXd& X) const;
};

struct LdaOptions {
  int dim = 0;                    // output dimensions; 0 = num_classes - 1; capped at min(D, num_classes - 1)
  double within_ridge = 1e-9;     // added to the within-class covariance, times its mean diagonal (keeps it invertible)
};

// Fisher LDA: the generalised eigenvectors of S_b v = lambda S_w v with the largest eigenvalues, where
// S_w = 1/N sum_n (x_n - m_{y_n})(x_n - m_{y_n})' and S_b = S_t - S_w (scikit-learn's
// LinearDiscriminantAnalysis(solver='eigen') definitions). Rows of A are the eigenvectors scaled so that
// A S_w A' = I (projected within-class covariance is the identity); offset = the global mean.
// *eigenvalues (if non-null) gets the d eigenvalues, largest first.
// Every class in [0, num_classes) needs at least one sample, and there must be more samples than
// classes; slid::Error otherwise or on shape / label errors.
LinearTransform TrainLda(const Eigen::MatrixXd& X, const std::vector<int>& labels, int num_classes,
                         const LdaOptions& opts = {}, Eigen::VectorXd* eigenvalues = nullptr);

// WCCN (Hatch, Kajarekar & Stolcke 2006): W = 1/C sum_c Cov_c (per-class ML covariances, equally
// weighted); A = B' with B B' = W^-1 (Cholesky), offset 0, so that the averaged within-class covariance
// of the output is the identity. ridge as in LdaOptions.
LinearTransform TrainWccn(const Eigen::MatrixXd& X, const std::vector<int>& labels, int num_classes,
                          double ridge = 1e-9);

// Gaussian back-end: one mean per class, one shared covariance (the pooled within-class ML covariance
// S_w above). Scores are log N(x | m_c, S_w): read them as log-likelihoods (flat-prior posteriors are
// their softmax).
class GaussianBackend {
 public:
  GaussianBackend() = default;
  // Training as TrainLda's requirements (every class present, N > C). ridge as in LdaOptions.
  GaussianBackend(const Eigen::MatrixXd& X, const std::vector<int>& labels, int num_classes, double ridge = 1e-9);
  // From stored parameters: means C x D, covariance D x D symmetric positive definite (slid::Error if not).
  GaussianBackend(Eigen::MatrixXd means, Eigen::MatrixXd covariance);
  int NumClasses() const { return static_cast<int>(means_.rows()); }
  int Dim() const { return static_cast<int>(means_.cols()); }
  const Eigen::MatrixXd& means() const { return means_; }
  const Eigen::MatrixXd& covariance() const { return covariance_; }
  // N x C log-likelihoods of the rows of X (N x D, else slid::Error).
  Eigen::MatrixXd Scores(const Eigen::MatrixXd& X) const;

 private:
  void Precompute();
  Eigen::MatrixXd means_, covariance_;
  Eigen::MatrixXd prec_means_;  // C x D: means * S^-1
  Eigen::VectorXd consts_;      // C: -0.5 (D log 2pi + log|S| + m' S^-1 m)
  Eigen::MatrixXd chol_inv_;    // L^-1 (S = L L'), for x' S^-1 x
};

// Per-class means of X (C x D); every class needs a sample (slid::Error otherwise).
Eigen::MatrixXd ClassMeans(const Eigen::MatrixXd& X, const std::vector<int>& labels, int num_classes);

// N x C cosine similarities between the rows of X and the rows of `means` (C x D). A zero row gives 0.
Eigen::MatrixXd CosineScores(const Eigen::MatrixXd& X, const Eigen::MatrixXd& means);

}  // namespace slid
