// FormatFixed / FormatGeneral: the text printf gives in the C locale (the reference, for many values and
// precisions), also while the process runs in a comma-decimal locale. tests/cli/locale.sh runs this
// binary under LC_ALL=de_DE.UTF-8 with SLID_REQUIRE_COMMA_LOCALE=1, so that the locale part cannot be
// skipped silently there.
#include <doctest/doctest.h>

#include <clocale>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "slid/number_text.h"

namespace {

std::string Printf(const char* format, int precision, double v) {
  char buf[512];
  std::snprintf(buf, sizeof buf, format, precision, v);
  return buf;
}

// Values of every magnitude, sign, halfway cases and non-finite ones.
std::vector<double> Values() {
  std::vector<double> v = {0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.97, 1e-7, 123456789.0, 1e21, -1e-300, 5e-324,
                           std::numeric_limits<double>::max(), -173.3724, 99.995, 0.045,
                           std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> mantissa(-10, 10);
  std::uniform_int_distribution<int> exponent(-30, 30);
  for (int i = 0; i < 2000; ++i) v.push_back(mantissa(rng) * std::pow(10.0, exponent(rng)));
  return v;
}

void CheckAgainstCLocalePrintf(const std::vector<std::pair<int, std::pair<std::string, std::string>>>& ref) {
  const std::vector<double> values = Values();
  size_t k = 0;
  for (double v : values)
    for (int p : {0, 1, 2, 4, 6, 17}) {
      REQUIRE(k < ref.size());
      CHECK(slid::FormatFixed(v, p) == ref[k].second.first);
      CHECK(slid::FormatGeneral(v, p == 0 ? 1 : p) == ref[k].second.second);
      ++k;
    }
}

// printf's text in the C locale: the reference.
std::vector<std::pair<int, std::pair<std::string, std::string>>> Reference() {
  std::setlocale(LC_ALL, "C");
  std::vector<std::pair<int, std::pair<std::string, std::string>>> ref;
  for (double v : Values())
    for (int p : {0, 1, 2, 4, 6, 17}) ref.push_back({p, {Printf("%.*f", p, v), Printf("%.*g", p == 0 ? 1 : p, v)}});
  return ref;
}

}  // namespace

TEST_CASE("FormatFixed and FormatGeneral give printf's C-locale text") {
  const auto ref = Reference();
  CheckAgainstCLocalePrintf(ref);
  CHECK(slid::FormatFixed(0.25, 2) == "0.25");
  CHECK(slid::FormatGeneral(-173.37245, 6) == "-173.372");
  CHECK(slid::FormatGeneral(1e-7) == "1e-07");
  CHECK(slid::FormatGeneral(std::nan("")) .find("nan") != std::string::npos);
}

TEST_CASE("... and the same text while the process runs in a comma-decimal locale") {
  const auto ref = Reference();
  // The locale of the environment (LC_ALL=de_DE.UTF-8 under tests/cli/locale.sh), else a German one if
  // the system has it installed.
  const char* set = std::setlocale(LC_ALL, "");
  if (!set || std::string(std::localeconv()->decimal_point) != ",")
    for (const char* name : {"de_DE.UTF-8", "de_DE.utf8", "de_DE"})
      if ((set = std::setlocale(LC_ALL, name)) && std::string(std::localeconv()->decimal_point) == ",") break;
  const bool comma = set && std::string(std::localeconv()->decimal_point) == ",";
  if (std::getenv("SLID_REQUIRE_COMMA_LOCALE")) REQUIRE(comma);
  if (!comma) {
    MESSAGE("no comma-decimal locale here: only the C locale was checked (tests/cli/locale.sh makes one)");
    std::setlocale(LC_ALL, "C");
    return;
  }
  CHECK(Printf("%.*f", 2, 0.25) == "0,25");  // the locale is in effect for printf...
  CheckAgainstCLocalePrintf(ref);          // ...not for these
  std::setlocale(LC_ALL, "C");
}
