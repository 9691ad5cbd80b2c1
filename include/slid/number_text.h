// Numbers as text, the same whatever locale the host program set: '.' as the decimal point, no
// grouping. snprintf("%.2f") and std::to_string(double) follow LC_NUMERIC, so a program that called
// setlocale(LC_ALL, "") under de_DE.UTF-8 would get "0,25"; these use std::to_chars, which is defined
// as printf in the C locale. (Parsing: std::from_chars, as slid's option and list readers do.)
#pragma once
#include <string>

namespace slid {

// As printf("%.*f", digits, v) in the C locale: fixed notation, `digits` digits after the point
// (>= 0). "nan", "inf", "-inf" for non-finite values.
std::string FormatFixed(double v, int digits);

// As printf("%.*g", precision, v) in the C locale: `precision` significant digits (>= 1), exponent
// notation for very large or small values, trailing zeros removed.
std::string FormatGeneral(double v, int precision = 6);

}  // namespace slid
