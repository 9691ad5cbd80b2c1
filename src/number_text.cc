// Locale-independent number text with std::to_chars; see slid/number_text.h.
#include "slid/number_text.h"

#include <charconv>

namespace slid {

namespace {

// `precision` is at most 60, so the longest text (fixed notation of -1.8e308: 310 digits, the point and
// 60 decimals) fits the buffer. Non-finite values come out "nan", "-nan", "inf", "-inf", as glibc prints.
std::string Format(double v, std::chars_format format, int precision) {
  char buf[400];
  const auto result = std::to_chars(buf, buf + sizeof buf, v, format, precision);
  return std::string(buf, result.ptr);
}

}  // namespace

std::string FormatFixed(double v, int digits) {
  return Format(v, std::chars_format::fixed, digits < 0 ? 0 : (digits > 60 ? 60 : digits));
}

std::string FormatGeneral(double v, int precision) {
  return Format(v, std::chars_format::general, precision < 1 ? 1 : (precision > 60 ? 60 : precision));
}

}  // namespace slid
