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
#include <map>
#include <set>
#include <sstream>

#include "slid/error.h"
#include "slid/io.h"

namespace fs = std::filesystem;

namespace slid {
namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool IsHidden(const fs::path& p) {
  const std::string n = p.filename().string();
  return !n.empty() && n[0] == '.';
}

void Finish(Dataset* d) {
  if (d->entries.empty()) ThrowFileError(d->root, "no labelled audio found");
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

Dataset LoadFolder(const std::string& root) {
  Dataset d;
  d.root = root;
  d.format = "folder";
  std::vector<fs::path> lang_dirs;
  for (const auto& e : fs::directory_iterator(root)) {
    if (IsHidden(e.path())) continue;
    if (e.is_directory()) lang_dirs.push_back(e.path());
  }
  if (lang_dirs.empty())
    ThrowFileError(root, "no language sub-folders (expected DATA/<lang>/<audio files>, a Kaldi data "
                         "directory with wav.scp + utt2lang, or a TSV list file)");
  std::sort(lang_dirs.begin(), lang_dirs.end());
  for (const auto& dir : lang_dirs) {
    const std::string lang = dir.filename().string();
    size_t found = 0;
    auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink);
    for (auto i = fs::begin(it); i != fs::end(it); ++i) {
      if (IsHidden(i->path())) {
        if (i->is_directory()) i.disable_recursion_pending();
        continue;
      }
      if (!i->is_regular_file() || !HasAudioExtension(i->path().string())) continue;
      DataEntry entry;
      entry.source = i->path().string();
      entry.id = fs::relative(i->path(), root).generic_string();
      entry.language = lang;
      d.entries.push_back(std::move(entry));
      ++found;
    }
    if (found == 0) ThrowFileError(dir.string(), "language folder '" + lang + "' holds no audio files");
  }
  Finish(&d);
  return d;
}

// Reads "<key> <rest>" lines of a Kaldi table file into a map; errors name file and line.
std::map<std::string, std::pair<std::string, int>> ReadKaldiTable(const std::string& path) {
  std::istringstream in(ReadFileToString(path));
  std::map<std::string, std::pair<std::string, int>> table;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    const std::string t = Trim(line);
    if (t.empty()) continue;
    const size_t sp = t.find_first_of(" \t");
    if (sp == std::string::npos)
      ThrowFileError(path + ":" + std::to_string(n), "expected '<utt-id> <value>', got '" + t + "'");
    const std::string key = t.substr(0, sp);
    const std::string value = Trim(t.substr(sp + 1));
    if (!table.emplace(key, std::make_pair(value, n)).second)
      ThrowFileError(path + ":" + std::to_string(n), "duplicate utterance id '" + key + "'");
  }
  return table;
}

std::string LineRef(const std::string& path, int line) { return path + ":" + std::to_string(line); }

// Parses a decimal number in the C locale (std::from_chars); false unless the whole token is one.
bool ParseSeconds(const std::string& token, double* out) {
  const char* b = token.data();
  const char* e = b + token.size();
  if (b != e && *b == '+') ++b;
  auto [ptr, ec] = std::from_chars(b, e, *out);
  return ec == std::errc() && ptr == e && std::isfinite(*out);
}

