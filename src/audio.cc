// Audio decoding (libsndfile), mono mixdown, Kaldi scaling and resampling (libsoxr).
// The C libraries stay behind the two small RAII classes below; include/slid/audio.h sees neither.
#include "slid/audio.h"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>

#include <unistd.h>
#include <cerrno>

#include "slid/error.h"
#include "slid/number_text.h"
#include "slid/io.h"

namespace slid {
namespace {

// libsndfile's normalised float (+-1.0 full scale) to Kaldi's 16-bit scale.
constexpr float kKaldiScale = 32768.0f;
// Source frames decoded per step; small enough to keep memory bounded at any sample rate.
constexpr sf_count_t kBlockFrames = 16384;

// An open libsndfile handle, from a path or from bytes in memory (virtual I/O).
class SndFile {
 public:
  // Opens a file on disk. Checks existence and kind first so the error says what is wrong, and so
  // that a FIFO or a device is refused instead of blocking or never ending.
  explicit SndFile(const std::string& path) : name_(path) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::status(path, ec))) ThrowFileError(path, "no such file");
    CheckRegularFile(path, "an audio file");
    std::memset(&info_, 0, sizeof(info_));
    file_ = sf_open(path.c_str(), SFM_READ, &info_);
    if (!file_) ThrowFileError(path, std::string("cannot read as audio: ") + sf_strerror(nullptr));
    Init();
  }

  // Decodes `bytes` in place; `bytes` must outlive this object.
  SndFile(const std::string& bytes, const std::string& name) : name_(name) {
    memory_ = std::make_unique<Memory>(Memory{&bytes, 0});
    std::memset(&info_, 0, sizeof(info_));
    file_ = sf_open_virtual(&kVirtualIo, SFM_READ, &info_, memory_.get());
    if (!file_) ThrowFileError(name, std::string("cannot read as audio: ") + sf_strerror(nullptr));
    Init();
  }

  ~SndFile() {
    if (file_) sf_close(file_);
  }
  SndFile(const SndFile&) = delete;
  SndFile& operator=(const SndFile&) = delete;

  const std::string& name() const { return name_; }
  int rate_hz() const { return info_.samplerate; }
  int channels() const { return info_.channels; }
  sf_count_t frames() const { return info_.frames; }
  bool is_mpeg() const { return (info_.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG; }

  // Restricts reading to source frames [start, end) (end < 0: to the end of the file): seeks with
  // sf_seek (WAV, FLAC, Ogg, Opus, MP3 on disk all seek), or, should a format refuse, decodes and
  // discards the frames before `start`. Call before the first ReadMono.
  void SetRange(sf_count_t start, sf_count_t end) {
    range_end_ = end;
    if (start <= 0) return;
    range_start_ = start;
    if (sf_seek(file_, start, SEEK_SET) == start) return;
    std::vector<float> scratch(static_cast<size_t>(kBlockFrames) * info_.channels);
    for (sf_count_t left = start; left > 0;) {
      const sf_count_t got = sf_readf_float(file_, scratch.data(), std::min(left, kBlockFrames));
      if (got <= 0) break;
      left -= got;
    }
  }
  // Frames the reader should deliver: the header's count, cut to the range (-1 if unknown).
  sf_count_t expected_frames() const {
    if (info_.frames <= 0 || info_.frames == SF_COUNT_MAX) return range_end_ >= 0 ? range_end_ - range_start_ : -1;
    const sf_count_t end = range_end_ >= 0 ? std::min(range_end_, info_.frames) : info_.frames;
    return std::max<sf_count_t>(0, end - range_start_);
  }

  // Reads up to `max_frames` frames, mixes them to mono on Kaldi's scale and appends them to *out.
  // Returns the number of frames read (0 at the end). Throws on decoder errors and non-finite samples.
  sf_count_t ReadMono(sf_count_t max_frames, std::vector<float>* out) {
    if (range_end_ >= 0) {
      max_frames = std::min(max_frames, range_end_ - range_start_ - read_);
      if (max_frames <= 0) return 0;
    }
    const int c = info_.channels;
    const size_t start = out->size();
    sf_count_t got;
    if (c == 1) {  // decode straight into the output
      out->resize(start + static_cast<size_t>(max_frames));
      got = sf_readf_float(file_, out->data() + start, max_frames);
    } else {
      interleaved_.resize(static_cast<size_t>(max_frames) * c);
      got = sf_readf_float(file_, interleaved_.data(), max_frames);
    }
    if (got < 0) got = 0;
    out->resize(start + static_cast<size_t>(got));
    if (got == 0 && sf_error(file_) != SF_ERR_NO_ERROR)
      ThrowFileError(name_, std::string("decoding failed: ") + sf_strerror(file_));
    float* y = out->data() + start;
    const size_t n = static_cast<size_t>(got);
    // NaN/Inf in any channel shows in the mix (Inf - Inf is NaN); huge finite floats overflow to
    // Inf. The test is branch-free so the loops vectorise; the offending index is found afterwards.
    bool bad = false;
    if (c == 1) {
      for (size_t i = 0; i < n; ++i) {
        const float v = y[i] * kKaldiScale;
        y[i] = v;
        bad |= !(std::fabs(v) <= std::numeric_limits<float>::max());
      }
    } else {
      const float scale = kKaldiScale / static_cast<float>(c);
      const float* x = interleaved_.data();
      for (size_t i = 0; i < n; ++i) {
        float sum = 0.0f;
        for (int ch = 0; ch < c; ++ch) sum += x[i * c + ch];
        const float v = sum * scale;
        y[i] = v;
        bad |= !(std::fabs(v) <= std::numeric_limits<float>::max());
      }
    }
    if (bad)
      for (size_t i = 0; i < n; ++i)
        if (!std::isfinite(y[i]))
          ThrowFileError(name_, "sample " + std::to_string(read_ + static_cast<sf_count_t>(i)) + " is NaN or infinite");
    read_ += got;
    return got;
  }

  sf_count_t frames_read() const { return read_; }

 private:
  struct Memory {
    const std::string* bytes;
    sf_count_t pos;
  };
  static sf_count_t VLength(void* user) {
    return static_cast<sf_count_t>(static_cast<Memory*>(user)->bytes->size());
  }
  static sf_count_t VSeek(sf_count_t offset, int whence, void* user) {
    auto* m = static_cast<Memory*>(user);
    const sf_count_t size = static_cast<sf_count_t>(m->bytes->size());
    sf_count_t pos = whence == SEEK_SET ? offset : whence == SEEK_CUR ? m->pos + offset : size + offset;
    m->pos = std::clamp<sf_count_t>(pos, 0, size);
    return m->pos;
  }
  static sf_count_t VRead(void* ptr, sf_count_t count, void* user) {
    auto* m = static_cast<Memory*>(user);
    const sf_count_t size = static_cast<sf_count_t>(m->bytes->size());
    const sf_count_t n = std::max<sf_count_t>(0, std::min(count, size - m->pos));
    if (n > 0) std::memcpy(ptr, m->bytes->data() + m->pos, static_cast<size_t>(n));
    m->pos += n;
    return n;
  }
  static sf_count_t VWrite(const void*, sf_count_t, void*) { return 0; }
  static sf_count_t VTell(void* user) { return static_cast<Memory*>(user)->pos; }
  static inline SF_VIRTUAL_IO kVirtualIo = {VLength, VSeek, VRead, VWrite, VTell};

  void Init() {
    if (info_.channels <= 0 || info_.samplerate <= 0) {
      sf_close(file_);
      file_ = nullptr;
      ThrowFileError(name_, "invalid header (channels " + std::to_string(info_.channels) + ", rate " +
                                std::to_string(info_.samplerate) + " Hz)");
    }
    // Refused before any sample is decoded or resampled: a header claiming 1 Hz made a 113 KB file
    // resample 16000-fold (1.5 GB, a crash inside libsoxr under a memory limit).
    if (info_.samplerate < kMinSampleRateHz || info_.samplerate > kMaxSampleRateHz) {
      const int rate = info_.samplerate;
      sf_close(file_);
      file_ = nullptr;
      ThrowFileError(name_, "sample rate " + std::to_string(rate) + " Hz is outside the " +
                                std::to_string(kMinSampleRateHz) + "-" + std::to_string(kMaxSampleRateHz) +
                                " Hz slid accepts (a damaged header?)");
    }
    // Integer formats read as float in [-1, 1): value / 2^(bits-1). Float formats pass through.
    sf_command(file_, SFC_SET_NORM_FLOAT, nullptr, SF_TRUE);
    CheckNotTruncated();
  }

  // libsndfile silently shortens a WAV/AIFF whose data chunk runs past the end of the file; its
  // log then reads "data : 32000 (should be 19956)". A declared size near 2^31 or 2^32 is the
  // placeholder that streaming writers (sox or ffmpeg into a pipe) leave, not a truncation.
  void CheckNotTruncated() {
    std::vector<char> log(16384, '\0');
    sf_command(file_, SFC_GET_LOG_INFO, log.data(), static_cast<int>(log.size() - 1));
    const std::string text(log.data());
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(pos, end - pos);
      pos = end + 1;
      const size_t first = line.find_first_not_of(" \t");
      if (first == std::string::npos) continue;
      if (line.compare(first, 6, "data :") != 0 && line.compare(first, 6, "SSND :") != 0) continue;
      unsigned long long declared = 0, actual = 0;
      if (std::sscanf(line.c_str() + first + 6, " %llu (should be %llu)", &declared, &actual) != 2) continue;
      if (actual < declared && declared < 0x7F000000ULL) {
        sf_close(file_);
        file_ = nullptr;
        ThrowFileError(name_, "truncated: data chunk declares " + std::to_string(declared) +
                                  " bytes but the file holds only " + std::to_string(actual));
      }
    }
  }

  std::string name_;
  std::unique_ptr<Memory> memory_;
  SF_INFO info_;
  SNDFILE* file_ = nullptr;
  std::vector<float> interleaved_;
  sf_count_t read_ = 0;         // frames delivered by ReadMono (from range_start_)
  sf_count_t range_start_ = 0;  // first source frame delivered
  sf_count_t range_end_ = -1;   // source frame to stop before; -1: the end of the file
};

