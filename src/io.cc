#include "slid/io.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE (glibc >= 2.28)
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>
#include <fstream>
#include <sstream>
#include <vector>

#include "slid/error.h"
#include "util.h"

namespace slid {

bool SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

namespace {

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

std::string RegexEscape(const std::string& text) {
  static const std::string kSpecial = R"(\^$.|?*+()[]{}-/)";
  std::string out;
  for (char c : text) {
    if (kSpecial.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

bool ProcessIsGone(long pid) {
  if (pid <= 0 || pid == static_cast<long>(::getpid())) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

int RemoveDeadProcessLeftovers(const std::string& dir, const std::string& name_regex) {
  namespace fs = std::filesystem;
  const std::regex re(name_regex);
  std::error_code ec;
  fs::directory_iterator it(dir.empty() ? "." : dir, ec), end;
  int removed = 0;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, re) || m.size() < 2) continue;
    const long pid = std::strtol(m[1].str().c_str(), nullptr, 10);
    if (!ProcessIsGone(pid)) continue;  // running (ours, another slid, or a reused pid): leave it
    std::error_code rec;
    if (fs::remove_all(it->path(), rec) > 0 && !rec) ++removed;
  }
  return removed;
}

void WriteFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {  // what a killed writer of the same path left (SIGKILL cannot be caught)
    const size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    RemoveDeadProcessLeftovers(dir, RegexEscape(base) + "\\.tmp\\.([0-9]+)");
  }
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

void CheckOutputIsNotInput(const std::string& output, const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(output, ec)) return;  // a new file cannot be an existing input
  for (const std::string& in : inputs) {
    std::error_code e2;
    if (fs::equivalent(output, in, e2) && !e2)
      ThrowFileError(output, "is one of the inputs (" + in + "); refusing to overwrite it with the output");
  }
}

void ReplaceFolderAtomically(const std::string& dir_in, const std::vector<std::string>& replaceable_names,
                             const std::function<void(const std::string& tmp_dir)>& write) {
  namespace fs = std::filesystem;
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) throw Error("empty output folder name");
  const fs::path target(dir);
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string base = target.filename().string();
  if (base == "." || base == ".." ) ThrowFileError(dir, "name the output folder itself, not '.' or '..'");
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) ThrowFileError(dir, "cannot create: " + parent.string() + " is not a folder");
  const fs::file_status st = fs::status(target, ec);
  const bool exists = fs::exists(st);
  if (exists && !fs::is_directory(st)) ThrowFileError(dir, "exists and is not a folder");
  if (exists) {  // it will be replaced whole: it must hold nothing else
    for (fs::directory_iterator it(target, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (std::find(replaceable_names.begin(), replaceable_names.end(), name) == replaceable_names.end())
        ThrowFileError(dir, "holds '" + name + "', which is not an output of this command; refusing to replace the "
                            "folder (choose a new or empty one)");
    }
    if (ec) ThrowFileError(dir, "cannot list: " + ec.message());
  }
  RemoveDeadProcessLeftovers(parent.string(), RegexEscape(base) + "\\.(?:tmp|old)\\.([0-9]+)");
  const std::string tmp = (parent / (base + ".tmp." + std::to_string(::getpid()))).string();
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec) || ec) ThrowFileError(dir, "cannot create a folder beside it: " + ec.message());
  RegisterTempFile(tmp);
  struct Cleanup {
    const std::string& path;
    bool armed = true;
    ~Cleanup() {
      std::error_code e;
      if (armed) std::filesystem::remove_all(path, e);
      UnregisterTempFile(path);
    }
  } cleanup{tmp};
  write(tmp);
  if (!exists) {
    if (std::rename(tmp.c_str(), dir.c_str()) != 0) ThrowFileError(dir, "cannot rename into place: " + ErrnoText());
    cleanup.armed = false;
    return;
  }
  // Swap the new folder with the old one in one step, then delete the old one (now at `tmp`).
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) return;
  // A file system without RENAME_EXCHANGE: two renames; a crash between them leaves the old report
  // at <dir>.old.<pid> and the new one at <dir>.tmp.<pid>, never a mixture of the two.
  const std::string old = (parent / (base + ".old." + std::to_string(::getpid()))).string();
  if (std::rename(dir.c_str(), old.c_str()) != 0) ThrowFileError(dir, "cannot move the old folder aside: " + ErrnoText());
  if (std::rename(tmp.c_str(), dir.c_str()) != 0) {
    const std::string why = ErrnoText();
    std::rename(old.c_str(), dir.c_str());
    ThrowFileError(dir, "cannot rename into place: " + why);
  }
  cleanup.armed = false;
  fs::remove_all(old, ec);
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
