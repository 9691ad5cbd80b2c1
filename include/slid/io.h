// File output that never leaves a half-written file behind.
#pragma once
#include <cstdint>
#include <functional>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace slid {

// Writes `path` atomically: `write` fills a temporary file beside it ("<path>.tmp.<pid>"), which is
// flushed, fsync'ed and renamed over `path` only if `write` returned normally and every byte reached
// the disk. Temporary files of `path` left by writers that were killed are removed first. On any failure (exception from `write`, full disk, unwritable folder) the temporary file is
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

// Throws Error("<output>: is one of the inputs (<input>) ...") if `output` names an existing file that is
// also one of `inputs` (the same file, through any path, symbolic link or hard link). For tools, before
// any work: `slid train DATA -o DATA/en/x.wav` must not overwrite a training file with the model.
void CheckOutputIsNotInput(const std::string& output, const std::vector<std::string>& inputs);

// Writes a set of files as one: `write(tmp_dir)` fills a fresh folder "<dir>.tmp.<pid>" beside `dir`,
// which then replaces `dir` in one step (renameat2 RENAME_EXCHANGE, then the old folder is deleted;
// plain renames where the file system lacks it). Readers see the old set or the new one, never a
// mixture, and a run killed half-way leaves `dir` as it was (its temporary folder is removed by the
// next run). An existing `dir` may hold only names listed in `replaceable_names` (the outputs of a
// previous run), else Error: replacing it would delete someone's files. On an exception from
// `write` the temporary folder is removed and `dir` is untouched.
void ReplaceFolderAtomically(const std::string& dir, const std::vector<std::string>& replaceable_names,
                             const std::function<void(const std::string& tmp_dir)>& write);

// Leftovers of killed processes. Temporary files and folders carry the writer's process id
// ("<path>.tmp.<pid>", "slid-train-<pid>", "<lang>.<pid>.feats"); SIGKILL (or a power cut) leaves them
// behind. This removes every entry of folder `dir` whose whole name matches `name_regex` (ECMAScript;
// capture group 1 is the pid) and whose process no longer exists (kill(pid, 0) fails with ESRCH).
// Entries of running processes, this one included, are left alone. Folders are removed with their
// contents. Returns how many entries were removed; never throws (an unreadable folder removes nothing).
int RemoveDeadProcessLeftovers(const std::string& dir, const std::string& name_regex);
// `text` with every ECMAScript regex metacharacter escaped, for building `name_regex` from a file name.
std::string RegexEscape(const std::string& text);

// Reads a whole file into a string; Error("<path>: <reason>") if it is missing, not a regular file
// (CheckRegularFile) or unreadable.
std::string ReadFileToString(const std::string& path);

}  // namespace slid
