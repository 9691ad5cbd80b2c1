#include <doctest/doctest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "slid/distributed.h"
#include "slid/error.h"
#include "sample_data.h"
#include "temp_dir.h"
#include "tv_data.h"

using namespace slid;

namespace {

Matrix Frames(int n, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.5f);
  Matrix x(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) x(i, j) = normal(rng) + static_cast<float>(j);
  return x;
}

// Accumulators of shard `s` of 3: two languages, EM statistics under fixed GMMs of two components.
TrainAccs EmAccs(int s, const std::vector<DiagGmm>& gmms) {
  TrainAccs a;
  a.kind = "em";
  a.feature_dim = 3;
  a.languages = {"xx", "yy"};
  a.shard_count = 3;
  a.shards = {s};
  a.model_checksum = 42;
  a.iteration = 2;
  for (int l = 0; l < 2; ++l) {
    a.stats.emplace_back(2, 3);
    a.stats.back().Accumulate(gmms[l], Frames(200 + 50 * s, 3, 10 * s + l));
    a.files.push_back(s);
    a.failed_files.push_back(0);
    a.frames.push_back(200 + 50 * s);
    a.seconds.push_back(2.5 * s);
  }
  return a;
}

std::vector<DiagGmm> TwoGmms() {
  Vector w(2);
  w << 0.4f, 0.6f;
  Matrix mu(2, 3), var = Matrix::Ones(2, 3);
  mu << 0, 1, 2, 1, 2, 3;
  return {DiagGmm(w, mu, var), DiagGmm(w, mu.array() + 0.5f, var * 2)};
}

}  // namespace

TEST_CASE("ParseShard and ShardEntries: i/n, 1-based, a stable partition by utterance") {
  const ShardSpec s = ParseShard("2/5");
  CHECK(s.index == 2);
  CHECK(s.count == 5);
  CHECK(ShardName(s) == "2/5");
  for (const char* bad : {"0/3", "4/3", "3", "/3", "1/", "a/3", "1/0", "-1/3", "1/3/4", " 1/3"})
    CHECK_THROWS_WITH_AS(ParseShard(bad), doctest::Contains("--shard"), Error);
  // Every entry in exactly one shard; shards differ in size by at most one; the same call, the same shards.
  for (size_t n : {0, 1, 7, 100}) {
    std::multiset<size_t> all;
    size_t smallest = n, largest = 0;
    for (int i = 1; i <= 3; ++i) {
      const std::vector<size_t> e = ShardEntries(n, {i, 3});
      CHECK(std::is_sorted(e.begin(), e.end()));
      CHECK(e == ShardEntries(n, {i, 3}));
      all.insert(e.begin(), e.end());
      smallest = std::min(smallest, e.size());
      largest = std::max(largest, e.size());
    }
    CHECK(all.size() == n);
    CHECK(std::set<size_t>(all.begin(), all.end()).size() == n);
    CHECK(largest - smallest <= 1);
  }
  CHECK(ShardEntries(10, {1, 1}).size() == 10);
}

