#include "template/parser.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/json_depth.h"
#include "template/color.h"
#include "template/field_expr.h"
#include "template/parser_internal.h"
#include "template/schema.h"
#include "template/text_util.h"

namespace smmhub::templates {
namespace internal {
namespace {

std::string jsonTypeName(const nlohmann::json& value) {
  if (value.is_number()) {
    return "number " + value.dump();
  }
  if (value.is_string()) {
    return "string " + value.dump();
  }
  return std::string(value.type_name());
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) {
    joined += (joined.empty() ? "" : ", ") + name;
  }
  return joined;
}

// Field names under "brand." that a brand kit can provide.
bool isBrandFieldName(std::string_view name) {
  constexpr std::string_view kPrefix = "brand.";
  if (!name.starts_with(kPrefix) || name.size() == kPrefix.size()) {
    return false;
  }
  std::string_view rest = name.substr(kPrefix.size());
  for (std::string_view group : {"colors.", "fonts.", "assets."}) {
    if (rest.starts_with(group)) {
      return rest.size() > group.size() && rest.substr(group.size()).find('.') == rest.npos;
    }
  }
  return rest.find('.') == std::string_view::npos;
}

}  // namespace

std::string childPointer(const std::string& pointer, std::string_view token) {
  std::string child = pointer + "/";
  for (char c : token) {
    if (c == '~') {
      child += "~0";
    } else if (c == '/') {
      child += "~1";
    } else {
      child += c;
    }
  }
  return child;
}

std::string childPointer(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

bool ObjectReader::has(std::string_view key) const {
  known_.insert(std::string(key));
  return object_.is_object() && object_.contains(key);
}

const nlohmann::json* ObjectReader::get(std::string_view key) {
  known_.insert(std::string(key));
  if (!object_.is_object()) {
    return nullptr;
  }
  auto found = object_.find(key);
  if (found == object_.end()) {
    return nullptr;
  }
  read_.insert(std::string(key));
  return &*found;
}

void ObjectReader::typeError(std::string_view key, std::string_view expected,
                             const nlohmann::json& value) {
  context_->error(at(key), "expected " + std::string(expected) + ", got " + jsonTypeName(value));
}

double ObjectReader::number(std::string_view key, double fallback, double min, double max) {
  const nlohmann::json* value = get(key);
  if (value == nullptr) {
    return fallback;
  }
  if (!value->is_number()) {
    typeError(key, "a number", *value);
    return fallback;
  }
  double number = value->get<double>();
  if (number < min || number > max) {
    std::ostringstream message;
    message << value->dump() << " is out of range; expected " << min << " to " << max;
    context_->error(at(key), message.str());
    return fallback;
  }
  return number;
}

int ObjectReader::integer(std::string_view key, int fallback, int min, int max) {
  const nlohmann::json* value = get(key);
  if (value == nullptr) {
    return fallback;
  }
  if (!value->is_number_integer()) {
    typeError(key, "a whole number", *value);
    return fallback;
  }
  auto number = value->get<std::int64_t>();
  if (number < min || number > max) {
    context_->error(at(key), value->dump() + " is out of range; expected " + std::to_string(min) +
                                 " to " + std::to_string(max));
    return fallback;
  }
  return static_cast<int>(number);
}

bool ObjectReader::boolean(std::string_view key, bool fallback) {
  const nlohmann::json* value = get(key);
  if (value == nullptr) {
    return fallback;
  }
  if (!value->is_boolean()) {
    typeError(key, "true or false", *value);
    return fallback;
  }
  return value->get<bool>();
}

std::string ObjectReader::string(std::string_view key, std::string fallback) {
  const nlohmann::json* value = get(key);
  if (value == nullptr) {
    return fallback;
  }
  if (!value->is_string()) {
    typeError(key, "a string", *value);
    return fallback;
  }
  return value->get<std::string>();
}

std::string ObjectReader::text(std::string_view key, std::string fallback) {
  std::string value = string(key, std::move(fallback));
  checkFieldText(value, at(key), context_);
  return value;
}

std::string ObjectReader::color(std::string_view key, std::string fallback) {
  if (!has(key)) {
    return fallback;
  }
  return checkColor(string(key, fallback), at(key), context_);
}

std::string checkColor(std::string value, const std::string& pointer, ParseContext* context) {
  checkFieldText(value, pointer, context);
  if (hasFields(value)) {
    return value;
  }
  Result<std::string> normalized = normalizeColor(value);
  if (!normalized.ok()) {
    context->error(pointer, normalized.status().message());
    return value;
  }
  return *normalized;
}

std::optional<std::string> ObjectReader::enumText(std::string_view key,
                                                  const std::vector<std::string>& names,
                                                  std::string_view what) {
  const nlohmann::json* value = get(key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_string() &&
      std::find(names.begin(), names.end(), value->get<std::string>()) != names.end()) {
    return value->get<std::string>();
  }
  std::string shown = value->is_string() ? "'" + value->get<std::string>() + "'" : value->dump();
  context_->error(at(key), "unknown " + std::string(what) + " " + shown + "; expected one of " +
                               joinNames(names));
  return std::nullopt;
}

void ObjectReader::finish() {
  if (!object_.is_object()) {
    return;
  }
  for (const auto& [key, value] : object_.items()) {
    if (read_.contains(key)) {
      continue;
    }
    // A near miss is most likely a typo ("colour", "fontSize"); otherwise
    // list what this object accepts.
    std::string closest;
    size_t closest_distance = 3;
    for (const std::string& known : known_) {
      size_t distance = editDistance(key, known);
      if (distance < closest_distance) {
        closest = known;
        closest_distance = distance;
      }
    }
    std::string message = "unknown property '" + key + "'";
    if (!closest.empty()) {
      message += "; did you mean '" + closest + "'?";
    } else {
      message += "; expected one of " + joinNames({known_.begin(), known_.end()});
    }
    context_->error(at(key), message);
  }
}

void checkFieldText(std::string_view text, const std::string& pointer, ParseContext* context) {
  if (!hasFields(text)) {
    return;
  }
  Result<std::vector<TextPart>> parts = splitFields(text);
  if (!parts.ok()) {
    context->error(pointer, parts.status().message());
    return;
  }
  for (const TextPart& part : *parts) {
    if (!part.field) {
      continue;
    }
    const std::string& name = part.field->name;
    if (name.starts_with("brand.") ? !isBrandFieldName(name)
                                   : !context->field_names.contains(name)) {
      context->error(pointer, "unknown field '" + name + "'; declare it under /fields, or use " +
                                  "brand.name, brand.handle, brand.logo, brand.colors.NAME, " +
                                  "brand.fonts.NAME or brand.assets.NAME");
    }
  }
}

}  // namespace internal

namespace {

using internal::childPointer;
using internal::EnumName;
using internal::ObjectReader;
using internal::ParseContext;

const std::vector<EnumName<FieldType>> kFieldTypeNames = {
    {"text", FieldType::kText},     {"image", FieldType::kImage}, {"color", FieldType::kColor},
    {"number", FieldType::kNumber}, {"date", FieldType::kDate},   {"time", FieldType::kTime},
};

const std::vector<EnumName<TransitionType>> kTransitionNames = {
    {"cut", TransitionType::kCut},
    {"crossfade", TransitionType::kCrossfade},
};

// Reads the 1-based line and column of byte OFFSET; the column counts UTF-8
// characters, as editors do.
std::pair<int, int> lineAndColumn(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  int line = 1;
  int column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return {line, column};
}

// Turns nlohmann's parse_error into "SOURCE:LINE:COLUMN: syntax error: ...".
Status syntaxError(std::string_view text, const std::string& source_name,
                   const nlohmann::json::parse_error& error, Diagnostics* problems) {
  // error.byte counts from 1 and points at the last character read.
  auto [line, column] = lineAndColumn(text, error.byte == 0 ? 0 : error.byte - 1);
  std::string detail = error.what();
  size_t dash = detail.find(" - ");
  detail =
      dash == std::string::npos ? detail.substr(detail.rfind(": ") + 2) : detail.substr(dash + 3);
  std::string place = source_name + ":" + std::to_string(line) + ":" + std::to_string(column);
  if (problems != nullptr) {
    problems->error(place, "syntax error: " + detail);
  }
  return Status::invalidArgument(place + ": syntax error: " + detail);
}

void parseCanvas(const nlohmann::json* json, Template* result, ParseContext* context) {
  if (json == nullptr) {
    return;
  }
  ObjectReader canvas(*json, "/canvas", context);
  Canvas& out = result->canvas;
  out.width = canvas.integer("width", out.width, 16, kMaxCanvasSide);
  out.height = canvas.integer("height", out.height, 16, kMaxCanvasSide);
  out.fps = canvas.integer("fps", out.fps, 1, kMaxFps);
  out.background = canvas.color("background", out.background);
  canvas.finish();

  // H.264 in yuv420p halves the chroma planes, so both sides must be even.
  if (out.width % 2 != 0) {
    context->error("/canvas/width", "width " + std::to_string(out.width) +
                                        " is odd; H.264 video needs even sides, use " +
                                        std::to_string(out.width + 1));
  }
  if (out.height % 2 != 0) {
    context->error("/canvas/height", "height " + std::to_string(out.height) +
                                         " is odd; H.264 video needs even sides, use " +
                                         std::to_string(out.height + 1));
  }
  context->canvas_width = out.width;
  context->canvas_height = out.height;
}

// The poster frame's time must fall inside the video.
void parsePoster(const nlohmann::json* json, Template* result, ParseContext* context) {
  if (json == nullptr) {
    return;
  }
  ObjectReader poster(*json, "/poster", context);
  double duration_s = result->durationS();
  result->poster_time_s = poster.number("time", -1, 0, kMaxDurationS);
  poster.finish();
  if (result->poster_time_s >= duration_s && duration_s > 0) {
    std::ostringstream message;
    message << "poster time " << result->poster_time_s << " s is not inside the video, which lasts "
            << duration_s << " s";
    context->error("/poster/time", message.str());
  }
}

Field parseField(const std::string& name, const nlohmann::json& json, const std::string& pointer,
                 ParseContext* context) {
  ObjectReader reader(json, pointer, context);
  Field field;
  field.name = name;
  field.type = reader.choice("type", kFieldTypeNames, FieldType::kText, "field type");
  field.required = reader.boolean("required", false);
  field.description = reader.string("description", "");
  if (const nlohmann::json* fallback = reader.get("default")) {
    if (fallback->is_string()) {
      field.default_value = fallback->get<std::string>();
    } else if (fallback->is_number()) {
      field.default_value = fallback->dump();
    } else {
      context->error(reader.at("default"),
                     "expected a string or a number, got " + std::string(fallback->type_name()));
    }
  }
  reader.finish();
  if (field.required && field.default_value) {
    context->error(pointer, "field '" + name + "' is required and has a default; drop one");
  }
  return field;
}

void parseFields(const nlohmann::json* json, Template* result, ParseContext* context) {
  if (json == nullptr || !json->is_object()) {
    return;
  }
  if (json->size() > static_cast<size_t>(kMaxFields)) {
    context->error("/fields", std::to_string(json->size()) + " fields exceed the limit of " +
                                  std::to_string(kMaxFields) + " per template");
  }
  for (const auto& [name, value] : json->items()) {
    context->field_names.insert(name);
  }
  for (const auto& [name, value] : json->items()) {
    result->fields.push_back(parseField(name, value, childPointer("/fields", name), context));
  }
}

Transition parseTransition(const nlohmann::json& json, const std::string& pointer,
                           double scene_duration_s, ParseContext* context) {
  ObjectReader reader(json, pointer, context);
  Transition transition;
  transition.type =
      reader.choice("type", kTransitionNames, TransitionType::kCut, "transition type");
  transition.duration_s = reader.number("duration", 0, 0, kMaxDurationS);
  reader.finish();
  if (transition.duration_s > scene_duration_s) {
    std::ostringstream message;
    message << "transition of " << transition.duration_s << " s is longer than its scene ("
            << scene_duration_s << " s); shorten the transition";
    context->error(childPointer(pointer, "duration"), message.str());
  }
  return transition;
}

void parseLayers(const nlohmann::json* json, const std::string& pointer, double duration_s,
                 std::vector<Layer>* layers, ParseContext* context) {
  if (json == nullptr || !json->is_array()) {
    return;
  }
  for (size_t i = 0; i < json->size(); ++i) {
    std::optional<Layer> layer =
        internal::parseLayer((*json)[i], childPointer(pointer, i), duration_s, context);
    if (layer) {
      layers->push_back(std::move(*layer));
    }
  }
}

Scene parseScene(const nlohmann::json& json, const std::string& pointer, size_t index,
                 ParseContext* context) {
  ObjectReader reader(json, pointer, context);
  Scene scene;
  scene.pointer = pointer;
  scene.id = reader.string("id", "scene-" + std::to_string(index + 1));
  scene.duration_s = reader.number("duration", 0, 0, kMaxDurationS);
  if (reader.has("duration") && scene.duration_s <= 0) {
    context->error(reader.at("duration"), "scene duration must be greater than 0 s");
  }
  scene.background = reader.color("background", "");
  if (const nlohmann::json* transition = reader.get("transition")) {
    scene.transition =
        parseTransition(*transition, reader.at("transition"), scene.duration_s, context);
  }
  if (index == 0 && scene.transition.type == TransitionType::kCrossfade) {
    context->error(reader.at("transition"),
                   "the first scene cannot crossfade because no scene precedes it; use 'cut'");
  }
  parseLayers(reader.get("layers"), reader.at("layers"), scene.duration_s, &scene.layers, context);
  reader.finish();
  return scene;
}

// Checks the limits that span the whole template.
void checkTotals(const Template& result, ParseContext* context) {
  // Every scene needs at least one frame, or a crossfade into the next scene
  // has no picture to start from.
  for (const Scene& scene : result.scenes) {
    if (scene.duration_s > 0 && scene.duration_s * result.canvas.fps < 1) {
      std::ostringstream message;
      message << "scene duration " << scene.duration_s << " s is shorter than one frame at "
              << result.canvas.fps << " fps";
      context->error(scene.pointer + "/duration", message.str());
    }
  }
  if (result.durationS() > kMaxDurationS) {
    std::ostringstream message;
    message << "total duration " << result.durationS() << " s exceeds the limit of "
            << kMaxDurationS << " s";
    context->error("/scenes", message.str());
  }
  size_t layer_count = result.audio.size();
  for (const Scene& scene : result.scenes) {
    layer_count += scene.layers.size();
  }
  if (layer_count > static_cast<size_t>(kMaxLayers)) {
    context->error("/scenes", std::to_string(layer_count) + " layers exceed the limit of " +
                                  std::to_string(kMaxLayers) + " layers per template");
  }
  std::set<std::string> scene_ids;
  for (const Scene& scene : result.scenes) {
    if (!scene_ids.insert(scene.id).second) {
      context->error(scene.pointer + "/id", "duplicate scene id '" + scene.id + "'");
    }
  }
}

Template parseDocument(const nlohmann::json& document, ParseContext* context) {
  Template result;
  ObjectReader root(document, "", context);
  result.version = root.integer("version", 1, 1, 1);
  if (!root.has("version")) {
    context->error("/version", "missing \"version\": 1");
  }
  result.name = root.string("name", "");
  root.string("description", "");
  parseCanvas(root.get("canvas"), &result, context);
  parseFields(root.get("fields"), &result, context);

  if (const nlohmann::json* scenes = root.get("scenes"); scenes != nullptr && scenes->is_array()) {
    for (size_t i = 0; i < scenes->size(); ++i) {
      result.scenes.push_back(parseScene((*scenes)[i], childPointer("/scenes", i), i, context));
    }
  } else {
    context->error("/scenes", "missing or not an array; a template needs at least one scene");
  }
  parseLayers(root.get("audio"), "/audio", result.durationS(), &result.audio, context);
  parsePoster(root.get("poster"), &result, context);
  for (const Layer& layer : result.audio) {
    if (layer.kind != LayerKind::kAudio) {
      context->error(layer.pointer + "/kind", "only audio layers can go under /audio");
    }
  }
  root.finish();
  checkTotals(result, context);
  return result;
}

// True when the schema error at SCHEMA_POINTER concerns a value the parser
// already reported, at the same place or inside or around it.
bool isCovered(const std::string& schema_pointer, const std::vector<Diagnostic>& errors) {
  for (const Diagnostic& error : errors) {
    const std::string& place = error.place;
    if (place == schema_pointer || place.starts_with(schema_pointer + "/") ||
        schema_pointer.starts_with(place + "/")) {
      return true;
    }
  }
  return false;
}

Status summarize(const std::string& source_name, const std::vector<Diagnostic>& errors) {
  const Diagnostic& first = errors.front();
  std::string count = errors.size() == 1 ? "1 error" : std::to_string(errors.size()) + " errors";
  return Status::invalidArgument(source_name + ": " + count + "; first: " +
                                 (first.place.empty() ? "/" : first.place) + ": " + first.message);
}

}  // namespace

Result<Template> parseTemplate(std::string_view json_text, const std::string& source_name,
                               Diagnostics* problems) {
  if (json_text.size() > kMaxTemplateBytes) {
    return Status::invalidArgument(source_name + ": " + std::to_string(json_text.size()) +
                                   " bytes exceed the template limit of " +
                                   std::to_string(kMaxTemplateBytes) + " bytes");
  }
  // The schema check and messages that quote values recurse once per level.
  if (jsonNestingDepth(json_text) > kMaxJsonDepth) {
    std::string message = "arrays and objects nest deeper than " + std::to_string(kMaxJsonDepth) +
                          " levels; a template needs about 10";
    if (problems != nullptr) {
      problems->error(source_name, message);
    }
    return Status::invalidArgument(source_name + ": " + message);
  }
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& error) {
    return syntaxError(json_text, source_name, error, problems);
  } catch (const nlohmann::json::out_of_range& error) {
    // A number such as 1e999 that does not fit a double.
    std::string message = std::string("invalid JSON: ") + error.what();
    if (problems != nullptr) {
      problems->error(source_name, message);
    }
    return Status::invalidArgument(source_name + ": " + message);
  }

