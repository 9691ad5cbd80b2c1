#include "slid/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

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

// The temporary-file registry: fixed slots of plain chars and lock-free atomics, so that the signal
// handler reads them without locks or allocation. state: 0 free, 1 being changed, 2 holds a path.
constexpr int kMaxTempFiles = 64;
constexpr size_t kMaxTempPathBytes = 4096;
struct TempSlot {
  std::atomic<int> state{0};
  char path[kMaxTempPathBytes];
};
TempSlot g_temp_slots[kMaxTempFiles];
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");

}  // namespace

void RegisterTempFile(const std::string& path) {
  if (path.size() >= kMaxTempPathBytes) return;
  for (TempSlot& slot : g_temp_slots) {
    int expected = 0;
    if (slot.state.compare_exchange_strong(expected, 1)) {
      std::memcpy(slot.path, path.c_str(), path.size() + 1);
      slot.state.store(2);
      return;
    }
  }
}

void UnregisterTempFile(const std::string& path) {
  for (TempSlot& slot : g_temp_slots) {
    int expected = 2;
    if (slot.state.load() == 2 && path == slot.path && slot.state.compare_exchange_strong(expected, 1)) {
      slot.state.store(0);
      return;
    }
  }
}

void RemoveRegisteredTempFiles() noexcept {
  for (TempSlot& slot : g_temp_slots)
    if (slot.state.load() == 2) ::unlink(slot.path);  // fails harmlessly on folders
  for (TempSlot& slot : g_temp_slots)
    if (slot.state.load() == 2) ::rmdir(slot.path);   // fails harmlessly on files, now gone anyway
}

void CheckOutputWritable(const std::string& path) {
  struct stat st {};
  if (path.empty()) throw Error("empty output path");
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) ThrowFileError(path, "is a directory, expected a file name");
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (::stat(dir.c_str(), &st) != 0) ThrowFileError(path, "cannot write: folder " + dir + ": " + ErrnoText());
  if (!S_ISDIR(st.st_mode)) ThrowFileError(path, "cannot write: " + dir + " is not a folder");
  if (::access(dir.c_str(), W_OK) != 0) ThrowFileError(path, "cannot write in folder " + dir + ": " + ErrnoText());
}

void WriteFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  RegisterTempFile(tmp);
  struct Cleanup {
    const std::string& file;
    bool armed = true;
    ~Cleanup() {
      if (armed) std::remove(file.c_str());
      UnregisterTempFile(file);
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

TempFile::TempFile(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/" + prefix + "XXXXXX";
  const int fd = ::mkstemp(templ.data());
  if (fd < 0) ThrowFileError(templ, "cannot create a temporary file: " + ErrnoText());
  ::close(fd);
  path_ = templ;
  RegisterTempFile(path_);
}

TempFile::~TempFile() {
  std::remove(path_.c_str());
  UnregisterTempFile(path_);
}

uint64_t CopyStreamToFile(std::istream& in, const std::string& prefix, const std::string& in_name,
                          const std::string& out_path) {
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) ThrowFileError(out_path, "cannot open for writing: " + ErrnoText());
  out.write(prefix.data(), static_cast<std::streamsize>(prefix.size()));
  uint64_t total = prefix.size();
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    out.write(buf.data(), got);
    total += static_cast<uint64_t>(got);
    if (!out) ThrowFileError(out_path, "write failed (disk full?): " + ErrnoText());
  }
  if (in.bad()) ThrowFileError(in_name, "read failed");
  out.close();
  if (out.fail()) ThrowFileError(out_path, "write failed (disk full?): " + ErrnoText());
  return total;
}

void CheckRegularFile(const std::string& path, const std::string& expected) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) ThrowFileError(path, "cannot open: " + ErrnoText());
  if (S_ISREG(st.st_mode)) return;
  // Opening a FIFO without a writer blocks forever, and a device such as /dev/zero never ends: both
  // would stop a whole batch, so anything but a regular file is refused before it is opened.
  const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                     : S_ISFIFO(st.st_mode) ? "a named pipe (FIFO)"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "not a regular file";
  std::string why = std::string("is ") + kind + ", expected " + expected;
  if (!S_ISDIR(st.st_mode)) why += " (only regular files are read, so that nothing waits forever)";
  ThrowFileError(path, why);
}

std::string ReadFileToString(const std::string& path) {
  CheckRegularFile(path, "a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) ThrowFileError(path, "cannot open: " + ErrnoText());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) ThrowFileError(path, "read failed: " + ErrnoText());
  return ss.str();
}

}  // namespace slid
