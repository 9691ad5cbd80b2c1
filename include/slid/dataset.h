// Labelled audio collections for training and evaluation, in three on-disk forms:
//
//  1. A folder of language folders:  DATA/<lang>/**/<file>.{wav,flac,ogg,opus,mp3,aiff,aif,au,sph,...}
//     The language is the name of the top-level sub-folder; files are found recursively; hidden
//     files/folders (".*") are skipped silently. Other files are not taken, and each is named in
//     Dataset::ignored with the reason: an extension that is not a known audio extension (".m4a",
//     ".txt"), or not a regular file (a FIFO, a socket, a device, a broken symbolic link).
//  2. A Kaldi data directory: DATA/wav.scp ("<utt-id> <path>" or "<utt-id> <command> |") and
//     DATA/utt2lang ("<utt-id> <lang>"), optionally DATA/utt2spk ("<utt-id> <speaker>") and
//     DATA/segments ("<utt-id> <recording-id> <start-seconds> <end-seconds>", end -1 = to the end of
//     the recording). With segments, wav.scp is keyed by recording id and every utterance is a time
//     range of a recording; without it, an utterance is a whole wav.scp entry. A wav.scp value ending
//     in '|' is a shell command whose standard output is a whole audio file (e.g. "sox in.flac -t wav
//     - |"). A segment that lies outside its recording is found when reading it (ReadEntryAudio),
//     naming the segments file and line.
//  3. A TSV list file: one "<path>\t<lang>" per line; relative paths are relative to the list file's
//     folder; blank lines, lines starting with '#' and a first line "path\tlang" (or
//     "path\tlanguage") are skipped.
// Every list file may start with a UTF-8 byte-order mark (ignored) and have CRLF line ends.
//
// Entries are returned sorted by (language, id) so results do not depend on directory order.
//
// Problems are collected, not thrown, so that one pass names them all and the rest of the data is
// used, as a batch skips a bad file: Dataset::problems holds one line per problem, naming the file
// (and line) and what is wrong, and the entry or line is left out. They are: a malformed line (TSV,
// wav.scp, segments, utt2lang, utt2spk), a repeated path or utterance id (the later line), an
// utterance missing from utt2lang (or utt2spk, if present) and a label for an utterance that does
// not exist, an empty command, a segment naming an unknown recording or with start >= end, a
// language folder without audio files (the language is left out) or that cannot be listed.
// LoadDataset throws slid::Error only when nothing can be read: a missing path, a folder without
// language sub-folders, a Kaldi directory without utt2lang, an unreadable list file, or no entries and
// no problem to explain why. Consumers (the drivers in train.h, evaluate.h) report every problem and
// every ignored file, then refuse data left unusable (no entries, too few languages).
//
// Commands (a wav.scp value "<command> |") are run through /bin/sh, as Kaldi does, ONLY for lines of
// a Kaldi wav.scp read as such: DATA/wav.scp of a data directory, or a file given to ReadWavScp
// (`--scp FILE` in the tools). A plain path list (ReadPathList, standard input, `--list`), a TSV list
// and a file name are never run: a path that ends in '|' is just a path.
#pragma once
#include <functional>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "slid/audio.h"
#include "slid/io.h"

