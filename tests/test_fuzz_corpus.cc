// Replays every checked-in fuzz input (tests/data/fuzz/<target>/: the seed corpora and every input
// that once crashed a target, kept as regression tests) through the fuzz target's body, so the
// ordinary suite, and the sanitizer build of it, catch a regression without libFuzzer.
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "../fuzz/targets.h"
#include "slid/io.h"

namespace fs = std::filesystem;

namespace {

// Runs `body` on each file of tests/data/fuzz/<target>/; returns how many files it ran.
int Replay(const std::string& target, const std::function<int(const uint8_t*, size_t)>& body) {
  const fs::path dir = fs::path(SLID_TEST_DATA) / "fuzz" / target;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  for (const auto& f : files) {
    INFO("input: " << f.string());
    const std::string bytes = slid::ReadFileToString(f.string());
    CHECK(body(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) == 0);
  }
  return static_cast<int>(files.size());
}

}  // namespace

TEST_CASE("fuzz_audio corpus replays without crashing") {
  CHECK(Replay("fuzz_audio", slid::fuzz::FuzzAudio) >= 10);
}

TEST_CASE("fuzz_lists corpus replays without crashing") {
  CHECK(Replay("fuzz_lists", slid::fuzz::FuzzLists) >= 8);
}

TEST_CASE("fuzz_config corpus replays without crashing") {
  CHECK(Replay("fuzz_config", slid::fuzz::FuzzConfig) >= 10);
}

TEST_CASE("fuzz_model corpus replays without crashing") {
  CHECK(Replay("fuzz_model", slid::fuzz::FuzzModel) >= 3);
}

TEST_CASE("fuzz_pcm_stream corpus replays without crashing") {
  CHECK(Replay("fuzz_pcm_stream", slid::fuzz::FuzzPcmStream) >= 6);
}

TEST_CASE("fuzz_kaldi_ark corpus replays without crashing") {
  CHECK(Replay("fuzz_kaldi_ark", slid::fuzz::FuzzKaldiArk) >= 10);
}
