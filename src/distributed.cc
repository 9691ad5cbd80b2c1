// Job-array training: shards, accumulators that travel, and the map and reduce steps. See
// slid/distributed.h.
#include "slid/distributed.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "driver_util.h"
#include "ordered_parallel.h"
#include "slid/augment.h"
#include "slid/error.h"
#include "slid/feature_cache.h"
#include "slid/frontend.h"
#include "slid/io.h"
#include "slid/number_text.h"
#include "slid/ivector_backend.h"  // ForEachUtterance
#include "slid/version.h"
#include "binary_format.h"
#include "train_util.h"

namespace slid {

namespace fs = std::filesystem;
using namespace internal;

// ---------------------------------------------------------------------------------------------------
// Shards

ShardSpec ParseShard(const std::string& text) {
  auto bad = [&](const std::string& why) { throw Error("--shard '" + text + "': " + why + " (expected i/n, 1 <= i <= n)"); };
  const size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) bad("not of the form i/n");
  auto number = [&](const std::string& s) {
    if (s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) bad("'" + s + "' is not a whole number");
    return std::stoi(s);
  };
  ShardSpec s;
  s.index = number(text.substr(0, slash));
  s.count = number(text.substr(slash + 1));
  if (s.count < 1 || s.index < 1 || s.index > s.count) bad("out of range");
  return s;
}

std::string ShardName(const ShardSpec& shard) { return std::to_string(shard.index) + "/" + std::to_string(shard.count); }

