// Tests for include/slid/kaldi_io.h against archives written by Kaldi's own binaries
// (SLID_SHARED_DIR/fixtures/kaldi, made by make_kaldi_fixtures.sh there: compute-mfcc-feats,
// copy-feats, copy-feats --compress=true, compute-vad). The fixtures are required: without them these
// tests fail, they do not skip. Tolerances:
//  - binary vs Kaldi's text form of the same matrices: relative 1e-6 (Kaldi prints 7 significant digits);
//  - Kaldi compressed (CM) vs text: per column (max - min) / 126 + 2 * global range / 65535 (half the
//    widest uint8 step between the column's percentiles, plus the uint16 rounding of the percentiles),
//    plus the text tolerance.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "slid/error.h"
#include "slid/feature_io.h"
#include "slid/io.h"
#include "slid/kaldi_io.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using slid::Matrix;

namespace {

using Table = std::vector<std::pair<std::string, Matrix>>;

doctest::Contains Has(const std::string& s) { return doctest::Contains(s.c_str()); }

// The Kaldi fixture folder: $SLID_KALDI_FIXTURES if set, else SLID_SHARED_DIR/fixtures/kaldi.
std::string FixtureDir() {
  const char* env = std::getenv("SLID_KALDI_FIXTURES");
  const std::string dir = env && *env ? std::string(env) : std::string(SLID_SHARED_DIR) + "/fixtures/kaldi";
  INFO("Kaldi fixtures expected in " << dir << " (the shared data beside the clone; configure with "
       "-DSLID_SHARED_DIR=... or set SLID_KALDI_FIXTURES)");
  REQUIRE(fs::exists(fs::path(dir) / "mfcc_16k.ark"));
  return dir;
}

// Runs in `dir` while alive: Kaldi's scp paths are relative to the working directory.
struct InDir {
  fs::path saved = fs::current_path();
  explicit InDir(const std::string& dir) { fs::current_path(dir); }
  ~InDir() { fs::current_path(saved); }
};

Table ReadAll(const std::string& rspecifier) {
  slid::KaldiMatrixReader reader(rspecifier);
  Table t;
  std::string key;
  Matrix m;
  while (reader.Next(&key, &m)) t.emplace_back(key, m);
  CHECK_FALSE(reader.Next(&key, &m));  // stays at the end
  return t;
}

Table ReadAllFromString(const std::string& bytes, const std::string& name = "mem.ark") {
  std::istringstream in(bytes);
  slid::KaldiMatrixReader reader(in, name);
  Table t;
  std::string key;
  Matrix m;
  while (reader.Next(&key, &m)) t.emplace_back(key, m);
  return t;
}

Matrix RandomMatrix(int rows, int cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 30.0f);
  Matrix m(rows, cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m(r, c) = d(rng);
  return m;
}

bool SameBits(const Matrix& a, const Matrix& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  return a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.size())) == 0;
}

std::string BinaryEntry(const std::string& key, const Matrix& m) {
  std::ostringstream o;
  o << key << ' ';
  slid::WriteKaldiMatrix(o, m, true);
  return o.str();
}

// Checks that `a` and `b` hold the same keys and shapes, and values within the text tolerance.
void CheckMatchesText(const Table& a, const Table& text) {
  REQUIRE(a.size() == text.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("entry " << a[i].first);
    CHECK(a[i].first == text[i].first);
    REQUIRE(a[i].second.rows() == text[i].second.rows());
    REQUIRE(a[i].second.cols() == text[i].second.cols());
    const Matrix rel = (a[i].second - text[i].second).cwiseAbs().cwiseQuotient(a[i].second.cwiseAbs().cwiseMax(1e-20f));
    CHECK(rel.maxCoeff() <= 1e-6f);
  }
}

}  // namespace

