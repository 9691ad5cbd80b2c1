// Dataset loading in its three forms, and the errors for missing/empty inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "slid/dataset.h"
#include "slid/error.h"

namespace fs = std::filesystem;

namespace {

// Writes a 16-bit mono PCM WAV of `n` samples of a 440 Hz tone at 8 kHz.
void WriteTinyWav(const fs::path& p, int n) {
  fs::create_directories(p.parent_path());
  std::ofstream o(p, std::ios::binary);
  auto u32 = [&](uint32_t v) { o.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { o.write(reinterpret_cast<const char*>(&v), 2); };
  o.write("RIFF", 4); u32(36 + 2 * n); o.write("WAVEfmt ", 8); u32(16); u16(1); u16(1); u32(8000);
  u32(16000); u16(2); u16(16); o.write("data", 4); u32(2 * n);
  for (int i = 0; i < n; ++i) u16(static_cast<uint16_t>(static_cast<int16_t>(1000 * std::sin(i * 0.345))));
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("slid_test_dataset_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void WriteText(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

}  // namespace

TEST_CASE("Folder of language folders") {
  TempDir t;
  const fs::path root = t.path / "data";
  WriteTinyWav(root / "fr" / "b.wav", 800);
  WriteTinyWav(root / "fr" / "sub" / "a.WAV", 800);
  WriteTinyWav(root / "en" / "x.wav", 800);
  WriteText(root / "en" / "notes.txt", "not audio");
  WriteTinyWav(root / ".hidden" / "y.wav", 800);
  const slid::Dataset d = slid::LoadDataset(root.string());
  CHECK(d.format == "folder");
  CHECK(d.languages == std::vector<std::string>{"en", "fr"});
  REQUIRE(d.entries.size() == 3);
  CHECK(d.entries[0].language == "en");
  CHECK(d.entries[0].id == "en/x.wav");
  CHECK(d.entries[1].id == "fr/b.wav");
  CHECK(d.entries[2].id == "fr/sub/a.WAV");
  const slid::Waveform w = slid::ReadEntryAudio(d.entries[0], 0);
  CHECK(w.rate_hz == 8000);
  CHECK(w.samples.size() == 800);

  // The file that is not audio is named, with the reason; nothing is a problem.
  CHECK(d.problems.empty());
  REQUIRE(d.ignored.size() == 1);
  CHECK(d.ignored[0] == (root / "en" / "notes.txt").string() +
                            ": ignored: '.txt' is not an audio format slid reads (it reads .wav, .flac, .ogg, .opus, .mp3, ...)");

  // A language folder without audio is a problem naming the folder; the language is left out, the
  // other languages are kept.
  fs::create_directories(root / "de");
  WriteText(root / "de" / "readme.txt", "x");
  const slid::Dataset d2 = slid::LoadDataset(root.string());
  CHECK(d2.languages == std::vector<std::string>{"en", "fr"});
  CHECK(d2.entries.size() == 3);
  REQUIRE(d2.problems.size() == 1);
  CHECK(d2.problems[0] == (root / "de").string() + ": language folder 'de' holds no audio files; skipped");
  CHECK(d2.ignored.size() == 2);
}

TEST_CASE("Folder scan names the files it does not read: other formats, FIFOs, sockets, broken links") {
  TempDir t;
  const fs::path root = t.path / "data";
  WriteTinyWav(root / "en" / "a.wav", 800);
  WriteText(root / "en" / "b.m4a", "not read");
  REQUIRE(::mkfifo((root / "en" / "c.wav").c_str(), 0600) == 0);  // opening it would block forever
  fs::create_symlink(root / "en" / "gone.wav", root / "en" / "d.wav");
  for (int i = 0; i < 5; ++i) WriteText(root / "en" / ("t" + std::to_string(i) + ".txt"), "transcript");
  WriteTinyWav(root / "fr" / "a.wav", 800);
  for (int i = 0; i < 4; ++i) fs::create_symlink(root / "gone.wav", root / "fr" / ("l" + std::to_string(i) + ".wav"));
  const slid::Dataset d = slid::LoadDataset(root.string());
  REQUIRE(d.entries.size() == 2);
  CHECK(d.entries[0].id == "en/a.wav");
  auto ignored = [&](const std::string& name) {
    for (const std::string& l : d.ignored)
      if (l.rfind((root / "en" / name).string() + ": ignored: ", 0) == 0) return l;
    return std::string();
  };
  CHECK(ignored("b.m4a").find("'.m4a' is not an audio format slid reads") != std::string::npos);
  CHECK(ignored("c.wav").find("named pipe (FIFO)") != std::string::npos);
  CHECK(ignored("d.wav").find("broken symbolic link") != std::string::npos);
  // Five transcripts: three named, two counted.
  int named_txt = 0;
  for (const std::string& l : d.ignored) named_txt += l.find(".txt: ignored") != std::string::npos;
  CHECK(named_txt == 3);
  CHECK(std::find(d.ignored.begin(), d.ignored.end(),
                  (root / "en").string() + ": ignored 2 more '.txt' file(s) (as above)") != d.ignored.end());
  // Four broken links: three named, one counted (as non-regular files, whatever their extension).
  int named_links = 0;
  for (const std::string& l : d.ignored) named_links += l.find("/fr/l") != std::string::npos;
  CHECK(named_links == 3);
  CHECK(std::find(d.ignored.begin(), d.ignored.end(),
                  (root / "fr").string() + ": ignored 1 more non-regular file(s) (as above)") != d.ignored.end());
  CHECK(d.ignored.size() == 1 + 2 + (3 + 1) + (3 + 1));  // en: m4a; FIFO and link; 3 txt + 1 count; fr: 3 links + 1
}

TEST_CASE("Empty and missing inputs are clear errors") {
  TempDir t;
  fs::create_directories(t.path / "empty");
  try {
    slid::LoadDataset((t.path / "empty").string());
    FAIL("expected an error");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("no language sub-folders") != std::string::npos);
  }
  try {
    slid::LoadDataset((t.path / "missing").string());
    FAIL("expected an error");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("missing") != std::string::npos);
    CHECK(std::string(e.what()).find("no such file") != std::string::npos);
  }
  WriteText(t.path / "empty.tsv", "# only a comment\n\n");
  CHECK_THROWS_AS(slid::LoadDataset((t.path / "empty.tsv").string()), slid::Error);
}

TEST_CASE("Kaldi data directory with a piped entry") {
  TempDir t;
  WriteTinyWav(t.path / "audio" / "a.wav", 800);
  WriteTinyWav(t.path / "audio" / "b.wav", 1600);
  const fs::path kd = t.path / "kaldi";
  WriteText(kd / "wav.scp", "utt2 cat " + (t.path / "audio" / "b.wav").string() + " |\n" +
                                "utt1 " + (t.path / "audio" / "a.wav").string() + "\n");
  WriteText(kd / "utt2lang", "utt1 en\nutt2 fr\n");
  const slid::Dataset d = slid::LoadDataset(kd.string());
  CHECK(d.format == "kaldi");
  REQUIRE(d.entries.size() == 2);
  CHECK(d.entries[0].id == "utt1");
  CHECK_FALSE(d.entries[0].is_command);
  CHECK(d.entries[1].id == "utt2");
  CHECK(d.entries[1].is_command);
  CHECK(d.entries[1].language == "fr");
  CHECK(slid::EntryName(d.entries[1]).back() == '|');
  const slid::Waveform w = slid::ReadEntryAudio(d.entries[1], 0);
  CHECK(w.samples.size() == 1600);

  // A failing command is an error naming the command.
  slid::DataEntry bad;
  bad.id = "x";
  bad.source = "false";
  bad.is_command = true;
  bad.language = "en";
  try {
    slid::ReadEntryAudio(bad, 0);
    FAIL("expected an error");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("false |") != std::string::npos);
  }

