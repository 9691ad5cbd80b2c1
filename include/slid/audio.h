// Audio input: any format libsndfile 1.2 reads (PCM 8/16/24/32-bit and float WAV, FLAC, Ogg Vorbis,
// Opus, MP3, AIFF, ...), mixed down to mono, scaled to Kaldi's 16-bit range and resampled with libsoxr.
//
// Contracts shared by every function here:
//  - Output is mono: a file with C channels gives, per frame, the average of its C samples.
//  - Samples are on Kaldi's 16-bit scale: libsndfile's normalised float value times 32768, so a 16-bit
//    PCM file gives exactly its integer sample values and full scale is +-32768. Kaldi's energy and
//    VAD thresholds therefore mean the same here.
//  - `target_rate_hz` > 0 resamples to that rate with libsoxr (high quality, linear phase, continuous
//    state across chunks); 0 keeps the file's native rate. A negative rate is an error.
//  - Sample rates: files (and resampling targets) must be within [kMinSampleRateHz, kMaxSampleRateHz]
//    = [1000, 768000] Hz. Below 1 kHz nothing of speech is left (Nyquist 500 Hz) and the rate is
//    almost surely a damaged header; the bound also keeps every resampling ratio within 768:1, so the
//    resampler's memory is bounded (it works in steps of at most 1 M output samples).
//  - Errors throw slid::Error("<path>: <problem>"): missing file, a directory, a FIFO/device/socket
//    (only regular files are read: see CheckRegularFile), not audio, a rate out of range, truncated
//    data, zero samples, NaN or infinite samples. No libsndfile or libsoxr type appears here.
//    "Truncated" is detected where the container says how much should follow: a WAV/AIFF data chunk
//    longer than the file (but not the ~2^31 placeholder sizes that writers into a pipe leave), or a
//    FLAC stream decoding to fewer frames than its STREAMINFO promises. A cut Ogg (Vorbis, Opus) or
//    MP3 file either fails as malformed or reads as far as it goes: their lengths come from the last
//    page present, or are estimated, so a cut cannot always be told from a short file.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace slid {

constexpr int kMinSampleRateHz = 1000;    // lowest rate of an audio file or resampling target
constexpr int kMaxSampleRateHz = 768000;  // highest (the highest rate real audio uses)

// A mono waveform on Kaldi's 16-bit scale (+-32768 is full scale).
struct Waveform {
  std::vector<float> samples;  // mono samples, Kaldi 16-bit scale
  int rate_hz = 0;             // sampling rate in Hz; 0 only for a default-constructed Waveform
  // Length in seconds: samples.size() / rate_hz (0 if rate_hz is 0).
  double Seconds() const;
};

// Reads a whole audio file, mixes it to mono and resamples it to `target_rate_hz` (0: native rate).
// Throws Error("<path>: ...") if the file is missing, not audio, truncated, empty or holds NaN/Inf.
// For files that need not fit in memory, use AudioReader.
Waveform ReadAudio(const std::string& path, int target_rate_hz);

// As ReadAudio, but only the time range [start_seconds, end_seconds) of the file (end_seconds < 0:
// to the end), e.g. one Kaldi `segments` line. Seeks in the file (libsndfile sf_seek), so only the
// range is decoded (plus what the codec needs to resynchronise). Samples: source frames
// round(start * rate) to round(end * rate), then resampled. An end up to `max_overshoot_seconds`
// past the end of the recording is cut to it (Kaldi's extract-segments --max-overshoot, 0.5 s).
// Throws Error("<path>: ...") as ReadAudio does, and if start < 0, end <= start, the range starts at
// or after the end of the recording, or ends more than max_overshoot_seconds after it.
Waveform ReadAudioRange(const std::string& path, double start_seconds, double end_seconds, int target_rate_hz,
                        double max_overshoot_seconds = 0.5);

// As ReadAudio, but decodes `bytes` (a whole audio file held in memory, e.g. the output of a piped
// wav.scp command) through libsndfile's virtual I/O. `name` stands for the path in error messages.
Waveform ReadAudioFromMemory(const std::string& bytes, const std::string& name, int target_rate_hz);