TEST_CASE("rspecifiers and wspecifiers follow Kaldi's syntax") {
  auto r = slid::ParseKaldiRspecifier("ark:f.ark");
  CHECK_FALSE(r.script);
  CHECK(r.path == "f.ark");
  r = slid::ParseKaldiRspecifier("scp,s,cs:data/feats.scp");
  CHECK(r.script);
  CHECK(r.path == "data/feats.scp");
  CHECK(slid::ParseKaldiRspecifier("ark,s,cs,o,p,bg,t,b:-").path == "-");
  CHECK(slid::ParseKaldiRspecifier("ark:a:b.ark").path == "a:b.ark");  // only the first ':' separates

  for (const char* bad : {"f.ark", "foo:f.ark", "ark,scp:f", "ark:", "scp,ark:f", "ark,,s:f", "ark:f ",
                          "ark:gunzip -c f.gz |", "ark:| cat", "ark,x:f"})
    CHECK_THROWS_WITH_AS(slid::ParseKaldiRspecifier(bad), Has(std::string("'") + bad + "'"), slid::Error);

  auto w = slid::ParseKaldiWspecifier("ark:out.ark");
  CHECK(w.ark_path == "out.ark");
  CHECK(w.scp_path.empty());
  CHECK(w.binary);
  w = slid::ParseKaldiWspecifier("ark,t:-");
  CHECK(w.ark_path == "-");
  CHECK_FALSE(w.binary);
  w = slid::ParseKaldiWspecifier("ark,scp,t,f:a.ark,data/a.scp");
  CHECK(w.ark_path == "a.ark");
  CHECK(w.scp_path == "data/a.scp");
  CHECK_FALSE(w.binary);
  CHECK(w.flush);
  CHECK(slid::ParseKaldiWspecifier("ark,b,nf,p:x").binary);

  for (const char* bad : {"out.ark", "ark,scp:a.ark", "scp:a.scp", "scp,ark:a,b", "ark,scp:-,a.scp", "ark:",
                          "ark,scp:a.ark,", "ark,q:x", "ark:| gzip -c > x.gz", "ark,scp:a.ark,b.scp ", "t:x"})
    CHECK_THROWS_WITH_AS(slid::ParseKaldiWspecifier(bad), Has(std::string("'") + bad + "'"), slid::Error);

  CHECK(slid::LooksLikeKaldiSpecifier("ark,scp:a,b"));
  CHECK(slid::LooksLikeKaldiSpecifier("scp:feats.scp"));
  CHECK_FALSE(slid::LooksLikeKaldiSpecifier("feats/"));
  CHECK_FALSE(slid::LooksLikeKaldiSpecifier("t:x"));
  CHECK_FALSE(slid::LooksLikeKaldiSpecifier("C:/x"));
}