TEST_CASE("TrainAccs travel: exact round trip; shards added in any order agree; refusals name the problem") {
  const auto gmms = TwoGmms();
  TempDir tmp("slid-test-accs-");
  for (int s = 1; s <= 3; ++s) EmAccs(s, gmms).Write(tmp("acc." + std::to_string(s)));

  TrainAccs one;
  one.Read(tmp("acc.2"));
  CHECK(one.ToBytes() == EmAccs(2, gmms).ToBytes());
  CHECK_THROWS_WITH_AS(one.CheckComplete("acc.2"), doctest::Contains("missing shard(s) 1,3"), Error);

  TrainAccs abc = SumAccs({tmp("acc.1"), tmp("acc.2"), tmp("acc.3")});
  TrainAccs cab = SumAccs({tmp("acc.3"), tmp("acc.1"), tmp("acc.2")});
  CHECK(abc.shards == std::vector<int>{1, 2, 3});
  CHECK(cab.shards == std::vector<int>{1, 2, 3});
  CHECK(abc.frames[1] == 200 * 3 + 50 * 6);
  for (int l = 0; l < 2; ++l) {
    // Three double additions in another order: equal to double rounding (relative 1e-14).
    const double scale = abc.stats[l].second_order().cwiseAbs().maxCoeff();
    CHECK((abc.stats[l].first_order() - cab.stats[l].first_order()).cwiseAbs().maxCoeff() < 1e-14 * scale);
    CHECK((abc.stats[l].second_order() - cab.stats[l].second_order()).cwiseAbs().maxCoeff() < 1e-14 * scale);
    CHECK(std::abs(abc.stats[l].NumFrames() - cab.stats[l].NumFrames()) == 0);
  }

  // A shard twice, accumulators of another model or kind, other languages: refused.
  TrainAccs twice;
  twice.Read(tmp("acc.1"));
  CHECK_THROWS_WITH_AS(twice.Read(tmp("acc.1"), true), doctest::Contains("shard 1 is in both"), Error);
  TrainAccs stale = EmAccs(2, gmms);
  stale.model_checksum = 43;
  TrainAccs base = EmAccs(1, gmms);
  CHECK_THROWS_WITH_AS(base.Add(stale), doctest::Contains("different models"), Error);
  TrainAccs langs = EmAccs(2, gmms);
  langs.languages = {"xx", "zz"};
  CHECK_THROWS_WITH_AS(base.Add(langs), doctest::Contains("languages differ"), Error);
  TrainAccs other_n = EmAccs(2, gmms);
  other_n.shard_count = 4;
  CHECK_THROWS_WITH_AS(base.Add(other_n), doctest::Contains("of 4 shards"), Error);

  // Damage: every truncation and a flipped byte, naming the source.
  const std::string good = EmAccs(3, gmms).ToBytes();
  TrainAccs t;
  for (size_t n = 0; n < good.size(); n += (n < 64 ? 1 : 131)) CHECK_THROWS_AS(t.FromBytes(good.substr(0, n), "cut"), Error);
  std::string flipped = good;
  flipped[good.size() / 3] ^= 1;
  CHECK_THROWS_WITH_AS(t.FromBytes(flipped, "f.acc"), doctest::Contains("f.acc: damaged"), Error);
  CHECK_THROWS_WITH_AS(t.FromBytes("SLIDGST", "g.acc"), doctest::Contains("g.acc: not slid training accumulators"), Error);
}

