// libFuzzer entry point: the data-list parsers of dataset.h (TSV list, Kaldi wav.scp + utt2lang), see targets.h.
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return slid::fuzz::FuzzLists(data, size);
}