TEST_CASE("Kaldi's binary, scp, compressed and vector archives read as their text forms") {
  const std::string dir = FixtureDir();
  InDir in(dir);  // the scp files name their archives relative to this folder
  for (const std::string r : {"16k", "8k"}) {
    INFO("rate " << r);
    const Table text = ReadAll("ark:mfcc_" + r + ".txt");
    REQUIRE(text.size() == 2);
    CHECK(text[0].second.cols() == 7);
    CHECK(text[0].second.rows() > 100);

    const Table binary = ReadAll("ark:mfcc_" + r + ".ark");
    CheckMatchesText(binary, text);
    const Table via_scp = ReadAll("scp:mfcc_" + r + ".scp");
    REQUIRE(via_scp.size() == binary.size());
    for (size_t i = 0; i < binary.size(); ++i) {
      CHECK(via_scp[i].first == binary[i].first);
      CHECK(SameBits(via_scp[i].second, binary[i].second));
    }

    // Compressed (CM: per-column percentile headers + uint8), through the archive and through the scp.
    for (const std::string& spec : {"ark:mfcc_" + r + "_compressed.ark", "scp,s,cs:mfcc_" + r + "_compressed.scp"}) {
      INFO(spec);
      const Table comp = ReadAll(spec);
      REQUIRE(comp.size() == text.size());
      float global_min = INFINITY, global_max = -INFINITY;
      for (const auto& e : text) {
        global_min = std::min(global_min, e.second.minCoeff());
        global_max = std::max(global_max, e.second.maxCoeff());
      }
      for (size_t i = 0; i < comp.size(); ++i) {
        CHECK(comp[i].first == text[i].first);
        const Matrix& t = text[i].second;
        const Matrix& c = comp[i].second;
        REQUIRE(c.rows() == t.rows());
        REQUIRE(c.cols() == t.cols());
        float worst_ratio = 0, worst_error = 0;
        for (int j = 0; j < t.cols(); ++j) {
          const float col_range = t.col(j).maxCoeff() - t.col(j).minCoeff();
          const float bound = col_range / 126.0f + 2.0f * (global_max - global_min) / 65535.0f;
          for (int k = 0; k < t.rows(); ++k) {
            const float err = std::abs(c(k, j) - t(k, j));
            worst_error = std::max(worst_error, err);
            worst_ratio = std::max(worst_ratio, err / (bound + 1e-6f * std::abs(t(k, j))));
          }
        }
        INFO("worst error " << worst_error << ", worst error / bound " << worst_ratio);
        CHECK(worst_ratio <= 1.0f);
        CHECK(worst_error > 0.0f);  // it is lossy: a decoder returning the text values would be a bug
      }
    }

    // Vectors (FV), as a 1 x n matrix like the text "[ 0 1 ... ]".
    const Table vad_text = ReadAll("ark:vad_" + r + ".txt");
    const Table vad = ReadAll("scp:vad_" + r + ".scp");
    REQUIRE(vad.size() == 2);
    for (size_t i = 0; i < vad.size(); ++i) {
      CHECK(vad[i].first == vad_text[i].first);
      CHECK(vad[i].second.rows() == 1);
      CHECK(vad[i].second.cols() == binary[i].second.rows());  // one flag per frame
      CHECK(vad[i].second == vad_text[i].second);
    }

    // The 56-dimensional SDC text archives parse with every frame the same width.
    const Table sdc = ReadAll("ark,t:sdc_all_" + r + ".txt");
    REQUIRE(sdc.size() == 2);
    CHECK(sdc[0].second.cols() == 56);
    CHECK(sdc[0].second.rows() == binary[0].second.rows());
  }
}

