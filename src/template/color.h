// Colour values in templates, brand kits and data.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace smmhub::templates {

// Normalises a CSS-style colour to "#RRGGBBAA" (uppercase hex). Accepts
// #RGB, #RGBA, #RRGGBB, #RRGGBBAA, rgb(r, g, b), rgba(r, g, b, a) with a in
// 0..1, and the names listed in docs/templates.md ("white", "transparent").
// Returns invalidArgument naming the value when it is none of these.
Result<std::string> normalizeColor(std::string_view text);

}  // namespace smmhub::templates
