#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <unistd.h>

#include "slid/em.h"
#include "slid/error.h"
#include "slid/feature_cache.h"
#include "slid/io.h"

using namespace slid;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("slid_test_feature_cache_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string File(const std::string& name) const { return (path / name).string(); }
  int Count() const {
    int n = 0;
    for (auto& e : fs::directory_iterator(path)) n += e.is_regular_file();
    return n;
  }
};

Matrix RandomFrames(int n, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Matrix x(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) x(i, j) = normal(rng) + static_cast<float>((i / 500) % 4) * 3.0f;
  return x;
}

}  // namespace

TEST_CASE("feature cache round trip: several appends, exact values, self-describing header") {
  TempDir dir;
  const std::string path = dir.File("feats.slidfc");
  const Matrix x = RandomFrames(1001, 7, 31);
  {
    FeatureCacheWriter w(path, 7);
    w.Append(x.topRows(300));
    w.Append(Matrix(0, 7));
    w.Append(x.bottomRows(701));
    CHECK(w.NumFrames() == 1001);
    w.Close();
    CHECK_THROWS_AS(w.Close(), Error);
    CHECK_THROWS_AS(w.Append(x.topRows(1)), Error);
  }
  CHECK(dir.Count() == 1);  // no temporary file left
  const std::string bytes = ReadFileToString(path);
  CHECK(bytes.size() == 32 + 1001 * 7 * 4);
  CHECK(bytes.substr(0, 8) == "SLIDFEAT");
  FeatureCacheSource src(path);
  CHECK(src.Dim() == 7);
  CHECK(src.NumFrames() == 1001);
  CHECK(ReadFeatureCache(path) == x);

  // Blocks: in order, at most block_frames rows, only the last shorter.
  std::vector<int64_t> sizes;
  Matrix joined(1001, 7);
  int64_t row = 0;
  src.ForEachBlock(256, [&](const Matrix& b) {
    sizes.push_back(b.rows());
    joined.middleRows(row, b.rows()) = b;
    row += b.rows();
  });
  CHECK(sizes == std::vector<int64_t>{256, 256, 256, 233});
  CHECK(joined == x);
  int calls = 0;
  src.ForEachBlock(100000, [&](const Matrix& b) { calls += b.rows() == 1001; });
  CHECK(calls == 1);
}

TEST_CASE("an empty cache is valid and delivers no blocks") {
  TempDir dir;
  const std::string path = dir.File("empty.slidfc");
  FeatureCacheWriter w(path, 3);
  w.Close();
  FeatureCacheSource src(path);
  CHECK(src.NumFrames() == 0);
  int calls = 0;
  src.ForEachBlock(10, [&](const Matrix&) { ++calls; });
  CHECK(calls == 0);
  CHECK_THROWS_WITH_AS(TrainDiagGmm(src, EmOptions{}), doctest::Contains("0 frames"), Error);
}

TEST_CASE("training streamed from the cache equals training from memory") {
  TempDir dir;
  const std::string path = dir.File("train.slidfc");
  const Matrix x = RandomFrames(12000, 5, 32);
  {
    FeatureCacheWriter w(path, 5);
    for (int b = 0; b < x.rows(); b += 1700) w.Append(x.middleRows(b, std::min<int64_t>(1700, x.rows() - b)));
    w.Close();
  }
  EmOptions o;
  o.num_gauss = 8;
  o.max_iters = 5;
  o.block_frames = 1000;
  o.threads = 2;
  const EmResult mem = TrainDiagGmm(MatrixFrameSource(x), o);
  const EmResult disk = TrainDiagGmm(FeatureCacheSource(path), o);
  // float32 storage is exact and blocks are the same: identical models.
  CHECK(mem.gmm.weights() == disk.gmm.weights());
  CHECK(mem.gmm.means() == disk.gmm.means());
  CHECK(mem.gmm.variances() == disk.gmm.variances());
  REQUIRE(mem.history.size() == disk.history.size());
  CHECK(mem.history.back().avg_loglik == disk.history.back().avg_loglik);
}

TEST_CASE("a writer that is not closed leaves the old file untouched and no temporary") {
  TempDir dir;
  const std::string path = dir.File("keep.slidfc");
  {
    FeatureCacheWriter w(path, 2);
    w.Append(Matrix::Ones(3, 2));
    w.Close();
  }
  {
    FeatureCacheWriter w(path, 2);
    w.Append(Matrix::Zero(10, 2));
    CHECK_THROWS_WITH_AS(w.Append(Matrix::Zero(1, 3)), doctest::Contains("3 dims"), Error);
    Matrix bad = Matrix::Zero(1, 2);
    bad(0, 1) = std::nanf("");
    CHECK_THROWS_WITH_AS(w.Append(bad), doctest::Contains("non-finite"), Error);
    // destroyed without Close(), as after an exception in the caller
  }
  CHECK(dir.Count() == 1);
  CHECK(ReadFeatureCache(path) == Matrix::Ones(3, 2));
}

TEST_CASE("corrupt, truncated and missing caches give errors naming the file") {
  TempDir dir;
  const std::string path = dir.File("c.slidfc");
  {
    FeatureCacheWriter w(path, 4);
    w.Append(RandomFrames(50, 4, 33));
    w.Close();
  }
  const std::string good = ReadFileToString(path);
  auto write = [&](const std::string& bytes) {
    WriteFileAtomically(path, [&](std::ostream& o) { o << bytes; });
  };
  write(good.substr(0, good.size() - 4));
  CHECK_THROWS_WITH_AS(FeatureCacheSource{path}, doctest::Contains((path + ": size").c_str()), Error);
  write(good.substr(0, 10));
  CHECK_THROWS_WITH_AS(FeatureCacheSource{path}, doctest::Contains("too short"), Error);
  std::string bad = good;
  bad[0] = 'X';
  write(bad);
  CHECK_THROWS_WITH_AS(FeatureCacheSource{path}, doctest::Contains("bad magic"), Error);
  bad = good;
  bad[8] = 9;
  write(bad);
  CHECK_THROWS_WITH_AS(FeatureCacheSource{path}, doctest::Contains("version 9"), Error);
  CHECK_THROWS_WITH_AS(FeatureCacheSource{dir.File("missing")}, doctest::Contains("missing: cannot open"), Error);
  CHECK_THROWS_WITH_AS(FeatureCacheWriter(dir.File("no/such/dir/x"), 3), doctest::Contains("cannot open"), Error);
  CHECK_THROWS_AS(FeatureCacheWriter(dir.File("zero"), 0), Error);
}