  // utt2lang missing an utterance: that utterance is left out, naming the wav.scp line.
  WriteText(kd / "utt2lang", "utt1 en\n");
  const slid::Dataset d2 = slid::LoadDataset(kd.string());
  REQUIRE(d2.entries.size() == 1);
  REQUIRE(d2.problems.size() == 1);
  CHECK(d2.problems[0] == (kd / "wav.scp").string() + ":1: utterance 'utt2' has no entry in " +
                              (kd / "utt2lang").string() + "; skipped");
}

TEST_CASE("TSV list with relative paths") {
  TempDir t;
  WriteTinyWav(t.path / "audio" / "a.wav", 800);
  WriteText(t.path / "list.tsv", "# path\tlang\naudio/a.wav\ten\n" + (t.path / "audio" / "a.wav").string() + "\tfr\n");
  const slid::Dataset d = slid::LoadDataset((t.path / "list.tsv").string());
  CHECK(d.format == "tsv");
  CHECK(d.languages == std::vector<std::string>{"en", "fr"});
  CHECK(slid::ReadEntryAudio(d.entries[0], 0).samples.size() == 800);
  WriteText(t.path / "header.tsv", "path\tlang\naudio/a.wav\ten\n");
  CHECK(slid::LoadDataset((t.path / "header.tsv").string()).entries.size() == 1);
  // A list with only a bad line: nothing to use, the problem says why (the driver refuses it).
  WriteText(t.path / "bad.tsv", "audio/a.wav en\n");
  const slid::Dataset bad = slid::LoadDataset((t.path / "bad.tsv").string());
  CHECK(bad.entries.empty());
  REQUIRE(bad.problems.size() == 1);
  CHECK(bad.problems[0] == (t.path / "bad.tsv").string() +
                               ":1: expected '<path><TAB><language>', got 'audio/a.wav en'; line skipped");
}

