// Loading labelled audio collections (folder of language folders, Kaldi data dir, TSV list).
#include "slid/dataset.h"

#include <sys/wait.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <list>
#include <mutex>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "slid/error.h"
#include "slid/io.h"
#include "util.h"

namespace fs = std::filesystem;

namespace slid {
namespace {

constexpr char kBom[] = "\xEF\xBB\xBF";  // UTF-8 byte-order mark, as some editors write it

bool IsHidden(const fs::path& p) {
  const std::string n = p.filename().string();
  return !n.empty() && n[0] == '.';
}

std::string LineRef(const std::string& path, int line) { return path + ":" + std::to_string(line); }

// The lines of a text file, without a UTF-8 byte-order mark at the start and without a trailing '\r'.
std::vector<std::string> ReadLines(const std::string& path) {
  std::string text = ReadFileToString(path);
  if (text.compare(0, 3, kBom) == 0) text.erase(0, 3);
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

// Where a reader sends a problem with one line of a file: thrown at once (strict readers, e.g.
// ReadWavScp) or collected (LoadDataset), in which case the line is skipped.
class Problems {
 public:
  explicit Problems(std::vector<std::string>* out) : out_(out) {}
  void Add(const std::string& where, const std::string& what) const {
    if (!out_) ThrowFileError(where, what);
    out_->push_back(where + ": " + what);
  }

 private:
  std::vector<std::string>* out_;
};

// Calls use(n, t) for every line of a Kaldi list file that is not blank (nor, with skip_comments, a
// '#' comment): n is the 1-based line number, t the line without surrounding blanks.
void ForEachListLine(const std::string& path, bool skip_comments,
                     const std::function<void(int n, const std::string& t)>& use) {
  int n = 0;
  for (const std::string& line : ReadLines(path)) {
    ++n;
    const std::string t = Trim(line);
    if (t.empty() || (skip_comments && t[0] == '#')) continue;
    use(n, t);
  }
}

// The utterance ids of one list file and the line each was first seen on.
class FirstLines {
 public:
  // True if `id` is new; otherwise reports it as a duplicate at `where` (message + suffix), false.
  bool Claim(const std::string& id, int n, const std::string& where, const Problems& problems,
             const std::string& suffix) {
    auto [it, inserted] = first_.emplace(id, n);
    if (!inserted)
      problems.Add(where, "duplicate utterance id '" + id + "' (first at line " + std::to_string(it->second) + ")" +
                              suffix);
    return inserted;
  }

 private:
  std::map<std::string, int> first_;
};

void Finish(Dataset* d) {
  if (d->entries.empty() && d->problems.empty()) ThrowFileError(d->root, "no labelled audio found");
  std::sort(d->entries.begin(), d->entries.end(), [](const DataEntry& a, const DataEntry& b) {
    return a.language != b.language ? a.language < b.language : a.id < b.id;
  });
  std::set<std::string> langs, ids;
  for (const auto& e : d->entries) {
    langs.insert(e.language);
    if (!ids.insert(e.id).second) ThrowFileError(d->root, "duplicate utterance id '" + e.id + "'");
  }
  d->languages.assign(langs.begin(), langs.end());
}

// Why a folder scan does not take a file (reason "" = take it), and the kind it is counted under:
// "non-regular" (FIFO, socket, device, broken link), or its lower-case extension in quotes.
std::pair<std::string, std::string> IgnoreReason(const fs::directory_entry& f) {
  std::error_code ec;
  const fs::file_status st = f.status(ec);  // follows symbolic links
  const std::string kNonRegular = "non-regular";
  if (ec || !fs::exists(st)) return {"a broken symbolic link", kNonRegular};
  if (fs::is_fifo(st)) return {"a named pipe (FIFO), not a regular file", kNonRegular};
  if (fs::is_socket(st)) return {"a socket, not a regular file", kNonRegular};
  if (fs::is_character_file(st) || fs::is_block_file(st)) return {"a device, not a regular file", kNonRegular};
  if (!fs::is_regular_file(st)) return {"not a regular file", kNonRegular};
  if (HasAudioExtension(f.path().string())) return {};
  std::string ext = f.path().extension().string();
  if (ext.empty()) return {"no file extension; slid reads only files named as audio (.wav, .flac, ...)", "extension-less"};
  const std::string reason = "'" + ext + "' is not an audio format slid reads (it reads .wav, .flac, .ogg, .opus, .mp3, ...)";
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return {reason, "'" + ext + "'"};
}

// Collects the ignored files of one language folder: the first few of each kind named, the rest
// counted, so that a folder of transcripts beside its audio gives a few lines, not thousands.
class IgnoredFiles {
 public:
  void Add(const std::string& path, const std::string& reason, const std::string& kind) {
    Kind& k = kinds_[kind];
    if (k.named.size() < kNamed) k.named.push_back(path + ": ignored: " + reason);
    else ++k.more;
  }
  void AppendTo(const std::string& folder, std::vector<std::string>* out) const {
    for (const auto& [kind, k] : kinds_) {
      out->insert(out->end(), k.named.begin(), k.named.end());
      if (k.more > 0)
        out->push_back(folder + ": ignored " + std::to_string(k.more) + " more " + kind + " file(s) (as above)");
    }
  }

 private:
  static constexpr size_t kNamed = 3;
  struct Kind {
    std::vector<std::string> named;
    int64_t more = 0;
  };
  std::map<std::string, Kind> kinds_;
};

Dataset LoadFolder(const std::string& root) {
  Dataset d;
  d.root = root;
  d.format = "folder";
  std::vector<fs::path> lang_dirs;
  std::error_code ec;
  for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (IsHidden(it->path())) continue;
    std::error_code e2;
    if (it->is_directory(e2)) lang_dirs.push_back(it->path());
  }
  if (ec) ThrowFileError(root, "cannot list the folder: " + ec.message());
  if (lang_dirs.empty())
    ThrowFileError(root, "no language sub-folders (expected DATA/<lang>/<audio files>, a Kaldi data "
                         "directory with wav.scp + utt2lang, or a TSV list file)");
  std::sort(lang_dirs.begin(), lang_dirs.end());
  for (const auto& dir : lang_dirs) {
    const std::string lang = dir.filename().string();
    size_t found = 0;
    IgnoredFiles ignored;
    std::string list_error;
    std::error_code ec2;
    auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink, ec2);
    for (; !ec2 && it != fs::recursive_directory_iterator(); it.increment(ec2)) {
      if (IsHidden(it->path())) {
        std::error_code e3;
        if (it->is_directory(e3)) it.disable_recursion_pending();
        continue;
      }
      std::error_code e3;
      if (it->is_directory(e3)) continue;
      const auto [reason, kind] = IgnoreReason(*it);
      if (!reason.empty()) {
        ignored.Add(it->path().string(), reason, kind);
        continue;
      }
      DataEntry entry;
      entry.source = it->path().string();
      entry.id = fs::relative(it->path(), root).generic_string();
      entry.language = lang;
      d.entries.push_back(std::move(entry));
      ++found;
    }
    ignored.AppendTo(dir.string(), &d.ignored);
    if (ec2)
      d.problems.push_back(dir.string() + ": cannot list the folder: " + ec2.message() +
                           (found ? "; the files listed before the error are used" : "; language '" + lang + "' skipped"));
    else if (found == 0)
      d.problems.push_back(dir.string() + ": language folder '" + lang + "' holds no audio files; skipped");
  }
  Finish(&d);
  return d;
}

// Reads "<key> <rest>" lines of a Kaldi table file into a map (value, line); a malformed line or a
// repeated key is a problem naming file and line (the line is skipped).
std::map<std::string, std::pair<std::string, int>> ReadKaldiTable(const std::string& path, const Problems& problems) {
  std::map<std::string, std::pair<std::string, int>> table;
  FirstLines first;
  ForEachListLine(path, false, [&](int n, const std::string& t) {
    const size_t sp = t.find_first_of(" \t");
    if (sp == std::string::npos) {
      problems.Add(LineRef(path, n), "expected '<utt-id> <value>', got '" + t + "'; line skipped");
      return;
    }
    const std::string key = t.substr(0, sp);
    if (first.Claim(key, n, LineRef(path, n), problems, "; line skipped"))
      table.emplace(key, std::make_pair(Trim(t.substr(sp + 1)), n));
  });
  return table;
}

// Parses a decimal number in the C locale (std::from_chars); false unless the whole token is one.
bool ParseSeconds(const std::string& token, double* out) {
  const char* b = token.data();
  const char* e = b + token.size();
  if (b != e && *b == '+') ++b;
  auto [ptr, ec] = std::from_chars(b, e, *out);
  return ec == std::errc() && ptr == e && std::isfinite(*out);
}

// Reads DATA/segments into entries (one per line, file order) whose source is filled from `recordings`.
// `skipped` ends each problem's text ("; line skipped" when problems are collected, "" when thrown).
std::vector<DataEntry> ReadSegments(const std::string& path, const std::map<std::string, const DataEntry*>& recordings,
                                    const std::string& scp_path, const Problems& problems, const std::string& skipped) {
  std::vector<DataEntry> out;
  FirstLines first;
  ForEachListLine(path, false, [&](int n, const std::string& t) {
    const std::string where = LineRef(path, n);
    std::istringstream fields(t);
    std::vector<std::string> f;
    for (std::string x; fields >> x;) f.push_back(x);
    if (f.size() != 4) {
      problems.Add(where, "expected '<utt-id> <recording-id> <start-seconds> <end-seconds>', got '" + t + "'" + skipped);
      return;
    }
    DataEntry e;
    e.id = f[0];
    e.recording = f[1];
    if (!ParseSeconds(f[2], &e.start_seconds) || e.start_seconds < 0) {
      problems.Add(where, "start '" + f[2] + "' is not a time in seconds >= 0" + skipped);
      return;
    }
    if (!ParseSeconds(f[3], &e.end_seconds) || (e.end_seconds < 0 && e.end_seconds != -1)) {
      problems.Add(where, "end '" + f[3] + "' is not a time in seconds (or -1: to the end)" + skipped);
      return;
    }
    if (e.end_seconds != -1 && e.start_seconds >= e.end_seconds) {
      problems.Add(where, "start " + f[2] + " is not before end " + f[3] + skipped);
      return;
    }
    auto rec = recordings.find(e.recording);
    if (rec == recordings.end()) {
      problems.Add(where, "recording '" + e.recording + "' is not in " + scp_path + skipped);
      return;
    }
    if (!first.Claim(e.id, n, where, problems, skipped)) return;
    e.source = rec->second->source;
    e.is_command = rec->second->is_command;
    e.origin = where;
    out.push_back(std::move(e));
  });
  return out;
}

// A Kaldi wav.scp (see ReadWavScp); problems with a line go to `problems`.
std::vector<DataEntry> ReadWavScpLines(const std::string& path, const Problems& problems) {
  const fs::path base = fs::path(path).parent_path();
  std::vector<DataEntry> out;
  FirstLines first;
  ForEachListLine(path, true, [&](int n, const std::string& t) {
    const size_t sp = t.find_first_of(" \t");
    if (sp == std::string::npos) {
      problems.Add(LineRef(path, n), "expected '<utt-id> <path>' or '<utt-id> <command> |', got '" + t + "'");
      return;
    }
    DataEntry e;
    e.id = t.substr(0, sp);
    std::string v = Trim(t.substr(sp + 1));
    if (!first.Claim(e.id, n, LineRef(path, n), problems, "")) return;
    if (v.back() == '|') {
      e.is_command = true;
      e.source = Trim(v.substr(0, v.size() - 1));
      if (e.source.empty()) {
        problems.Add(LineRef(path, n), "empty command for '" + e.id + "'");
        return;
      }
    } else {
      fs::path p(v);
      if (p.is_relative() && !fs::exists(p) && !base.empty()) p = base / p;  // Kaldi paths are usually absolute
      e.source = p.string();
    }
    e.origin = LineRef(path, n);
    out.push_back(std::move(e));
  });
  return out;
}

Dataset LoadKaldi(const std::string& root) {
  Dataset d;
  d.root = root;
  d.format = "kaldi";
  const fs::path dir(root);
  const std::string scp_path = (dir / "wav.scp").string();
  const std::string u2l_path = (dir / "utt2lang").string();
  const std::string u2s_path = (dir / "utt2spk").string();
  const std::string seg_path = (dir / "segments").string();
  if (!fs::exists(u2l_path)) ThrowFileError(u2l_path, "missing (a Kaldi data directory needs wav.scp and utt2lang)");
  const Problems problems(&d.problems);
  const size_t scp_problems = d.problems.size();
  std::vector<DataEntry> scp = ReadWavScpLines(scp_path, problems);
  for (size_t i = scp_problems; i < d.problems.size(); ++i) d.problems[i] += "; line skipped";
  const bool have_segments = fs::exists(seg_path);
  std::vector<DataEntry> utts;
  if (have_segments) {
    std::map<std::string, const DataEntry*> recordings;
    for (const DataEntry& r : scp) recordings[r.id] = &r;
    utts = ReadSegments(seg_path, recordings, scp_path, problems, "; line skipped");
  } else {
    utts = std::move(scp);
  }
  // utt2lang (required) and utt2spk (optional) must cover exactly the utterances; an utterance one of
  // them lacks is skipped, a label for an unknown utterance reported.
  const auto u2l = ReadKaldiTable(u2l_path, problems);
  const bool have_spk = fs::exists(u2s_path);
  const auto u2s = have_spk ? ReadKaldiTable(u2s_path, problems) : decltype(u2l)();
  const std::string& utt_source = have_segments ? seg_path : scp_path;
  std::set<std::string> known;
  for (DataEntry& e : utts) {
    known.insert(e.id);
    const std::string where = e.origin.empty() ? utt_source : e.origin;
    auto it = u2l.find(e.id);
    if (it == u2l.end()) {
      problems.Add(where, "utterance '" + e.id + "' has no entry in " + u2l_path + "; skipped");
      continue;
    }
    if (it->second.first.empty()) {
      problems.Add(LineRef(u2l_path, it->second.second), "empty language label for '" + e.id + "'; skipped");
      continue;
    }
    e.language = it->second.first;
    if (have_spk) {
      auto sp = u2s.find(e.id);
      if (sp == u2s.end()) {
        problems.Add(where, "utterance '" + e.id + "' has no entry in " + u2s_path + "; skipped");
        continue;
      }
      if (sp->second.first.find_first_of(" \t") != std::string::npos) {
        problems.Add(LineRef(u2s_path, sp->second.second), "speaker label contains a space; '" + e.id + "' skipped");
        continue;
      }
      e.speaker = sp->second.first;
    }
    d.entries.push_back(std::move(e));
  }
  for (const auto& [utt, value] : u2l)
    if (!known.count(utt))
      problems.Add(LineRef(u2l_path, value.second), "utterance '" + utt + "' has no entry in " + utt_source);
  for (const auto& [utt, value] : u2s)
    if (!known.count(utt))
      problems.Add(LineRef(u2s_path, value.second), "utterance '" + utt + "' has no entry in " + utt_source);
  Finish(&d);
  return d;
}

Dataset LoadTsv(const std::string& path) {
  Dataset d;
  d.root = path;
  d.format = "tsv";
  const fs::path base = fs::path(path).parent_path();
  std::map<std::string, int> first_line;
  int n = 0;
  bool seen_data = false;
  for (const std::string& line : ReadLines(path)) {
    ++n;
    if (Trim(line).empty() || Trim(line)[0] == '#') continue;
    const std::string where = LineRef(path, n);
    const size_t tab = line.find('\t');
    if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos) {
      d.problems.push_back(where + ": expected '<path><TAB><language>', got '" + line + "'; line skipped");
      continue;
    }
    DataEntry e;
    e.id = line.substr(0, tab);
    e.language = Trim(line.substr(tab + 1));
    if (!seen_data && e.id == "path" && (e.language == "lang" || e.language == "language"))
      continue;  // a header line
    seen_data = true;
    if (e.id.empty() || e.language.empty()) {
      d.problems.push_back(where + ": empty " + (e.id.empty() ? "path" : "language") + "; line skipped");
      continue;
    }
    auto [it, inserted] = first_line.emplace(e.id, n);
    if (!inserted) {
      d.problems.push_back(where + ": '" + e.id + "' is listed again (first at line " + std::to_string(it->second) +
                           "); line skipped");
      continue;
    }
    fs::path p(e.id);
    e.source = (p.is_relative() ? base / p : p).string();
    d.entries.push_back(std::move(e));
  }
  Finish(&d);
  return d;
}

}  // namespace

