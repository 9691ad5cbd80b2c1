// libFuzzer entry point: audio decoding from memory (slid::ReadAudioFromMemory), see targets.h.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return slid::fuzz::FuzzAudio(data, size);
}
