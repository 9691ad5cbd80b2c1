// File output that never leaves a half-written file behind.
#pragma once
#include <cstdint>
#include <functional>
#include <istream>
#include <ostream>
#include <string>

namespace slid {

// Writes `path` atomically: `write` fills a temporary file beside it ("<path>.tmp.<pid>"), which is
// flushed, fsync'ed and renamed over `path` only if `write` returned normally and every byte reached
// the disk. On any failure (exception from `write`, full disk, unwritable folder) the temporary file is
// removed, `path` keeps its previous content, and Error("<path>: <reason>") is thrown.
void WriteFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// Throws Error("<path>: <reason>") unless WriteFileAtomically(path, ...) could work: the folder holding
// `path` exists and is writable, and `path` is not itself a folder. For tools that fail fast, before
// hours of work, rather than when the result is ready. (A full disk still shows only when writing.)
void CheckOutputWritable(const std::string& path);

// Temporary files in flight, so that a program stopped by a signal (Ctrl-C) leaves none behind.
// Every atomic writer (WriteFileAtomically, FeatureCacheWriter) registers its temporary file when it
// creates it and unregisters it once renamed or removed; tools may register scratch files and
// scratch folders the same way. At most 64 paths are tracked at once (more are still written and
// cleaned up normally, just not by RemoveRegisteredTempFiles).
void RegisterTempFile(const std::string& path);
void UnregisterTempFile(const std::string& path);
// Removes every registered path: files first (unlink), then folders, which are removed if that left
// them empty (rmdir). Async-signal-safe: meant for signal handlers, which then _exit(); the library
// itself never installs handlers.
void RemoveRegisteredTempFiles() noexcept;

// A temporary file that removes itself: created empty (mode 0600) in the system's temporary folder
// ($TMPDIR, else /tmp) with a unique name beginning with `prefix`, registered with RegisterTempFile so
// a signal handler removes it too, and removed when the object is destroyed. Used to hold audio that
// arrives on a stream (standard input, a wav.scp command) so it can be decoded like a file: seekable,
// streamed in chunks, memory bounded. Throws Error if the file cannot be created.
class TempFile {
 public:
  explicit TempFile(const std::string& prefix);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Copies everything left in `in` to `out_path` (truncating it), after writing `prefix` first.
// Returns the number of bytes written. Throws Error naming `in_name` or `out_path` on a read or
// write failure (e.g. a full disk).
uint64_t CopyStreamToFile(std::istream& in, const std::string& prefix, const std::string& in_name,
                          const std::string& out_path);

// Throws Error("<path>: <reason>") unless `path` (after following symbolic links) is a regular file:
// missing ("cannot open: No such file or directory"), a directory, a FIFO, a device or a socket.
// `expected` names what was wanted ("an audio file"). Every reader of a named input file calls it
// before opening (audio, models, lists, configs, feature files): a FIFO without a writer would block
// the open forever and /dev/zero would never end. Standard input is read only where a tool
// documents '-'.
void CheckRegularFile(const std::string& path, const std::string& expected);

// Reads a whole file into a string; Error("<path>: <reason>") if it is missing, not a regular file
// (CheckRegularFile) or unreadable.
std::string ReadFileToString(const std::string& path);

}  // namespace slid
