// Labelled audio collections for training and evaluation, in three on-disk forms:
//
//  1. A folder of language folders:  DATA/<lang>/**/<file>.{wav,flac,ogg,opus,mp3,aiff,aif,au,sph,...}
//     The language is the name of the top-level sub-folder; files are found recursively; files whose
//     extension is not a known audio extension are ignored; hidden files/folders (".*") are skipped.
//  2. A Kaldi data directory: DATA/wav.scp ("<utt-id> <path>" or "<utt-id> <command> |") and
//     DATA/utt2lang ("<utt-id> <lang>"). A wav.scp value ending in '|' is a shell command whose
//     standard output is a whole audio file (e.g. "sox in.flac -t wav - |"). Utterances missing from
//     utt2lang (or vice versa) are an error naming the first such id.
//  3. A TSV list file: one "<path>\t<lang>" per line; relative paths are relative to the list file's
//     folder; blank lines, lines starting with '#' and a first line "path\tlang" (or
//     "path\tlanguage") are skipped.
//
// Entries are returned sorted by (language, id) so results do not depend on directory order.
// Errors throw slid::Error naming the path (and line for list files): missing path, an empty folder,
// a language folder without audio, malformed lines, duplicate ids.
#pragma once
#include <string>
#include <vector>

#include "slid/audio.h"

namespace slid {

// One labelled recording.
struct DataEntry {
  std::string id;        // utterance id: Kaldi utt-id, or the path relative to the data root / as listed
  std::string source;    // a file path, or (if is_command) a shell command without its trailing '|'
  bool is_command = false;  // true for a piped wav.scp entry
  std::string language;  // language label
};

// A loaded collection.
struct Dataset {
  std::string root;                   // the path it was loaded from
  std::string format;                 // "folder", "kaldi" or "tsv"
  std::vector<DataEntry> entries;     // sorted by (language, id); never empty
  std::vector<std::string> languages; // distinct labels, sorted; never empty
};

// Loads DATA in whichever form it is (see above): a folder holding wav.scp is a Kaldi data directory,
// any other folder a folder of language folders, a regular file a TSV list. Throws if it has no entries.
Dataset LoadDataset(const std::string& path);

// Reads one entry's audio at `target_rate_hz` (0: native). Files go through ReadAudio; commands are run
// with popen, their whole output read and decoded with ReadAudioFromMemory. Throws Error naming the entry
// (path or command) if the command fails (non-zero exit) or the audio is unreadable.
Waveform ReadEntryAudio(const DataEntry& entry, int target_rate_hz);

// The text a user should see for an entry: its path, or "<command> |".
std::string EntryName(const DataEntry& entry);

// True if `path`'s extension (case-insensitive) is one slid treats as audio when scanning folders.
bool HasAudioExtension(const std::string& path);

}  // namespace slid
