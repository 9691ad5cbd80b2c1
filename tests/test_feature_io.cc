// Tests for include/slid/feature_io.h. The .npy reference files in tests/data/feature_io/ were written
// by numpy 1.24 (command in tests/data/README.md); our writer must produce the same bytes.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <random>
#include <sstream>
#include <string>

#include "slid/error.h"
#include "slid/feature_io.h"
#include "slid/io.h"
#include "slid/kaldi_io.h"

namespace fs = std::filesystem;
using slid::Matrix;

namespace {
const std::string kData = std::string(SLID_TEST_DATA) + "/feature_io/";

std::string NpyBytes(const Matrix& m) {
  std::ostringstream o;
  slid::WriteNpy(o, m);
  return o.str();
}

Matrix RandomMatrix(int rows, int cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 100.0f);
  Matrix m(rows, cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m(r, c) = d(rng) * std::pow(10.0f, static_cast<float>((r + c) % 9) - 4.0f);
  return m;
}
}  // namespace

TEST_CASE("WriteNpy writes byte-for-byte what numpy.save writes") {
  Matrix m(3, 2);
  m << 1.5f, -2.0f, 3.25f, 0.0f, 1e-7f, 65504.0f;
  CHECK(NpyBytes(m) == slid::ReadFileToString(kData + "numpy_3x2_f4.npy"));
  CHECK(NpyBytes(Matrix(0, 56)) == slid::ReadFileToString(kData + "numpy_0x56_f4.npy"));
}

TEST_CASE("ParseNpy reads numpy's files and rejects what it cannot represent") {
  Matrix m = slid::ReadNpyFile(kData + "numpy_3x2_f4.npy");
  REQUIRE(m.rows() == 3);
  REQUIRE(m.cols() == 2);
  CHECK(m(0, 0) == 1.5f);
  CHECK(m(0, 1) == -2.0f);
  CHECK(m(1, 0) == 3.25f);
  CHECK(m(2, 0) == 1e-7f);
  CHECK(m(2, 1) == 65504.0f);

  Matrix v = slid::ReadNpyFile(kData + "numpy_1d_f4.npy");
  REQUIRE(v.rows() == 4);
  REQUIRE(v.cols() == 1);
  CHECK(v(3, 0) == 4.0f);

  Matrix e = slid::ReadNpyFile(kData + "numpy_0x56_f4.npy");
  CHECK(e.rows() == 0);
  CHECK(e.cols() == 56);

  CHECK_THROWS_WITH_AS(slid::ReadNpyFile(kData + "numpy_2x2_f8.npy"), doctest::Contains("<f8"), slid::Error);
  CHECK_THROWS_WITH_AS(slid::ReadNpyFile(kData + "numpy_2x3_fortran_f4.npy"), doctest::Contains("Fortran"), slid::Error);
  CHECK_THROWS_WITH_AS(slid::ParseNpy("hello world, not npy", "x.npy"), doctest::Contains("x.npy: "), slid::Error);
  const std::string good = NpyBytes(RandomMatrix(5, 4, 1));
  CHECK_THROWS_WITH_AS(slid::ParseNpy(good.substr(0, good.size() - 1), "cut.npy"),
                       doctest::Contains("cut.npy: truncated"), slid::Error);
  CHECK_THROWS_WITH_AS(slid::ParseNpy(good.substr(0, 40), "cut.npy"), doctest::Contains("cut.npy: truncated"),
                       slid::Error);
  std::string three_d = good;
  three_d.replace(three_d.find("(5, 4)"), 6, "(5,4,1)");
  CHECK_THROWS_WITH_AS(slid::ParseNpy(three_d, "3d.npy"), doctest::Contains("3 dimensions"), slid::Error);
  CHECK_THROWS_WITH_AS(slid::ReadNpyFile("/nonexistent/x.npy"), doctest::Contains("/nonexistent/x.npy"), slid::Error);
}

TEST_CASE(".npy round trip is exact, header aligned to 64 bytes") {
  for (auto [rows, cols] : {std::pair{1, 1}, {7, 56}, {1000, 13}, {0, 3}}) {
    Matrix m = RandomMatrix(rows, cols, 42u + rows);
    const std::string bytes = NpyBytes(m);
    const size_t header = 10 + (static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8);
    CHECK(header % 64 == 0);
    CHECK(bytes[header - 1] == '\n');
    CHECK(bytes.size() == header + sizeof(float) * rows * cols);
    Matrix back = slid::ParseNpy(bytes, "mem");
    CHECK(back.rows() == rows);
    CHECK(back.cols() == cols);
    CHECK(back == m);
  }
  const fs::path path = fs::temp_directory_path() / ("slid_test_feature_io_" + std::to_string(::getpid()) + ".npy");
  Matrix m = RandomMatrix(20, 56, 7);
  slid::WriteNpyFile(path.string(), m);
  CHECK(slid::ReadNpyFile(path.string()) == m);
  fs::remove(path);
}

TEST_CASE("Kaldi text archive entries have Kaldi's layout") {
  Matrix m(2, 3);
  m << 1.5f, -2.0f, 3.0f, 0.25f, 1e-10f, -65504.0f;
  std::ostringstream o;
  slid::WriteKaldiTextEntry(o, "utt-1", m);
  slid::WriteKaldiTextEntry(o, "empty", Matrix(0, 56));
  CHECK(o.str() ==
        "utt-1  [\n  1.5 -2 3 \n  0.25 1e-10 -65504 ]\n"
        "empty  [ ]\n");
  CHECK_THROWS_AS(slid::WriteKaldiTextEntry(o, "has space", m), slid::Error);
  CHECK_THROWS_AS(slid::WriteKaldiTextEntry(o, "", m), slid::Error);
}

