// The shipped samples as a small labelled data set (es, fr, it; two recordings each), for the tests of
// the training and evaluation drivers.
#pragma once
#include <string>
#include <utility>

#include "slid/dataset.h"

inline slid::Dataset SampleData() {
  const std::string s = std::string(SLID_SOURCE_DIR) + "/models/samples/";
  slid::Dataset d;
  d.root = s;
  d.format = "tsv";
  const std::pair<const char*, const char*> files[] = {
      {"es", "es-conf-onlyperson.wav"}, {"es", "es-co-conf-onlyperson.wav"},
      {"fr", "fr-conf-onlyperson.wav"}, {"fr", "fr-armelle-conf-onlyperson.wav"},
      {"it", "it-conf-onlyperson.wav"}, {"it", "it-menardi-conf-onlyperson.wav"}};
  for (const auto& [lang, file] : files) {
    slid::DataEntry e;
    e.id = file;
    e.source = s + file;
    e.language = lang;
    d.entries.push_back(e);
  }
  d.languages = {"es", "fr", "it"};
  return d;
}
