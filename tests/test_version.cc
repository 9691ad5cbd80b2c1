#include <doctest/doctest.h>

#include <string>

#include "slid/version.h"

TEST_CASE("version is the project version") { CHECK(std::string(slid::Version()) == SLID_VERSION); }