// Reads DATA/segments into entries (one per line, file order) whose source is filled from `recordings`.
std::vector<DataEntry> ReadSegments(const std::string& path, const std::map<std::string, const DataEntry*>& recordings,
                                    const std::string& scp_path) {
  std::istringstream in(ReadFileToString(path));
  std::vector<DataEntry> out;
  std::set<std::string> ids;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    const std::string t = Trim(line);
    if (t.empty()) continue;
    std::istringstream fields(t);
    std::vector<std::string> f;
    for (std::string x; fields >> x;) f.push_back(x);
    if (f.size() != 4)
      ThrowFileError(LineRef(path, n), "expected '<utt-id> <recording-id> <start-seconds> <end-seconds>', got '" + t + "'");
    DataEntry e;
    e.id = f[0];
    e.recording = f[1];
    if (!ParseSeconds(f[2], &e.start_seconds) || e.start_seconds < 0)
      ThrowFileError(LineRef(path, n), "start '" + f[2] + "' is not a time in seconds >= 0");
    if (!ParseSeconds(f[3], &e.end_seconds) || (e.end_seconds < 0 && e.end_seconds != -1))
      ThrowFileError(LineRef(path, n), "end '" + f[3] + "' is not a time in seconds (or -1: to the end)");
    if (e.end_seconds != -1 && e.start_seconds >= e.end_seconds)
      ThrowFileError(LineRef(path, n), "start " + f[2] + " is not before end " + f[3]);
    auto rec = recordings.find(e.recording);
    if (rec == recordings.end())
      ThrowFileError(LineRef(path, n), "recording '" + e.recording + "' is not in " + scp_path);
    if (!ids.insert(e.id).second) ThrowFileError(LineRef(path, n), "duplicate utterance id '" + e.id + "'");
    e.source = rec->second->source;
    e.is_command = rec->second->is_command;
    e.origin = LineRef(path, n);
    out.push_back(std::move(e));
  }
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
  std::vector<DataEntry> scp = ReadWavScp(scp_path);
  std::vector<DataEntry> utts;
  if (fs::exists(seg_path)) {
    std::map<std::string, const DataEntry*> recordings;
    for (const DataEntry& r : scp) recordings[r.id] = &r;
    utts = ReadSegments(seg_path, recordings, scp_path);
  } else {
    utts = std::move(scp);
  }
  // utt2lang (required) and utt2spk (optional) must cover exactly the utterances.
  const auto u2l = ReadKaldiTable(u2l_path);
  const bool have_spk = fs::exists(u2s_path);
  const auto u2s = have_spk ? ReadKaldiTable(u2s_path) : decltype(u2l)();
  const std::string& utt_source = fs::exists(seg_path) ? seg_path : scp_path;
  std::set<std::string> known;
  for (DataEntry& e : utts) {
    known.insert(e.id);
    const std::string where = e.origin.empty() ? utt_source : e.origin;
    auto it = u2l.find(e.id);
    if (it == u2l.end()) ThrowFileError(where, "utterance '" + e.id + "' has no entry in " + u2l_path);
    const std::string& lang = it->second.first;
    if (lang.find_first_of(" \t") != std::string::npos)
      ThrowFileError(LineRef(u2l_path, it->second.second), "language label contains a space");
    e.language = lang;
    if (have_spk) {
      auto sp = u2s.find(e.id);
      if (sp == u2s.end()) ThrowFileError(where, "utterance '" + e.id + "' has no entry in " + u2s_path);
      if (sp->second.first.find_first_of(" \t") != std::string::npos)
        ThrowFileError(LineRef(u2s_path, sp->second.second), "speaker label contains a space");
      e.speaker = sp->second.first;
    }
    d.entries.push_back(std::move(e));
  }
  for (const auto& [utt, value] : u2l)
    if (!known.count(utt))
      ThrowFileError(LineRef(u2l_path, value.second), "utterance '" + utt + "' has no entry in " + utt_source);
  for (const auto& [utt, value] : u2s)
    if (!known.count(utt))
      ThrowFileError(LineRef(u2s_path, value.second), "utterance '" + utt + "' has no entry in " + utt_source);
  Finish(&d);
  return d;
}

Dataset LoadTsv(const std::string& path) {
  Dataset d;
  d.root = path;
  d.format = "tsv";
  std::istringstream in(ReadFileToString(path));
  const fs::path base = fs::path(path).parent_path();
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (Trim(line).empty() || Trim(line)[0] == '#') continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos)
      ThrowFileError(path + ":" + std::to_string(n), "expected '<path><TAB><language>'");
    DataEntry e;
    e.id = line.substr(0, tab);
    e.language = Trim(line.substr(tab + 1));
    if (d.entries.empty() && e.id == "path" && (e.language == "lang" || e.language == "language"))
      continue;  // a header line
    if (e.id.empty() || e.language.empty())
      ThrowFileError(path + ":" + std::to_string(n), "empty path or language");
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

std::vector<DataEntry> ReadPathList(const std::string& text, const std::string& list_name) {
  (void)list_name;
  std::vector<DataEntry> out;
  size_t pos = 0;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;  // UTF-8 byte-order mark
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

std::vector<DataEntry> ReadWavScp(const std::string& path) {
  std::istringstream in(ReadFileToString(path));
  const fs::path base = fs::path(path).parent_path();
  std::vector<DataEntry> out;
  std::set<std::string> ids;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    const std::string t = Trim(n == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0 ? line.substr(3) : line);
    if (t.empty() || t[0] == '#') continue;
    const size_t sp = t.find_first_of(" \t");
    if (sp == std::string::npos)
      ThrowFileError(LineRef(path, n), "expected '<utt-id> <path>' or '<utt-id> <command> |', got '" + t + "'");
    DataEntry e;
    e.id = t.substr(0, sp);
    std::string v = Trim(t.substr(sp + 1));
    if (!ids.insert(e.id).second) ThrowFileError(LineRef(path, n), "duplicate utterance id '" + e.id + "'");
    if (v.back() == '|') {
      e.is_command = true;
      e.source = Trim(v.substr(0, v.size() - 1));
      if (e.source.empty()) ThrowFileError(LineRef(path, n), "empty command for '" + e.id + "'");
    } else {
      fs::path p(v);
      if (p.is_relative() && !fs::exists(p) && !base.empty()) p = base / p;  // Kaldi paths are usually absolute
      e.source = p.string();
    }
    out.push_back(std::move(e));
  }
  return out;
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
