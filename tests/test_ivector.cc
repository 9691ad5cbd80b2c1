// i-vectors: statistics and posterior against a direct numpy computation
// (tests/data/ivector/make_ivector_fixtures.py), and EM properties of total-variability training.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slid/error.h"
#include "slid/ivector.h"
#include "temp_dir.h"
#include "tv_data.h"

using namespace slid;

namespace {

nlohmann::json LoadFixture() {
  std::ifstream in(std::string(SLID_TEST_DATA) + "/ivector/ivector_posterior.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

MatrixD ToMatrix(const nlohmann::json& j) {
  MatrixD m(j.size(), j[0].size());
  for (int i = 0; i < m.rows(); ++i)
    for (int c = 0; c < m.cols(); ++c) m(i, c) = j[i][c].get<double>();
  return m;
}

VectorD ToVector(const nlohmann::json& j) {
  VectorD v(j.size());
  for (int i = 0; i < v.size(); ++i) v[i] = j[i].get<double>();
  return v;
}

// max |a - b| / (max |b| + floor): one relative error for a whole array.
double RelErr(const MatrixD& a, const MatrixD& b, double floor = 1e-3) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return (a - b).cwiseAbs().maxCoeff() / (b.cwiseAbs().maxCoeff() + floor);
}

}  // namespace

TEST_CASE("utterance statistics and i-vector posterior match numpy (tolerance 1e-4 relative)") {
  const nlohmann::json j = LoadFixture();
  const DiagGmm ubm(ToVector(j["weights"]).cast<float>(), ToMatrix(j["means"]).cast<float>(),
                    ToMatrix(j["variances"]).cast<float>());
  const IvectorExtractor ext(ToMatrix(j["projection"]), ToMatrix(j["model_variances"]), ToMatrix(j["mean_offsets"]));
  CHECK(ext.NumGauss() == j["num_gauss"].get<int>());
  CHECK(ext.IvectorDim() == j["ivector_dim"].get<int>());
  std::vector<UtteranceStats> all;
  for (const auto& c : j["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    IvectorStatsOptions so;
    so.top_c = c["top_c"];
    so.min_posterior = c["min_posterior"];
    so.second_order = true;
    const Matrix x = ToMatrix(c["frames"]).cast<float>();
    const UtteranceStats st = ComputeUtteranceStats(ubm, x, so);
    CHECK(st.num_frames == x.rows());
    // Posteriors and block products are single precision: 1e-4 relative to the largest statistic.
    CHECK(RelErr(st.zeroth, ToVector(c["zeroth"])) < 1e-4);
    CHECK(RelErr(st.first, ToMatrix(c["first"])) < 1e-4);
    CHECK(RelErr(st.second, ToMatrix(c["second"])) < 1e-4);
    const IvectorPosterior p = ext.Extract(st, true);
    CHECK(RelErr(p.mean, ToVector(c["mean"])) < 1e-4);
    CHECK(RelErr(p.covariance, ToMatrix(c["covariance"])) < 1e-4);
    const double ll = c["log_likelihood"];
    CHECK(std::abs(p.log_likelihood - ll) < 1e-4 * std::abs(ll));
    all.push_back(st);
  }
  // A batch gives the same posteriors as one utterance at a time.
  const std::vector<IvectorPosterior> batch = ext.Extract(all, false);
  REQUIRE(batch.size() == all.size());
  for (size_t u = 0; u < all.size(); ++u) {
    CHECK(RelErr(batch[u].mean, ext.Extract(all[u]).mean) < 1e-6);
    CHECK(batch[u].covariance.size() == 0);
  }
}

TEST_CASE("pruned statistics: top_c = K and min_posterior 0 equal the dense path; zero frames give zeros") {
  const nlohmann::json j = LoadFixture();
  const DiagGmm ubm(ToVector(j["weights"]).cast<float>(), ToMatrix(j["means"]).cast<float>(),
                    ToMatrix(j["variances"]).cast<float>());
  const Matrix x = ToMatrix(j["cases"][0]["frames"]).cast<float>();
  IvectorStatsOptions dense, sparse;
  dense.top_c = 0;
  dense.min_posterior = 0;
  sparse.top_c = ubm.NumGauss();
  sparse.min_posterior = 1e-30f;  // forces the per-frame path while keeping everything
  UtteranceStatsComputer a(ubm, dense), b(ubm, sparse);
  const UtteranceStats sa = a.Compute(x), sb = b.Compute(x);
  CHECK(RelErr(sa.first, sb.first) < 1e-5);
  CHECK(RelErr(sa.zeroth, sb.zeroth) < 1e-5);
  CHECK(a.last_log_likelihood() == doctest::Approx(b.last_log_likelihood()).epsilon(1e-6));
  CHECK(sa.zeroth.sum() == doctest::Approx(x.rows()).epsilon(1e-5));
  const UtteranceStats z = a.Compute(Matrix(0, ubm.Dim()));
  CHECK(z.zeroth.cwiseAbs().maxCoeff() == 0.0);
  CHECK(z.first.cwiseAbs().maxCoeff() == 0.0);
  CHECK_THROWS_AS(a.Compute(Matrix(3, ubm.Dim() + 1)), Error);
  IvectorStatsOptions bad;
  bad.top_c = -1;
  CHECK_THROWS_AS(UtteranceStatsComputer(ubm, bad), Error);
  bad.top_c = 2;
  bad.min_posterior = 1.0f;
  CHECK_THROWS_AS(UtteranceStatsComputer(ubm, bad), Error);
}


TEST_CASE("total-variability EM: the likelihood never decreases (with and without variance / minimum-divergence updates)") {
  const TvData data = MakeTvData(8, 4, 3, 60, 7);
  for (int variant = 0; variant < 3; ++variant) {
    CAPTURE(variant);
    IvectorStatsOptions so;
    so.top_c = 0;
    so.min_posterior = 0;
    so.second_order = true;
    std::vector<UtteranceStats> stats;
    for (const Matrix& x : data.utts) stats.push_back(ComputeUtteranceStats(data.ubm, x, so));
    IvectorTrainOptions to;
    to.ivector_dim = 3;
    to.num_iters = 8;
    to.batch_utterances = 7;  // not a divisor of 60: exercises the last partial batch
    to.update.update_variances = variant != 1;
    to.update.min_divergence = variant != 2;
    std::vector<double> ll;
    const IvectorExtractor e = TrainIvectorExtractor(
        data.ubm, [&](const std::function<void(const UtteranceStats&)>& visit) { for (const auto& s : stats) visit(s); },
        to, [&](const IvectorTrainProgress& p) {
          CHECK(p.num_utterances == 60);
          ll.push_back(p.log_likelihood_per_frame);
        });
    REQUIRE(ll.size() == 8);
    for (size_t i = 1; i < ll.size(); ++i) {
      CAPTURE(i);
      CHECK(ll[i] >= ll[i - 1] - 1e-6 * std::abs(ll[i - 1]));
    }
    CHECK(ll.back() > ll.front() + 0.05);  // it learnt something (per frame, nats)
    CHECK(e.projection().allFinite());
    CHECK(e.variances().minCoeff() > 0);
  }
}

TEST_CASE("IvectorExtractorStats add: two halves plus Add give the same update as one pass") {
  const TvData data = MakeTvData(6, 3, 2, 20, 11);
  IvectorStatsOptions so;
  so.second_order = true;
  std::vector<UtteranceStats> first, second, all;
  for (size_t u = 0; u < data.utts.size(); ++u) {
    UtteranceStats s = ComputeUtteranceStats(data.ubm, data.utts[u], so);
    (u < 9 ? first : second).push_back(s);
    all.push_back(s);
  }
  IvectorExtractor e1(data.ubm, 2, 5), e2(data.ubm, 2, 5);
  IvectorExtractorStats a(e1), b(e1), whole(e1);
  a.Accumulate(e1, first);
  b.Accumulate(e1, second);
  a.Add(b);
  whole.Accumulate(e1, all);
  CHECK(a.NumUtterances() == 20);
  // The batch products are single-precision GEMMs whose rounding depends on the batch shape: 1e-6.
  CHECK(a.LogLikelihood() == doctest::Approx(whole.LogLikelihood()).epsilon(1e-6));
  a.Update({}, &e1);
  whole.Update({}, &e2);
  CHECK(RelErr(e1.projection(), e2.projection()) < 1e-6);
  CHECK(RelErr(e1.variances(), e2.variances()) < 1e-6);
  CHECK(RelErr(e1.mean_offsets(), e2.mean_offsets()) < 1e-6);
}

TEST_CASE("i-vector errors: bad shapes and options throw slid::Error") {
  const TvData data = MakeTvData(4, 3, 2, 2, 3);
  IvectorExtractor e(data.ubm, 2, 1);
  UtteranceStats s;
  s.zeroth = VectorD::Zero(5);
  s.first = MatrixD::Zero(5, 3);
  CHECK_THROWS_AS(e.Extract(s), Error);
  CHECK_THROWS_AS(IvectorExtractor(data.ubm, 0, 1), Error);
  CHECK_THROWS_AS(IvectorExtractor(MatrixD::Zero(12, 2), MatrixD::Constant(4, 3, -1.0), MatrixD::Zero(4, 3)), Error);
  CHECK_THROWS_AS(IvectorExtractor(MatrixD::Zero(11, 2), MatrixD::Ones(4, 3), MatrixD::Zero(4, 3)), Error);
  CHECK_THROWS_AS(IvectorExtractor().Extract(s), Error);
  // update_variances without second-order statistics is refused.
  IvectorExtractorStats st(e);
  st.Accumulate(e, {ComputeUtteranceStats(data.ubm, data.utts[0])});
  CHECK_THROWS_AS(st.Update({}, &e), Error);
  IvectorTrainOptions to;
  to.ivector_dim = 2;
  CHECK_THROWS_AS(TrainIvectorExtractor(data.ubm, [](const std::function<void(const UtteranceStats&)>&) {}, to), Error);
}

TEST_CASE("i-vector statistics travel: utterance statistics round trip exactly, pieces read and added equal the sum") {
  const TvData data = MakeTvData(5, 3, 2, 2, 21);
  TempDir tmp("slid-test-uttstats-");
  for (bool second : {false, true}) {
    CAPTURE(second);
    IvectorStatsOptions so;
    so.second_order = second;
    UtteranceStatsComputer comp(data.ubm, so);
    const Matrix& x = data.utts[0];
    const UtteranceStats a = comp.Compute(x.topRows(10)), b = comp.Compute(x.bottomRows(x.rows() - 10));
    CHECK(a.ubm_checksum == UbmChecksum(data.ubm));
    CHECK(a.ubm_checksum != 0);
    a.Write(tmp("a.ust"));
    b.Write(tmp("b.ust"));
    UtteranceStats r;
    r.Read(tmp("a.ust"));
    CHECK(r.ToBytes() == a.ToBytes());
    CHECK((r.first.array() == a.first.array()).all());
    CHECK(r.second.size() == (second ? a.first.size() : 0));
    // Read-with-add equals Add in memory, bit for bit (the doubles are stored exactly).
    r.Read(tmp("b.ust"), /*add=*/true);
    UtteranceStats sum = a;
    sum.Add(b);
    CHECK(r.ToBytes() == sum.ToBytes());
    CHECK(r.num_frames == x.rows());
    // ... and equals the statistics of the whole utterance to float rounding (the block products are
    // single precision; the blocks differ): 1e-6 relative.
    const UtteranceStats whole = comp.Compute(x);
    CHECK((r.first - whole.first).cwiseAbs().maxCoeff() < 1e-6 * whole.first.cwiseAbs().maxCoeff());
  }
  // Statistics against another UBM, or of another shape, are not added.
  const TvData other = MakeTvData(5, 3, 2, 1, 22);
  const UtteranceStats a = ComputeUtteranceStats(data.ubm, data.utts[0]);
  UtteranceStats mix = ComputeUtteranceStats(other.ubm, other.utts[0]);
  mix.Write(tmp("other.ust"));
  UtteranceStats r = a;
  CHECK_THROWS_WITH_AS(r.Read(tmp("other.ust"), true), doctest::Contains("another UBM"), Error);
  IvectorStatsOptions so2;
  so2.second_order = true;
  CHECK_THROWS_WITH_AS(r.Add(ComputeUtteranceStats(data.ubm, data.utts[0], so2)), doctest::Contains("second order"), Error);
  // Damage: every truncation, a flipped byte, another format.
  const std::string good = a.ToBytes();
  for (size_t n = 0; n < good.size(); ++n) CHECK_THROWS_AS(r.FromBytes(good.substr(0, n), "cut"), Error);
  CHECK_THROWS_WITH_AS(r.FromBytes(good + "x", "long.ust"), doctest::Contains("long.ust: trailing bytes"), Error);
  std::string flipped = good;
  flipped[good.size() / 2] ^= 4;
  CHECK_THROWS_WITH_AS(r.FromBytes(flipped, "f.ust"), doctest::Contains("f.ust: damaged"), Error);
  std::string version = good;
  version[8] = 9;
  CHECK_THROWS_WITH_AS(r.FromBytes(version, "v.ust"), doctest::Contains("format version 9"), Error);
  CHECK_THROWS_WITH_AS(r.FromBytes("SLIDIVS", "i.ust"), doctest::Contains("not slid utterance statistics"), Error);
  CHECK_THROWS_AS(UtteranceStats().ToBytes(), Error);
}

TEST_CASE("i-vector statistics travel: T-matrix accumulators round trip exactly, A+B+C equals C+A+B, another extractor is refused") {
  const TvData data = MakeTvData(6, 3, 2, 21, 31);
  IvectorStatsOptions so;
  so.second_order = true;
  std::vector<std::vector<UtteranceStats>> parts(3);
  for (size_t u = 0; u < data.utts.size(); ++u) parts[u % 3].push_back(ComputeUtteranceStats(data.ubm, data.utts[u], so));
  const IvectorExtractor e(data.ubm, 2, 5);
  TempDir tmp("slid-test-ivstats-");
  std::vector<IvectorExtractorStats> st;
  for (int p = 0; p < 3; ++p) {
    st.emplace_back(e);
    st.back().Accumulate(e, parts[p]);
    st.back().Write(tmp("s" + std::to_string(p)));
  }
  IvectorExtractorStats one;
  one.Read(tmp("s1"));
  CHECK(one.ToBytes() == st[1].ToBytes());
  CHECK(one.ExtractorChecksum() == e.Checksum());
  // Flattened for an all-reduce and back: the same statistics.
  std::vector<double> flat;
  st[2].AppendFlat(&flat);
  IvectorExtractorStats back = st[2];
  std::vector<double> zeros(flat.size(), 0.0);
  back.SetFlat(zeros.data());
  CHECK(back.ToBytes() != st[2].ToBytes());
  CHECK(back.SetFlat(flat.data()) == flat.data() + flat.size());
  CHECK(back.ToBytes() == st[2].ToBytes());
  // Read-with-add in two orders; in memory in the first order: identical bytes.
  IvectorExtractorStats abc, cab, mem = st[0];
  for (const char* f : {"s0", "s1", "s2"}) abc.Read(tmp(f), true);
  for (const char* f : {"s2", "s0", "s1"}) cab.Read(tmp(f), true);
  mem.Add(st[1]);
  mem.Add(st[2]);
  CHECK(abc.ToBytes() == mem.ToBytes());
  CHECK(abc.NumUtterances() == 21);
  // Another order: the same to double rounding (three additions), so the same update to 1e-12.
  CHECK(cab.LogLikelihood() == doctest::Approx(abc.LogLikelihood()).epsilon(1e-14));
  IvectorExtractor e1 = e, e2 = e;
  abc.Update({}, &e1);
  cab.Update({}, &e2);
  CHECK((e1.projection() - e2.projection()).cwiseAbs().maxCoeff() < 1e-12 * e1.projection().cwiseAbs().maxCoeff());
  CHECK((e1.variances() - e2.variances()).cwiseAbs().maxCoeff() < 1e-12 * e1.variances().cwiseAbs().maxCoeff());
  // Statistics of another extractor (e.g. last iteration's): refused on add, accumulate and update.
  CHECK(e1.Checksum() != e.Checksum());
  IvectorExtractorStats stale(e1);
  stale.Accumulate(e1, parts[0]);
  stale.Write(tmp("stale"));
  IvectorExtractorStats t = st[0];
  CHECK_THROWS_WITH_AS(t.Read(tmp("stale"), true), doctest::Contains("different extractors"), Error);
  CHECK_THROWS_WITH_AS(t.Accumulate(e1, parts[1]), doctest::Contains("another extractor"), Error);
  IvectorExtractor e3 = e1;
  CHECK_THROWS_WITH_AS(st[0].Update({}, &e3), doctest::Contains("another extractor"), Error);
  // Damage.
  const std::string good = st[0].ToBytes();
  for (size_t n = 0; n < good.size(); n += (n < 96 ? 1 : 37)) CHECK_THROWS_AS(t.FromBytes(good.substr(0, n), "cut"), Error);
  std::string flipped = good;
  flipped[good.size() - 20] ^= 1;
  CHECK_THROWS_WITH_AS(t.FromBytes(flipped, "f.ivs"), doctest::Contains("f.ivs: damaged"), Error);
  CHECK_THROWS_AS(IvectorExtractorStats().ToBytes(), Error);
}
