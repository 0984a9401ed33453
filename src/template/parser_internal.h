// Helpers shared by parser.cc and parser_layers.cc. Not part of the API.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/diagnostics.h"
#include "template/template.h"

namespace smmhub::templates::internal {

// Appends TOKEN to POINTER, escaping '~' and '/' (RFC 6901).
std::string childPointer(const std::string& pointer, std::string_view token);
std::string childPointer(const std::string& pointer, size_t index);

// One enumerated value as written in JSON.
template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

// State of one parse: the problems found so far and what later checks need.
struct ParseContext {
  std::vector<Diagnostic> errors;
  std::set<std::string> field_names;
  int canvas_width = 1080;
  int canvas_height = 1920;

  void error(std::string place, std::string message) {
    errors.push_back(Diagnostic{Severity::kError, std::move(place), std::move(message)});
  }
};

// Reads the members of one JSON object, reporting wrong types and values
// with their pointer, and in finish() every member that nothing read.
class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& object, std::string pointer, ParseContext* context)
      : object_(object), pointer_(std::move(pointer)), context_(context) {}

  const std::string& pointer() const { return pointer_; }
  std::string at(std::string_view key) const { return childPointer(pointer_, key); }
  bool has(std::string_view key) const;

  // Returns the member KEY and marks it as read, or null when it is absent.
  const nlohmann::json* get(std::string_view key);

  double number(std::string_view key, double fallback, double min, double max);
  int integer(std::string_view key, int fallback, int min, int max);
  bool boolean(std::string_view key, bool fallback);
  std::string string(std::string_view key, std::string fallback);

  // Reads a string that may contain fields and checks each field's name and
  // filters against the template's fields.
  std::string text(std::string_view key, std::string fallback);

  // Reads a colour: normalised now when literal, kept for binding when it
  // contains fields.
  std::string color(std::string_view key, std::string fallback);

  // Reads an enumerated value; WHAT names it in messages ("layer kind").
  template <typename E>
  E choice(std::string_view key, const std::vector<EnumName<E>>& names, E fallback,
           std::string_view what);

  // Reports members that nothing read, with a guess at the intended name.
  void finish();

 private:
  void typeError(std::string_view key, std::string_view expected, const nlohmann::json& value);
  std::optional<std::string> enumText(std::string_view key, const std::vector<std::string>& names,
                                      std::string_view what);

  const nlohmann::json& object_;
  std::string pointer_;
  ParseContext* context_;
  std::set<std::string, std::less<>> read_;           // members present and read
  mutable std::set<std::string, std::less<>> known_;  // every key asked for
};

template <typename E>
E ObjectReader::choice(std::string_view key, const std::vector<EnumName<E>>& names, E fallback,
                       std::string_view what) {
  std::vector<std::string> texts;
  for (const EnumName<E>& entry : names) {
    texts.emplace_back(entry.name);
  }
  std::optional<std::string> text = enumText(key, texts, what);
  for (const EnumName<E>& entry : names) {
    if (text && entry.name == *text) {
      return entry.value;
    }
  }
  return fallback;
}

// Returns VALUE normalised to "#RRGGBBAA" when it is a literal colour, or
// unchanged when it contains fields; reports an invalid colour at POINTER.
std::string checkColor(std::string value, const std::string& pointer, ParseContext* context);

// Checks the fields and filters in TEXT; POINTER is its place.
void checkFieldText(std::string_view text, const std::string& pointer, ParseContext* context);

// Parses one scene layer or template audio layer at POINTER. SCENE_DURATION_S
// bounds its times.
std::optional<Layer> parseLayer(const nlohmann::json& json, const std::string& pointer,
                                double scene_duration_s, ParseContext* context);

extern const std::vector<EnumName<Easing>> kEasingNames;

}  // namespace smmhub::templates::internal
