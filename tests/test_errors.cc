// Library-level failure cases of issue 5 that no single header's test owns: output that cannot be
// written (missing folder, a folder in the way, a full disk), the temporary-file registry behind
// clean Ctrl-C exits, damaged model files byte by byte, contradictory options, and data the
// numerics must survive (clipping, fewer frames than Gaussians). Program-level cases (messages, exit
// codes, signals, batches) are in tests/cli/errors.sh; audio decoding errors in test_audio.cc.
#include <doctest/doctest.h>

#include "temp_dir.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "slid/audio.h"
#include "slid/em.h"
#include "slid/error.h"
#include "slid/feature_cache.h"
#include "slid/frontend.h"
#include "slid/gmm.h"
#include "slid/io.h"
#include "slid/model.h"

namespace fs = std::filesystem;

namespace {

// A per-process scratch folder, removed at exit.
const TempDir& Tmp() {
  static TempDir t("slid_test_errors_");
  return t;
}

// The message of the slid::Error `f` throws ("" if it throws nothing, which the caller checks).
template <class F>
std::string ErrorOf(F f) {
  try {
    f();
  } catch (const slid::Error& e) {
    return e.what();
  }
  return "";
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Files in `dir` whose name holds ".tmp." (what the atomic writers leave while writing).
int TempFilesIn(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (Contains(e.path().filename().string(), ".tmp.")) ++n;
  return n;
}

// A tiny two-language model of the default frontend's dimension.
slid::LanguageModelSet TinyModel() {
  std::vector<std::string> langs;
  std::vector<slid::DiagGmm> gmms;
  const int dim = slid::Frontend(slid::FrontendOptions()).Dim();
  for (const char* lang : {"en", "fr"}) {
    slid::Vector w(2);
    w << 0.25f, 0.75f;
    slid::Matrix mu = slid::Matrix::Constant(2, dim, lang[0] == 'e' ? 0.5f : -0.5f);
    slid::Matrix var = slid::Matrix::Constant(2, dim, 1.5f);
    langs.push_back(lang);
    gmms.emplace_back(w, mu, var);
  }
  return slid::LanguageModelSet::FromGmms({}, langs, gmms);
}

// A 64 KiB tmpfs, mounted if this process may (root); unmounted at destruction.
struct SmallTmpfs {
  std::string dir;
  bool mounted = false;
  SmallTmpfs() : dir(Tmp()("tmpfs")) {
    fs::create_directories(dir);
    mounted = ::mount("slid-test-errors", dir.c_str(), "tmpfs", 0, "size=64k") == 0;
  }
  ~SmallTmpfs() {
    if (mounted) ::umount(dir.c_str());
  }
  // Fills the filesystem completely.
  void Fill() const {
    std::ofstream f(dir + "/filler", std::ios::binary);
    const std::string block(4096, 'x');
    for (int i = 0; i < 64 && f.write(block.data(), block.size()); ++i) {
    }
  }
};

}  // namespace

TEST_CASE("unwritable output paths are refused up front, naming the path") {
  const std::string in_missing = Tmp()("no/such/folder/m.slid");
  CHECK(StartsWith(ErrorOf([&] { slid::CheckOutputWritable(in_missing); }), in_missing + ": cannot write"));
  const std::string folder = Tmp()("a_folder");
  fs::create_directories(folder);
  CHECK(ErrorOf([&] { slid::CheckOutputWritable(folder); }) == folder + ": is a directory, expected a file name");
  const std::string file = Tmp()("plain_file");
  slid::WriteFileAtomically(file, [](std::ostream& o) { o << "x"; });
  const std::string under_file = file + "/m.slid";
  CHECK(Contains(ErrorOf([&] { slid::CheckOutputWritable(under_file); }), "is not a folder"));
  CHECK(ErrorOf([&] { slid::CheckOutputWritable(Tmp()("fine.slid")); }).empty());
  CHECK(ErrorOf([&] { slid::CheckOutputWritable("relative-name.slid"); }).empty());

  // The writer itself gives the same kind of error and creates nothing.
  CHECK(StartsWith(ErrorOf([&] { slid::WriteFileAtomically(in_missing, [](std::ostream& o) { o << "x"; }); }),
                   in_missing + ": cannot open for writing"));
  CHECK(StartsWith(ErrorOf([&] { TinyModel().Save(folder); }), folder + ": "));
  CHECK(fs::is_directory(folder));
  CHECK(TempFilesIn(Tmp().dir.string()) == 0);
}

TEST_CASE("the temporary-file registry removes what is in flight, and only that") {
  const std::string a = Tmp()("reg_a"), b = Tmp()("reg_b"), folder = Tmp()("reg_folder");
  slid::WriteFileAtomically(a, [](std::ostream& o) { o << "a"; });
  slid::WriteFileAtomically(b, [](std::ostream& o) { o << "b"; });
  fs::create_directories(folder);
  std::ofstream(folder + "/inner") << "x";
  slid::RegisterTempFile(a);
  slid::RegisterTempFile(folder);
  slid::RegisterTempFile(folder + "/inner");
  slid::RegisterTempFile(b);
  slid::UnregisterTempFile(b);
  slid::RemoveRegisteredTempFiles();
  CHECK_FALSE(fs::exists(a));
  CHECK_FALSE(fs::exists(folder));  // emptied first, then removed
  CHECK(fs::exists(b));             // unregistered: kept
  slid::UnregisterTempFile(a);
  slid::UnregisterTempFile(folder);
  slid::UnregisterTempFile(folder + "/inner");

  // A folder that still holds an unregistered file is left alone.
  fs::create_directories(folder);
  std::ofstream(folder + "/keep") << "x";
  slid::RegisterTempFile(folder);
  slid::RemoveRegisteredTempFiles();
  CHECK(fs::exists(folder + "/keep"));
  slid::UnregisterTempFile(folder);
}

TEST_CASE("atomic writers register their temporary file while writing (what a Ctrl-C handler removes)") {
  // As if a signal arrived in the middle of writing: the handler's call removes the temporary file,
  // the write then fails, and neither the target nor a temporary file exists afterwards.
  const std::string path = Tmp()("interrupted.txt");
  const std::string err = ErrorOf([&] {
    slid::WriteFileAtomically(path, [&](std::ostream& o) {
      o << "partial";
      o.flush();
      CHECK(TempFilesIn(Tmp().dir.string()) == 1);
      slid::RemoveRegisteredTempFiles();
      CHECK(TempFilesIn(Tmp().dir.string()) == 0);
    });
  });
  CHECK(StartsWith(err, path + ": "));
  CHECK_FALSE(fs::exists(path));
  CHECK(TempFilesIn(Tmp().dir.string()) == 0);

  // The previous content of a file being replaced survives the same interruption.
  slid::WriteFileAtomically(path, [](std::ostream& o) { o << "old"; });
  CHECK_THROWS_AS(slid::WriteFileAtomically(path, [](std::ostream& o) {
                    o << "new";
                    o.flush();
                    slid::RemoveRegisteredTempFiles();
                  }),
                  slid::Error);
  CHECK(slid::ReadFileToString(path) == "old");

  // The feature cache writer too.
  const std::string cache = Tmp()("interrupted.feats");
  {
    slid::FeatureCacheWriter w(cache, 3);
    w.Append(slid::Matrix::Ones(10, 3));
    CHECK(TempFilesIn(Tmp().dir.string()) == 1);
    slid::RemoveRegisteredTempFiles();
    CHECK(TempFilesIn(Tmp().dir.string()) == 0);
    CHECK_THROWS_AS(w.Close(), slid::Error);
  }
  CHECK_FALSE(fs::exists(cache));
  CHECK(TempFilesIn(Tmp().dir.string()) == 0);
}

TEST_CASE("a full disk: a clear error, nothing partial, the previous file intact") {
  SmallTmpfs disk;
  if (!disk.mounted) {
    MESSAGE("SKIPPED: cannot mount a 64 KiB tmpfs here (needs root / CAP_SYS_ADMIN); tests/cli/errors.sh "
            "also checks standard output to /dev/full");
    return;
  }
  const std::string model = disk.dir + "/m.slid";
  TinyModel().Save(model);  // fits: about 2 KB
  const std::string before = slid::ReadFileToString(model);
  disk.Fill();
  const std::string big(200000, 'x');
  const std::string target = disk.dir + "/big.txt";
  const std::string err = ErrorOf([&] { slid::WriteFileAtomically(target, [&](std::ostream& o) { o << big; }); });
  CHECK(StartsWith(err, target + ": "));
  CHECK(Contains(err, "disk full"));
  CHECK_FALSE(fs::exists(target));
  CHECK(ErrorOf([&] { TinyModel().Save(model); }) != "");
  CHECK(slid::ReadFileToString(model) == before);  // the old model survives a failed overwrite

  const std::string cache = disk.dir + "/x.feats";
  CHECK_THROWS_AS(
      [&] {
        slid::FeatureCacheWriter w(cache, 8);
        w.Append(slid::Matrix::Ones(20000, 8));
        w.Close();
      }(),
      slid::Error);
  CHECK_FALSE(fs::exists(cache));
  CHECK(TempFilesIn(disk.dir) == 0);
}

TEST_CASE("damaged, truncated and other-version model files are refused with the file's name") {
  const slid::LanguageModelSet m = TinyModel();
  const std::string path = Tmp()("tiny.slid");
  m.Save(path);
  const std::string bytes = slid::ReadFileToString(path);
  REQUIRE(bytes.size() > 100);
  CHECK(slid::LanguageModelSet::FromBytes(bytes, "x").languages == m.languages);

  // Every truncation, at every length.
  int refused = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string e = ErrorOf([&] { slid::LanguageModelSet::FromBytes(bytes.substr(0, n), "cut.slid"); });
    if (StartsWith(e, "cut.slid: ")) ++refused;
  }
  CHECK(refused == static_cast<int>(bytes.size()));
  // Every single-byte change (xor 0x5a) anywhere: the checksum, magic or version check catches it.
  refused = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    const std::string e = ErrorOf([&] { slid::LanguageModelSet::FromBytes(bad, "flip.slid"); });
    if (StartsWith(e, "flip.slid: ")) ++refused;
  }
  CHECK(refused == static_cast<int>(bytes.size()));
  // Trailing garbage, another format version, not a model at all.
  CHECK(Contains(ErrorOf([&] { slid::LanguageModelSet::FromBytes(bytes + "junk", "t.slid"); }), "trailing"));
  std::string v3 = bytes;
  v3[8] = 3;
  CHECK(Contains(ErrorOf([&] { slid::LanguageModelSet::FromBytes(v3, "v3.slid"); }), "version 3"));
  CHECK(Contains(ErrorOf([&] { slid::LanguageModelSet::FromBytes("RIFF....WAVEfmt ", "a.wav"); }), "not a slid model"));
  CHECK(StartsWith(ErrorOf([&] { slid::LanguageModelSet::Load(Tmp()("missing.slid")); }), Tmp()("missing.slid") + ": "));
  CHECK(Contains(ErrorOf([&] { slid::LanguageModelSet::Load(Tmp().dir.string()); }), "directory"));
}

