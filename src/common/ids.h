// Row ids: a prefix that names the kind of row and 64 random bits.
#pragma once

#include <string>
#include <string_view>

namespace smmhub {

// Returns PREFIX and 16 random lowercase hex digits, such as "b-3f09c1d2a4b5e6f7".
// With 64 random bits, two ids of one table collide with odds of about
// n^2 / 2^65. The ids are names, not secrets: use a cryptographic source for
// tokens.
std::string randomId(std::string_view prefix);

}  // namespace smmhub
