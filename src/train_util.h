// Checks shared by the training drivers (train.cc, distributed.cc); not part of the public API.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "slid/dataset.h"
#include "slid/frontend.h"
#include "slid/train.h"

namespace slid::internal {

// Bad options: an Error before any work.
void CheckTrainOptions(const TrainOptions& opts);

// The utterance id of degraded copy `copy` of utterance `id` (its EM subsample key): "<id>/aug<copy>".
std::string AugmentedId(const std::string& id, int copy);

// One data entry's features for training: its audio read at `rate_hz` (ReadEntryAudio), the voiced
// features (Frontend::Compute) and those of its augment.copies degraded copies (AugmentUtterance with
// the entry's id), in copy order. With augment.original_vad, a copy with as many MFCC frames as the
// original takes the original's voiced flags (see AugmentOptions). A file that cannot be read or
// computed does not throw: `error` holds its one-line message (EntryErrorLine) and the rest is empty.
struct EntryFeatures {
  Matrix features;
  double seconds = 0;          // length of the entry's audio
  std::vector<Matrix> copies;  // features of the degraded copies, in copy order
  double copy_seconds = 0;     // length of the copies' audio
  std::string error;           // non-empty: the entry failed
};
EntryFeatures ComputeEntryFeatures(const Frontend& frontend, const DataEntry& entry, int rate_hz,
                                   const AugmentOptions& augment);

// Refuses data that cannot make a model, with one Error naming every reason: labels that cannot name a
// model entry and cache files, languages without any item left (`present`, of `listed`), fewer than 2
// languages. `unit` names the items ("file(s)", "utterance(s)").
void RefuseUnusableData(const Dataset& data, const std::map<std::string, int64_t>& listed,
                        const std::map<std::string, int64_t>& present, const std::string& unit);

}  // namespace slid::internal
