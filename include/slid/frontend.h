// The slid feature frontend: waveform -> MFCC -> CMVN -> SDC -> VAD frame selection.
//
// Default pipeline (FrontendOptions{}), chosen to follow Kaldi's egs/lre07/v1 language-ID recipe:
//   16 kHz; 25 ms povey frames every 10 ms, snip-edges (Kaldi default); 23 mel bins, 20 Hz..Nyquist;
//   7 cepstra C0..C6 with C0 (use-energy=false, lifter 22); dither 0 (Kaldi uses 1.0; 0 makes the
//   features bit-reproducible, and our input is never digitally silent enough to need it: the
//   mel energies are floored at FLT_EPSILON as in Kaldi);
//   sliding CMN over 300 frames, centred, no variance normalisation (apply-cmvn-sliding
//   --norm-vars=false --center=true --cmn-window=300);
//   SDC 7-1-3-7 with the 7 statics (add-deltas-sdc) = 56 dims;
//   energy VAD (compute-vad, threshold 5.5 + 0.5 * mean) decided on the raw frame log-energy
//   (vad-log-energy; C0 with threshold 5 for models made before it) before CMVN, applied after SDC
//   so SDC context uses every frame (select-voiced-frames), keeping voiced frames; before it, a
//   recording with fewer than 20 frames 6 dB above its noise floor (10th percentile of the VAD's
//   input) has no speech and no voiced frame (slid/vad.h CheckSpeech; --vad-min-snr-db 0 turns it off).
//   Note: with use-energy=false column 0 is C0 = sqrt(1/M) x sum of log-mel energies, not Kaldi's
//   log-energy, so the 5 + 0.5 x mean threshold acts on a different scale; on the asterisk
//   demo-congrats prompts the C0 and log-energy decisions agree on ~97% of frames. Set
//   --use-energy=true to get Kaldi's exact compute-vad input (column 0 then is the log-energy).
//
// Empty or short input: Compute() returns a 0 x Dim() matrix (never throws for length reasons) when
// the audio is empty, shorter than one frame, has fewer MFCC frames than the SDC context
// (SdcOptions::ContextFrames(): 21 for 7-1-3-7; the edge-replicated SDC of such a stub would be
// mostly copies), or when no frame is voiced.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slid/audio.h"
#include "slid/cmvn.h"
#include "slid/deltas.h"
#include "slid/matrix.h"
#include "slid/mfcc.h"
#include "slid/sdc.h"
#include "slid/vad.h"

namespace slid {

struct FrontendOptions {
  int sample_rate_hz = 16000;  // rate the audio must have (readers resample to it) ("sample-frequency")
  MfccOptions mfcc;            // MFCC analysis
  CmvnOptions cmvn;            // normalisation of the MFCC
  bool use_deltas = false;     // append Kaldi deltas to the normalised MFCC instead of SDC ("use-deltas")
  DeltaOptions deltas;         // used only if use_deltas
  SdcOptions sdc;              // shifted delta cepstra
  VadOptions vad;              // frame selection

