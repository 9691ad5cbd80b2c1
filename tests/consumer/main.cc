// slid_consumer MODEL AUDIO EXPECTED_LANGUAGE: loads a model, scores one recording twice (the file
// streamed by the library, and features computed here and handed over as an Eigen matrix, which is
// where mismatched Eigen alignment between slid and its user used to abort) and checks the decision.
#include <cstdio>
#include <string>

#include "slid/audio.h"
#include "slid/error.h"
#include "slid/model.h"
#include "slid/scorer.h"
#include "slid/version.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: slid_consumer MODEL AUDIO EXPECTED_LANGUAGE\n");
    return 2;
  }
  try {
    const slid::LanguageModelSet model = slid::LanguageModelSet::Load(argv[1]);
    const slid::Scorer scorer(model, slid::ScorerOptions{});
    const slid::ScoreResult from_file = scorer.ScoreFile(argv[2]);
    const slid::Waveform wav = slid::ReadAudio(argv[2], model.frontend.sample_rate_hz);
    const slid::Matrix feats = scorer.frontend().Compute(wav);
    const slid::ScoreResult from_feats = scorer.ScoreFeatures(feats, wav.Seconds());
    if (from_file.best < 0 || from_file.best != from_feats.best || from_file.avg_loglik != from_feats.avg_loglik) {
      std::fprintf(stderr, "slid_consumer: the two scoring paths disagree\n");
      return 1;
    }
    const std::string decision = scorer.languages()[from_file.best];
    std::printf("slid %s: %s -> %s (%.3f), %lld frames\n", slid::Version(), argv[2], decision.c_str(),
                from_file.avg_loglik[from_file.best], static_cast<long long>(from_file.num_frames));
    return decision == argv[3] ? 0 : 1;
  } catch (const slid::Error& e) {
    std::fprintf(stderr, "slid_consumer: %s\n", e.what());
    return 1;
  }
}
