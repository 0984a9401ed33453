#include "template/field_expr.h"

#include <array>
#include <cctype>
#include <charconv>

#include "template/dates.h"
#include "template/text_util.h"

namespace smmhub::templates {
namespace {

bool isNameCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

// Checks a filter's name and argument without a value to apply it to.
Status checkFilter(const FieldFilter& filter) {
  const std::string& name = filter.name;
  if (name == "upper" || name == "lower" || name == "trim") {
    if (!filter.argument.empty()) {
      return Status::invalidArgument("filter '" + name + "' takes no argument");
    }
    return okStatus();
  }
  if (name == "default") {
    return okStatus();
  }
  if (name == "asset") {
    if (filter.argument.empty()) {
      return Status::invalidArgument("filter 'asset' needs a library name, as in 'asset:crests'");
    }
    return okStatus();
  }
  if (name == "number") {
    int decimals = -1;
    const std::string& arg = filter.argument;
    auto [end, error] = std::from_chars(arg.data(), arg.data() + arg.size(), decimals);
    if (arg.empty() || error != std::errc() || end != arg.data() + arg.size() || decimals < 0 ||
        decimals > 6) {
      return Status::invalidArgument(
          "filter 'number' needs a count of decimals from 0 to 6, as in "
          "'number:2'");
    }
    return okStatus();
  }
  if (name == "date") {
    if (filter.argument.empty()) {
      return Status::invalidArgument("filter 'date' needs a format, as in 'date:d MMM yyyy'");
    }
    Result<std::string> sample = formatDate(CalendarDate{}, filter.argument);
    return sample.ok() ? okStatus() : sample.status();
  }
  if (name == "time") {
    if (filter.argument.empty()) {
      return Status::invalidArgument("filter 'time' needs a format, as in 'time:HH:mm'");
    }
    Result<std::string> sample = formatTime(TimeOfDay{}, filter.argument);
    return sample.ok() ? okStatus() : sample.status();
  }
  return Status::invalidArgument("unknown filter '" + name +
                                 "'; expected one of upper, lower, trim, date, time, number, "
                                 "asset, default");
}

Result<FieldRef> parseField(std::string_view inside) {
  FieldRef field;
  size_t bar = inside.find('|');
  field.name = std::string(trimSpaces(inside.substr(0, bar)));
  if (field.name.empty()) {
    return Status::invalidArgument("empty field name in '{{" + std::string(inside) + "}}'");
  }
  for (char c : field.name) {
    if (!isNameCharacter(c)) {
      return Status::invalidArgument("invalid field name '" + field.name +
                                     "'; use letters, digits, '_', '-' and '.'");
    }
  }

  while (bar != std::string_view::npos) {
    inside.remove_prefix(bar + 1);
    bar = inside.find('|');
    std::string_view spec = inside.substr(0, bar);
    size_t colon = spec.find(':');
    FieldFilter filter;
    filter.name = std::string(trimSpaces(spec.substr(0, colon)));
    if (colon != std::string_view::npos) {
      filter.argument = std::string(spec.substr(colon + 1));
    }
    Status checked = checkFilter(filter);
    if (!checked.ok()) {
      return checked;
    }
    field.filters.push_back(std::move(filter));
  }
  return field;
}

}  // namespace

bool hasFields(std::string_view text) {
  return text.find("{{") != std::string_view::npos;
}

Result<std::vector<TextPart>> splitFields(std::string_view text) {
  std::vector<TextPart> parts;
  while (!text.empty()) {
    size_t open = text.find("{{");
    if (open == std::string_view::npos) {
      parts.push_back(TextPart{std::string(text), std::nullopt});
      break;
    }
    if (open > 0) {
      parts.push_back(TextPart{std::string(text.substr(0, open)), std::nullopt});
    }
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return Status::invalidArgument("unclosed '{{' in '" + std::string(text) +
                                     "'; close the field with '}}'");
    }
    SMMHUB_ASSIGN_OR_RETURN(FieldRef field, parseField(text.substr(open + 2, close - open - 2)));
    parts.push_back(TextPart{"", std::move(field)});
    text.remove_prefix(close + 2);
  }
  return parts;
}

std::vector<std::string> fieldNames(std::string_view text) {
  std::vector<std::string> names;
  Result<std::vector<TextPart>> parts = splitFields(text);
  if (!parts.ok()) {
    return names;
  }
  for (const TextPart& part : *parts) {
    if (part.field) {
      names.push_back(part.field->name);
    }
  }
  return names;
}

}  // namespace smmhub::templates