TEST_CASE("Kaldi text archives round-trip exactly and parse Kaldi's own spacing") {
  std::ostringstream o;
  Matrix a = RandomMatrix(30, 56, 3), b = RandomMatrix(1, 7, 4);
  slid::WriteKaldiTextEntry(o, "a", a);
  slid::WriteKaldiTextEntry(o, "b", b);
  slid::WriteKaldiTextEntry(o, "c", Matrix(0, 0));
  auto entries = slid::ParseKaldiTextArchive(o.str(), "mem.ark");
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].first == "a");
  CHECK(entries[0].second == a);
  CHECK(entries[1].first == "b");
  CHECK(entries[1].second == b);
  CHECK(entries[2].first == "c");
  CHECK(entries[2].second.rows() == 0);

  // As copy-feats prints it (6 significant digits, trailing spaces).
  auto k = slid::ParseKaldiTextArchive("spk1_utt1  [\n  -12.3456 0.5 7 \n  1 2 3 ]\nspk1_utt2  [\n  4 5 6 ]\n", "k.ark");
  REQUIRE(k.size() == 2);
  CHECK(k[0].second.rows() == 2);
  CHECK(k[0].second(0, 0) == -12.3456f);
  CHECK(k[1].first == "spk1_utt2");
  CHECK(k[1].second.cols() == 3);

  CHECK_THROWS_WITH_AS(slid::ParseKaldiTextArchive("u  [\n  1 2 \n  3 ]\n", "bad.ark"),
                       doctest::Contains("bad.ark: line 3"), slid::Error);
  CHECK_THROWS_WITH_AS(slid::ParseKaldiTextArchive("u  [\n  1 x ]\n", "bad.ark"), doctest::Contains("bad number"),
                       slid::Error);
  CHECK_THROWS_WITH_AS(slid::ParseKaldiTextArchive("u  [\n  1 2\n", "bad.ark"), doctest::Contains("unterminated"),
                       slid::Error);
  CHECK_THROWS_AS(slid::ParseKaldiTextArchive("u 1 2 ]", "bad.ark"), slid::Error);
}

TEST_CASE("FeatureReader yields (id, matrix) from an npy folder, an scp, an archive or a data dir") {
  const fs::path dir = fs::temp_directory_path() / ("slid_test_feature_reader_" + std::to_string(::getpid()));
  fs::create_directories(dir / "npy");
  fs::create_directories(dir / "data");
  const Matrix a = RandomMatrix(12, 56, 1), b = RandomMatrix(3, 56, 2), c = RandomMatrix(0, 56, 3);
  slid::WriteNpyFile((dir / "npy" / "utt-b.npy").string(), b);
  slid::WriteNpyFile((dir / "npy" / "utt-a.npy").string(), a);
  slid::WriteNpyFile((dir / "npy" / "utt-c.npy").string(), c);
  slid::WriteFileAtomically((dir / "npy" / "notes.txt").string(), [](std::ostream& o) { o << "ignored\n"; });
  {
    slid::KaldiMatrixWriter w("ark,scp:" + (dir / "data" / "feats.ark").string() + "," + (dir / "data" / "feats.scp").string());
    w.Write("utt-a", a);
    w.Write("utt-b", b);
    w.Write("utt-c", c);
    w.Close();
  }
  auto read_all = [](const std::string& source) {
    slid::FeatureReader reader(source);
    std::vector<std::pair<std::string, Matrix>> out;
    std::string id;
    Matrix m;
    while (reader.Next(&id, &m)) out.emplace_back(id, m);
    CHECK_FALSE(reader.Next(&id, &m));
    return out;
  };
  for (const std::string& source : {(dir / "npy").string(), "scp:" + (dir / "data" / "feats.scp").string(),
                                    "ark,s,cs:" + (dir / "data" / "feats.ark").string(), (dir / "data").string()}) {
    INFO(source);
    const auto got = read_all(source);
    REQUIRE(got.size() == 3);  // notes.txt ignored; names in order
    CHECK(got[0].first == "utt-a");
    CHECK(got[0].second == a);
    CHECK(got[1].first == "utt-b");
    CHECK(got[1].second == b);
    CHECK(got[2].first == "utt-c");
    CHECK(got[2].second.rows() == 0);
    CHECK(got[2].second.cols() == 56);
  }
  fs::create_directories(dir / "empty");
  CHECK_THROWS_WITH_AS(slid::FeatureReader((dir / "empty").string()), doctest::Contains("neither feats.scp nor .npy"),
                       slid::Error);
  CHECK_THROWS_WITH_AS(slid::FeatureReader((dir / "data" / "feats.scp").string()),
                       doctest::Contains("give features as scp:"), slid::Error);
  CHECK_THROWS_WITH_AS(slid::FeatureReader((dir / "nothing").string()), doctest::Contains("no such file"), slid::Error);
  CHECK_THROWS_AS(slid::FeatureReader("scp:" + (dir / "nothing").string()), slid::Error);
  fs::remove_all(dir);
}
