// A per-process scratch folder for tests, removed when the object dies.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

struct TempDir {
  std::filesystem::path dir;
  // Creates <system temp>/<prefix><pid>.
  explicit TempDir(const std::string& prefix) {
    dir = std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The path of `name` inside the folder.
  std::string operator()(const std::string& name) const { return (dir / name).string(); }
};