bool HasAudioExtension(const std::string& path) {
  static const std::set<std::string> kExt = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff",
                                             ".aif", ".aifc", ".au", ".snd", ".sph", ".nist", ".caf", ".w64",
                                             ".rf64", ".voc", ".gsm", ".raw-wav"};
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return kExt.count(ext) > 0;
}

Dataset LoadDataset(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) ThrowFileError(path, "no such file or folder");
  if (fs::is_directory(st)) {
    if (fs::exists(fs::path(path) / "wav.scp")) return LoadKaldi(path);
    return LoadFolder(path);
  }
  return LoadTsv(path);
}

Dataset LoadUtt2Lang(const std::string& path) {
  Dataset d;
  d.root = path;
  d.format = "utt2lang";
  for (const auto& [utt, value] : ReadKaldiTable(path, Problems(&d.problems))) {
    DataEntry e;
    e.id = utt;
    e.language = value.first;
    e.origin = LineRef(path, value.second);
    d.entries.push_back(std::move(e));
  }
  Finish(&d);
  return d;
}

std::vector<DataEntry> ReadPathList(const std::string& text, const std::string& list_name) {
  (void)list_name;
  std::vector<DataEntry> out;
  size_t pos = 0;
  if (text.compare(0, 3, kBom) == 0) pos = 3;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    DataEntry e;
    e.id = line;
    e.source = std::move(line);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<DataEntry> ReadWavScp(const std::string& path, const std::string& segments_path) {
  std::vector<DataEntry> scp = ReadWavScpLines(path, Problems(nullptr));
  if (segments_path.empty()) return scp;
  std::map<std::string, const DataEntry*> recordings;
  for (const DataEntry& r : scp) recordings[r.id] = &r;
  return ReadSegments(segments_path, recordings, path, Problems(nullptr), "");
}

std::vector<DataEntry> ReadStandardInput(std::istream& in) {
  std::string head(16, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  if (in.bad()) ThrowFileError("<stdin>", "read failed");
  if (LooksLikeAudio(head)) {
    auto tmp = std::make_shared<const TempFile>("slid-stdin-");
    CopyStreamToFile(in, head, "<stdin>", tmp->path());
    DataEntry e;
    e.id = "<stdin>";
    e.source = tmp->path();
    e.temp_file = std::move(tmp);
    return {e};
  }
  std::string text = head;
  std::ostringstream rest;
  if (in) rest << in.rdbuf();
  if (in.bad()) ThrowFileError("<stdin>", "read failed");
  text += rest.str();
  return ReadPathList(text, "<stdin>");
}

std::string EntryName(const DataEntry& entry) {
  if (entry.is_command) return entry.source + " |";
  if (entry.temp_file) return entry.id;
  return entry.source;
}

std::string EntryErrorMessage(const DataEntry& entry, const std::string& what) {
  const std::string name = EntryName(entry);
  for (const std::string& prefix : {name + ": ", entry.source + ": "})
    if (what.rfind(prefix, 0) == 0) return name + ": " + what.substr(prefix.size());
  return name + ": " + what;
}

bool IsSegment(const DataEntry& entry) { return entry.start_seconds > 0 || entry.end_seconds >= 0; }

namespace {

// Runs `command` with popen and copies its standard output to a new temporary file.
std::shared_ptr<const TempFile> RunToTempFile(const std::string& command, const std::string& name) {
  auto tmp = std::make_shared<const TempFile>("slid-pipe-");
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) ThrowFileError(name, "cannot run command");
  std::FILE* out = std::fopen(tmp->path().c_str(), "wb");
  if (!out) {
    ::pclose(pipe);
    ThrowFileError(tmp->path(), "cannot open for writing");
  }
  char buf[1 << 16];
  size_t got, total = 0;
  bool write_error = false;
  while ((got = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
    total += got;
    if (!write_error && std::fwrite(buf, 1, got, out) != got) write_error = true;  // keep draining the pipe
  }
  const bool read_error = std::ferror(pipe) != 0;
  const int status = ::pclose(pipe);
  if (std::fclose(out) != 0) write_error = true;
  if (read_error) ThrowFileError(name, "error reading the command's output");
  if (write_error) ThrowFileError(name, "cannot copy the command's output to " + tmp->path() + " (disk full?)");
  if (status == -1) ThrowFileError(name, "cannot wait for command");
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    ThrowFileError(name, "command exited with status " + std::to_string(WEXITSTATUS(status)));
  if (WIFSIGNALED(status)) ThrowFileError(name, "command killed by signal " + std::to_string(WTERMSIG(status)));
  if (total == 0) ThrowFileError(name, "command produced no output");
  return tmp;
}

// The outputs of the last few piped recordings read in segments, so that each command runs once
// however many segments it has. A slot is filled by the first thread asking for it; others wait.
class PipeCache {
 public:
  std::shared_ptr<const TempFile> Get(const std::string& command, const std::string& name) {
    std::shared_ptr<Slot> slot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = std::find_if(slots_.begin(), slots_.end(), [&](const auto& s) { return s.first == command; });
      if (it != slots_.end()) {
        slot = it->second;
        slots_.splice(slots_.begin(), slots_, it);
      } else {
        slot = std::make_shared<Slot>();
        slots_.emplace_front(command, slot);
        if (slots_.size() > kSlots) slots_.pop_back();
      }
    }
    std::lock_guard<std::mutex> lock(slot->mu);
    if (!slot->done) {
      try {
        slot->file = RunToTempFile(command, name);
      } catch (const Error& e) {
        slot->error = e.what();
      }
      slot->done = true;
    }
    if (!slot->error.empty()) throw Error(slot->error);
    return slot->file;
  }

 private:
  static constexpr size_t kSlots = 8;
  struct Slot {
    std::mutex mu;
    bool done = false;
    std::shared_ptr<const TempFile> file;
    std::string error;
  };
  std::mutex mu_;
  std::list<std::pair<std::string, std::shared_ptr<Slot>>> slots_;  // most recently used first
};

PipeCache& ThePipeCache() {
  static PipeCache cache;
  return cache;
}

}  // namespace

// Rethrows an error met reading `path` (the entry's file or temporary copy) as one naming the entry.
[[noreturn]] static void RethrowNamed(const DataEntry& entry, const std::string& path, const std::string& message) {
  std::string what = message;
  if (what.rfind(path + ": ", 0) == 0) what = what.substr(path.size() + 2);
  else if (what.rfind(EntryName(entry) + ": ", 0) == 0) what = what.substr(EntryName(entry).size() + 2);
  if (!entry.origin.empty() && IsSegment(entry)) what += " (segment '" + entry.id + "', " + entry.origin + ")";
  throw Error(EntryName(entry) + ": " + what);
}

void WithEntryFile(const DataEntry& entry, const std::function<void(const std::string& path)>& read) {
  std::shared_ptr<const TempFile> piped;
  if (entry.is_command)
    piped = IsSegment(entry) ? ThePipeCache().Get(entry.source, EntryName(entry)) : RunToTempFile(entry.source, EntryName(entry));
  const std::string& path = piped ? piped->path() : entry.source;
  try {
    read(path);
  } catch (const Error& e) {
    RethrowNamed(entry, path, e.what());
  }
}

Waveform ReadEntryAudio(const DataEntry& entry, int target_rate_hz) {
  const std::string name = EntryName(entry);
  std::shared_ptr<const TempFile> piped;  // keeps a command's output alive while it is read
  std::string path = entry.source;
  if (entry.is_command) {
    piped = IsSegment(entry) ? ThePipeCache().Get(entry.source, name) : RunToTempFile(entry.source, name);
    path = piped->path();
  }
  try {
    if (!IsSegment(entry)) return ReadAudio(path, target_rate_hz);
    return ReadAudioRange(path, entry.start_seconds, entry.end_seconds, target_rate_hz);
  } catch (const Error& e) {
    RethrowNamed(entry, path, e.what());
  }
}

}  // namespace slid
