// File output that never leaves a half-written file behind.
#pragma once
#include <functional>
#include <ostream>
#include <string>

namespace slid {

// Writes `path` atomically: `write` fills a temporary file beside it ("<path>.tmp.<pid>"), which is
// flushed, fsync'ed and renamed over `path` only if `write` returned normally and every byte reached
// the disk. On any failure (exception from `write`, full disk, unwritable folder) the temporary file is
// removed, `path` keeps its previous content, and Error("<path>: <reason>") is thrown.
void WriteFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// Reads a whole file into a string; Error("<path>: <reason>") if it is missing, a directory or unreadable.
std::string ReadFileToString(const std::string& path);

}  // namespace slid