TEST_CASE("TSV list: every bad line reported in one pass, the good ones kept; a byte-order mark is ignored") {
  TempDir t;
  WriteTinyWav(t.path / "a.wav", 800);
  WriteTinyWav(t.path / "b.wav", 800);
  const std::string list = (t.path / "l.tsv").string();
  WriteText(t.path / "l.tsv", "\xEF\xBB\xBF" "a.wav\ten\r\n" "no tab here\n" "b.wav\tfr\n" "\tde\n" "x.wav\t\n"
                              "a.wav\tit\n" "c.wav\tfr\tx\n");
  const slid::Dataset d = slid::LoadDataset(list);
  REQUIRE(d.entries.size() == 2);
  CHECK(d.entries[0].id == "a.wav");  // the BOM is not part of the first path
  CHECK(d.entries[0].language == "en");
  CHECK(slid::ReadEntryAudio(d.entries[0], 0).samples.size() == 800);
  CHECK(d.languages == std::vector<std::string>{"en", "fr"});
  const std::vector<std::string> want = {
      list + ":2: expected '<path><TAB><language>', got 'no tab here'; line skipped",
      list + ":4: empty path; line skipped",
      list + ":5: empty language; line skipped",
      list + ":6: 'a.wav' is listed again (first at line 1); line skipped",
      list + ":7: expected '<path><TAB><language>', got 'c.wav\tfr\tx'; line skipped"};
  CHECK(d.problems == want);
}

TEST_CASE("Kaldi data directory: byte-order marks accepted, every bad line reported, the rest kept") {
  TempDir t;
  WriteTinyWav(t.path / "a.wav", 800);
  const fs::path kd = t.path / "kaldi";
  const std::string a = (t.path / "a.wav").string();
  WriteText(kd / "wav.scp", "\xEF\xBB\xBFu1 " + a + "\nlonely\nu2 " + a + "\nu2 " + a + "\nu3 |\nu4 " + a + "\n");
  WriteText(kd / "utt2lang", "\xEF\xBB\xBFu1 en\nu2 fr\nu9 de\nbroken\n");
  const slid::Dataset d = slid::LoadDataset(kd.string());
  REQUIRE(d.entries.size() == 2);
  CHECK(d.entries[0].id == "u1");
  CHECK(d.entries[0].language == "en");
  CHECK(d.entries[1].id == "u2");
  const std::string scp = (kd / "wav.scp").string(), u2l = (kd / "utt2lang").string();
  const std::vector<std::string> want = {
      scp + ":2: expected '<utt-id> <path>' or '<utt-id> <command> |', got 'lonely'; line skipped",
      scp + ":4: duplicate utterance id 'u2' (first at line 3); line skipped",
      scp + ":5: empty command for 'u3'; line skipped",
      u2l + ":4: expected '<utt-id> <value>', got 'broken'; line skipped",
      scp + ":6: utterance 'u4' has no entry in " + u2l + "; skipped",
      u2l + ":3: utterance 'u9' has no entry in " + scp};
  CHECK(d.problems == want);
  // ReadWavScp (identify --scp) stays strict: the first bad line is an error.
  const std::string e = [&] {
    try {
      slid::ReadWavScp(scp);
    } catch (const slid::Error& x) {
      return std::string(x.what());
    }
    return std::string();
  }();
  CHECK(e == scp + ":2: expected '<utt-id> <path>' or '<utt-id> <command> |', got 'lonely'");
}