namespace slid {

// One labelled recording.
struct DataEntry {
  std::string id;        // utterance id: Kaldi utt-id, or the path relative to the data root / as listed
  std::string source;    // a file path, or (if is_command) a shell command without its trailing '|'
  bool is_command = false;  // true for a piped wav.scp entry
  std::string language;  // language label ("" where the input carries none: path lists, a bare wav.scp)
  std::string speaker;   // utt2spk label; "" if the data directory has no utt2spk (or another form)
  // Kaldi segments: the utterance is [start_seconds, end_seconds) of recording `recording` (its wav.scp
  // id), whose audio is `source`. recording is "" and the range [0, -1) for whole-file entries.
  std::string recording;
  double start_seconds = 0;   // start of the utterance in the recording, seconds
  double end_seconds = -1;    // end, seconds; -1: to the end of the recording
  std::string origin;         // where the entry was defined, "<file>:<line>" (segments, wav.scp), or ""
  // Set when `source` is a temporary copy of a stream (standard input); keeps the copy alive as long
  // as any copy of the entry exists. `id` then names the stream ("<stdin>").
  std::shared_ptr<const TempFile> temp_file;
};

// A loaded collection.
struct Dataset {
  std::string root;                   // the path it was loaded from
  std::string format;                 // "folder", "kaldi" or "tsv"
  std::vector<DataEntry> entries;     // sorted by (language, id); empty only if `problems` is not
  std::vector<std::string> languages; // distinct labels of `entries`, sorted
  // What was left out, one line each: "<file>[:<line>]: <problem>" (see the top of this file), in the
  // order found. A consumer reports every one and ends with a batch's "some inputs failed" status.
  std::vector<std::string> problems;
  // Files of language folders that were not taken: "<path>: ignored: <reason>", at most 3 named per
  // language folder and kind (extension, or non-regular file), then "<folder>: ignored N more ...".
  std::vector<std::string> ignored;
};

// Loads DATA in whichever form it is (see above): a folder holding wav.scp is a Kaldi data directory,
// any other folder a folder of language folders, a regular file a TSV list. Collects problems (see
// above); throws only when nothing can be read.
Dataset LoadDataset(const std::string& path);

// Labels without audio, for precomputed features (`--feats RSPECIFIER --utt2lang FILE`): a Kaldi
// utt2lang file, "<utt-id> <language>" per line. Entries carry id, language and origin
// ("<file>:<line>"), no source; format "utt2lang"; sorted like LoadDataset's. Malformed lines and
// repeated ids are collected in problems (the line is skipped); throws only if the file
// cannot be read or holds neither an entry nor a problem.
Dataset LoadUtt2Lang(const std::string& path);

// A plain list of paths: every line is one path, exactly as written (any character but newline;
// spaces, tabs, '#' and a trailing '|' are part of the path, and no command is ever run). Empty lines
// are skipped; a trailing '\r' (CRLF files) is removed, and so is a UTF-8 byte-order mark at the start.
// id = source = the path. `list_name` is only recorded for errors. Never throws.
std::vector<DataEntry> ReadPathList(const std::string& text, const std::string& list_name);

// A Kaldi wav.scp file read as such: "<utt-id> <path>" or "<utt-id> <command> |" per line (the id ends
// at the first space or tab; the rest, trimmed, is the value). Values ending in '|' become commands
// (is_command). Blank lines and lines starting with '#' are skipped. A relative path that does not
// exist from the working directory is taken relative to the file's folder. Entries keep file order;
// origin is "<file>:<line>". A UTF-8 byte-order mark at the start is ignored. Strict: throws
// Error("<file>:<line>: ...") for the first line without a value, empty command or duplicate id.
//
// With a Kaldi segments file (`segments_path` not empty: "<utt-id> <recording-id> <start-seconds>
// <end-seconds>" per line, end -1 = to the end) the wav.scp is keyed by recording id and the entries are
// the segments, read as a data directory's are: one per segments line, in file order, each a time range
// of its recording (IsSegment), origin "<segments>:<line>". Equally strict: throws for the first
// malformed segments line, a repeated id, a start not before the end, or a recording not in the
// wav.scp. A range past the end of its recording is found when it is read (ReadEntryAudio).
std::vector<DataEntry> ReadWavScp(const std::string& path, const std::string& segments_path = "");

// Standard input as `slid identify -` reads it. If it begins with audio (LooksLikeAudio), the whole
// stream is copied to a temporary file (memory stays bounded; only disk space limits its length) and
// returned as one entry with id "<stdin>". Otherwise it is a plain path list (ReadPathList). Empty
// input gives no entries. Throws Error if the stream cannot be read or the copy cannot be written.
std::vector<DataEntry> ReadStandardInput(std::istream& in);

// The one-line message for an error `what` met while processing `entry`: "<name>: <problem>", with
// <name> = EntryName(entry) written once (a message that already starts with the entry's path, or
// with the path of its temporary copy, is not prefixed twice).
std::string EntryErrorMessage(const DataEntry& entry, const std::string& what);

// True if the entry is a time range of its recording (from a segments file).
bool IsSegment(const DataEntry& entry);

// Reads one entry's audio at `target_rate_hz` (0: native). Files go through ReadAudio, segments through
// ReadAudioRange (a seek, so only the range is decoded). A command is run once with popen and its
// output copied to a temporary file (memory holds only the decoded waveform, never the bytes), which is
// then read like a file. Segments of a piped recording share one run of its command: the last 8
// recordings' outputs are kept (thread-safe; each removed once evicted and no longer in use), so
// segments read in recording order (sort by `recording`, or ids prefixed by the recording id as in
// Kaldi) run each command once. A recording read in segments from a seekable file is decoded about once
// in total, whatever the order. Throws Error naming the entry (path or command, plus the segments line)
// if the command fails (non-zero exit), the audio is unreadable, or the segment lies outside it.
Waveform ReadEntryAudio(const DataEntry& entry, int target_rate_hz);

// Calls `read` with the path of a file holding the whole recording of `entry`: the file itself, or
// (for a command) its output copied to a temporary file that lives until `read` returns. For
// streaming readers (AudioReader, Scorer::ScoreFile), so that piped entries are read in bounded memory
// too. Errors, from the command or from `read`, are rethrown as Error naming the entry (EntryName), not
// the temporary file. For a segment this is its whole recording: cut it with ReadEntryAudio instead.
void WithEntryFile(const DataEntry& entry, const std::function<void(const std::string& path)>& read);

// The text a user should see for an entry: its path, "<command> |", or "<stdin>".
std::string EntryName(const DataEntry& entry);

// True if `path`'s extension (case-insensitive) is one slid treats as audio when scanning folders.
bool HasAudioExtension(const std::string& path);

}  // namespace slid
