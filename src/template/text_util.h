// Small text helpers shared by the template library's parsers.
#pragma once

#include <cstddef>
#include <string_view>

namespace smmhub::templates {

// Returns TEXT without leading and trailing ASCII white space.
std::string_view trimSpaces(std::string_view text);

// Returns the Levenshtein distance between A and B, for "did you mean"
// suggestions.
size_t editDistance(std::string_view a, std::string_view b);

}  // namespace smmhub::templates