// A streaming mono libsoxr resampler (high quality, linear phase).
class SoxrStream {
 public:
  SoxrStream(int in_rate_hz, int out_rate_hz, const std::string& name)
      : ratio_(static_cast<double>(out_rate_hz) / in_rate_hz), name_(name) {
    soxr_error_t err = nullptr;
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_ = soxr_create(in_rate_hz, out_rate_hz, 1, &err, &io, &q, nullptr);
    if (err || !soxr_)
      ThrowFileError(name, "cannot resample " + std::to_string(in_rate_hz) + " Hz to " +
                               std::to_string(out_rate_hz) + " Hz: " + (err ? err : "soxr_create failed"));
  }
  ~SoxrStream() {
    if (soxr_) soxr_delete(soxr_);
  }
  SoxrStream(const SoxrStream&) = delete;
  SoxrStream& operator=(const SoxrStream&) = delete;

  // Feeds `n` input samples (n == 0 flushes the resampler's tail) and appends all output to *out.
  void Process(const float* in, size_t n, std::vector<float>* out) {
    // Output is produced in steps of at most kMaxStepSamples (4 MB) whatever the ratio; the loop runs
    // until soxr has consumed all input and returned less than a full step.
    constexpr double kMaxStepSamples = 1 << 20;
    const size_t step = static_cast<size_t>(std::min(kMaxStepSamples, std::ceil(std::max<size_t>(n, 1024) * ratio_))) + 64;
    size_t consumed = 0;
    for (;;) {
      const size_t start = out->size();
      out->resize(start + step);
      size_t idone = 0, odone = 0;
      soxr_error_t err = n == 0 ? soxr_process(soxr_, nullptr, 0, nullptr, out->data() + start, step, &odone)
                                : soxr_process(soxr_, in + consumed, n - consumed, &idone,
                                               out->data() + start, step, &odone);
      out->resize(start + odone);
      if (err) ThrowFileError(name_, std::string("resampling failed: ") + err);
      consumed += idone;
      if (n == 0 ? odone == 0 : (consumed == n && odone < step)) break;
    }
  }