TEST_CASE("Audio extensions") {
  CHECK(slid::HasAudioExtension("a/b.flac"));
  CHECK(slid::HasAudioExtension("B.WAV"));
  CHECK_FALSE(slid::HasAudioExtension("a.txt"));
  CHECK_FALSE(slid::HasAudioExtension("wav"));
}

namespace {
// The message of the slid::Error that `f` throws ("" if none).
template <class F>
std::string ErrorOf(F f) {
  try {
    f();
  } catch (const slid::Error& e) {
    return e.what();
  }
  return "";
}
bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("Kaldi data directory with segments, utt2spk and a piped recording") {
  TempDir t;
  const fs::path kd = t.path / "kaldi";
  WriteTinyWav(t.path / "audio" / "rec1.wav", 16000);  // 2 s at 8 kHz
  WriteTinyWav(t.path / "audio" / "rec2.wav", 8000);   // 1 s
  const std::string count = (t.path / "runs.txt").string();
  WriteText(kd / "wav.scp", "rec1 " + (t.path / "audio" / "rec1.wav").string() + "\n" +
                                "rec2 sh -c 'echo run >> " + count + "; cat " +
                                (t.path / "audio" / "rec2.wav").string() + "' |\n");
  WriteText(kd / "segments",
            "rec1-a rec1 0.5 1.0\nrec1-b rec1 1.5 -1\nrec2-a rec2 0 0.25\nrec2-b rec2 0.25 0.5\nrec1-c rec1 1.9 2.3\n");
  WriteText(kd / "utt2lang", "rec1-a en\nrec1-b en\nrec2-a fr\nrec2-b fr\nrec1-c en\n");
  WriteText(kd / "utt2spk", "rec1-a spk1\nrec1-b spk1\nrec2-a spk2\nrec2-b spk2\nrec1-c spk1\n");
  const slid::Dataset d = slid::LoadDataset(kd.string());
  CHECK(d.format == "kaldi");
  REQUIRE(d.entries.size() == 5);
  CHECK(d.languages == std::vector<std::string>{"en", "fr"});
  const slid::DataEntry& a = d.entries[0];
  CHECK(a.id == "rec1-a");
  CHECK(a.recording == "rec1");
  CHECK(a.speaker == "spk1");
  CHECK(a.start_seconds == 0.5);
  CHECK(a.end_seconds == 1.0);
  CHECK(slid::IsSegment(a));
  CHECK(Has(a.origin, "segments:1"));

  // Each segment is exactly its slice of the whole recording (16-bit PCM: exact values).
  const slid::Waveform whole = slid::ReadAudio((t.path / "audio" / "rec1.wav").string(), 0);
  auto slice = [&](size_t b, size_t e) { return std::vector<float>(whole.samples.begin() + b, whole.samples.begin() + e); };
  CHECK(slid::ReadEntryAudio(d.entries[0], 0).samples == slice(4000, 8000));
  CHECK(slid::ReadEntryAudio(d.entries[1], 0).samples == slice(12000, 16000));
  // rec1-c ends 0.3 s after the recording: within Kaldi's 0.5 s tolerance, cut at the end.
  CHECK(slid::ReadEntryAudio(d.entries[2], 0).samples == slice(15200, 16000));
  // Resampled segments have the resampled length.
  CHECK(slid::ReadEntryAudio(d.entries[0], 16000).samples.size() == 8000);

  // The piped recording: both segments from one run of its command.
  const slid::Waveform whole2 = slid::ReadAudio((t.path / "audio" / "rec2.wav").string(), 0);
  const slid::Waveform s2a = slid::ReadEntryAudio(d.entries[3], 0);
  const slid::Waveform s2b = slid::ReadEntryAudio(d.entries[4], 0);
  CHECK(d.entries[3].speaker == "spk2");
  CHECK(s2a.samples == std::vector<float>(whole2.samples.begin(), whole2.samples.begin() + 2000));
  CHECK(s2b.samples == std::vector<float>(whole2.samples.begin() + 2000, whole2.samples.begin() + 4000));
  std::ifstream runs(count);
  int n_runs = 0;
  for (std::string l; std::getline(runs, l);) ++n_runs;
  CHECK(n_runs == 1);
}

namespace {
// Bad lines of a 2-line segments file over the one recording rec1 (utterances u1, u2), read both ways:
// collected by LoadDataset (the line skipped) and thrown by ReadWavScp with a segments file. The
// message names the file and line, and says what is wrong.
struct BadSegments {
  const char* text;
  const char* line;
  const char* what;
};
const BadSegments kBadSegments[] = {
    {"u1 rec1 0 1\nu2 rec1 1\n", "segments:2", "expected '<utt-id> <recording-id> <start-seconds> <end-seconds>'"},
    {"u1 rec9 0 1\nu2 rec1 1 2\n", "segments:1", "recording 'rec9' is not in"},
    {"u1 rec1 0 1\nu2 rec1 1.5 1.5\n", "segments:2", "not before end"},
    {"u1 rec1 0 1\nu2 rec1 x 2\n", "segments:2", "start 'x' is not a time"},
    {"u1 rec1 -1 1\nu2 rec1 0 2\n", "segments:1", "start '-1' is not a time"},
    {"u1 rec1 0 -2\nu2 rec1 0 2\n", "segments:1", "end '-2' is not a time"},
    {"u1 rec1 0 1\nu1 rec1 1 2\n", "segments:2", "duplicate utterance id 'u1'"},
};
}  // namespace

TEST_CASE("Kaldi segments errors name the file and line") {
  TempDir t;
  const fs::path kd = t.path / "kaldi";
  WriteTinyWav(t.path / "audio" / "rec1.wav", 16000);  // 2 s at 8 kHz
  WriteText(kd / "wav.scp", "rec1 " + (t.path / "audio" / "rec1.wav").string() + "\n");
  WriteText(kd / "utt2lang", "u1 en\nu2 en\n");
  auto load_with = [&](const std::string& segments) {  // the problems, one per line
    WriteText(kd / "segments", segments);
    std::string all;
    for (const std::string& p : slid::LoadDataset(kd.string()).problems) all += p + "\n";
    return all;
  };
  for (const BadSegments& c : kBadSegments) {  // the line is skipped and named with its problem
    CAPTURE(c.text);
    const std::string e = load_with(c.text);
    CHECK(Has(e, c.line));
    CHECK(Has(e, c.what));
    CHECK(Has(e, "line skipped"));
  }
  std::string e;
  // An utterance of utt2lang without a segment, and utt2spk not covering an utterance.
  e = load_with("u1 rec1 0 1\n");
  CHECK(Has(e, "utt2lang:2"));
  CHECK(Has(e, "'u2'"));
  WriteText(kd / "utt2spk", "u1 s1\n");
  e = load_with("u1 rec1 0 1\nu2 rec1 1 2\n");
  CHECK(Has(e, "u2"));
  CHECK(Has(e, "utt2spk"));
  fs::remove(kd / "utt2spk");

  // Outside the recording: found when reading, naming the segments line.
  CHECK(load_with("u1 rec1 0 1\nu2 rec1 2.5 3\n").empty());
  const slid::Dataset d = slid::LoadDataset(kd.string());
  e = ErrorOf([&] { slid::ReadEntryAudio(d.entries[1], 0); });
  CHECK(Has(e, "rec1.wav"));
  CHECK(Has(e, "after the end of the recording"));
  CHECK(Has(e, "segments:2"));
  CHECK(load_with("u1 rec1 0 1\nu2 rec1 1 2.6\n").empty());  // ends 0.6 s late: beyond the 0.5 s tolerance
  e = ErrorOf([&] { slid::ReadEntryAudio(slid::LoadDataset(kd.string()).entries[1], 0); });
  CHECK(Has(e, "segments:2"));
  CHECK(Has(e, "ends at"));
}

TEST_CASE("wav.scp + segments read strictly (features/identify --segments): entries, first bad line thrown") {
  TempDir t;
  WriteTinyWav(t.path / "audio" / "rec1.wav", 16000);  // 2 s at 8 kHz
  const fs::path scp = t.path / "wav.scp", seg = t.path / "segments";
  WriteText(scp, "rec1 " + (t.path / "audio" / "rec1.wav").string() + "\n");
  WriteText(seg, "u2 rec1 1.5 -1\nu1 rec1 0.5 1.0\n");
  const std::vector<slid::DataEntry> e = slid::ReadWavScp(scp.string(), seg.string());
  REQUIRE(e.size() == 2);
  CHECK(e[0].id == "u2");  // file order
  CHECK(e[1].id == "u1");
  CHECK(e[1].recording == "rec1");
  CHECK(e[1].start_seconds == 0.5);
  CHECK(e[1].end_seconds == 1.0);
  CHECK(e[0].end_seconds == -1);
  CHECK(Has(e[1].origin, "segments:2"));
  const std::vector<slid::DataEntry> plain = slid::ReadWavScp(scp.string(), "");  // "": no segments
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].id == "rec1");
  CHECK_FALSE(slid::IsSegment(plain[0]));
  const slid::Waveform whole = slid::ReadAudio((t.path / "audio" / "rec1.wav").string(), 0);
  CHECK(slid::ReadEntryAudio(e[1], 0).samples == std::vector<float>(whole.samples.begin() + 4000, whole.samples.begin() + 8000));
  CHECK(slid::ReadEntryAudio(e[0], 0).samples == std::vector<float>(whole.samples.begin() + 12000, whole.samples.end()));

  auto error_with = [&](const std::string& segments) {
    WriteText(seg, segments);
    return ErrorOf([&] { slid::ReadWavScp(scp.string(), seg.string()); });
  };
  for (const BadSegments& c : kBadSegments) {
    CAPTURE(c.text);
    const std::string m = error_with(c.text);
    CHECK(Has(m, c.line));
    CHECK(Has(m, c.what));
    CHECK_FALSE(Has(m, "skipped"));  // thrown, not skipped
  }
  // A bad wav.scp line is thrown before the segments are read.
  WriteText(scp, "rec1\n");
  CHECK(Has(error_with("u1 rec1 0 1\n"), "wav.scp:1"));
}

TEST_CASE("utt2lang labels for precomputed features: a byte-order mark, bad lines reported, sorted") {
  TempDir t;
  const std::string path = (t.path / "utt2lang").string();
  WriteText(t.path / "utt2lang", "\xEF\xBB\xBFu2 fr\r\nu1 en\nlonely\nu2 de\n");
  const slid::Dataset d = slid::LoadUtt2Lang(path);
  CHECK(d.format == "utt2lang");
  REQUIRE(d.entries.size() == 2);
  CHECK(d.entries[0].id == "u1");
  CHECK(d.entries[0].origin == path + ":2");
  CHECK(d.entries[1].id == "u2");  // the BOM is not part of the first id
  CHECK(d.entries[1].language == "fr");
  CHECK(d.entries[0].source.empty());
  CHECK(d.languages == std::vector<std::string>{"en", "fr"});
  const std::vector<std::string> want = {path + ":3: expected '<utt-id> <value>', got 'lonely'; line skipped",
                                         path + ":4: duplicate utterance id 'u2' (first at line 1); line skipped"};
  CHECK(d.problems == want);
}
