#include "slid/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "slid/error.h"

namespace slid {

namespace {

std::string ErrnoText() { return std::strerror(errno); }

// Flushes the file's data to the disk, so that a rename after it cannot expose an empty file after a crash.
bool SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

void WriteFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  struct Cleanup {
    const std::string& file;
    bool armed = true;
    ~Cleanup() {
      if (armed) std::remove(file.c_str());
    }
  } cleanup{tmp};
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) ThrowFileError(path, "cannot open for writing: " + ErrnoText());
    write(out);
    out.flush();
    if (!out) ThrowFileError(path, "write failed (disk full?): " + ErrnoText());
    out.close();
    if (out.fail()) ThrowFileError(path, "write failed on close (disk full?): " + ErrnoText());
  }
  if (!SyncFile(tmp)) ThrowFileError(path, "cannot sync to disk: " + ErrnoText());
  if (std::rename(tmp.c_str(), path.c_str()) != 0) ThrowFileError(path, "cannot rename into place: " + ErrnoText());
  cleanup.armed = false;
}

std::string ReadFileToString(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) ThrowFileError(path, "cannot open: " + ErrnoText());
  if (S_ISDIR(st.st_mode)) ThrowFileError(path, "is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) ThrowFileError(path, "cannot open: " + ErrnoText());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) ThrowFileError(path, "read failed: " + ErrnoText());
  return ss.str();
}

}  // namespace slid