TEST_CASE("contradictory frontend options are errors naming the option") {
  slid::FrontendOptions o;
  o.mfcc.high_freq_hz = 9000;  // above 8 kHz Nyquist
  CHECK(StartsWith(ErrorOf([&] { o.Validate(); }), "high-freq"));
  o = slid::FrontendOptions();
  o.sample_rate_hz = 8000;
  o.mfcc.high_freq_hz = 5000;
  CHECK(StartsWith(ErrorOf([&] { slid::Frontend f(o); }), "high-freq"));
  o = slid::FrontendOptions();
  o.mfcc.num_ceps = 30;  // more than 23 mel bins
  CHECK(StartsWith(ErrorOf([&] { o.Validate(); }), "num-ceps"));
  o = slid::FrontendOptions();
  CHECK(Contains(ErrorOf([&] { slid::ApplyKaldiConfig("--num-ceps=7\n--high-freq=abc\n", "f.conf", &o); }),
                 "f.conf:2: "));

  // An SDC window longer than the audio is not an error: no frames (documented), never garbage.
  o = slid::FrontendOptions();
  o.sdc.k = 30;  // context 1 + 3 * 29 + 2 = 90 frames = 0.9 s
  const slid::Frontend f(o);
  slid::Waveform w;
  w.rate_hz = 16000;
  for (int i = 0; i < 8000; ++i) w.samples.push_back(8000.0f * std::sin(0.1f * i));  // 0.5 s
  const slid::Matrix feats = f.Compute(w);
  CHECK(feats.rows() == 0);
  CHECK(feats.cols() == f.Dim());
}

