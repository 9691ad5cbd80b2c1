// Dataset loading in its three forms, and the errors for missing/empty inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

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

  // A language folder without audio names the folder.
  fs::create_directories(root / "de");
  WriteText(root / "de" / "readme.txt", "x");
  try {
    slid::LoadDataset(root.string());
    FAIL("expected an error");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("de") != std::string::npos);
    CHECK(std::string(e.what()).find("no audio") != std::string::npos);
  }
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

  // utt2lang missing an utterance.
  WriteText(kd / "utt2lang", "utt1 en\n");
  try {
    slid::LoadDataset(kd.string());
    FAIL("expected an error");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("utt2") != std::string::npos);
  }
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
  WriteText(t.path / "bad.tsv", "audio/a.wav en\n");
  try {
    slid::LoadDataset((t.path / "bad.tsv").string());
    FAIL("expected an error");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("bad.tsv:1") != std::string::npos);
  }
}

TEST_CASE("Audio extensions") {
  CHECK(slid::HasAudioExtension("a/b.flac"));
  CHECK(slid::HasAudioExtension("B.WAV"));
  CHECK_FALSE(slid::HasAudioExtension("a.txt"));
  CHECK_FALSE(slid::HasAudioExtension("wav"));
}
