// libFuzzer entry point: Kaldi archive and object reading (slid::KaldiMatrixReader, ReadKaldiMatrix), see targets.h.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return slid::fuzz::FuzzKaldiArk(data, size);
}