std::vector<size_t> ShardEntries(size_t num_entries, const ShardSpec& shard) {
  if (shard.count < 1 || shard.index < 1 || shard.index > shard.count)
    throw Error("shard " + ShardName(shard) + " is out of range");
  std::vector<size_t> out;
  for (size_t j = static_cast<size_t>(shard.index - 1); j < num_entries; j += static_cast<size_t>(shard.count))
    out.push_back(j);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// TrainAccs

namespace {

constexpr char kAccsMagic[8] = {'S', 'L', 'I', 'D', 'A', 'C', 'C', '\0'};

std::string ShardList(const std::vector<int>& shards) {
  std::string s;
  for (int i : shards) s += (s.empty() ? "" : ",") + std::to_string(i);
  return "{" + s + "}";
}

uint64_t GetU64At(const std::string& in, size_t pos) { return internal::Get<uint64_t>(in, &pos); }

nlohmann::json EmJson(const EmOptions& em) {
  return {{"num_gauss", em.num_gauss},     {"seed", em.seed},
          {"init_max_frames", em.init_max_frames}, {"min_posterior", em.min_posterior},
          {"var_floor_rel", em.var_floor_rel}, {"kmeans_iters", em.kmeans_iters},
          {"tol", em.tol},                 {"min_weight", em.min_weight}};
}

EmOptions EmFromJson(const nlohmann::json& j) {
  EmOptions em;
  em.num_gauss = j.at("num_gauss").get<int>();
  em.seed = j.at("seed").get<int>();
  em.init_max_frames = j.at("init_max_frames").get<int>();
  em.min_posterior = j.at("min_posterior").get<float>();
  em.var_floor_rel = j.at("var_floor_rel").get<float>();
  em.kmeans_iters = j.at("kmeans_iters").get<int>();
  em.tol = j.at("tol").get<double>();
  em.min_weight = j.at("min_weight").get<float>();
  return em;
}

}  // namespace

void TrainAccs::Add(const TrainAccs& other) {
  if (kind.empty()) {
    *this = other;
    return;
  }
  auto refuse = [&](const std::string& what) {
    throw Error("cannot add accumulators of shards " + ShardList(other.shards) + " to those of shards " +
                ShardList(shards) + ": " + what);
  };
  if (other.kind != kind) refuse("kinds differ (" + other.kind + " vs " + kind + ")");
  if (other.languages != languages) refuse("the languages differ");
  if (other.feature_dim != feature_dim || other.frontend.ToJson() != frontend.ToJson()) refuse("the frontends differ");
  if (other.shard_count != shard_count)
    refuse("one is of " + std::to_string(other.shard_count) + " shards, the other of " + std::to_string(shard_count));
  if (kind != "init" && (other.model_checksum != model_checksum || other.iteration != iteration))
    refuse("they were accumulated against different models (iteration " + std::to_string(other.iteration) + " vs " +
           std::to_string(iteration) + ")");
  if (kind == "init" && EmJson(other.em) != EmJson(em)) refuse("they were drawn with different EM options");
  for (int s : other.shards)
    if (std::binary_search(shards.begin(), shards.end(), s)) refuse("shard " + std::to_string(s) + " is in both");
  for (size_t l = 0; l < languages.size(); ++l) {
    files[l] += other.files[l];
    failed_files[l] += other.failed_files[l];
    frames[l] += other.frames[l];
    seconds[l] += other.seconds[l];
    if (kind == "init")
      init[l].Add(other.init[l]);
    else if (kind == "em")
      stats[l].Add(other.stats[l]);
  }
  if (kind == "ivector") ivector.Add(other.ivector);
  shards.insert(shards.end(), other.shards.begin(), other.shards.end());
  std::sort(shards.begin(), shards.end());
}

void TrainAccs::CheckComplete(const std::string& name) const {
  std::string missing;
  for (int s = 1; s <= shard_count; ++s)
    if (!std::binary_search(shards.begin(), shards.end(), s)) missing += (missing.empty() ? "" : ",") + std::to_string(s);
  if (!missing.empty())
    throw Error(name + ": accumulators of " + std::to_string(shards.size()) + " of " + std::to_string(shard_count) +
                " shards; missing shard(s) " + missing);
}

std::string TrainAccs::ToBytes() const {
  if (kind != "init" && kind != "em" && kind != "ivector") throw Error("TrainAccs: unknown kind '" + kind + "'");
  const size_t num = languages.size();
  if ((kind == "init" ? init.size() : kind == "em" ? stats.size() : num) != num || files.size() != num ||
      failed_files.size() != num ||
      frames.size() != num || seconds.size() != num)
    throw Error("TrainAccs: per-language parts do not match the " + std::to_string(num) + " languages");
  nlohmann::json tally = nlohmann::json::array();
  for (size_t l = 0; l < num; ++l)
    tally.push_back({{"files", files[l]}, {"failed_files", failed_files[l]}, {"frames", frames[l]}, {"seconds", seconds[l]}});
  const nlohmann::json header = {{"format", "slid-train-accs"},
                                 {"kind", kind},
                                 {"languages", languages},
                                 {"frontend", frontend.ToJson()},
                                 {"feature_dim", feature_dim},
                                 {"shard_count", shard_count},
                                 {"shards", shards},
                                 {"model_checksum", std::to_string(model_checksum)},
                                 {"iteration", iteration},
                                 {"em", EmJson(em)},
                                 {"tally", tally}};
  const std::string h = header.dump();
  std::string out(kAccsMagic, sizeof(kAccsMagic));
  const uint32_t v[2] = {kTrainAccsFormatVersion, 0};
  out.append(reinterpret_cast<const char*>(v), 8);
  internal::Put<uint64_t>(&out, h.size());
  out += h;
  const size_t parts = kind == "ivector" ? 1 : num;
  for (size_t l = 0; l < parts; ++l) {
    const std::string b = kind == "init" ? init[l].ToBytes() : kind == "em" ? stats[l].ToBytes() : ivector.ToBytes();
    internal::Put<uint64_t>(&out, b.size());
    out += b;
  }
  internal::PutChecksum(&out);
  return out;
}

void TrainAccs::FromBytes(const std::string& bytes, const std::string& name, bool add) {
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kAccsMagic, 8) != 0)
    throw Error(name + ": not slid training accumulators (bad magic)");
  if (bytes.size() < 32) throw Error(name + ": truncated training accumulators");
  uint32_t version;
  std::memcpy(&version, bytes.data() + 8, 4);
  if (version != kTrainAccsFormatVersion)
    throw Error(name + ": training accumulators format version " + std::to_string(version) + ", this slid reads version " +
                std::to_string(kTrainAccsFormatVersion));
  if (Fnv1a64(bytes.data(), bytes.size() - 8) != GetU64At(bytes, bytes.size() - 8))
    throw Error(name + ": damaged or truncated training accumulators (checksum mismatch)");
  const uint64_t h = GetU64At(bytes, 16);
  if (h > bytes.size() - 32) throw Error(name + ": truncated training accumulators");
  TrainAccs r;
  size_t pos = 24 + h;
  try {
    const nlohmann::json j = nlohmann::json::parse(bytes.substr(24, h));
    r.kind = j.at("kind").get<std::string>();
    if (r.kind != "init" && r.kind != "em" && r.kind != "ivector") throw Error("unknown kind '" + r.kind + "'");
    r.languages = j.at("languages").get<std::vector<std::string>>();
    r.frontend = FrontendOptions::FromJson(j.at("frontend"));
    r.feature_dim = j.at("feature_dim").get<int>();
    r.shard_count = j.at("shard_count").get<int>();
    r.shards = j.at("shards").get<std::vector<int>>();
    r.model_checksum = std::stoull(j.at("model_checksum").get<std::string>());
    r.iteration = j.at("iteration").get<int>();
    r.em = EmFromJson(j.at("em"));
    const nlohmann::json& tally = j.at("tally");
    if (tally.size() != r.languages.size()) throw Error("tally of " + std::to_string(tally.size()) + " languages");
    for (const auto& t : tally) {
      r.files.push_back(t.at("files").get<int64_t>());
      r.failed_files.push_back(t.at("failed_files").get<int64_t>());
      r.frames.push_back(t.at("frames").get<int64_t>());
      r.seconds.push_back(t.at("seconds").get<double>());
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(name + ": bad training accumulators header: " + e.what());
  } catch (const std::exception& e) {
    throw Error(name + ": bad training accumulators header: " + e.what());
  }
  if (r.shard_count < 1 || !std::is_sorted(r.shards.begin(), r.shards.end()) ||
      std::adjacent_find(r.shards.begin(), r.shards.end()) != r.shards.end() ||
      (!r.shards.empty() && (r.shards.front() < 1 || r.shards.back() > r.shard_count)))
    throw Error(name + ": bad shard list " + ShardList(r.shards) + " of " + std::to_string(r.shard_count));
  const size_t parts = r.kind == "ivector" ? 1 : r.languages.size();
  for (size_t l = 0; l < parts; ++l) {
    if (pos + 8 > bytes.size() - 8) throw Error(name + ": truncated training accumulators");
    const uint64_t b = GetU64At(bytes, pos);
    pos += 8;
    if (b > bytes.size() - 8 - pos) throw Error(name + ": truncated training accumulators");
    const std::string part = bytes.substr(pos, b);
    const std::string what = r.kind == "ivector" ? name : name + " (language " + r.languages[l] + ")";
    if (r.kind == "ivector") {
      r.ivector.FromBytes(part, what);
      if (r.ivector.ExtractorChecksum() != r.model_checksum)
        throw Error(what + ": the statistics' extractor differs from the header's");
    } else if (r.kind == "init") {
      r.init.emplace_back();
      r.init.back().FromBytes(part, what);
      if (r.init.back().moments.Dim() != r.feature_dim) throw Error(what + ": dimension differs from the header's");
    } else {
      r.stats.emplace_back();
      r.stats.back().FromBytes(part, what);
      if (r.stats.back().Dim() != r.feature_dim) throw Error(what + ": dimension differs from the header's");
    }
    pos += b;
  }
  if (pos != bytes.size() - 8) throw Error(name + ": trailing bytes after training accumulators");
  if (add && !kind.empty()) {
    try {
      Add(r);
    } catch (const Error& e) {
      throw Error(name + ": " + e.what());
    }
  } else {
    *this = std::move(r);
  }
}

