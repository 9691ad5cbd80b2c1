// libFuzzer entry point: WAV/raw PCM streams read from a pipe (slid::PcmStreamReader), see targets.h.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return slid::fuzz::FuzzPcmStream(data, size);
}