TEST_CASE("gmm-init and est from accumulators: k-means++ as TrainDiagGmm, then the M-step and the stopping rule") {
  // Two languages, each "utterance" a block of frames with its own key.
  const std::vector<std::string> langs = {"xx", "yy"};
  TrainAccs init;
  init.kind = "init";
  init.feature_dim = 3;
  init.languages = langs;
  init.shard_count = 1;
  init.shards = {1};
  init.em.num_gauss = 2;
  init.em.init_max_frames = 150;
  std::vector<Matrix> data = {Frames(400, 3, 1), Frames(300, 3, 2)};
  data[1].array() += 3.0f;
  for (int l = 0; l < 2; ++l) {
    init.init.emplace_back(3, InitSampleCapacity(init.em), 0);
    init.init[l].Accumulate(data[l].topRows(250), UtteranceKey("u1"));
    init.init[l].Accumulate(data[l].bottomRows(data[l].rows() - 250), UtteranceKey("u2"));
    init.files.push_back(2);
    init.failed_files.push_back(0);
    init.frames.push_back(data[l].rows());
    init.seconds.push_back(1);
  }
  EmOptions em;
  em.num_gauss = 99;  // taken from the accumulators, not from here
  std::vector<std::string> warnings;
  const LanguageModelSet m0 = InitModelFromAccs(init, em, &warnings);
  CHECK(m0.summary["em_state"]["iteration"] == 0);
  const auto& g0 = static_cast<const GmmBackend&>(*m0.backend).gmms();
  // The same as TrainDiagGmm with zero iterations on the same utterances.
  for (int l = 0; l < 2; ++l) {
    EmOptions o;
    o.num_gauss = 2;
    o.init_max_frames = 150;
    o.max_iters = 0;
    UtteranceKeys keys{{250, data[l].rows() - 250}, {UtteranceKey("u1"), UtteranceKey("u2")}};
    const EmResult r = TrainDiagGmm(MatrixFrameSource(data[l]), o, {}, &keys);
    CHECK((r.gmm.means().array() == g0[l].means().array()).all());
    CHECK(((r.gmm.variances() - g0[l].variances()).array() / r.gmm.variances().array()).abs().maxCoeff() < 1e-6);
  }
  // One M-step: UpdateDiagGmm of the statistics with the model's floors; then the state advances.
  TrainAccs st;
  st.kind = "em";
  st.feature_dim = 3;
  st.frontend = init.frontend;
  st.languages = langs;
  st.shard_count = 1;
  st.shards = {1};
  st.model_checksum = ModelChecksum(m0);
  st.iteration = 1;
  for (int l = 0; l < 2; ++l) {
    st.stats.emplace_back(2, 3);
    st.stats[l].Accumulate(g0[l], data[l]);
    st.files.push_back(2);
    st.failed_files.push_back(0);
    st.frames.push_back(data[l].rows());
    st.seconds.push_back(1);
  }
  std::vector<std::string> notes;
  const LanguageModelSet m1 = EstimateModel(m0, st, &notes);
  CHECK(m1.summary["em_state"]["iteration"] == 1);
  const auto& g1 = static_cast<const GmmBackend&>(*m1.backend).gmms();
  for (int l = 0; l < 2; ++l) {
    EmOptions o;
    o.num_gauss = 2;
    o.max_iters = 1;
    const EmResult r = TrainDiagGmmFrom(MatrixFrameSource(data[l]), g0[l], o);
    CHECK(((r.gmm.means() - g1[l].means()).array()).abs().maxCoeff() < 1e-5);
    CHECK(((r.gmm.variances() - g1[l].variances()).array() / r.gmm.variances().array()).abs().maxCoeff() < 1e-5);
  }
  // Statistics made against m0 cannot update m1.
  st.iteration = 2;
  CHECK_THROWS_WITH_AS(EstimateModel(m1, st, nullptr), doctest::Contains("another model"), Error);
}

namespace {

// P "processes" as threads of this one: AllGather waits until every rank has deposited its bytes,
// hands everyone all of them in rank order, and waits until everyone has taken them.
class ThreadGroup {
 public:
  explicit ThreadGroup(int size) : size_(size), slots_(size) {}
  std::vector<std::string> AllGather(int rank, const std::string& mine) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !draining_; });  // the previous round is still being read
    slots_[rank] = mine;
    if (++arrived_ == size_) {
      draining_ = true;
      cv_.notify_all();
    }
    cv_.wait(lock, [&] { return draining_; });
    std::vector<std::string> all = slots_;
    if (--arrived_ == 0) {
      draining_ = false;
      cv_.notify_all();
    }
    return all;
  }
  int size() const { return size_; }

 private:
  int size_, arrived_ = 0;
  bool draining_ = false;
  std::vector<std::string> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
};

class ThreadRank : public Communicator {
 public:
  ThreadRank(ThreadGroup* group, int rank) : group_(group), rank_(rank) {}
  int Rank() const override { return rank_; }
  int Size() const override { return group_->size(); }
  std::vector<std::string> AllGather(const std::string& mine) override { return group_->AllGather(rank_, mine); }

 private:
  ThreadGroup* group_;
  int rank_;
};

}  // namespace

