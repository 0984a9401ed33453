#include "template/color.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include "template/text_util.h"

namespace smmhub::templates {
namespace {

struct NamedColor {
  std::string_view name;
  std::string_view hex;  // #RRGGBBAA
};

// The CSS level 1 names plus a few common ones; docs/templates.md lists them.
constexpr std::array<NamedColor, 24> kNamedColors = {{
    {"black", "#000000FF"},   {"white", "#FFFFFFFF"},   {"red", "#FF0000FF"},
    {"green", "#008000FF"},   {"blue", "#0000FFFF"},    {"yellow", "#FFFF00FF"},
    {"orange", "#FFA500FF"},  {"purple", "#800080FF"},  {"gray", "#808080FF"},
    {"grey", "#808080FF"},    {"silver", "#C0C0C0FF"},  {"maroon", "#800000FF"},
    {"navy", "#000080FF"},    {"teal", "#008080FF"},    {"olive", "#808000FF"},
    {"lime", "#00FF00FF"},    {"aqua", "#00FFFFFF"},    {"cyan", "#00FFFFFF"},
    {"fuchsia", "#FF00FFFF"}, {"magenta", "#FF00FFFF"}, {"pink", "#FFC0CBFF"},
    {"brown", "#A52A2AFF"},   {"gold", "#FFD700FF"},    {"transparent", "#00000000"},
}};

std::string lowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return lower;
}

std::string formatHex(int r, int g, int b, int a) {
  char buffer[10];
  std::snprintf(buffer, sizeof(buffer), "#%02X%02X%02X%02X", r, g, b, a);
  return buffer;
}

bool allHex(std::string_view digits) {
  for (char c : digits) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

int hexPair(std::string_view two) {
  int value = 0;
  std::from_chars(two.data(), two.data() + 2, value, 16);
  return value;
}

std::optional<std::string> parseHex(std::string_view digits) {
  if (!allHex(digits)) {
    return std::nullopt;
  }
  if (digits.size() == 3 || digits.size() == 4) {
    // Short forms double each digit: #F80 is #FF8800.
    std::string expanded;
    for (char c : digits) {
      expanded += {c, c};
    }
    return parseHex(expanded);
  }
  if (digits.size() != 6 && digits.size() != 8) {
    return std::nullopt;
  }
  int alpha = digits.size() == 8 ? hexPair(digits.substr(6, 2)) : 255;
  return formatHex(hexPair(digits.substr(0, 2)), hexPair(digits.substr(2, 2)),
                   hexPair(digits.substr(4, 2)), alpha);
}

// from_chars also reads "nan" and "inf", which no channel can be.
std::optional<double> parseNumber(std::string_view text) {
  text = trimSpaces(text);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// Parses the argument list of rgb() or rgba(): three channels 0..255 and an
// optional alpha 0..1.
std::optional<std::string> parseRgbFunction(std::string_view arguments) {
  std::vector<double> values;
  while (true) {
    size_t comma = arguments.find(',');
    std::optional<double> value = parseNumber(arguments.substr(0, comma));
    if (!value) {
      return std::nullopt;
    }
    values.push_back(*value);
    if (comma == std::string_view::npos) {
      break;
    }
    arguments.remove_prefix(comma + 1);
  }
  if (values.size() != 3 && values.size() != 4) {
    return std::nullopt;
  }
  for (size_t i = 0; i < 3; ++i) {
    if (values[i] < 0 || values[i] > 255) {
      return std::nullopt;
    }
  }
  double alpha = values.size() == 4 ? values[3] : 1;
  if (alpha < 0 || alpha > 1) {
    return std::nullopt;
  }
  return formatHex(
      static_cast<int>(std::lround(values[0])), static_cast<int>(std::lround(values[1])),
      static_cast<int>(std::lround(values[2])), static_cast<int>(std::lround(alpha * 255)));
}

}  // namespace

Result<std::string> normalizeColor(std::string_view text) {
  std::string lower = lowerAscii(trimSpaces(text));
  std::optional<std::string> color;
  if (lower.starts_with("#")) {
    color = parseHex(std::string_view(lower).substr(1));
  } else if (lower.ends_with(")") && (lower.starts_with("rgb(") || lower.starts_with("rgba("))) {
    size_t open = lower.find('(');
    color = parseRgbFunction(std::string_view(lower).substr(open + 1, lower.size() - open - 2));
  } else {
    for (const NamedColor& named : kNamedColors) {
      if (named.name == lower) {
        color = std::string(named.hex);
      }
    }
  }
  if (!color) {
    return Status::invalidArgument("invalid colour '" + std::string(text) +
                                   "'; use #RRGGBB, #RRGGBBAA, #RGB, rgb(r, g, b), "
                                   "rgba(r, g, b, a) or a colour name such as 'white'");
  }
  return *color;
}

}  // namespace smmhub::templates