TEST_CASE("clipped and full-scale square-wave audio gives finite features") {
  slid::FrontendOptions o;
  o.vad.min_snr_db = 0;  // a modulated tone: the speech check (rightly) finds no speech in it
  const slid::Frontend f{o};
  slid::Waveform w;
  w.rate_hz = 16000;
  for (int i = 0; i < 32000; ++i) {
    const float x = 40000.0f * std::sin(0.07f * i) * (1.0f + 0.5f * std::sin(0.0005f * i));
    w.samples.push_back(std::max(-32768.0f, std::min(32767.0f, x)));  // hard clipping
  }
  const slid::Matrix feats = f.Compute(w);
  CHECK(feats.rows() > 0);
  CHECK(feats.allFinite());
  for (float& s : w.samples) s = s >= 0 ? 32767.0f : -32768.0f;  // a full-scale square wave
  CHECK(f.Compute(w).allFinite());
}

TEST_CASE("a language with fewer frames than Gaussians: K shrinks with a warning, not a crash") {
  slid::Matrix frames(5, 3);
  frames << 0, 0, 0, 1, 2, 3, -1, 0.5f, 2, 4, 4, 4, 2, -3, 1;
  slid::EmOptions opts;
  opts.num_gauss = 64;
  opts.max_iters = 3;
  const slid::EmResult r = slid::TrainDiagGmm(slid::MatrixFrameSource(frames), opts);
  CHECK(r.gmm.NumGauss() >= 1);
  CHECK(r.gmm.NumGauss() <= 5);
  CHECK_FALSE(r.warnings.empty());
  CHECK(std::isfinite(r.gmm.AverageLogLikelihood(frames)));
  // No frames at all is an error, not a model.
  CHECK_THROWS_AS(slid::TrainDiagGmm(slid::MatrixFrameSource(slid::Matrix(0, 3)), opts), slid::Error);
}