TEST_CASE("TrainLanguageModelSetDistributed over 3 processes equals TrainLanguageModelSet; every rank holds the same model") {
  const Dataset data = SampleData();  // the shipped sample recordings: real speech, 6 files
  TrainOptions o;
  o.em.num_gauss = 4;
  o.em.max_iters = 3;
  o.em.init_max_frames = 200;  // a real subsample
  int copies = 0;
  SUBCASE("plain") {}
  SUBCASE("with one augmented copy per file") { copies = 1; }
  o.augment.copies = copies;
  const TrainResult single = TrainLanguageModelSet(data, o);
  const int p = 3;
  ThreadGroup group(p);
  std::vector<TrainResult> results(p);
  std::vector<std::string> errors(p);
  std::vector<std::thread> threads;
  for (int r = 0; r < p; ++r)
    threads.emplace_back([&, r] {
      try {
        ThreadRank comm(&group, r);
        results[r] = TrainLanguageModelSetDistributed(data, o, comm);
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int r = 0; r < p; ++r) REQUIRE_MESSAGE(errors[r].empty(), errors[r]);
  const auto& one = static_cast<const GmmBackend&>(*single.model.backend).gmms();
  CHECK(results[0].frames == single.frames);
  CHECK(results[0].files_used == single.files_used);
  CHECK(results[0].augmented_copies == single.augmented_copies);
  for (int r = 0; r < p; ++r) {
    const auto& g = static_cast<const GmmBackend&>(*results[r].model.backend).gmms();
    REQUIRE(g.size() == one.size());
    const auto& g0 = static_cast<const GmmBackend&>(*results[0].model.backend).gmms();
    for (size_t l = 0; l < g.size(); ++l) {
      // Every rank added the same messages in the same order: bit for bit the same model.
      CHECK((g[l].means().array() == g0[l].means().array()).all());
      CHECK((g[l].variances().array() == g0[l].variances().array()).all());
      // Against one process: float rounding of the per-block products (tolerance as tests/cli/jobarray.sh).
      CHECK((g[l].weights() - one[l].weights()).cwiseAbs().maxCoeff() < 1e-3);
      CHECK(((g[l].means() - one[l].means()).array() / one[l].variances().array().sqrt()).abs().maxCoeff() < 1e-3);
      CHECK(((g[l].variances() - one[l].variances()).array() / one[l].variances().array()).abs().maxCoeff() < 1e-3);
    }
  }
}

TEST_CASE("AccumulateShardStats: the same statistics with 1 and 3 threads, from computed and from cached features") {
  const Dataset data = SampleData();
  TrainOptions o;
  o.em.num_gauss = 4;
  TempDir tmp("slid-test-shardstats-");
  const ShardCacheOptions none, cached{tmp("feats")};
  const LanguageModelSet m0 = InitModelFromAccs(AccumulateShardInit(data, {1, 1}, o, cached), o.em, nullptr);
  ShardReport r1, r3, rc;
  const TrainAccs one = AccumulateShardStats(data, {1, 1}, m0, o, none, {}, &r1);
  o.threads = 3;
  const TrainAccs three = AccumulateShardStats(data, {1, 1}, m0, o, none, {}, &r3);
  const TrainAccs from_cache = AccumulateShardStats(data, {1, 1}, m0, o, cached, {}, &rc);
  CHECK_FALSE(r1.from_cache);
  CHECK(rc.from_cache);
  CHECK(r1.frames > 0);
  CHECK(one.ToBytes() == three.ToBytes());
  CHECK(one.ToBytes() == from_cache.ToBytes());
}

TEST_CASE("T-matrix EM over shards: summed shard accumulators give TrainIvectorExtractor's iteration; missing, repeated, stale and cut shards refused") {
  const TvData data = MakeTvData(8, 4, 3, 45, 17);
  IvectorStatsOptions so;
  so.second_order = true;
  std::vector<UtteranceStats> all;
  for (const Matrix& x : data.utts) all.push_back(ComputeUtteranceStats(data.ubm, x, so));
  IvectorTrainOptions to;
  to.ivector_dim = 3;
  to.num_iters = 1;
  to.batch_utterances = 7;
  auto over = [](const std::vector<UtteranceStats>& v, const std::vector<size_t>& which) {
    return [&v, which](const std::function<void(const UtteranceStats&)>& visit) {
      for (size_t u : which) visit(v[u]);
    };
  };
  std::vector<size_t> every(all.size());
  for (size_t u = 0; u < every.size(); ++u) every[u] = u;
  const IvectorExtractor single = TrainIvectorExtractor(data.ubm, over(all, every), to);
  const IvectorExtractor e0(data.ubm, to.ivector_dim, to.seed);  // TrainIvectorExtractor's start
  TempDir tmp("slid-test-ivaccs-");
  for (int s = 1; s <= 3; ++s)
    AccumulateIvectorAccs(e0, 1, {s, 3}, over(all, ShardEntries(all.size(), {s, 3})), to.batch_utterances)
        .Write(tmp("iv." + std::to_string(s)));
  const TrainAccs abc = SumAccs({tmp("iv.1"), tmp("iv.2"), tmp("iv.3")});
  const TrainAccs cab = SumAccs({tmp("iv.3"), tmp("iv.1"), tmp("iv.2")});
  CHECK(abc.ivector.NumUtterances() == 45);
  std::vector<double> fa, fc;
  abc.ivector.AppendFlat(&fa);
  cab.ivector.AppendFlat(&fc);
  REQUIRE(fa.size() == fc.size());
  double worst = 0, scale = 0;
  for (size_t i = 0; i < fa.size(); ++i) {
    worst = std::max(worst, std::abs(fa[i] - fc[i]));
    scale = std::max(scale, std::abs(fa[i]));
  }
  CHECK(worst <= 1e-14 * scale);  // three double additions in another order
  const IvectorExtractor sharded = EstimateIvectorExtractor(e0, 1, abc, to.update);
  // Against one process: the per-batch products are single precision and the batches are cut per
  // shard (utterances 0, 3, 6, ... vs 0, 1, 2, ...), so float rounding: 1e-5 relative to the largest entry.
  auto rel = [](const MatrixD& a, const MatrixD& b) { return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff(); };
  CHECK(rel(sharded.projection(), single.projection()) < 1e-5);
  CHECK(rel(sharded.variances(), single.variances()) < 1e-5);
  CHECK(rel(sharded.mean_offsets(), single.mean_offsets()) < 1e-5);
  CHECK(rel(EstimateIvectorExtractor(e0, 1, cab, to.update).projection(), sharded.projection()) < 1e-12);

  // Missing, repeated, stale (made against another extractor or for another iteration) and cut shards.
  CHECK_THROWS_WITH_AS(SumAccs({tmp("iv.1"), tmp("iv.3")}), doctest::Contains("missing shard(s) 2"), Error);
  CHECK_THROWS_WITH_AS(SumAccs({tmp("iv.1"), tmp("iv.2"), tmp("iv.1")}), doctest::Contains("shard 1 is in both"), Error);
  AccumulateIvectorAccs(single, 2, {2, 3}, over(all, ShardEntries(all.size(), {2, 3}))).Write(tmp("stale.2"));
  CHECK_THROWS_WITH_AS(SumAccs({tmp("iv.1"), tmp("stale.2"), tmp("iv.3")}), doctest::Contains("different models"), Error);
  AccumulateIvectorAccs(e0, 2, {2, 3}, over(all, ShardEntries(all.size(), {2, 3}))).Write(tmp("late.2"));
  CHECK_THROWS_WITH_AS(SumAccs({tmp("iv.1"), tmp("late.2"), tmp("iv.3")}), doctest::Contains("different models"), Error);
  CHECK_THROWS_WITH_AS(EstimateIvectorExtractor(single, 1, abc, to.update), doctest::Contains("another extractor"), Error);
  CHECK_THROWS_WITH_AS(EstimateIvectorExtractor(e0, 2, abc, to.update), doctest::Contains("another extractor"), Error);
  const std::string good = abc.ToBytes();
  TrainAccs t;
  for (size_t n = 0; n < good.size(); n += (n < 64 ? 1 : 97)) CHECK_THROWS_AS(t.FromBytes(good.substr(0, n), "cut"), Error);
  t.FromBytes(good, "whole");
  CHECK(t.ToBytes() == good);
}

TEST_CASE("AccumulateShardIvectorStats: three shards of a data set add up to the one-shard accumulators") {
  const Dataset data = SampleData();
  TrainOptions o;
  o.em.num_gauss = 4;
  o.ivector.extractor.batch_utterances = 2;
  o.ivector.stats.top_c = 0;
  const LanguageModelSet m0 = InitModelFromAccs(AccumulateShardInit(data, {1, 1}, o, {}), o.em, nullptr);
  const DiagGmm ubm = static_cast<const GmmBackend&>(*m0.backend).gmms()[0];  // any GMM of the right shape
  const IvectorExtractor e(ubm, 3, 7);
  TempDir tmp("slid-test-ivshard-");
  ShardReport report;
  const TrainAccs whole = AccumulateShardIvectorStats(data, {1, 1}, ubm, e, 1, o, {}, {}, &report);
  CHECK(report.files == 6);
  for (int s = 1; s <= 3; ++s)
    AccumulateShardIvectorStats(data, {s, 3}, ubm, e, 1, o, {tmp("feats")}).Write(tmp("a." + std::to_string(s)));
  const TrainAccs sum = SumAccs({tmp("a.2"), tmp("a.3"), tmp("a.1")});
  CHECK(sum.languages == data.languages);
  CHECK(sum.frames == whole.frames);
  CHECK(sum.ivector.NumUtterances() == 6);
  CHECK(sum.ivector.NumFrames() == whole.ivector.NumFrames());
  CHECK(sum.ivector.LogLikelihood() == doctest::Approx(whole.ivector.LogLikelihood()).epsilon(1e-6));
  const IvectorExtractor a = EstimateIvectorExtractor(e, 1, sum, o.ivector.extractor.update);
  const IvectorExtractor b = EstimateIvectorExtractor(e, 1, whole, o.ivector.extractor.update);
  CHECK((a.projection() - b.projection()).cwiseAbs().maxCoeff() < 1e-5 * b.projection().cwiseAbs().maxCoeff());
  CHECK((a.variances() - b.variances()).cwiseAbs().maxCoeff() < 1e-5 * b.variances().cwiseAbs().maxCoeff());
}

TEST_CASE("AllSum: headers gathered, statistics all-reduced; equals the sum of the files; a stale rank is refused on every rank") {
  const auto gmms = TwoGmms();
  TempDir tmp("slid-test-allsum-");
  for (int s = 1; s <= 3; ++s) EmAccs(s, gmms).Write(tmp("acc." + std::to_string(s)));
  const TrainAccs files = SumAccs({tmp("acc.1"), tmp("acc.2"), tmp("acc.3")});
  for (bool stale : {false, true}) {
    CAPTURE(stale);
    ThreadGroup group(3);
    std::vector<TrainAccs> sums(3);
    std::vector<std::string> errors(3);
    std::vector<std::thread> threads;
    for (int r = 0; r < 3; ++r)
      threads.emplace_back([&, r] {
        try {
          ThreadRank comm(&group, r);
          TrainAccs mine = EmAccs(r + 1, gmms);
          if (stale && r == 1) mine.model_checksum = 43;
          sums[r] = AllSum(mine, comm);
        } catch (const std::exception& e) {
          errors[r] = e.what();
        }
      });
    for (auto& t : threads) t.join();
    for (int r = 0; r < 3; ++r) {
      if (stale) {
        CHECK_MESSAGE(errors[r].find("differ in kind, languages, frontend, shard count, model") != std::string::npos, errors[r]);
        continue;
      }
      REQUIRE_MESSAGE(errors[r].empty(), errors[r]);
      // The default AllReduceSum adds in rank order, as SumAccs adds the files: the same bytes.
      CHECK(sums[r].ToBytes() == files.ToBytes());
    }
  }
}

TEST_CASE("The shard feature cache is keyed on the augmentation options") {
  const Dataset data = SampleData();
  TrainOptions o;
  o.em.num_gauss = 4;
  o.augment.copies = 1;
  TempDir tmp("slid-test-shardaug-");
  const ShardCacheOptions cached{tmp("feats")};
  ShardReport made, again, other;
  const TrainAccs a = AccumulateShardInit(data, {1, 1}, o, cached, {}, &made);
  const TrainAccs b = AccumulateShardInit(data, {1, 1}, o, cached, {}, &again);
  CHECK_FALSE(made.from_cache);
  CHECK(again.from_cache);
  CHECK(a.ToBytes() == b.ToBytes());
  CHECK(a.files == b.files);  // copies are not counted as files, computed or cached
  o.augment.copies = 0;
  const TrainAccs c = AccumulateShardInit(data, {1, 1}, o, cached, {}, &other);
  CHECK_FALSE(other.from_cache);
  CHECK(c.files == a.files);
  CHECK(c.frames != a.frames);
}