void TrainAccs::Write(const std::string& path) const {
  const std::string bytes = ToBytes();
  WriteFileAtomically(path, [&](std::ostream& o) { o.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

void TrainAccs::Read(const std::string& path, bool add) { FromBytes(ReadFileToString(path), path, add); }

uint64_t ModelChecksum(const LanguageModelSet& model) {
  if (!model.backend) throw Error("ModelChecksum: model without a back-end");
  std::string bytes;
  model.backend->AppendPayload(&bytes);
  for (const std::string& l : model.languages) bytes += l + '\n';
  return Fnv1a64(bytes.data(), bytes.size());
}

TrainAccs SumAccs(const std::vector<std::string>& paths) {
  if (paths.empty()) throw Error("no accumulator files to sum");
  TrainAccs sum;
  for (const std::string& p : paths) sum.Read(p, /*add=*/true);
  sum.CheckComplete(paths.size() == 1 ? paths[0] : "the " + std::to_string(paths.size()) + " files");
  return sum;
}

// ---------------------------------------------------------------------------------------------------
// The map steps: features of a shard (cached), then per-utterance statistics.

namespace {

struct ShardData {
  std::vector<size_t> entries;  // indices into data.entries that are regular files (or commands)
  std::map<std::string, int> language_index;
};

// Step 0 (as TrainLanguageModelSet) on the whole data, then this shard's entries; missing files of the
// shard are skipped into `report`.
// for_ivector: the map step of T-matrix EM (any back-end option; the caller gives the UBM).
ShardData PrepareShard(const Dataset& data, const ShardSpec& shard, const TrainOptions& opts, const ProgressCallbacks& cb,
                       ShardReport* report, bool for_ivector = false) {
  CheckTrainOptions(opts);
  if (!for_ivector && opts.backend != "gmm") throw Error("distributed training (job array, MPI): only the gmm back-end is supported, not '" + opts.backend + "'");
  for (const std::string& p : data.problems) EntryError(cb, p);
  for (const std::string& w : data.ignored) Warning(cb, w);
  std::map<std::string, int64_t> listed;
  for (const DataEntry& e : data.entries) ++listed[e.language];
  RefuseUnusableData(data, listed, listed, "file(s)");
  ShardData s;
  for (size_t l = 0; l < data.languages.size(); ++l) s.language_index[data.languages[l]] = static_cast<int>(l);
  for (size_t i : ShardEntries(data.entries.size(), shard)) {
    const DataEntry& e = data.entries[i];
    if (!e.is_command && !e.temp_file) {
      try {
        CheckRegularFile(e.source, "an audio file");
      } catch (const Error& ex) {
        const std::string line = EntryErrorLine(e, ex.what());
        report->skipped.push_back({EntryName(e), e.language, line});
        EntryError(cb, line);
        continue;
      }
    }
    s.entries.push_back(i);
  }
  return s;
}

uint64_t EntriesFingerprint(const Dataset& data, const std::vector<size_t>& entries) {
  std::string text;
  for (size_t i : entries) {
    const DataEntry& e = data.entries[i];
    text += e.id + '\t' + e.language + '\t' + e.source + '\t' + (e.is_command ? "|" : "") + '\t' +
            std::to_string(e.start_seconds) + '\t' + std::to_string(e.end_seconds) + '\n';
  }
  return Fnv1a64(text.data(), text.size());
}

struct Tally {
  std::vector<int64_t> files, failed, frames;
  std::vector<double> seconds;
  explicit Tally(size_t n) : files(n, 0), failed(n, 0), frames(n, 0), seconds(n, 0.0) {}
};

using UtteranceVisitor = std::function<void(int language, const std::string& id, const Matrix& frames)>;

// Calls visit on every utterance of the shard with voiced frames, in data order: from the cache if it
// holds this shard with these frontend options, else computed (threads over files) and, if a cache
// folder is given, stored in it.
void ForEachShardUtterance(const Dataset& data, const ShardSpec& shard, const ShardData& sd, const FrontendOptions& fo,
                           const AugmentOptions& augment, int threads, const ShardCacheOptions& cache, const ProgressCallbacks& cb, Tally* tally,
                           ShardReport* report, const UtteranceVisitor& visit) {
  const std::string stem = cache.dir.empty() ? std::string()
                                             : (fs::path(cache.dir) / ("feats." + std::to_string(shard.index) + "." +
                                                                       std::to_string(shard.count)))
                                                   .string();
  const uint64_t fingerprint = EntriesFingerprint(data, sd.entries);
  const nlohmann::json frontend_json = fo.ToJson();
  const nlohmann::json augment_json = augment.copies > 0 ? augment.ToJson() : nlohmann::json();
  if (!stem.empty()) {
    std::error_code ec;
    if (fs::exists(stem + ".json", ec) && fs::exists(stem + ".feats", ec)) {
      nlohmann::json index;
      try {
        index = nlohmann::json::parse(ReadFileToString(stem + ".json"));
      } catch (const nlohmann::json::exception& e) {
        throw Error(stem + ".json: not a shard feature index (" + std::string(e.what()) + "); remove it");
      }
      if (index.value("format", "") == "slid-shard-features" && index.value("version", 0) == 1 &&
          index.value("frontend", nlohmann::json()) == frontend_json &&
          index.value("augment", nlohmann::json()) == augment_json &&
          index.value("entries_fingerprint", "") == std::to_string(fingerprint)) {
        report->from_cache = true;
        std::vector<int64_t> lengths;
        std::vector<std::pair<int, std::string>> utts;
        for (const auto& u : index.at("utterances")) {
          const std::string lang = u.at("language").get<std::string>();
          const auto it = sd.language_index.find(lang);
          if (it == sd.language_index.end()) throw Error(stem + ".json: unknown language '" + lang + "'");
          const int l = it->second;
          const int64_t n = u.at("frames").get<int64_t>();
          if (!u.value("copy", false)) {  // a degraded copy (augmentation) is not a file
            ++tally->files[l];
            tally->seconds[l] += u.at("seconds").get<double>();
          }
          tally->frames[l] += n;
          if (n > 0) {
            lengths.push_back(n);
            utts.push_back({l, u.at("id").get<std::string>()});
          }
        }
        for (const auto& f : index.at("failed")) {
          const std::string lang = f.at("language").get<std::string>();
          ++tally->failed[sd.language_index.at(lang)];
          report->skipped.push_back({f.at("entry").get<std::string>(), lang, f.at("error").get<std::string>()});
        }
        const FeatureCacheSource source(stem + ".feats");
        if (source.Dim() != Frontend(fo).Dim()) throw Error(stem + ".feats: dimension differs from the frontend's");
        PhaseStart(cb, "cached features (" + stem + ".feats)", static_cast<int64_t>(utts.size()), "utterances");
        size_t u = 0;
        ForEachUtterance(source, lengths, [&](const Matrix& m) {
          visit(utts[u].first, utts[u].second, m);
          ++u;
          Advance(cb, 1, "");
        });
        PhaseEnd(cb);
        return;
      }
      Info(cb, stem + ".json: made for other options or data; features are computed again");
    }
    fs::create_directories(cache.dir, ec);
    if (ec) ThrowFileError(cache.dir, "cannot create the feature cache folder: " + ec.message());
  }
  const Frontend frontend(fo);
  std::unique_ptr<FeatureCacheWriter> writer;
  if (!stem.empty()) writer = std::make_unique<FeatureCacheWriter>(stem + ".feats", frontend.Dim());
  nlohmann::json utterances = nlohmann::json::array(), failed = nlohmann::json::array();
  PhaseStart(cb, "features of shard " + ShardName(shard), static_cast<int64_t>(sd.entries.size()), "files");
  OrderedParallel<EntryFeatures>(
      sd.entries.size(), threads,
      [&](size_t k) { return ComputeEntryFeatures(frontend, data.entries[sd.entries[k]], fo.sample_rate_hz, augment); },
      [&](size_t k, EntryFeatures r) {
        const DataEntry& e = data.entries[sd.entries[k]];
        const int l = sd.language_index.at(e.language);
        if (!r.error.empty()) {
          ++tally->failed[l];
          report->skipped.push_back({EntryName(e), e.language, r.error});
          failed.push_back({{"entry", EntryName(e)}, {"language", e.language}, {"error", r.error}});
          EntryError(cb, r.error);
        } else {
          if (r.features.rows() == 0) Warning(cb, EntryName(e) + ": no voiced frames, nothing to train on");
          ++tally->files[l];
          tally->seconds[l] += r.seconds;
          tally->frames[l] += r.features.rows();
          utterances.push_back({{"id", e.id}, {"language", e.language}, {"frames", r.features.rows()}, {"seconds", r.seconds}});
          if (writer) writer->Append(r.features);
          if (r.features.rows() > 0) visit(l, e.id, r.features);
          for (size_t c = 0; c < r.copies.size(); ++c) {
            const std::string id = AugmentedId(e.id, static_cast<int>(c));
            tally->frames[l] += r.copies[c].rows();
            utterances.push_back({{"id", id}, {"language", e.language}, {"frames", r.copies[c].rows()}, {"seconds", 0}, {"copy", true}});
            if (writer) writer->Append(r.copies[c]);
            if (r.copies[c].rows() > 0) visit(l, id, r.copies[c]);
          }
        }
        Advance(cb, 1, "");
      });
  PhaseEnd(cb);
  if (writer) {
    writer->Close();
    const nlohmann::json index = {{"format", "slid-shard-features"},
                                  {"version", 1},
                                  {"shard", ShardName(shard)},
                                  {"data", data.root},
                                  {"frontend", frontend_json},
                                  {"augment", augment_json},
                                  {"entries_fingerprint", std::to_string(fingerprint)},
                                  {"utterances", utterances},
                                  {"failed", failed}};
    const std::string text = index.dump(1) + "\n";
    WriteFileAtomically(stem + ".json", [&](std::ostream& o) { o << text; });
  }
}

TrainAccs NewAccs(const Dataset& data, const ShardSpec& shard, const FrontendOptions& fo, const std::string& kind) {
  TrainAccs a;
  a.kind = kind;
  a.frontend = fo;
  a.feature_dim = Frontend(fo).Dim();
  a.languages = data.languages;
  a.shard_count = shard.count;
  a.shards = {shard.index};
  return a;
}

void StoreTally(const Tally& t, TrainAccs* a, ShardReport* report) {
  a->files = t.files;
  a->failed_files = t.failed;
  a->frames = t.frames;
  a->seconds = t.seconds;
  for (size_t l = 0; l < t.files.size(); ++l) {
    report->files += t.files[l];
    report->frames += t.frames[l];
  }
}

// The EM state a model made here carries in its summary.
struct EmState {
  int iteration = 0;
  EmOptions em;
  std::vector<Vector> floors;       // per language
  std::vector<bool> converged;      // per language
  std::vector<double> avg_loglik;   // per language; NaN before the first iteration
};

EmState ReadEmState(const LanguageModelSet& model, const std::string& what) {
  if (!model.summary.contains("em_state"))
    throw Error(what + ": the model carries no EM state (it was not made by slid gmm-init or slid est)");
  if (!model.backend || model.backend->Kind() != "gmm") throw Error(what + ": not a gmm-back-end model");
  EmState s;
  try {
    const nlohmann::json& j = model.summary.at("em_state");
    s.iteration = j.at("iteration").get<int>();
    s.em = EmFromJson(j.at("em"));
    for (const std::string& l : model.languages) {
      const std::vector<float> f = j.at("var_floor").at(l).get<std::vector<float>>();
      s.floors.push_back(Eigen::Map<const Vector>(f.data(), static_cast<Eigen::Index>(f.size())));
      s.converged.push_back(j.at("converged").at(l).get<bool>());
      const nlohmann::json& a = j.at("avg_loglik").at(l);
      s.avg_loglik.push_back(a.is_null() ? std::numeric_limits<double>::quiet_NaN() : a.get<double>());
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(what + ": bad EM state in the model summary: " + e.what());
  }
  return s;
}

void WriteEmState(const EmState& s, const std::vector<std::string>& languages, nlohmann::json* summary) {
  nlohmann::json floors = nlohmann::json::object(), conv = nlohmann::json::object(), avg = nlohmann::json::object();
  for (size_t l = 0; l < languages.size(); ++l) {
    floors[languages[l]] = std::vector<float>(s.floors[l].data(), s.floors[l].data() + s.floors[l].size());
    conv[languages[l]] = static_cast<bool>(s.converged[l]);
    avg[languages[l]] = std::isnan(s.avg_loglik[l]) ? nlohmann::json(nullptr) : nlohmann::json(s.avg_loglik[l]);
  }
  (*summary)["em_state"] = {
      {"iteration", s.iteration}, {"em", EmJson(s.em)}, {"var_floor", floors}, {"converged", conv}, {"avg_loglik", avg}};
}

}  // namespace

TrainAccs AccumulateShardInit(const Dataset& data, const ShardSpec& shard, const TrainOptions& opts,
                              const ShardCacheOptions& cache, const ProgressCallbacks& cb, ShardReport* report) {
  ShardReport local;
  if (!report) report = &local;
  if (opts.em.init != GmmInit::kKMeansPlusPlus)
    throw Error("distributed training (job array, MPI): only the k-means++ initialisation works from statistics (not --init split)");
  const ShardData sd = PrepareShard(data, shard, opts, cb, report);
  TrainAccs a = NewAccs(data, shard, opts.frontend, "init");
  a.em = opts.em;
  for (size_t l = 0; l < data.languages.size(); ++l)
    a.init.emplace_back(a.feature_dim, InitSampleCapacity(opts.em), static_cast<uint64_t>(opts.em.seed));
  Tally tally(data.languages.size());
  ForEachShardUtterance(data, shard, sd, opts.frontend, opts.augment, opts.threads, cache, cb, &tally, report,
                        [&](int l, const std::string& id, const Matrix& m) {
                          a.init[l].Accumulate(m, UtteranceKey(id), 0);
                        });
  StoreTally(tally, &a, report);
  return a;
}

TrainAccs AccumulateShardStats(const Dataset& data, const ShardSpec& shard, const LanguageModelSet& model,
                               const TrainOptions& opts, const ShardCacheOptions& cache, const ProgressCallbacks& cb,
                               ShardReport* report) {
  ShardReport local;
  if (!report) report = &local;
  const EmState state = ReadEmState(model, "acc-stats");
  if (model.languages != data.languages)
    throw Error(data.root + ": the data's languages differ from the model's (the model was trained on other data)");
  TrainOptions o = opts;
  o.frontend = model.frontend;
  const ShardData sd = PrepareShard(data, shard, o, cb, report);
  TrainAccs a = NewAccs(data, shard, model.frontend, "em");
  a.model_checksum = ModelChecksum(model);
  a.iteration = state.iteration + 1;
  a.em = state.em;
  const auto& gmms = static_cast<const GmmBackend&>(*model.backend).gmms();
  for (size_t l = 0; l < gmms.size(); ++l) a.stats.emplace_back(gmms[l].NumGauss(), gmms[l].Dim(), state.em.min_posterior);
  Tally tally(data.languages.size());
  // E-step with opts.threads threads over utterances: each utterance's statistics are accumulated
  // into zeroed statistics of their own and added to its language's total in data order, so the sum
  // is the same for any number of threads (as AccumulateStats does with blocks).
  struct Item {
    int language;
    Matrix frames;
  };
  std::vector<Item> batch;
  std::vector<GmmStats> parts;
  const size_t batch_size = 4 * static_cast<size_t>(std::max(1, opts.threads));
  auto flush = [&] {
    parts.clear();
    for (const Item& it : batch) parts.emplace_back(gmms[it.language].NumGauss(), gmms[it.language].Dim(), state.em.min_posterior);
    std::exception_ptr error;
#pragma omp parallel for num_threads(std::max(1, opts.threads)) schedule(dynamic, 1)
    for (int64_t i = 0; i < static_cast<int64_t>(batch.size()); ++i) {
      try {
        parts[i].Accumulate(gmms[batch[i].language], batch[i].frames);
      } catch (...) {
#pragma omp critical
        error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    for (size_t i = 0; i < batch.size(); ++i) a.stats[batch[i].language].Add(parts[i]);
    batch.clear();
  };
  ForEachShardUtterance(data, shard, sd, model.frontend, opts.augment, opts.threads, cache, cb, &tally, report,
                        [&](int l, const std::string&, const Matrix& m) {
                          if (state.converged[l]) return;
                          batch.push_back({l, m});
                          if (batch.size() >= batch_size) flush();
                        });
  flush();
  StoreTally(tally, &a, report);
  return a;
}

TrainAccs AccumulateIvectorAccs(const IvectorExtractor& extractor, int iteration, const ShardSpec& shard,
                                const UtteranceStatsSource& source, int batch_utterances) {
  if (iteration < 1) throw Error("i-vector accumulators: iteration must be >= 1, got " + std::to_string(iteration));
  if (batch_utterances < 1) throw Error("i-vector accumulators: batch_utterances must be >= 1");
  ShardEntries(0, shard);  // validates the spec
  TrainAccs a;
  a.kind = "ivector";
  a.feature_dim = extractor.FeatDim();
  a.shard_count = shard.count;
  a.shards = {shard.index};
  a.model_checksum = extractor.Checksum();
  a.iteration = iteration;
  a.ivector = IvectorExtractorStats(extractor);
  // Batches as TrainIvectorExtractor cuts them (the batch shape only changes float rounding).
  std::vector<UtteranceStats> batch;
  batch.reserve(static_cast<size_t>(batch_utterances));
  source([&](const UtteranceStats& st) {
    batch.push_back(st);
    if (static_cast<int>(batch.size()) == batch_utterances) {
      a.ivector.Accumulate(extractor, batch);
      batch.clear();
    }
  });
  if (!batch.empty()) a.ivector.Accumulate(extractor, batch);
  return a;
}

TrainAccs AccumulateShardIvectorStats(const Dataset& data, const ShardSpec& shard, const DiagGmm& ubm,
                                      const IvectorExtractor& extractor, int iteration, const TrainOptions& opts,
                                      const ShardCacheOptions& cache, const ProgressCallbacks& cb, ShardReport* report) {
  ShardReport local;
  if (!report) report = &local;
  const ShardData sd = PrepareShard(data, shard, opts, cb, report, /*for_ivector=*/true);
  const int dim = Frontend(opts.frontend).Dim();
  if (ubm.Dim() != dim || extractor.FeatDim() != dim || extractor.NumGauss() != ubm.NumGauss())
    throw Error("i-vector accumulators: the features have " + std::to_string(dim) + " dims, the UBM " +
                std::to_string(ubm.NumGauss()) + " x " + std::to_string(ubm.Dim()) + ", the extractor " +
                std::to_string(extractor.NumGauss()) + " x " + std::to_string(extractor.FeatDim()));
  IvectorStatsOptions so = opts.ivector.stats;
  so.second_order = opts.ivector.extractor.update.update_variances;
  UtteranceStatsComputer computer(ubm, so);
  Tally tally(data.languages.size());
  TrainAccs a = AccumulateIvectorAccs(
      extractor, iteration, shard,
      [&](const std::function<void(const UtteranceStats&)>& visit) {
        ForEachShardUtterance(data, shard, sd, opts.frontend, opts.augment, opts.threads, cache, cb, &tally, report,
                              [&](int, const std::string&, const Matrix& m) { visit(computer.Compute(m)); });
      },
      opts.ivector.extractor.batch_utterances);
  const TrainAccs header = NewAccs(data, shard, opts.frontend, "ivector");
  a.frontend = header.frontend;
  a.languages = header.languages;
  StoreTally(tally, &a, report);
  return a;
}

IvectorExtractor EstimateIvectorExtractor(const IvectorExtractor& extractor, int iteration, const TrainAccs& accs,
                                          const IvectorExtractorStats::UpdateOptions& update) {
  if (accs.kind != "ivector") throw Error("i-vector update: needs i-vector accumulators, not '" + accs.kind + "'");
  accs.CheckComplete("i-vector accumulators");
  if (accs.model_checksum != extractor.Checksum() || accs.iteration != iteration)
    throw Error("i-vector update: the accumulators were made against another extractor (iteration " +
                std::to_string(accs.iteration) + ", this update is iteration " + std::to_string(iteration) +
                "): accumulate again with this extractor");
  IvectorExtractor out = extractor;
  accs.ivector.Update(update, &out);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The reduce steps

LanguageModelSet InitModelFromAccs(const TrainAccs& accs, const EmOptions& em_in, std::vector<std::string>* warnings) {
  if (accs.kind != "init") throw Error("gmm-init needs initialisation accumulators (slid acc-init), not '" + accs.kind + "'");
  accs.CheckComplete("initialisation accumulators");
  EmOptions em = em_in;
  em.num_gauss = accs.em.num_gauss;
  em.seed = accs.em.seed;
  em.init_max_frames = accs.em.init_max_frames;
  em.min_posterior = accs.em.min_posterior;
  em.init = GmmInit::kKMeansPlusPlus;
  EmState state;
  state.em = em;
  std::vector<DiagGmm> gmms;
  nlohmann::json per_lang = nlohmann::json::object();
  int64_t frames = 0, files = 0, failed = 0;
  double seconds = 0;
  for (size_t l = 0; l < accs.languages.size(); ++l) {
    const std::string& lang = accs.languages[l];
    if (!(accs.init[l].moments.Count() > 0))
      throw Error("language '" + lang + "' has no usable audio (" + std::to_string(accs.files[l]) + " files read, " +
                  std::to_string(accs.failed_files[l]) + " failed)");
    GmmStart start = InitDiagGmm(accs.init[l], em);
    if (warnings)
      for (const std::string& w : start.warnings) warnings->push_back(lang + ": " + w);
    per_lang[lang] = {{"files", accs.files[l]},       {"failed_files", accs.failed_files[l]},
                      {"audio_hours", accs.seconds[l] / 3600}, {"frames", accs.frames[l]},
                      {"num_gauss", start.gmm.NumGauss()}, {"iterations", 0},
                      {"converged", false},            {"final_avg_loglik", nullptr},
                      {"warnings", start.warnings}};
    state.floors.push_back(start.var_floor);
    state.converged.push_back(false);
    state.avg_loglik.push_back(std::numeric_limits<double>::quiet_NaN());
    gmms.push_back(std::move(start.gmm));
    frames += accs.frames[l];
    files += accs.files[l];
    failed += accs.failed_files[l];
    seconds += accs.seconds[l];
  }
  LanguageModelSet m = LanguageModelSet::FromGmms(accs.frontend, accs.languages, std::move(gmms));
  m.summary = {{"audio_hours", seconds / 3600},
               {"frames", frames},
               {"files", files},
               {"failed_files", failed},
               {"backend", "gmm"},
               {"training", "job array (" + std::to_string(accs.shard_count) + " shards)"},
               {"em",
                {{"num_gauss", em.num_gauss},
                 {"max_iters", 0},
                 {"seed", em.seed},
                 {"var_floor_rel", em.var_floor_rel},
                 {"init", GmmInitName(em.init)}}},
               {"ubm", nullptr},
               {"languages", per_lang},
               {"slid_version", Version()}};
  WriteEmState(state, accs.languages, &m.summary);
  return m;
}

LanguageModelSet EstimateModel(const LanguageModelSet& model, const TrainAccs& stats, std::vector<std::string>* notes) {
  EmState state = ReadEmState(model, "est");
  if (stats.kind != "em") throw Error("est needs EM accumulators (slid acc-stats), not '" + stats.kind + "'");
  stats.CheckComplete("EM accumulators");
  if (stats.languages != model.languages) throw Error("est: the accumulators' languages differ from the model's");
  if (stats.model_checksum != ModelChecksum(model) || stats.iteration != state.iteration + 1)
    throw Error("est: the accumulators were made against another model (iteration " + std::to_string(stats.iteration) +
                "; this model is at iteration " + std::to_string(state.iteration) +
                "): run acc-stats with this model");
  const auto& gmms = static_cast<const GmmBackend&>(*model.backend).gmms();
  std::vector<DiagGmm> out;
  const int it = state.iteration + 1;
  nlohmann::json summary = model.summary;
  for (size_t l = 0; l < gmms.size(); ++l) {
    const std::string& lang = model.languages[l];
    if (state.converged[l]) {
      out.push_back(gmms[l]);
      continue;
    }
    const GmmStats& st = stats.stats[l];
    if (!(st.NumFrames() > 0)) throw Error("est: no frames of language '" + lang + "' in the accumulators");
    const double avg = st.TotalLogLikelihood() / st.NumFrames();
    std::vector<std::string> m_notes;
    out.push_back(UpdateDiagGmm(st, state.floors[l], state.em.min_weight, &m_notes));
    for (const std::string& n : m_notes) {
      const std::string line = "EM iteration " + std::to_string(it) + ": " + n;
      if (notes) notes->push_back(lang + ": " + line);
      summary["languages"][lang]["warnings"].push_back(line);
    }
    // The same rule as TrainDiagGmm's loop: the update is kept, then the language stops.
    const double prev = std::isnan(state.avg_loglik[l]) ? 0.0 : state.avg_loglik[l];
    state.converged[l] = EmConverged(it, avg, prev, state.em.tol);
    state.avg_loglik[l] = avg;
    summary["languages"][lang]["iterations"] = it;
    summary["languages"][lang]["converged"] = static_cast<bool>(state.converged[l]);
    summary["languages"][lang]["final_avg_loglik"] = avg;
    if (state.converged[l] && notes) notes->push_back(lang + ": converged at iteration " + std::to_string(it));
  }
  state.iteration = it;
  LanguageModelSet m = LanguageModelSet::FromGmms(model.frontend, model.languages, std::move(out));
  m.summary = std::move(summary);
  m.summary["em"]["max_iters"] = it;
  WriteEmState(state, model.languages, &m.summary);
  return m;
}

// ---------------------------------------------------------------------------------------------------
// In-process distribution

void Communicator::AllReduceSum(std::vector<double>* values) {
  std::string mine(values->size() * sizeof(double), '\0');
  if (!values->empty()) std::memcpy(&mine[0], values->data(), mine.size());
  const std::vector<std::string> all = AllGather(mine);
  std::fill(values->begin(), values->end(), 0.0);
  for (size_t r = 0; r < all.size(); ++r) {
    if (all[r].size() != mine.size())
      throw Error("all-reduce: rank " + std::to_string(r) + " sent " + std::to_string(all[r].size() / sizeof(double)) +
                  " numbers, this rank " + std::to_string(values->size()));
    for (size_t i = 0; i < values->size(); ++i) {
      double v;
      std::memcpy(&v, all[r].data() + i * sizeof(double), sizeof(double));
      (*values)[i] += v;
    }
  }
}

namespace {

// Everything but the shards and the numbers that must agree between the processes' accumulators:
// what TrainAccs::Add checks, plus the statistics' shapes (so that the all-reduce lengths agree).
std::string AccsIdentity(const TrainAccs& a) {
  nlohmann::json shapes = nlohmann::json::array();
  for (const GmmStats& st : a.stats) shapes.push_back({st.NumGauss(), st.Dim(), st.min_posterior()});
  if (a.kind == "ivector") {
    std::vector<double> flat;
    a.ivector.AppendFlat(&flat);
    shapes.push_back({flat.size(), std::to_string(a.ivector.ExtractorChecksum())});
  }
  return nlohmann::json{{"kind", a.kind},
                        {"languages", a.languages},
                        {"frontend", a.frontend.ToJson()},
                        {"feature_dim", a.feature_dim},
                        {"shard_count", a.shard_count},
                        {"model_checksum", std::to_string(a.model_checksum)},
                        {"iteration", a.iteration},
                        {"shapes", shapes}}
      .dump();
}

TrainAccs AllGatherSum(const TrainAccs& mine, Communicator& comm) {
  const std::vector<std::string> all = comm.AllGather(mine.ToBytes());
  if (static_cast<int>(all.size()) != comm.Size())
    throw Error("AllSum: " + std::to_string(all.size()) + " parts from " + std::to_string(comm.Size()) + " processes");
  TrainAccs sum;
  for (size_t r = 0; r < all.size(); ++r) sum.FromBytes(all[r], "accumulators of rank " + std::to_string(r), /*add=*/true);
  return sum;
}

}  // namespace

TrainAccs AllSum(const TrainAccs& mine, Communicator& comm) {
  if (mine.kind == "init") return AllGatherSum(mine, comm);
  if (mine.kind != "em" && mine.kind != "ivector") throw Error("AllSum: unknown kind '" + mine.kind + "'");
  // 1. Headers: the same model, iteration and shapes everywhere, and disjoint shards.
  const std::string identity = AccsIdentity(mine);
  const std::vector<std::string> heads = comm.AllGather(nlohmann::json{{"identity", identity}, {"shards", mine.shards}}.dump());
  if (static_cast<int>(heads.size()) != comm.Size())
    throw Error("AllSum: " + std::to_string(heads.size()) + " parts from " + std::to_string(comm.Size()) + " processes");
  TrainAccs sum = mine;
  sum.shards.clear();
  for (size_t r = 0; r < heads.size(); ++r) {
    const nlohmann::json h = nlohmann::json::parse(heads[r]);
    if (h.at("identity").get<std::string>() != identity)
      throw Error("accumulators of rank " + std::to_string(r) + " and rank " + std::to_string(comm.Rank()) +
                  " differ in kind, languages, frontend, shard count, model, iteration or shape");
    for (int s : h.at("shards").get<std::vector<int>>()) {
      if (std::find(sum.shards.begin(), sum.shards.end(), s) != sum.shards.end())
        throw Error("accumulators of rank " + std::to_string(r) + ": shard " + std::to_string(s) + " is in two ranks");
      sum.shards.push_back(s);
    }
  }
  std::sort(sum.shards.begin(), sum.shards.end());
  // 2. The numbers: tallies (exact in double below 2^53) and statistics, in one all-reduce.
  std::vector<double> flat;
  const size_t num = mine.languages.size();
  for (size_t l = 0; l < num; ++l) {
    flat.push_back(static_cast<double>(mine.files[l]));
    flat.push_back(static_cast<double>(mine.failed_files[l]));
    flat.push_back(static_cast<double>(mine.frames[l]));
    flat.push_back(mine.seconds[l]);
  }
  for (const GmmStats& st : mine.stats) st.AppendFlat(&flat);
  if (mine.kind == "ivector") mine.ivector.AppendFlat(&flat);
  const size_t length = flat.size();
  comm.AllReduceSum(&flat);
  if (flat.size() != length) throw Error("AllSum: the all-reduce returned another length");
  const double* in = flat.data();
  for (size_t l = 0; l < num; ++l) {
    sum.files[l] = static_cast<int64_t>(*in++);
    sum.failed_files[l] = static_cast<int64_t>(*in++);
    sum.frames[l] = static_cast<int64_t>(*in++);
    sum.seconds[l] = *in++;
  }
  for (GmmStats& st : sum.stats) in = st.SetFlat(in);
  if (sum.kind == "ivector") in = sum.ivector.SetFlat(in);
  return sum;
}

namespace {

// A folder removed with everything in it when this object dies (error or not).
class TempFolder {
 public:
  explicit TempFolder(const std::string& path) : path_(path) {
    std::error_code ec;
    fs::create_directories(path_, ec);
    if (ec) ThrowFileError(path_, "cannot create the feature cache folder: " + ec.message());
    RegisterTempFile(path_);
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
    UnregisterTempFile(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// AllSum for "init" accumulators without sending every rank's whole k-means++ subsample (up to
// capacity frames per language and rank, P x capacity in all): the frame counts are summed first, and
// each rank sends only its frames with keys below a limit that about capacity + 8 sqrt(capacity) + 32
// of the N frames of the language fall under (keys are uniform: the expected count is N x limit / 2^64).
// If the merged sample then holds fewer than min(capacity, N) frames for some language (probability
// below 1e-15), the unfiltered samples are exchanged instead. Either way the result is the sample of
// AllSum, exactly (FrameSubsample::KeepBelow).
TrainAccs AllSumInit(const TrainAccs& mine, Communicator& comm, const ProgressCallbacks& cb) {
  const size_t num = mine.languages.size();
  std::vector<double> total(num, 0.0);
  for (size_t l = 0; l < num; ++l) total[l] = mine.init[l].moments.Count();
  comm.AllReduceSum(&total);  // the same length everywhere: the languages are the data's
  TrainAccs filtered = mine;
  for (size_t l = 0; l < num; ++l) {
    const double cap = static_cast<double>(filtered.init[l].sample.Capacity());
    if (cap == 0 || total[l] <= cap) continue;
    const long double fraction = std::min<long double>(1.0L, (cap + 8 * std::sqrt(cap) + 32) / total[l]);
    if (fraction < 1) filtered.init[l].sample.KeepBelow(static_cast<uint64_t>(fraction * 18446744073709551615.0L));
  }
  TrainAccs sum = AllSum(filtered, comm);
  for (size_t l = 0; l < num; ++l) {
    const int64_t want = std::min<int64_t>(sum.init[l].sample.Capacity(), static_cast<int64_t>(total[l]));
    if (sum.init[l].sample.Capacity() > 0 && sum.init[l].sample.Size() < want) {
      Info(cb, "k-means++ subsample of '" + mine.languages[l] + "' short after filtering: exchanging every rank's whole sample");
      return AllSum(mine, comm);
    }
  }
  Info(cb, "k-means++ subsamples: " + std::to_string(filtered.ToBytes().size()) + " bytes sent by this rank (" +
               std::to_string(mine.ToBytes().size()) + " unfiltered)");
  return sum;
}

bool AllConverged(const LanguageModelSet& m) {
  for (const auto& [lang, c] : m.summary.at("em_state").at("converged").items())
    if (!c.get<bool>()) return false;
  return true;
}

}  // namespace

TrainResult TrainLanguageModelSetDistributed(const Dataset& data, const TrainOptions& opts, Communicator& comm,
                                             const ProgressCallbacks& cb) {
  const ShardSpec shard{comm.Rank() + 1, comm.Size()};
  std::unique_ptr<TempFolder> temp;
  ShardCacheOptions cache{opts.cache_dir};
  if (cache.dir.empty()) {
    temp = std::make_unique<TempFolder>(
        (fs::temp_directory_path() / ("slid-train-" + std::to_string(::getpid()) + "-rank" + std::to_string(comm.Rank())))
            .string());
    cache.dir = temp->path();
  }
  TrainResult result;
  ShardReport report;
  Info(cb, "rank " + std::to_string(comm.Rank()) + " of " + std::to_string(comm.Size()) + ": shard " + ShardName(shard));
  const TrainAccs init = AllSumInit(AccumulateShardInit(data, shard, opts, cache, cb, &report), comm, cb);
  std::vector<std::string> warnings;
  LanguageModelSet model = InitModelFromAccs(init, opts.em, &warnings);
  for (const std::string& w : warnings) Warning(cb, w);
  PhaseStart(cb, "EM over " + std::to_string(comm.Size()) + " processes", opts.em.max_iters, "iterations");
  for (int it = 1; it <= opts.em.max_iters && !AllConverged(model); ++it) {
    using Clock = std::chrono::steady_clock;
    auto seconds = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
    const auto t0 = Clock::now();
    ShardReport r;
    const TrainAccs mine = AccumulateShardStats(data, shard, model, opts, cache, {}, &r);
    const auto t1 = Clock::now();
    const TrainAccs stats = AllSum(mine, comm);  // headers all-gathered, statistics all-reduced
    const auto t2 = Clock::now();
    std::vector<std::string> notes;
    model = EstimateModel(model, stats, &notes);
    for (const std::string& n : notes) Info(cb, n);
    // The map (this rank's E-step, including any wait for a slower rank inside the all-gather) and
    // the all-reduce, for the scaling benchmark (bench/mpi_scaling.sh).
    Advance(cb, 1,
            "iteration " + std::to_string(it) + ": " + FormatFixed(seconds(t0, Clock::now()), 3) + " s, E-step " +
                FormatFixed(seconds(t0, t1), 3) + " s, all-reduce " + FormatFixed(seconds(t1, t2), 3) + " s (" +
                std::to_string(mine.ToBytes().size()) + " bytes per rank)",
            true);
  }
  PhaseEnd(cb);
  result.skipped = report.skipped;
  for (size_t l = 0; l < init.languages.size(); ++l) {
    result.files_used += init.files[l];
    result.audio_seconds += init.seconds[l];
    result.frames += init.frames[l];
  }
  model.summary["data"] = data.root;
  model.summary["data_format"] = data.format;
  model.summary["data_problems"] = data.problems.size();
  model.summary["training"] = "MPI, " + std::to_string(comm.Size()) + " processes";
  if (opts.augment.copies > 0) {
    result.augmented_copies = result.files_used * opts.augment.copies;
    model.summary["augment"] = opts.augment.ToJson();
    model.summary["augment"]["copies_made"] = result.augmented_copies;
  }
  result.model = std::move(model);
  return result;
}

}  // namespace slid