  // The parser's own messages are more precise than the schema's, so a schema
  // error is kept only where the parser found nothing.
  ParseContext context;
  Template result = parseDocument(document, &context);
  std::vector<Diagnostic> errors = context.errors;
  for (const SchemaError& schema_error : validateTemplateSchema(document)) {
    if (!isCovered(schema_error.pointer, context.errors)) {
      errors.push_back(Diagnostic{Severity::kError, schema_error.pointer, schema_error.message});
    }
  }

  if (problems != nullptr) {
    for (const Diagnostic& error : errors) {
      problems->error(error.place, error.message);
    }
  }
  if (!errors.empty()) {
    return summarize(source_name, errors);
  }
  return result;
}

Result<Template> loadTemplate(const std::filesystem::path& path, Diagnostics* problems) {
  std::error_code error;
  std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) {
    return Status::notFound(path.string() + ": cannot read the template: " + error.message());
  }
  if (size > kMaxTemplateBytes) {
    return Status::invalidArgument(path.string() + ": " + std::to_string(size) +
                                   " bytes exceed the template limit of " +
                                   std::to_string(kMaxTemplateBytes) + " bytes");
  }
  std::ifstream file(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (!file.good() && !file.eof()) {
    return Status::unavailable(path.string() + ": failed to read the template");
  }
  return parseTemplate(text, path.string(), problems);
}

}  // namespace smmhub::templates
