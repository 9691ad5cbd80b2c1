// libFuzzer entry point: the Kaldi config parser (slid::ApplyKaldiConfig) and the frontend options, see targets.h.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return slid::fuzz::FuzzConfig(data, size);
}
