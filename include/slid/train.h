// Training a LanguageModelSet from a labelled Dataset: the driver behind `slid train`.
//
// 0. Before any work: every Dataset::problems line is reported through entry_error and every
//    Dataset::ignored line through warning; each listed file is checked to be a regular file (one
//    that is not is reported through entry_error and skipped, as in a batch); then the data is refused
//    with one Error naming every reason at once if a language label cannot name a model entry or a
//    file (empty, ".", "..", whitespace, ',', '/', '\\'), a language has no file left, or fewer than 2
//    languages have files.
// 1. Features, once per file (threads over files, appended in data order, so the model does not depend
//    on the number of threads). Each language's frames stay in memory until all languages together
//    outgrow max_memory_mb, then that language's frames are spilled to a feature cache file in
//    cache_dir (slid/feature_cache.h) and EM streams them from disk. A file that cannot be read is
//    reported through entry_error and skipped; a file without voiced frames gives a warning. With
//    augment.copies > 0, each file read also gives that many degraded copies (AugmentUtterance with the
//    file's utterance id), whose features follow the file's own as utterances "<id>/aug<k>"; copies
//    depend on the options and the id only, so the model still does not depend on threads or order.
// 2. The back-end:
//    - "gmm": one diagonal GMM per language, EM on that language's frames (slid/em.h);
//    - "ubm-map": one GMM (the UBM) trained with EM on the frames of all languages (balanced: each
//      language contributes the same number of frames, see ubm_balance_languages), then each
//      language's GMM is its MAP adaptation (slid/map.h; Reynolds et al. 2000) from one E-step of that
//      language's frames against the UBM; scored with the top-C UBM components (slid/backend.h).
//    - "ivector": the same UBM, then total-variability i-vectors per training file (utterance
//      boundaries kept), LDA, WCCN and a classifier (slid/ivector_backend.h).
// Errors (slid::Error): bad options, the data refused in step 0, an unusable cache folder, a language
// left without any voiced frame after step 1 (naming it and how many of its files were read / failed /
// silent). The cache folder, when created
// here, and every cache file are removed on return, error or not (and registered with
// RegisterTempFile so a signal handler can remove them too).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "slid/augment.h"
#include "slid/backend.h"
#include "slid/callbacks.h"
#include "slid/dataset.h"
#include "slid/em.h"
#include "slid/frontend.h"
#include "slid/ivector_backend.h"
#include "slid/map.h"
#include "slid/model.h"

namespace slid {

struct TrainOptions {
  FrontendOptions frontend;      // features to train on (validated here)
  std::string backend = "gmm";   // "gmm" (one EM-trained GMM per language) or "ubm-map" (see above)
  EmOptions em;                  // EM of each language's GMM (gmm) or of the UBM (ubm-map); em.threads is
                                 // replaced by `threads`
  MapOptions map;                // MAP adaptation (ubm-map only)
  UbmMapScoringOptions ubm_scoring;  // how the ubm-map back-end scores (top-C components per frame)
  bool ubm_balance_languages = true; // ubm-map: every language gives the UBM as many frames as the smallest
                                     // (evenly spread over its frames); false: all frames pooled
  IvectorBackendOptions ivector;     // the ivector back-end (i-vector dim, T iterations, classifier)
  AugmentOptions augment;        // multi-condition training: augment.copies degraded copies of every training
                                 // file (slid/augment.h), each trained on as an utterance of its own;
                                 // copies = 0: off. Audio only (not TrainLanguageModelSetOnFeatures)
  int threads = 1;               // threads for feature extraction (over files) and the EM E-step (>= 1)
  std::string cache_dir;         // folder for feature cache files; "" = a temporary folder, removed at the end
  double max_memory_mb = 1024;   // features of all languages kept in memory before spilling to disk (> 0)
};

// A file of the data set that was skipped.
struct SkippedFile {
  std::string entry;     // EntryName() of the entry
  std::string language;  // its label
  std::string error;     // one line naming the entry
};

struct TrainResult {
  LanguageModelSet model;             // the trained model; model.summary describes the run
  std::vector<SkippedFile> skipped;   // files that could not be read: missing ones (step 0), then in data order
  int64_t files_used = 0;             // files read (including files without voiced frames)
  double audio_seconds = 0;           // length of the audio read
  int64_t frames = 0;                 // voiced feature frames trained on (originals and copies)
  int64_t augmented_copies = 0;       // degraded copies made (TrainOptions::augment), files_used x copies
  double augmented_seconds = 0;       // their length
  int64_t augmented_silent_copies = 0;  // copies without voiced frames (e.g. refused by the speech check)
};

// Trains as described at the top of this file. Progress goes to `callbacks`.
TrainResult TrainLanguageModelSet(const Dataset& data, const TrainOptions& opts,
                                  const ProgressCallbacks& callbacks = {});

// Trains on precomputed features instead of audio (`slid train --feats RSPECIFIER --utt2lang FILE`):
// the matrices read from `features` (a FeatureReader source, slid/feature_io.h: "scp:feats.scp",
// "ark:f.ark", "ark:-", a data directory with feats.scp, a folder of .npy), one per utterance, each
// labelled by the entry of `labels` (LoadUtt2Lang) with its id. The features are taken as final: the
// frames the back-end is trained on (voiced frames, normalisation and SDC already applied).
//  - frontend_external = false: they are what slid's frontend computes with opts.frontend (e.g. made by
//    `slid features --config C`); every utterance must have its dimension, and the model records those
//    options, so it scores audio as well as features.
//  - frontend_external = true: they come from elsewhere (Kaldi); the first utterance with frames fixes
//    the dimension and the model records an external frontend (LanguageModelSet::frontend_external):
//    it scores such features only.
// Step 0 as in TrainLanguageModelSet, on the labels (problems reported, labels checked, >= 2
// languages), then one pass over the features in reader order: an utterance without a label, or of
// another dimension, is reported through entry_error and skipped; so, at the end, is a labelled
// utterance the features do not hold. An utterance without frames gives a warning. A language left
// without frames is an Error, as is (before anything is trained) a first utterance whose dimension
// differs from opts.frontend's when frontend_external is false. Audio length is unknown: audio_seconds
// stays 0; files_used counts utterances.
TrainResult TrainLanguageModelSetOnFeatures(const std::string& features, const Dataset& labels, bool frontend_external,
                                            const TrainOptions& opts, const ProgressCallbacks& callbacks = {});

// "kmeans" or "split": the name of an EmOptions::init value (as `slid train --init` spells it).
std::string GmmInitName(GmmInit init);

}  // namespace slid
