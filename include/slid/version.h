// slid's version string and the model-file format version it writes.
#pragma once

namespace slid {

// The program version, e.g. "0.1.0".
const char* Version();

}  // namespace slid
