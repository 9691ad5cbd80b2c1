#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <unistd.h>

#include "slid/error.h"
#include "slid/io.h"

namespace fs = std::filesystem;

TEST_CASE("WriteFileAtomically replaces the file only on success") {
  fs::path dir = fs::temp_directory_path() / ("slid_test_io_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "a.txt").string();
  slid::WriteFileAtomically(path, [](std::ostream& o) { o << "first"; });
  CHECK(slid::ReadFileToString(path) == "first");
  CHECK_THROWS_AS(slid::WriteFileAtomically(path,
                                            [](std::ostream& o) {
                                              o << "partial";
                                              throw slid::Error("interrupted");
                                            }),
                  slid::Error);
  CHECK(slid::ReadFileToString(path) == "first");
  int leftovers = 0;
  for (auto& e : fs::directory_iterator(dir)) leftovers += e.path().filename() != "a.txt";
  CHECK(leftovers == 0);
  fs::remove_all(dir);
}

TEST_CASE("unwritable and missing paths give errors naming the file") {
  try {
    slid::WriteFileAtomically("/nonexistent-dir/x.bin", [](std::ostream& o) { o << "x"; });
    FAIL("expected an error");
  } catch (const slid::Error& e) {
    CHECK(std::string(e.what()).find("/nonexistent-dir/x.bin") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(slid::ReadFileToString("/nonexistent-file"), doctest::Contains("/nonexistent-file"), slid::Error);
  CHECK_THROWS_WITH_AS(slid::ReadFileToString("/tmp"), doctest::Contains("directory"), slid::Error);
}
