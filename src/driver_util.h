// Small pieces shared by the drivers (train.cc, evaluate.cc); not part of the public API.
#pragma once
#include <string>

#include "slid/callbacks.h"
#include "slid/dataset.h"

namespace slid::internal {

// One line naming the entry: `what` as is if it already starts with "<name>:", else "<name>: <what>".
inline std::string EntryErrorLine(const DataEntry& entry, const std::string& what) {
  const std::string name = EntryName(entry);
  return what.rfind(name + ":", 0) == 0 ? what : name + ": " + what;
}

// Null-safe calls of the callbacks.
inline void PhaseStart(const ProgressCallbacks& cb, const std::string& what, int64_t total, const std::string& unit) {
  if (cb.phase_start) cb.phase_start(what, total, unit);
}
inline void Advance(const ProgressCallbacks& cb, int64_t n, const std::string& detail, bool milestone = false,
                    double seconds_left = -1) {
  if (cb.advance) cb.advance(n, detail, milestone, seconds_left);
}
inline void PhaseEnd(const ProgressCallbacks& cb, const std::string& detail = "") {
  if (cb.phase_end) cb.phase_end(detail);
}
inline void Info(const ProgressCallbacks& cb, const std::string& text) {
  if (cb.info) cb.info(text);
}
inline void Warning(const ProgressCallbacks& cb, const std::string& text) {
  if (cb.warning) cb.warning(text);
}
inline void EntryError(const ProgressCallbacks& cb, const std::string& message) {
  if (cb.entry_error) cb.entry_error(message);
}

}  // namespace slid::internal