 private:
  double ratio_;
  std::string name_;
  soxr_t soxr_ = nullptr;
};

}  // namespace

namespace {
// The target rate is the model's; the same range as for files keeps every resampling ratio within
// [1/768, 768] and so the resampler's filters and output bounded.
void CheckTargetRate(int target_rate_hz, const std::string& name) {
  if (target_rate_hz == 0) return;
  if (target_rate_hz < kMinSampleRateHz || target_rate_hz > kMaxSampleRateHz)
    ThrowFileError(name, "cannot resample to " + std::to_string(target_rate_hz) + " Hz: the target rate must be 0 " +
                             "(native) or " + std::to_string(kMinSampleRateHz) + "-" +
                             std::to_string(kMaxSampleRateHz) + " Hz");
}
}  // namespace

double Waveform::Seconds() const {
  return rate_hz > 0 ? static_cast<double>(samples.size()) / rate_hz : 0.0;
}

// Decoder + optional resampler + a FIFO of output samples not yet handed out.
class AudioReader::Impl {
 public:
  Impl(std::unique_ptr<SndFile> file, int target_rate_hz) : file_(std::move(file)) {
    CheckTargetRate(target_rate_hz, file_->name());
    out_rate_ = target_rate_hz == 0 ? file_->rate_hz() : target_rate_hz;
    if (out_rate_ != file_->rate_hz())
      resampler_ = std::make_unique<SoxrStream>(file_->rate_hz(), out_rate_, file_->name());
    // Decode the first block now, so that an empty or undecodable file fails at open time.
    Pump(&pending_);
    if (file_->frames_read() == 0) ThrowFileError(file_->name(), "contains no audio samples");
  }