// True if `head` (the first bytes of a stream; 12 are enough) starts like an audio file slid can
// read: RIFF/RF64/BW64 ... WAVE, fLaC + STREAMINFO, OggS (version 0), ID3 (v2.2-2.4), an MPEG audio
// frame sync (0xFF then three set bits, layer bits not 00), ".snd" (Sun/NeXT, header offset 24 to
// 2^24), FORM ... AIFF/AIFC, "NIST_1A\n " (SPHERE), caff (version 1). Checked strictly (signature plus a following field)
// so that a text list of paths beginning with, say, "RIFF" is not mistaken for audio. Used to tell
// audio piped into standard input from a list of paths.
bool LooksLikeAudio(const std::string& head);

// Resamples `in` to `target_rate_hz` with libsoxr (high quality). The output has
// round(in.samples.size() * target / in.rate_hz) samples; a waveform already at the target rate
// (or target 0) is returned unchanged; an empty waveform gives an empty one at the target rate.
// Throws Error if in.rate_hz <= 0 or target_rate_hz < 0, or if resampling is needed and either rate is
// outside [kMinSampleRateHz, kMaxSampleRateHz].
Waveform Resample(const Waveform& in, int target_rate_hz);

// Streaming reader for long files: holds one chunk plus the decoder's and resampler's state, so
// memory stays bounded whatever the file's length. The concatenation of all chunks equals
// ReadAudio(path, target_rate_hz) sample for sample.
class AudioReader {
 public:
  // Opens `path`; throws Error("<path>: ...") as ReadAudio does (zero samples is an error here too).
  AudioReader(const std::string& path, int target_rate_hz);
  ~AudioReader();
  AudioReader(const AudioReader&) = delete;
  AudioReader& operator=(const AudioReader&) = delete;

  double DurationSeconds() const;  // of the source file, as its header reports it
  int rate_hz() const;             // output rate (the target, or the native rate if target was 0)
  int source_rate_hz() const;      // the file's native rate
  int source_channels() const;     // the file's channel count (output is always mono)

  // Fills *chunk with the next round(max_seconds * rate_hz()) samples (at least 1; the last chunk may
  // be shorter). Returns false, with an empty chunk, once the file is exhausted. Throws
  // Error("<path>: ...") on truncated data or NaN/Inf samples; max_seconds must be > 0.
  bool Read(double max_seconds, Waveform* chunk);

  class Impl;  // decoder + resampler state; defined in src/audio.cc

 private:
  std::unique_ptr<Impl> impl_;
};

// What a header-less stream holds (PcmStreamReader).
struct PcmStreamOptions {
  std::string raw_format;  // "" (the stream must start with a WAV header), "s16le" or "f32le" (float32,
                           // +-1.0 full scale); a WAV header, if present, overrides these
  int raw_rate_hz = 0;     // sample rate of raw input, Hz (required with raw_format)
  int raw_channels = 1;    // interleaved channels of raw input, mixed to mono (1-64)
};

// Reads audio from a pipe, FIFO, terminal or file descriptor as it arrives: raw PCM, or a WAV stream
// (RIFF/RF64 header with 16-bit PCM or 32-bit float data; a data size of 0 or >= 0x7FFF0000, as
// writers into pipes leave it, means "to the end of the stream"). Output: mono, Kaldi scale, resampled
// to target_rate_hz with a streaming libsoxr (as AudioReader). Each Read returns what has arrived, so
// a slow writer's samples come out as soon as they are written. Errors: slid::Error("<name>: ...") for
// a stream that is neither WAV nor declared raw PCM (other audio formats cannot be streamed: convert
// with e.g. `sox in.flac -t wav -`), an unsupported WAV encoding, a read error, NaN/Inf samples, a
// stream ending inside a sample, or no sample at all.
class PcmStreamReader {
 public:
  // fd: an open descriptor (not owned, not closed). Reads the header now (blocks until the first
  // bytes arrive). name: used in error messages ("<stdin>", a path).
  PcmStreamReader(int fd, const std::string& name, const PcmStreamOptions& opts, int target_rate_hz);
  ~PcmStreamReader();
  PcmStreamReader(const PcmStreamReader&) = delete;
  PcmStreamReader& operator=(const PcmStreamReader&) = delete;

  const std::string& name() const;
  int rate_hz() const;         // output rate
  int source_rate_hz() const;  // the stream's rate
  bool is_wav() const;         // a WAV header was found
  // Blocks until some bytes arrive, then replaces *chunk with the samples they complete (possibly
  // none, while the resampler fills). Returns false, with an empty chunk, at the end of the stream.
  bool Read(Waveform* chunk);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace slid
