// Fields inside template strings: "{{home}}", "{{date|date:ddd d MMM|upper}}".
//
// A field is a name and a chain of filters, applied left to right. A filter
// has a name and, after the first ':', an argument that runs to the next '|'
// or the closing braces, so that "time:HH:mm" keeps its colon.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace smmhub::templates {

struct FieldFilter {
  std::string name;
  std::string argument;  // empty when the filter has none
};

struct FieldRef {
  std::string name;  // "home", "brand.primary", "brand.fonts.display"
  std::vector<FieldFilter> filters;
};

// A piece of a template string: either literal text or one field.
struct TextPart {
  std::string literal;
  std::optional<FieldRef> field;
};

// Returns true when TEXT contains "{{".
bool hasFields(std::string_view text);

// Splits TEXT into literal parts and fields. Returns invalidArgument on an
// unclosed "{{", an empty field name or an unknown filter, or on a filter
// argument that is invalid (a date format with an unknown token).
Result<std::vector<TextPart>> splitFields(std::string_view text);

// Returns the names of the fields TEXT refers to, including "brand." names,
// or an empty list when TEXT does not split.
std::vector<std::string> fieldNames(std::string_view text);

}  // namespace smmhub::templates