  bool Read(double max_seconds, Waveform* chunk) {
    if (!(max_seconds > 0)) ThrowFileError(file_->name(), "chunk length must be positive");
    const double want_d = std::max(1.0, std::round(max_seconds * out_rate_));
    const size_t want = want_d > 1e9 ? static_cast<size_t>(1e9) : static_cast<size_t>(want_d);
    while (pending_.size() - head_ < want && !done_) Pump(&pending_);
    const size_t n = std::min(want, pending_.size() - head_);
    chunk->rate_hz = out_rate_;
    chunk->samples.assign(pending_.begin() + static_cast<std::ptrdiff_t>(head_),
                          pending_.begin() + static_cast<std::ptrdiff_t>(head_ + n));
    head_ += n;
    // Compact the FIFO once the consumed part dominates, keeping memory at about one chunk.
    if (head_ > 65536 && head_ * 2 > pending_.size()) {
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    return n > 0;
  }

  // Reads everything left into one waveform, decoding straight into it.
  Waveform ReadAll() {
    Waveform w;
    w.rate_hz = out_rate_;
    // The header's length is only a hint: a damaged or hostile header can claim billions of frames
    // (found by fuzz_audio: 7 GB reserved for a 345-byte file). Reserve at most kMaxReserveSamples up
    // front; beyond that the vector grows only as real samples are decoded.
    constexpr double kMaxReserveSamples = 1 << 24;  // 64 MB of floats, about 17 minutes at 16 kHz
    const double expected = static_cast<double>(file_->frames()) * out_rate_ / file_->rate_hz();
    if (file_->frames() > 0)
      w.samples.reserve(static_cast<size_t>(std::min(expected, kMaxReserveSamples)) + kBlockFrames * 4);
    w.samples.assign(pending_.begin() + static_cast<std::ptrdiff_t>(head_), pending_.end());
    pending_ = std::vector<float>();
    head_ = 0;
    while (!done_) Pump(&w.samples);
    return w;
  }

  double DurationSeconds() const {
    return static_cast<double>(file_->frames()) / file_->rate_hz();
  }
  int rate_hz() const { return out_rate_; }
  int source_rate_hz() const { return file_->rate_hz(); }
  int source_channels() const { return file_->channels(); }
  sf_count_t source_frames_read() const { return file_->frames_read(); }

 private:
  // Decodes one block (and resamples it) onto *dest, or at the end flushes the resampler and
  // checks that the decoder delivered every frame its header promised.
  void Pump(std::vector<float>* dest) {
    if (done_) return;
    if (!resampler_ && file_->ReadMono(kBlockFrames, dest) > 0) return;
    if (resampler_) {
      block_.clear();
      if (file_->ReadMono(kBlockFrames, &block_) > 0) {
        resampler_->Process(block_.data(), block_.size(), dest);
        return;
      }
    }
    // A decoder that stops before the frame count of the header means a cut file (FLAC's STREAMINFO,
    // for example). MP3 is exempt: without a Xing/LAME tag mpg123 only estimates the length.
    const sf_count_t promised = file_->expected_frames();
    if (!file_->is_mpeg() && file_->frames() > 0 && file_->frames() != SF_COUNT_MAX &&
        file_->frames_read() < promised)
      ThrowFileError(file_->name(), "truncated: header promises " + std::to_string(promised) +
                                        " frames, only " + std::to_string(file_->frames_read()) +
                                        " could be decoded");
    if (resampler_ && file_->frames_read() > 0) resampler_->Process(nullptr, 0, dest);
    done_ = true;
  }

  std::unique_ptr<SndFile> file_;
  std::unique_ptr<SoxrStream> resampler_;
  int out_rate_ = 0;
  std::vector<float> block_;
  std::vector<float> pending_;  // output samples decoded but not yet returned, from head_
  size_t head_ = 0;
  bool done_ = false;
};

AudioReader::AudioReader(const std::string& path, int target_rate_hz)
    : impl_(std::make_unique<Impl>(std::make_unique<SndFile>(path), target_rate_hz)) {}
AudioReader::~AudioReader() = default;
double AudioReader::DurationSeconds() const { return impl_->DurationSeconds(); }
int AudioReader::rate_hz() const { return impl_->rate_hz(); }
int AudioReader::source_rate_hz() const { return impl_->source_rate_hz(); }
int AudioReader::source_channels() const { return impl_->source_channels(); }
bool AudioReader::Read(double max_seconds, Waveform* chunk) { return impl_->Read(max_seconds, chunk); }

Waveform ReadAudio(const std::string& path, int target_rate_hz) {
  AudioReader::Impl impl(std::make_unique<SndFile>(path), target_rate_hz);
  return impl.ReadAll();
}

Waveform ReadAudioRange(const std::string& path, double start_seconds, double end_seconds, int target_rate_hz,
                        double max_overshoot_seconds) {
  if (!(start_seconds >= 0) || !std::isfinite(start_seconds))
    ThrowFileError(path, "range start " + FormatGeneral(start_seconds) + " s is not a time >= 0");
  if (end_seconds >= 0 && !(end_seconds > start_seconds))
    ThrowFileError(path, "range end " + FormatGeneral(end_seconds) + " s is not after its start");
  auto file = std::make_unique<SndFile>(path);
  const double rate = file->rate_hz();
  const sf_count_t start = std::llround(start_seconds * rate);
  sf_count_t end = end_seconds < 0 ? -1 : std::llround(end_seconds * rate);
  const sf_count_t overshoot = std::llround(std::max(0.0, max_overshoot_seconds) * rate);
  const sf_count_t total = file->frames();
  auto seconds = [&](sf_count_t frames) { return FormatGeneral(frames / rate); };  // '.' in any locale
  const bool known = !file->is_mpeg() && total > 0 && total != SF_COUNT_MAX;
  if (known && start >= total)
    ThrowFileError(path, "range starts at " + seconds(start) + " s, after the end of the recording (" +
                             seconds(total) + " s)");
  if (known && end > total + overshoot)
    ThrowFileError(path, "range ends at " + seconds(end) + " s, after the end of the recording (" +
                             seconds(total) + " s)");
  if (known && end > total) end = total;  // within the tolerated overshoot: cut, as Kaldi does
  file->SetRange(start, end);
  AudioReader::Impl impl(std::move(file), target_rate_hz);
  Waveform w = impl.ReadAll();
  // Lengths the header did not know (MP3, streams): check what was actually decoded.
  if (end >= 0 && impl.source_frames_read() + overshoot < end - start)
    ThrowFileError(path, "range ends at " + seconds(end) + " s, after the end of the recording (" +
                             seconds(start + impl.source_frames_read()) + " s)");
  return w;
}

Waveform ReadAudioFromMemory(const std::string& bytes, const std::string& name, int target_rate_hz) {
  AudioReader::Impl impl(std::make_unique<SndFile>(bytes, name), target_rate_hz);
  return impl.ReadAll();
}

bool LooksLikeAudio(const std::string& head) {
  auto starts = [&](const char* magic, size_t at = 0) {
    const size_t n = std::strlen(magic);
    return head.size() >= at + n && head.compare(at, n, magic) == 0;
  };
  auto byte = [&](size_t i) { return i < head.size() ? static_cast<unsigned char>(head[i]) : 0u; };
  if ((starts("RIFF") || starts("RF64") || starts("BW64")) && starts("WAVE", 8)) return true;
  if (starts("fLaC") && head.size() >= 5 && (byte(4) & 0x7F) == 0) return true;  // then STREAMINFO
  if (starts("OggS") && head.size() >= 5 && byte(4) == 0) return true;
  if (starts("ID3") && head.size() >= 5 && byte(3) >= 2 && byte(3) <= 4 && byte(4) != 0xFF) return true;
  if (byte(0) == 0xFF && head.size() >= 2 && (byte(1) & 0xE0) == 0xE0 && (byte(1) & 0x06) != 0) return true;
  if (starts(".snd") && head.size() >= 8) {
    const uint32_t offset = (byte(4) << 24) | (byte(5) << 16) | (byte(6) << 8) | byte(7);
    if (offset >= 24 && offset < (1u << 24)) return true;
  }
  if (starts("FORM") && (starts("AIFF", 8) || starts("AIFC", 8))) return true;
  if (starts("NIST_1A\n ")) return true;  // then the header size, "   1024"
  if (starts("caff") && byte(4) == 0 && byte(5) == 1) return true;
  return false;
}

Waveform Resample(const Waveform& in, int target_rate_hz) {
  if (in.rate_hz <= 0) throw Error("Resample: input rate must be positive, got " + std::to_string(in.rate_hz));
  if (target_rate_hz < 0) throw Error("Resample: negative target rate " + std::to_string(target_rate_hz));
  if (target_rate_hz == 0 || target_rate_hz == in.rate_hz) return in;
  if (in.rate_hz < kMinSampleRateHz || in.rate_hz > kMaxSampleRateHz)
    throw Error("Resample: input rate " + std::to_string(in.rate_hz) + " Hz is outside " +
                std::to_string(kMinSampleRateHz) + "-" + std::to_string(kMaxSampleRateHz) + " Hz");
  CheckTargetRate(target_rate_hz, "Resample");
  Waveform out;
  out.rate_hz = target_rate_hz;
  if (in.samples.empty()) return out;
  SoxrStream s(in.rate_hz, target_rate_hz, "Resample");
  out.samples.reserve(static_cast<size_t>(std::ceil(in.samples.size() * (double)target_rate_hz / in.rate_hz)) + 64);
  s.Process(in.samples.data(), in.samples.size(), &out.samples);
  s.Process(nullptr, 0, &out.samples);
  return out;
}

// ---- PcmStreamReader --------------------------------------------------------------------------
// A byte FIFO over read(2): the header is parsed from it, then whole sample frames are converted.
class PcmStreamReader::Impl {
 public:
  Impl(int fd, const std::string& name, const PcmStreamOptions& o, int target_rate_hz) : fd_(fd), name_(name) {
    CheckTargetRate(target_rate_hz, name_);
    Fill(12);
    const std::string head = bytes_.substr(0, 12);
    if (bytes_.size() >= 12 && (head.compare(0, 4, "RIFF") == 0 || head.compare(0, 4, "RF64") == 0) &&
        head.compare(8, 4, "WAVE") == 0) {
      ParseWav();
    } else if (!o.raw_format.empty()) {
      if (o.raw_format == "s16le") {
        float_ = false;
      } else if (o.raw_format == "f32le") {
        float_ = true;
      } else {
        ThrowFileError(name_, "unknown raw stream format '" + o.raw_format + "' (s16le or f32le)");
      }
      if (o.raw_rate_hz < kMinSampleRateHz || o.raw_rate_hz > kMaxSampleRateHz)
        ThrowFileError(name_, "raw stream rate must be " + std::to_string(kMinSampleRateHz) + "-" +
                                  std::to_string(kMaxSampleRateHz) + " Hz, got " + std::to_string(o.raw_rate_hz));
      if (o.raw_channels < 1 || o.raw_channels > 64)
        ThrowFileError(name_, "raw stream channels must be 1-64, got " + std::to_string(o.raw_channels));
      rate_ = o.raw_rate_hz;
      channels_ = o.raw_channels;
    } else if (bytes_.empty()) {
      ThrowFileError(name_, "empty stream: no audio samples");
    } else if (LooksLikeAudio(head)) {
      ThrowFileError(name_, "only WAV or raw PCM can be streamed; convert first (e.g. sox in.flac -t wav -)");
    } else {
      ThrowFileError(name_, "not a WAV stream; for raw PCM give its format and rate "
                            "(--stream-format s16le --stream-rate 16000)");
    }
    out_rate_ = target_rate_hz == 0 ? rate_ : target_rate_hz;
    if (out_rate_ != rate_) resampler_ = std::make_unique<SoxrStream>(rate_, out_rate_, name_);
  }

