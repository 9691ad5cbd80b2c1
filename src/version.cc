#include "slid/version.h"

namespace slid {

const char* Version() { return SLID_VERSION; }

}  // namespace slid
