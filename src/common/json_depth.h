// The nesting depth of JSON text, checked before parsing text from outside.
//
// nlohmann::json parses any depth without recursion, but its dump() and ==,
// and valijson's validation, recurse once per level: a body of 100,000 '['
// overflows the stack of the process that walks it. Parsers of outside JSON
// reject text that nests deeper than kMaxJsonDepth.
#pragma once

#include <string_view>

namespace smmhub {

// Far deeper than a template (about 10 levels) or a request body needs.
inline constexpr int kMaxJsonDepth = 64;

// Returns the deepest nesting of arrays and objects in TEXT, not counting
// brackets inside strings. TEXT need not be valid JSON: a closing bracket
// without its opening one is ignored.
int jsonNestingDepth(std::string_view text);

}  // namespace smmhub
