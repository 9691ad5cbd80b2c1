// libFuzzer entry point: the model loader (slid::LanguageModelSet::FromBytes), see targets.h.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return slid::fuzz::FuzzModel(data, size);
}