  // Flat object keyed by the option names of FrontendOptionTable(), typed values
  // ({"num-ceps": 7, "dither": 0.0, "window-type": "povey", ...}).
  nlohmann::json ToJson() const;
  // Starts from defaults and applies every key; an unknown key or a bad value throws slid::Error
  // naming it. Missing keys keep their defaults. The result is not Validate()d.
  static FrontendOptions FromJson(const nlohmann::json& j);
  // Throws slid::Error("<option>: <problem>") on contradictions: high-freq above Nyquist, effective
  // high-freq <= low-freq, num-ceps > num-mel-bins, frame length/shift <= 0 (or < 2 / 1 samples),
  // unknown window, sdc-n > num-ceps, use-deltas together with use-sdc, out-of-range CMVN/VAD/SDC
  // values. (A mel bin left empty by the FFT resolution is reported by the Frontend constructor.)
  void Validate() const;
  // Equal when every option in FrontendOptionTable() has the same value.
  bool operator==(const FrontendOptions& other) const;
  bool operator!=(const FrontendOptions& other) const { return !(*this == other); }
};

// One row per user-settable option, in Kaldi spelling ("num-ceps", "frame-shift", ...).
struct FrontendOptionInfo {
  std::string name;
  std::string help;
  std::function<std::string(const FrontendOptions&)> get;         // current value as text
  std::function<void(FrontendOptions*, const std::string&)> set;  // parse + set; throws slid::Error naming the option
  std::string type;  // "int", "float", "bool" or "string": how ToJson types the value
};
const std::vector<FrontendOptionInfo>& FrontendOptionTable();

// Sets option `name` (without leading dashes) from text; throws slid::Error on an unknown name or
// bad value. Booleans accept true/false/1/0.
void SetFrontendOption(const std::string& name, const std::string& value, FrontendOptions* opts);

// Kaldi-style config text ("--num-ceps=7\n# comment\n--dither=0"), applied on top of *opts.
// Blank lines and '#' comments (whole-line or trailing) are ignored; a bare "--flag" means true.
// Errors are "<source>:<line>: <problem>". Kaldi options that do not change the features
// (KaldiOptionsWithoutEffect(): --allow-downsample, --allow-upsample, --verbose, ...) are accepted and
// ignored; each adds one line "<source>:<line>: note: --<name> does not change the features; ignored"
// to *notes (if given), for the tool to show.
void ApplyKaldiConfig(const std::string& text, const std::string& source, FrontendOptions* opts,
                      std::vector<std::string>* notes = nullptr);

// Kaldi compute-mfcc-feats / compute-vad options that a Kaldi config may hold but that cannot change
// slid's features (resampling is always allowed, logging, output bookkeeping): accepted in configs.
const std::vector<std::string>& KaldiOptionsWithoutEffect();

// Decibels per unit of MFCC column 0: 10/ln 10 for log-energy (use-energy), 10/ln 10/sqrt(num-mel-bins)
// for C0 (a g dB change of every mel band's energy moves C0 by sqrt(num-mel-bins) g ln 10 / 10).
double Column0DecibelsPerUnit(const MfccOptions& mfcc);

// What Frontend::Compute(wav, stage) stops after.
enum class FrontendStage {
  kMfcc,    // raw MFCC, all frames (frames x num-ceps)
  kCmvn,    // after CMVN, all frames (frames x num-ceps)
  kSdc,     // after SDC (or deltas), all frames (frames x Dim())
  kVoiced,  // the full pipeline: only voiced frames (frames x Dim())
};

class Frontend {
 public:
  // Validates the options (throws slid::Error) and builds the FFT plan, filterbank and window once.
  explicit Frontend(const FrontendOptions& opts);
  ~Frontend();
  Frontend(Frontend&&) noexcept;
  Frontend& operator=(Frontend&&) noexcept;

  const FrontendOptions& options() const { return opts_; }
  int Dim() const;  // output dims of the full pipeline (56 for the defaults)
  int Dim(FrontendStage stage) const;

  // Full pipeline: MFCC -> CMVN -> SDC -> VAD; only voiced frames; 0 x Dim() rows for empty/short
  // audio or no voiced frame (see the top of this file). Throws slid::Error if wav.rate_hz differs
  // from options().sample_rate_hz. Const and thread-safe.
  Matrix Compute(const Waveform& wav) const;
  Matrix Compute(const Waveform& wav, FrontendStage stage) const;

  // The stages, for tests and `slid features --stage`.
  Matrix ComputeMfcc(const Waveform& wav) const;  // frames x num-ceps
  // As above, and, if the VAD decides on the log-energy (vad-log-energy), the frame log-energies in
  // *vad_energy (one per row; left empty otherwise): ComputeVoiced/CheckSpeech(mfcc, *vad_energy)
  // then decide as Compute() does.
  Matrix ComputeMfcc(const Waveform& wav, std::vector<float>* vad_energy) const;
  // From raw MFCC of a whole recording: the voiced flags (all true if VAD is disabled; all false if
  // CheckSpeech finds no speech, else compute-vad's), decided on column 0 of mfcc.
  std::vector<bool> ComputeVoiced(const Matrix& mfcc) const;
  // As Compute() decides them: on log_energy (one per MFCC row, from ComputeMfcc(wav, &e)) if
  // vad-log-energy, else on column 0 of mfcc. Throws slid::Error if the sizes differ.
  std::vector<bool> ComputeVoiced(const Matrix& mfcc, const std::vector<float>& log_energy) const;
  // From raw MFCC of a whole recording: VAD's speech check (slid/vad.h CheckSpeech) on the VAD's input
  // (column 0, or log_energy if given and vad-log-energy) in its dB scale. With VAD disabled or
  // vad-min-snr-db 0 there is no check: has_speech is true iff there is a frame.
  SpeechCheck CheckSpeech(const Matrix& mfcc) const;
  SpeechCheck CheckSpeech(const Matrix& mfcc, const std::vector<float>& log_energy) const;
  // From raw MFCC: CMVN then SDC/deltas, every frame (frames x Dim()); 0 rows if fewer frames than
  // the SDC context.
  Matrix ComputeFeatures(const Matrix& mfcc) const;

 private:
  FrontendOptions opts_;
  MfccComputer mfcc_;
};

}  // namespace slid