TEST_CASE("binary archives and scp files written by slid are byte-for-byte Kaldi's") {
  const std::string dir = FixtureDir();
  TempDir tmp("slid_test_kaldi_io_");
  for (const std::string r : {"16k", "8k"}) {
    const Table mfcc = ReadAll("ark:" + dir + "/mfcc_" + r + ".ark");
    {
      InDir in(tmp.dir.string());  // Kaldi wrote "ark,scp:mfcc_R.ark,mfcc_R.scp" in its folder
      slid::KaldiMatrixWriter w("ark,scp:mfcc_" + r + ".ark,mfcc_" + r + ".scp");
      for (const auto& [key, m] : mfcc) w.Write(key, m);
      w.Close();
    }
    CHECK(slid::ReadFileToString(tmp("mfcc_" + r + ".ark")) == slid::ReadFileToString(dir + "/mfcc_" + r + ".ark"));
    CHECK(slid::ReadFileToString(tmp("mfcc_" + r + ".scp")) == slid::ReadFileToString(dir + "/mfcc_" + r + ".scp"));
    // Compressed, as copy-feats --compress=true wrote the same matrices.
    {
      InDir in(tmp.dir.string());
      slid::KaldiWriteOptions o;
      o.compress = true;
      slid::KaldiMatrixWriter w("ark,scp:mfcc_" + r + "_compressed.ark,mfcc_" + r + "_compressed.scp", o);
      for (const auto& [key, m] : mfcc) w.Write(key, m);
      w.Close();
    }
    CHECK(slid::ReadFileToString(tmp("mfcc_" + r + "_compressed.ark")) ==
          slid::ReadFileToString(dir + "/mfcc_" + r + "_compressed.ark"));
    CHECK(slid::ReadFileToString(tmp("mfcc_" + r + "_compressed.scp")) ==
          slid::ReadFileToString(dir + "/mfcc_" + r + "_compressed.scp"));
    // And to standard output ("ark:-"), the same bytes.
    std::ostringstream out;
    slid::KaldiMatrixWriter w("ark:-", {}, &out);
    for (const auto& [key, m] : mfcc) w.Write(key, m);
    w.Close();
    CHECK(out.str() == slid::ReadFileToString(dir + "/mfcc_" + r + ".ark"));
  }
  for (const auto& e : fs::directory_iterator(tmp.dir))
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("round trips: binary float and double, text, ark,scp, standard input and output") {
  TempDir tmp("slid_test_kaldi_io_rt_");
  const Table entries = {{"a", RandomMatrix(30, 56, 1)}, {"b-2", RandomMatrix(1, 7, 2)}, {"empty", Matrix(0, 0)},
                         {"c", RandomMatrix(300, 13, 3)}};
  for (const std::string opts : {"ark,scp", "ark,scp,t", "ark,scp,b,f"}) {
    for (bool dbl : {false, true}) {
      INFO(opts << (dbl ? " double" : " float"));
      const std::string ark = tmp("x.ark"), scp = tmp("x.scp");
      slid::KaldiWriteOptions wo;
      wo.double_precision = dbl;
      slid::KaldiMatrixWriter w(opts + ":" + ark + "," + scp, wo);
      for (const auto& [k, m] : entries) w.Write(k, m);
      w.Close();
      for (const std::string& spec : {"ark:" + ark, "scp:" + scp}) {
        const Table back = ReadAll(spec);
        REQUIRE(back.size() == entries.size());
        for (size_t i = 0; i < back.size(); ++i) {
          CHECK(back[i].first == entries[i].first);
          CHECK(SameBits(back[i].second, entries[i].second));
        }
      }
      const std::string bytes = slid::ReadFileToString(ark);
      if (opts.find(",t") == std::string::npos) {
        // "\0BFM " / "\0BDM " + 2 x (size byte + int32) + data, per entry.
        size_t expect = 0;
        for (const auto& [k, m] : entries) expect += k.size() + 1 + 5 + 10 + m.size() * (dbl ? 8 : 4);
        CHECK(bytes.size() == expect);
        CHECK(bytes.substr(2, 5) == std::string("\0B", 2) + (dbl ? "DM " : "FM "));
      } else {
        CHECK(bytes.substr(0, 5) == "a  [\n");
      }
    }
  }
  // Compressed: CM for more than 8 rows, CM2 up to 8 (Kaldi's automatic method), within the bounds;
  // a constant matrix and an empty one work; NaN is refused.
  for (const int rows : {300, 9, 8, 1}) {
    INFO(rows << " rows");
    const Matrix m = RandomMatrix(rows, 13, 11u + rows);
    slid::KaldiWriteOptions o;
    o.compress = true;
    std::ostringstream s;
    slid::WriteKaldiMatrix(s, m, true, o);
    CHECK(s.str().substr(2, 3) == (rows > 8 ? "CM " : "CM2"));
    std::istringstream i(s.str());
    const Matrix back = slid::ReadKaldiMatrix(i, "mem");
    REQUIRE(back.rows() == rows);
    const float range = m.maxCoeff() - m.minCoeff();
    for (int c = 0; c < m.cols(); ++c) {
      const float bound = rows > 8 ? (m.col(c).maxCoeff() - m.col(c).minCoeff()) / 126.0f + 2.0f * range / 65535.0f
                                   : range / 65535.0f;  // CM2: half a uint16 step, doubled for float rounding
      CHECK((back.col(c) - m.col(c)).cwiseAbs().maxCoeff() <= bound * 1.0001f);
    }
  }
  {
    slid::KaldiWriteOptions o;
    o.compress = true;
    std::ostringstream s;
    slid::WriteKaldiMatrix(s, Matrix::Constant(20, 3, -2.5f), true, o);
    slid::WriteKaldiMatrix(s, Matrix(0, 3), true, o);
    std::istringstream i(s.str());
    CHECK((slid::ReadKaldiMatrix(i, "mem").array() + 2.5f).abs().maxCoeff() <= 3.5f / 126.0f);
    CHECK(slid::ReadKaldiMatrix(i, "mem").size() == 0);
    Matrix nan = Matrix::Zero(10, 2);
    nan(3, 1) = NAN;
    CHECK_THROWS_WITH_AS(slid::WriteKaldiMatrix(s, nan, true, o), doctest::Contains("NaN"), slid::Error);
  }
  // A matrix without values is written as Kaldi's empty matrix, 0 x 0, in both forms.
  for (const bool binary : {true, false}) {
    std::ostringstream o;
    slid::WriteKaldiMatrix(o, Matrix(0, 56), binary);
    CHECK(o.str() == (binary ? std::string("\0BFM \4\0\0\0\0\4\0\0\0\0", 15) : std::string(" [ ]\n")));
    std::istringstream i(o.str());
    CHECK(slid::ReadKaldiMatrix(i, "mem").size() == 0);
  }
  CHECK(ReadAllFromString(std::string("v \0BFV \4\0\0\0\0", 12)).at(0).second.rows() == 0);  // empty vector
  // Standard input and output.
  std::ostringstream out;
  {
    slid::KaldiMatrixWriter w("ark:-", {}, &out);
    for (const auto& [k, m] : entries) w.Write(k, m);
    w.Close();
  }
  std::istringstream in(out.str());
  slid::KaldiMatrixReader reader("ark,s,cs:-", &in);
  std::string key;
  Matrix m;
  size_t n = 0;
  while (reader.Next(&key, &m)) {
    REQUIRE(n < entries.size());
    CHECK(key == entries[n].first);
    CHECK(SameBits(m, entries[n].second));
    ++n;
  }
  CHECK(n == entries.size());
  // An scp on standard input.
  {
    slid::KaldiMatrixWriter w("ark,scp:" + tmp("y.ark") + "," + tmp("y.scp"));
    for (const auto& [k, mm] : entries) w.Write(k, mm);
    w.Close();
  }
  std::istringstream scp_in(slid::ReadFileToString(tmp("y.scp")));
  slid::KaldiMatrixReader scp_reader("scp:-", &scp_in);
  n = 0;
  while (scp_reader.Next(&key, &m)) CHECK(SameBits(m, entries[n++].second));
  CHECK(n == entries.size());
}

TEST_CASE("scp entries: whole files, ranges, Kaldi's text archives by offset") {
  TempDir tmp("slid_test_kaldi_io_scp_");
  const Matrix a = RandomMatrix(10, 6, 7);
  // A file holding one bare object (as copy-matrix writes), no key.
  slid::WriteFileAtomically(tmp("one.mat"), [&](std::ostream& o) { slid::WriteKaldiMatrix(o, a, true); });
  {
    slid::KaldiMatrixWriter w("ark,scp:" + tmp("a.ark") + "," + tmp("a.scp"));
    w.Write("a", a);
    w.Close();
  }
  const std::string entry = tmp("a.ark") + ":2";
  slid::WriteFileAtomically(tmp("r.scp"), [&](std::ostream& o) {
    o << "whole " << tmp("one.mat") << "\n\n"
      << "rows  " << entry << "[2:4]\r\n"
      << "both\t" << entry << "[2:4,1:3]\n"
      << "cols " << entry << "[:,5:5]\n"
      << "past " << entry << "[8:11]\n";  // Kaldi tolerates a row end up to 2 past the last row (clipped)
  });
  const Table t = ReadAll("scp:" + tmp("r.scp"));
  REQUIRE(t.size() == 5);
  CHECK(t[0].first == "whole");
  CHECK(SameBits(t[0].second, a));
  CHECK(t[1].first == "rows");
  CHECK(t[1].second == Matrix(a.middleRows(2, 3)));
  CHECK(t[2].second == Matrix(a.block(2, 1, 3, 3)));
  CHECK(t[3].second == Matrix(a.col(5)));
  CHECK(t[4].second == Matrix(a.middleRows(8, 2)));

  for (const char* bad_range : {"[3:2]", "[0:13]", "[0:1,0:6]", "[a:b]", "[1:2,3:4,5:6]", "[]"}) {
    INFO(bad_range);
    slid::WriteFileAtomically(tmp("bad.scp"), [&](std::ostream& o) { o << "x " << entry << bad_range << "\n"; });
    CHECK_THROWS_WITH_AS(ReadAll("scp:" + tmp("bad.scp")), doctest::Contains("bad.scp: line 1: "), slid::Error);
  }
}

TEST_CASE("malformed archives and scp files: slid::Error naming the file and the offset or line") {
  const Matrix m = RandomMatrix(4, 3, 9);
  const std::string good = BinaryEntry("utt1", m) + BinaryEntry("utt2", m);
  REQUIRE(ReadAllFromString(good).size() == 2);

  // Every truncation of a binary archive fails cleanly (or, cut between entries, reads fewer).
  for (size_t n = 1; n < good.size(); ++n) {
    INFO("cut at " << n);
    const size_t half = good.size() / 2;
    if (n == half) {
      CHECK(ReadAllFromString(good.substr(0, n)).size() == 1);
      continue;
    }
    CHECK_THROWS_WITH_AS(ReadAllFromString(good.substr(0, n), "cut.ark"), doctest::Contains("cut.ark: offset "),
                         slid::Error);
  }
  auto expect_error = [](const std::string& bytes, const std::string& what) {
    INFO("input: " << bytes.size() << " bytes, expected '" << what << "'");
    CHECK_THROWS_WITH_AS(ReadAllFromString(bytes, "bad.ark"), Has(what), slid::Error);
  };
  std::string bad = good;
  bad[7] = 'X';  // "\0BXM "
  expect_error(bad, "bad.ark: offset 7: expected an object type token");
  bad = good;
  bad[6] = 'b';  // "\0b"
  expect_error(bad, "bad.ark: offset 5: bad binary header");
  bad = good;
  bad[10] = 8;  // size byte of the row count
  expect_error(bad, "offset 10: expected the row count (size byte 4)");
  bad = good;
  const int32_t negative = -3, huge = 0x7fffffff;
  std::memcpy(&bad[11], &negative, 4);
  expect_error(bad, "offset 10: negative size");
  bad = good;
  std::memset(&bad[16], 0, 4);  // 4 x 0: Kaldi cannot hold it, and it would cost nothing to claim 2^31 rows
  expect_error(bad, "offset 10: size 4 x 0: a matrix without values must be 0 x 0");
  bad = good;
  std::memcpy(&bad[11], &huge, 4);
  std::memcpy(&bad[16], &huge, 4);
  expect_error(bad, "offset 10: implausible size 2147483647 x 2147483647");
  bad = good;
  std::memcpy(&bad[11], &huge, 4);
  expect_error(bad, "offset 10: truncated FM data of 2147483647 x 3");  // fails before allocating 25 GB
  std::string cm3_header(16, '\0');
  cm3_header.replace(8, 4, "\xff\xff\xff\x7f", 4);  // rows
  cm3_header.replace(12, 4, "\x01\0\0\0", 4);      // cols
  expect_error(std::string("utt \0BCM3 ", 10) + cm3_header + "abc", "offset 10: truncated CM3 data of 2147483647 x 1");
  expect_error(std::string("utt \0BCM4 ", 10) + cm3_header, "offset 6: unknown compressed matrix type 'CM4'");
  expect_error("utt1", "truncated after key");
  expect_error("utt1\r[ 1 ]", "offset 4: expected a space after key");
  expect_error("utt1 [ 1 2\n 3 ]\n", "row 2 has 1 values, the first row has 2");
  expect_error("utt1 [ 1 2 ", "unterminated text matrix");
  expect_error("utt1 [ 1 2x ]", "bad number '2x'");
  expect_error("utt1 { 1 }", "offset 5: expected '['");
  expect_error(std::string(5000, 'k'), "key longer than 4096 bytes");

  TempDir tmp("slid_test_kaldi_io_bad_");
  slid::WriteFileAtomically(tmp("g.ark"), [&](std::ostream& o) { o << good; });
  auto expect_scp_error = [&](const std::string& line, const std::string& what) {
    INFO("scp line: " << line);
    slid::WriteFileAtomically(tmp("s.scp"), [&](std::ostream& o) { o << "ok " << tmp("g.ark") << ":5\n" << line << "\n"; });
    CHECK_THROWS_WITH_AS(ReadAll("scp:" + tmp("s.scp")), Has(tmp("s.scp") + ": line 2: " + what),
                         slid::Error);
  };
  expect_scp_error("lonely", "no file after key 'lonely'");
  expect_scp_error("x " + tmp("missing.ark") + ":5", tmp("missing.ark") + ": cannot open");
  expect_scp_error("x " + tmp("g.ark") + ":100000", tmp("g.ark") + ": offset 100000 is at or past the end");
  expect_scp_error("x " + tmp("g.ark") + ":3", tmp("g.ark") + ": offset 3: expected '['");
  expect_scp_error("x gunzip -c " + tmp("g.ark") + ".gz |", "'gunzip -c " + tmp("g.ark") + ".gz |': commands in scp files are not run");
  expect_scp_error("x -", "standard input ('-') cannot be an scp entry");
  CHECK_THROWS_WITH_AS(ReadAll("ark:" + tmp("none.ark")), Has(tmp("none.ark") + ": cannot open"), slid::Error);
}

TEST_CASE("compressed formats CM2 and CM3 decode as Kaldi's CopyToMat, CM interpolates between percentiles") {
  // Hand-made objects (no Kaldi fixture uses them: copy-feats --compress picks CM for > 8 rows).
  // GlobalHeader without format: min_value, range, num_rows, num_cols.
  auto header = [](const char* token, float min_value, float range, int32_t rows, int32_t cols) {
    std::string h = std::string("\0B", 2) + token + " ";
    h.append(reinterpret_cast<const char*>(&min_value), 4);
    h.append(reinterpret_cast<const char*>(&range), 4);
    h.append(reinterpret_cast<const char*>(&rows), 4);
    h.append(reinterpret_cast<const char*>(&cols), 4);
    return h;
  };
  auto read = [](const std::string& bytes) {
    std::istringstream in(bytes);
    return slid::ReadKaldiMatrix(in, "mem");
  };
  // CM2: uint16 row-major; value = min + v * range / 65535.
  std::string cm2 = header("CM2", -10.0f, 20.0f, 2, 2);
  for (uint16_t v : {0, 65535, 32768, 1}) cm2.append(reinterpret_cast<const char*>(&v), 2);
  Matrix a = read(cm2);
  REQUIRE(a.rows() == 2);
  REQUIRE(a.cols() == 2);
  CHECK(a(0, 0) == doctest::Approx(-10.0).epsilon(1e-7));
  CHECK(a(0, 1) == doctest::Approx(10.0).epsilon(1e-6));
  CHECK(a(1, 0) == doctest::Approx(-10.0 + 32768 * 20.0 / 65535).epsilon(1e-6));
  CHECK(a(1, 1) == doctest::Approx(-10.0 + 20.0 / 65535).epsilon(1e-6));
  // CM3: uint8 row-major; value = min + v * range / 255.
  std::string cm3 = header("CM3", 1.0f, 2.55f, 1, 3) + std::string("\x00\x64\xff", 3);
  a = read(cm3);
  REQUIRE(a.cols() == 3);
  CHECK(a(0, 0) == doctest::Approx(1.0).epsilon(1e-7));
  CHECK(a(0, 1) == doctest::Approx(2.0).epsilon(1e-6));
  CHECK(a(0, 2) == doctest::Approx(3.55).epsilon(1e-6));
  // CM: per column p0, p25, p75, p100 as uint16 of the global range, then uint8 column-major;
  // 0 -> p0, 64 -> p25, 192 -> p75, 255 -> p100, linear in between.
  std::string cm = header("CM", 0.0f, 65535.0f, 5, 1);
  for (uint16_t p : {100, 200, 400, 1000}) cm.append(reinterpret_cast<const char*>(&p), 2);
  cm += std::string("\x00\x40\x80\xc0\xff", 5);  // 0, 64, 128, 192, 255
  a = read(cm);
  REQUIRE(a.rows() == 5);
  CHECK(a(0, 0) == doctest::Approx(100));
  CHECK(a(1, 0) == doctest::Approx(200));
  CHECK(a(2, 0) == doctest::Approx(300));
  CHECK(a(3, 0) == doctest::Approx(400));
  CHECK(a(4, 0) == doctest::Approx(1000));
  // An empty compressed matrix.
  CHECK(read(header("CM", 0, 0, 0, 0)).size() == 0);
  // Non-finite header values are refused.
  CHECK_THROWS_WITH_AS(read(header("CM2", NAN, 1.0f, 1, 1) + "xx"), doctest::Contains("mem: offset 6: CM2 header has a non-finite"),
                       slid::Error);
}

TEST_CASE("compressing a column whose percentiles coincide in float stays defined (fuzz_kaldi_ark, CI)") {
  // Found by fuzz_kaldi_ark under UBSan: values near -1e24 whose uint16 percentiles differ but map back
  // to the same float, so Kaldi's interpolation divides 0 by 0 and converts NaN to int. slid clamps.
  const float a = -9.999700378893081e+23f, b = -9.999799818372853e+23f, c = -9.999899978428566e+23f,
              d = -1.0000000138484279e+24f;
  const float values[12][2] = {{a, a}, {a, d}, {b, a}, {c, d}, {c, d}, {d, a}, {b, a}, {a, a}, {c, c}, {b, c}, {a, d}, {a, b}};
  Matrix m(12, 2);
  for (int r = 0; r < 12; ++r)
    for (int k = 0; k < 2; ++k) m(r, k) = values[r][k];
  slid::KaldiWriteOptions options;
  options.compress = true;
  std::ostringstream out;
  slid::WriteKaldiMatrix(out, m, true, options);
  std::istringstream in(out.str());
  const Matrix back = slid::ReadKaldiMatrix(in, "mem");
  REQUIRE(back.rows() == 12);
  REQUIRE(back.cols() == 2);
  REQUIRE(back.allFinite());
  // Every decoded value lies within the matrix's range (one uint16 step of slack).
  const float step = (m.maxCoeff() - m.minCoeff()) / 65535 * 2;
  CHECK(back.minCoeff() >= m.minCoeff() - step);
  CHECK(back.maxCoeff() <= m.maxCoeff() + step);
}

TEST_CASE("the writer is atomic: nothing is left without Close(), previous files survive") {
  TempDir tmp("slid_test_kaldi_io_atomic_");
  slid::WriteFileAtomically(tmp("old.ark"), [](std::ostream& o) { o << "previous"; });
  {
    slid::KaldiMatrixWriter w("ark,scp:" + tmp("old.ark") + "," + tmp("new.scp"));
    w.Write("a", RandomMatrix(3, 3, 1));
    CHECK_THROWS_WITH_AS(w.Write("has space", RandomMatrix(3, 3, 1)), doctest::Contains("'has space'"), slid::Error);
    CHECK_THROWS_AS(w.Write("", RandomMatrix(3, 3, 1)), slid::Error);
  }  // destroyed without Close(): as if an exception had ended the run
  CHECK(slid::ReadFileToString(tmp("old.ark")) == "previous");
  CHECK_FALSE(fs::exists(tmp("new.scp")));
  CHECK(std::distance(fs::directory_iterator(tmp.dir), fs::directory_iterator()) == 1);
  CHECK_THROWS_WITH_AS(slid::KaldiMatrixWriter("ark:" + tmp("no/such/dir.ark")), doctest::Contains("no/such/dir.ark"),
                       slid::Error);
  CHECK_THROWS_WITH_AS(slid::KaldiMatrixWriter("out.ark"), doctest::Contains("not a Kaldi wspecifier"), slid::Error);
}