  bool Read(Waveform* chunk) {
    chunk->rate_hz = out_rate_;
    chunk->samples.clear();
    if (done_) return false;
    const size_t frame_bytes = static_cast<size_t>(channels_) * (float_ ? 4 : 2);
    // Bytes already buffered (after the header) are used first; otherwise wait for more.
    if (bytes_.size() - head_ < frame_bytes && !eof_) ReadSome();
    size_t avail = bytes_.size() - head_;
    if (limit_ >= 0) avail = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(avail), limit_));
    const size_t frames = avail / frame_bytes;
    std::vector<float> mono(frames);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes_.data()) + head_;
    for (size_t f = 0; f < frames; ++f) {
      float sum = 0;
      for (int c = 0; c < channels_; ++c) {
        const unsigned char* q = p + (f * channels_ + c) * (float_ ? 4 : 2);
        float v;
        if (float_) {
          uint32_t u = uint32_t(q[0]) | uint32_t(q[1]) << 8 | uint32_t(q[2]) << 16 | uint32_t(q[3]) << 24;
          std::memcpy(&v, &u, 4);
          if (!std::isfinite(v)) ThrowFileError(name_, "contains NaN or infinite samples");
          v *= kKaldiScale;
        } else {
          v = static_cast<float>(static_cast<int16_t>(uint16_t(q[0]) | uint16_t(q[1]) << 8));
        }
        sum += v;
      }
      mono[f] = channels_ == 1 ? sum : sum / static_cast<float>(channels_);
    }
    const size_t used = frames * frame_bytes;
    head_ += used;
    if (limit_ >= 0) limit_ -= static_cast<int64_t>(used);
    samples_read_ += static_cast<int64_t>(frames);
    if (head_ > 65536) {
      bytes_.erase(0, head_);
      head_ = 0;
    }
    if (resampler_) {
      if (frames > 0) resampler_->Process(mono.data(), mono.size(), &chunk->samples);
    } else {
      chunk->samples = std::move(mono);
    }
    const bool at_end = limit_ == 0 || (eof_ && bytes_.size() - head_ < frame_bytes);
    if (at_end) {
      if (limit_ != 0 && bytes_.size() > head_)
        ThrowFileError(name_, "stream ends inside a sample (" + std::to_string(bytes_.size() - head_) +
                                  " stray bytes)");
      if (samples_read_ == 0) ThrowFileError(name_, "contains no audio samples");
      if (resampler_) resampler_->Process(nullptr, 0, &chunk->samples);
      done_ = true;
      return !chunk->samples.empty();
    }
    return true;
  }

  const std::string& name() const { return name_; }
  int rate_hz() const { return out_rate_; }
  int source_rate_hz() const { return rate_; }
  bool is_wav() const { return wav_; }

 private:
  // One read(2) of up to 64 KB, appended; sets eof_ at the end of the stream.
  void ReadSome() {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n > 0) {
        bytes_.append(buf, static_cast<size_t>(n));
        return;
      }
      if (n == 0) {
        eof_ = true;
        return;
      }
      if (errno == EINTR) continue;
      ThrowFileError(name_, std::string("cannot read: ") + std::strerror(errno));
    }
  }
  // Reads until at least n bytes from head_ are buffered, or the end of the stream.
  bool Fill(size_t n) {
    while (bytes_.size() - head_ < n && !eof_) ReadSome();
    return bytes_.size() - head_ >= n;
  }
  uint32_t U32(size_t at) const {
    const unsigned char* q = reinterpret_cast<const unsigned char*>(bytes_.data()) + at;
    return uint32_t(q[0]) | uint32_t(q[1]) << 8 | uint32_t(q[2]) << 16 | uint32_t(q[3]) << 24;
  }
  uint16_t U16(size_t at) const {
    const unsigned char* q = reinterpret_cast<const unsigned char*>(bytes_.data()) + at;
    return static_cast<uint16_t>(q[0] | q[1] << 8);
  }
  // RIFF chunks up to "data": fmt gives the encoding; other chunks are skipped.
  void ParseWav() {
    wav_ = true;
    head_ = 12;
    bool have_fmt = false;
    for (int chunks = 0;; ++chunks) {
      if (chunks > 64 || !Fill(8)) ThrowFileError(name_, "WAV stream ends before its data chunk");
      const std::string id = bytes_.substr(head_, 4);
      const uint32_t size = U32(head_ + 4);
      head_ += 8;
      if (id == "data") {
        if (!have_fmt) ThrowFileError(name_, "WAV stream has no fmt chunk before its data");
        limit_ = (size == 0 || size >= 0x7FFF0000u) ? -1 : static_cast<int64_t>(size);
        return;
      }
      if (size > (1u << 20)) ThrowFileError(name_, "WAV chunk '" + id + "' too large before the data");
      const size_t padded = size + (size & 1);
      if (!Fill(padded)) ThrowFileError(name_, "WAV stream ends inside its '" + id + "' chunk");
      if (id == "fmt ") {
        if (size < 16) ThrowFileError(name_, "WAV fmt chunk too short");
        uint16_t format = U16(head_);
        channels_ = U16(head_ + 2);
        rate_ = static_cast<int>(U32(head_ + 4));
        const uint16_t bits = U16(head_ + 14);
        if (format == 0xFFFE && size >= 26) format = U16(head_ + 24);  // WAVE_FORMAT_EXTENSIBLE sub-format
        if (format == 1 && bits == 16) {
          float_ = false;
        } else if (format == 3 && bits == 32) {
          float_ = true;
        } else {
          ThrowFileError(name_, "WAV stream encoding (format " + std::to_string(format) + ", " + std::to_string(bits) +
                                    " bits) cannot be streamed; use 16-bit PCM or 32-bit float");
        }
        if (channels_ < 1 || channels_ > 64) ThrowFileError(name_, "WAV stream has " + std::to_string(channels_) + " channels");
        if (rate_ < kMinSampleRateHz || rate_ > kMaxSampleRateHz)
          ThrowFileError(name_, "WAV stream rate " + std::to_string(rate_) + " Hz is out of range");
        have_fmt = true;
      }
      head_ += padded;
    }
  }

  int fd_;
  std::string name_;
  std::string bytes_;   // bytes read, from head_ on not yet used
  size_t head_ = 0;
  bool eof_ = false;
  bool done_ = false;
  bool wav_ = false;
  bool float_ = false;
  int rate_ = 0;
  int channels_ = 1;
  int out_rate_ = 0;
  int64_t limit_ = -1;  // data bytes left per the WAV header; -1: to the end of the stream
  int64_t samples_read_ = 0;
  std::unique_ptr<SoxrStream> resampler_;
};

PcmStreamReader::PcmStreamReader(int fd, const std::string& name, const PcmStreamOptions& opts, int target_rate_hz)
    : impl_(std::make_unique<Impl>(fd, name, opts, target_rate_hz)) {}
PcmStreamReader::~PcmStreamReader() = default;
const std::string& PcmStreamReader::name() const { return impl_->name(); }
int PcmStreamReader::rate_hz() const { return impl_->rate_hz(); }
int PcmStreamReader::source_rate_hz() const { return impl_->source_rate_hz(); }
bool PcmStreamReader::is_wav() const { return impl_->is_wav(); }
bool PcmStreamReader::Read(Waveform* chunk) { return impl_->Read(chunk); }

}  // namespace slid
