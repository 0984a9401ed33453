#include "template/binding.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>

#include <fmt/format.h>

#include "common/files.h"
#include "template/color.h"
#include "template/dates.h"
#include "template/field_expr.h"

namespace smmhub::templates {
namespace {

namespace fs = std::filesystem;

enum class StringKind {
  kText,
  kColor,
  kPath,
  kFontFamily,
};

using StringVisitor =
    std::function<void(std::string& value, const std::string& pointer, StringKind)>;

void visitLayerStrings(Layer& layer, const StringVisitor& visit) {
  const std::string& at = layer.pointer;
  if (auto* image = std::get_if<ImageProps>(&layer.props)) {
    visit(image->src, at + "/src", StringKind::kPath);
  } else if (auto* text = std::get_if<TextProps>(&layer.props)) {
    visit(text->content, at + "/content", StringKind::kText);
    visit(text->font_family, at + "/font/family", StringKind::kFontFamily);
    visit(text->color, at + "/color", StringKind::kColor);
    if (text->stroke) {
      visit(text->stroke->color, at + "/stroke/color", StringKind::kColor);
    }
    if (text->shadow) {
      visit(text->shadow->color, at + "/shadow/color", StringKind::kColor);
    }
  } else if (auto* shape = std::get_if<ShapeProps>(&layer.props)) {
    if (shape->fill.type == FillType::kSolid) {
      visit(shape->fill.color, at + "/fill", StringKind::kColor);
    }
    for (size_t i = 0; i < shape->fill.stops.size(); ++i) {
      visit(shape->fill.stops[i].color, at + "/fill/stops/" + std::to_string(i) + "/color",
            StringKind::kColor);
    }
    if (shape->stroke) {
      visit(shape->stroke->color, at + "/stroke/color", StringKind::kColor);
    }
  } else if (auto* video = std::get_if<VideoProps>(&layer.props)) {
    visit(video->src, at + "/src", StringKind::kPath);
  } else if (auto* audio = std::get_if<AudioProps>(&layer.props)) {
    visit(audio->src, at + "/src", StringKind::kPath);
  }
}

// Calls VISIT on every string property that may hold fields.
void visitStrings(Template& tmpl, const StringVisitor& visit) {
  visit(tmpl.canvas.background, "/canvas/background", StringKind::kColor);
  for (Scene& scene : tmpl.scenes) {
    if (!scene.background.empty()) {
      visit(scene.background, scene.pointer + "/background", StringKind::kColor);
    }
    for (Layer& layer : scene.layers) {
      visitLayerStrings(layer, visit);
    }
  }
  for (Layer& layer : tmpl.audio) {
    visitLayerStrings(layer, visit);
  }
}

// A problem with its place, before it goes to Diagnostics.
struct BindError {
  std::string place;
  std::string message;
};

std::string rowPlace(const DataRow& row, const std::string& column) {
  return "row " + std::to_string(row.number) + ", column " + column;
}

bool isBlank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

std::optional<double> parseNumber(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  // from_chars also reads "nan" and "inf", which are no numbers to show.
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// Changes the case of ASCII letters and of the Latin-1 letters U+00C0 to
// U+00FE, which cover the Western European names in fixtures.
std::string changeCase(std::string_view text, bool upper) {
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    auto c = static_cast<unsigned char>(out[i]);
    if (c < 0x80) {
      out[i] = static_cast<char>(upper ? std::toupper(c) : std::tolower(c));
    } else if (c == 0xC3 && i + 1 < out.size()) {
      auto next = static_cast<unsigned char>(out[i + 1]);
      if (upper && next >= 0xA0 && next <= 0xBE && next != 0xB7) {
        out[i + 1] = static_cast<char>(next - 0x20);
      } else if (!upper && next >= 0x80 && next <= 0x9E && next != 0x97) {
        out[i + 1] = static_cast<char>(next + 0x20);
      }
      ++i;
    }
  }
  return out;
}

std::string trimSpaces(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return "";
  }
  size_t last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

// A field's value for one row and where it came from.
struct FieldValue {
  std::string text;
  ValueOrigin origin = ValueOrigin::kData;
  std::string place;  // "row 7, column home", or "brand"
};

// Checks VALUE against the field's type; returns the normalised value.
Result<std::string> checkFieldType(const Field& field, const std::string& value) {
  switch (field.type) {
    case FieldType::kDate:
      if (!parseDate(value)) {
        return Status::invalidArgument("'" + value + "' is not a date; write yyyy-mm-dd, " +
                                       "dd.mm.yyyy or dd/mm/yyyy");
      }
      return value;
    case FieldType::kTime:
      if (!parseTime(value)) {
        return Status::invalidArgument("'" + value + "' is not a time; write HH:mm, as in 15:00");
      }
      return value;
    case FieldType::kNumber:
      if (!parseNumber(value)) {
        return Status::invalidArgument("'" + value + "' is not a number; use digits and a '.'");
      }
      return value;
    case FieldType::kColor:
      return normalizeColor(value);
    case FieldType::kText:
    case FieldType::kImage:
      return value;
  }
  return value;
}

// Reads the value of a template field from the row, applying its default
// and checking its type.
Result<FieldValue> rowField(const Field& field, const BindInputs& in) {
  std::string column = in.mapping.columnFor(field.name);
  std::string place = rowPlace(in.row, column);
  int index = in.table.columnIndex(column);
  std::string value =
      index >= 0 && static_cast<size_t>(index) < in.row.values.size() ? in.row.values[index] : "";
  if (isBlank(value) && field.default_value) {
    return FieldValue{*field.default_value, ValueOrigin::kTemplate, place};
  }
  if (index < 0 && field.required) {
    return Status::invalidArgument(place + ": the data has no column '" + column +
                                   "' for required field '" + field.name +
                                   "'; add the column or map the field to another one");
  }
  if (isBlank(value)) {
    if (field.required) {
      return Status::invalidArgument(place + ": required field '" + field.name +
                                     "' is empty; fill column '" + column +
                                     "' or give the field a default");
    }
    return FieldValue{"", ValueOrigin::kData, place};
  }
  Result<std::string> checked = checkFieldType(field, value);
  if (!checked.ok()) {
    return checked.status().withContext(place);
  }
  return FieldValue{*checked, ValueOrigin::kData, place};
}

Result<FieldValue> brandField(const std::string& name, const BrandKit& brand) {
  std::string key = name.substr(std::string_view("brand.").size());
  auto value = [&](std::string text) {
    return FieldValue{std::move(text), ValueOrigin::kBrand, "brand"};
  };
  if (key == "name") {
    return value(brand.name);
  }
  if (key == "handle") {
    return value(brand.handle);
  }
  if (key == "logo" && !brand.logo.empty()) {
    return value(brand.logo.string());
  }
  for (std::string_view prefix : {"colors.", "fonts.", "assets."}) {
    if (!key.starts_with(prefix)) {
      continue;
    }
    std::string item = key.substr(prefix.size());
    if (prefix == "fonts." && brand.fonts.contains(item)) {
      return value(brand.fonts.at(item).family);
    }
    if (prefix == "colors." && brand.colors.contains(item)) {
      return value(brand.colors.at(item));
    }
    if (prefix == "assets." && brand.assets.contains(item)) {
      return value(brand.assets.at(item).string());
    }
    return Status::invalidArgument("brand: brand kit '" + brand.name + "' has no " +
                                   std::string(prefix.substr(0, prefix.size() - 1)) + " '" + item +
                                   "'; add it to brand.json");
  }
  if (brand.colors.contains(key)) {
    return value(brand.colors.at(key));
  }
  if (brand.assets.contains(key)) {
    return value(brand.assets.at(key).string());
  }
  return Status::invalidArgument("brand: brand kit '" + brand.name + "' has no colour or asset '" +
                                 key + "'; add it to brand.json under colors or assets");
}

Result<std::string> applyAsset(const std::string& library_name, const std::string& value,
                               const BrandKit& brand) {
  auto library = brand.libraries.find(library_name);
  if (library == brand.libraries.end()) {
    return Status::invalidArgument("brand kit '" + brand.name + "' has no library '" +
                                   library_name + "'; add it to brand.json under libraries");
  }
  std::optional<fs::path> file = library->second.find(value);
  if (!file) {
    return Status::invalidArgument("'" + value + "' is not in library '" + library_name + "' (" +
                                   library->second.index.string() + "); closest name: '" +
                                   library->second.closestName(value) + "'");
  }
  return file->string();
}

Result<std::string> applyFilter(const FieldFilter& filter, const std::string& value,
                                const BrandKit& brand) {
  const std::string& name = filter.name;
  if (name == "upper" || name == "lower") {
    return changeCase(value, name == "upper");
  }
  if (name == "trim") {
    return trimSpaces(value);
  }
  if (name == "default") {
    return isBlank(value) ? filter.argument : value;
  }
  if (value.empty()) {
    return value;  // an optional field left empty stays empty
  }
  if (name == "date") {
    std::optional<CalendarDate> date = parseDate(value);
    if (!date) {
      return Status::invalidArgument("'" + value + "' is not a date; write yyyy-mm-dd, " +
                                     "dd.mm.yyyy or dd/mm/yyyy");
    }
    return formatDate(*date, filter.argument);
  }
  if (name == "time") {
    std::optional<TimeOfDay> time = parseTime(value);
    if (!time) {
      return Status::invalidArgument("'" + value + "' is not a time; write HH:mm, as in 15:00");
    }
    return formatTime(*time, filter.argument);
  }
  if (name == "number") {
    std::optional<double> number = parseNumber(value);
    if (!number) {
      return Status::invalidArgument("'" + value + "' is not a number; use digits and a '.'");
    }
    // Every digit: a fixed buffer would cut 1e300 short without a word.
    return fmt::format("{:.{}f}", *number, std::stoi(filter.argument));
  }
  return applyAsset(filter.argument, value, brand);  // the parser admits no other filter
}

}  // namespace

std::string ColumnMapping::columnFor(const std::string& field) const {
  auto found = field_to_column.find(field);
  return found == field_to_column.end() ? field : found->second;
}

Result<ExpandedText> expandFields(std::string_view text, const BindInputs& inputs) {
  SMMHUB_ASSIGN_OR_RETURN(std::vector<TextPart> parts, splitFields(text));
  ExpandedText expanded;
  for (const TextPart& part : parts) {
    if (!part.field) {
      expanded.text += part.literal;
      continue;
    }
    const FieldRef& ref = *part.field;
    Result<FieldValue> value = Status::invalidArgument(
        "unknown field '" + ref.name + "'; declare it under /fields in the template");
    if (ref.name.starts_with("brand.")) {
      value = brandField(ref.name, inputs.brand);
    } else if (const Field* field = inputs.tmpl.findField(ref.name)) {
      value = rowField(*field, inputs);
    }
    SMMHUB_RETURN_IF_ERROR(value);

    std::string result = value->text;
    ValueOrigin origin = value->origin;
    for (const FieldFilter& filter : ref.filters) {
      Result<std::string> filtered = applyFilter(filter, result, inputs.brand);
      if (!filtered.ok()) {
        return filtered.status().withContext(value->place + ": filter '" + filter.name + "'");
      }
      result = std::move(filtered).value();
      origin = filter.name == "asset" ? ValueOrigin::kBrand : origin;
    }
    expanded.text += result;
    // A path is relative to the data only when the whole string is one data field.
    expanded.origin = parts.size() == 1 ? origin : ValueOrigin::kTemplate;
    if (parts.size() == 1 && value->origin == ValueOrigin::kData) {
      size_t column = value->place.find("column ");
      expanded.data_column = column == std::string::npos ? "" : value->place.substr(column);
    }
  }
  return expanded;
}

namespace {

// Collects the problems of one row, each once.
class RowProblems {
 public:
  // Files an error from expandFields(): data errors keep their "row N,
  // column C" place, others are placed at POINTER.
  void add(const Status& status, const std::string& pointer) {
    const std::string& message = status.message();
    size_t colon = message.find(": ");
    if (message.starts_with("row ") && colon != std::string::npos) {
      add(message.substr(0, colon), message.substr(colon + 2));
    } else if (message.starts_with("brand: ")) {
      add(pointer, message.substr(7));
    } else {
      add(pointer, message);
    }
  }

  void add(std::string place, std::string message) {
    for (const BindError& error : errors_) {
      if (error.place == place && error.message == message) {
        return;
      }
    }
    errors_.push_back(BindError{std::move(place), std::move(message)});
  }

  const std::vector<BindError>& errors() const { return errors_; }

 private:
  std::vector<BindError> errors_;
};

// Returns whether TEXT starts with a URL scheme and "://", as in "https://".
bool isUrl(std::string_view text) {
  size_t end = text.find("://");
  if (end == std::string_view::npos || end == 0 ||
      !std::isalpha(static_cast<unsigned char>(text[0]))) {
    return false;
  }
  return std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(end), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

// Returns whether TEXT is an http or https URL, whatever the scheme's case.
bool isHttpUrl(std::string_view text) {
  if (!isUrl(text)) {
    return false;
  }
  std::string scheme(text.substr(0, text.find("://")));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return scheme == "http" || scheme == "https";
}

// Whether PATH, with its links followed, lies inside one of ROOTS.
bool insideAny(const fs::path& path, const std::vector<fs::path>& roots) {
  std::error_code error;
  fs::path real = fs::weakly_canonical(path, error);
  if (error) {
    return false;
  }
  for (const fs::path& root : roots) {
    fs::path real_root = fs::weakly_canonical(root, error);
    if (error) {
      continue;
    }
    fs::path relative = real.lexically_relative(real_root);
    if (!relative.empty() && *relative.begin() != ".." && relative.is_relative()) {
      return true;
    }
  }
  return false;
}

// Resolves a source path and checks the file: present, a regular file, at
// most kMaxAssetBytes, and for a data value inside the table's source roots.
Result<std::string> resolveSource(const ExpandedText& value, const fs::path& template_dir,
                                  const DataTable& table, const BrandKit& brand) {
  if (isBlank(value.text)) {
    return Status::invalidArgument("source is empty; give a file path");
  }
  // Read as a path, a URL becomes a missing file under a mangled name.
  if (isUrl(value.text)) {
    return Status::invalidArgument("'" + value.text +
                                   "' is a URL, and remote files are not fetched; download the "
                                   "file and give its path");
  }
  fs::path path(value.text);
  if (path.is_relative()) {
    fs::path base = value.origin == ValueOrigin::kData && !table.source.empty()
                        ? table.source.parent_path()
                    : value.origin == ValueOrigin::kBrand ? brand.dir
                                                          : template_dir;
    path = base / path;
  }
  path = fs::absolute(path).lexically_normal();
  if (value.origin == ValueOrigin::kData && !table.source_roots.empty() &&
      !insideAny(path, table.source_roots)) {
    return Status::invalidArgument("'" + value.text +
                                   "' names a file outside the ones this batch may read; give "
                                   "an https URL or an asset of the brand kit");
  }
  if (std::optional<std::string> problem = regularFileProblem(path)) {
    return Status::invalidArgument(*problem);
  }
  std::error_code error;
  std::uintmax_t size = fs::file_size(path, error);
  if (error || size > kMaxAssetBytes) {
    return Status::invalidArgument(path.string() + " is " + std::to_string(size) +
                                   " bytes, over the limit of " + std::to_string(kMaxAssetBytes) +
                                   " bytes; compress or scale it down");
  }
  return path.string();
}

// Returns why TEXT is too long for a text layer, or nothing.
std::optional<std::string> textLengthProblem(const std::string& text) {
  size_t chars = 0;
  size_t lines = 1;
  for (char c : text) {
    // Counts code points: every byte but UTF-8 continuation bytes.
    chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    lines += c == '\n' ? 1 : 0;
  }
  if (chars > kMaxTextChars) {
    return "text is " + std::to_string(chars) + " characters long, over the limit of " +
           std::to_string(kMaxTextChars) + "; shorten it";
  }
  if (lines > kMaxTextLines) {
    return "text has " + std::to_string(lines) + " lines, over the limit of " +
           std::to_string(kMaxTextLines) + "; shorten it";
  }
  return std::nullopt;
}

// Expands one string property in place, then checks it by kind.
void bindString(std::string& value, const std::string& pointer, StringKind kind,
                const BindInputs& inputs, const fs::path& template_dir, RowProblems* problems) {
  Result<ExpandedText> expanded = expandFields(value, inputs);
  if (!expanded.ok()) {
    problems->add(expanded.status(), pointer);
    return;
  }
  if (kind == StringKind::kColor) {
    Result<std::string> color = normalizeColor(expanded->text);
    if (!color.ok()) {
      problems->add(pointer, color.status().message());
      return;
    }
    value = *color;
  } else if (kind == StringKind::kPath) {
    Result<std::string> path = resolveSource(*expanded, template_dir, inputs.table, inputs.brand);
    if (!path.ok()) {
      problems->add(pointer, path.status().message());
      return;
    }
    value = *path;
  } else if (kind == StringKind::kText) {
    if (std::optional<std::string> problem = textLengthProblem(expanded->text)) {
      problems->add(pointer, *problem);
      return;
    }
    value = expanded->text;
  } else if (kind == StringKind::kFontFamily && isBlank(expanded->text)) {
    problems->add(pointer, "font family is empty; name a font or a brand font");
  } else {
    value = expanded->text;
  }
}

// Records in each layer whose file name came from one data cell the column
// it came from, so that errors reading the file name it.
void noteSourceColumns(Template& bound, const BindInputs& inputs) {
  auto note = [&](Layer& layer, const Layer& original) {
    const std::string* src = nullptr;
    if (const auto* image = std::get_if<ImageProps>(&original.props)) {
      src = &image->src;
    } else if (const auto* video = std::get_if<VideoProps>(&original.props)) {
      src = &video->src;
    } else if (const auto* audio = std::get_if<AudioProps>(&original.props)) {
      src = &audio->src;
    }
    if (src != nullptr && hasFields(*src)) {
      Result<ExpandedText> expanded = expandFields(*src, inputs);
      layer.source_column = expanded.ok() ? expanded->data_column : "";
    }
  };
  for (size_t s = 0; s < bound.scenes.size(); ++s) {
    for (size_t l = 0; l < bound.scenes[s].layers.size(); ++l) {
      note(bound.scenes[s].layers[l], inputs.tmpl.scenes[s].layers[l]);
    }
  }
  for (size_t l = 0; l < bound.audio.size(); ++l) {
    note(bound.audio[l], inputs.tmpl.audio[l]);
  }
}

}  // namespace

Result<Template> bindTemplate(const Template& tmpl, const BrandKit& brand, const DataTable& table,
                              const DataRow& row, const ColumnMapping& mapping,
                              const fs::path& template_dir, Diagnostics* problems) {
  BindInputs inputs{tmpl, brand, table, row, mapping};
  RowProblems row_problems;

  // Every field is checked, even one no string refers to, so that a bad row
  // fails the same way whatever the template shows.
  for (const Field& field : tmpl.fields) {
    Result<FieldValue> value = rowField(field, inputs);
    if (!value.ok()) {
      row_problems.add(value.status(), "/fields/" + field.name);
    }
  }

  Template bound = tmpl;
  visitStrings(bound, [&](std::string& value, const std::string& pointer, StringKind kind) {
    bindString(value, pointer, kind, inputs, template_dir, &row_problems);
  });
  noteSourceColumns(bound, inputs);

  const std::vector<BindError>& errors = row_problems.errors();
  if (problems != nullptr) {
    for (const BindError& error : errors) {
      problems->error(error.place, error.message);
    }
  }
  if (!errors.empty()) {
    std::string count = errors.size() == 1 ? "1 error" : std::to_string(errors.size()) + " errors";
    return Status::invalidArgument("row " + std::to_string(row.number) + ": " + count +
                                   "; first: " + errors.front().place + ": " +
                                   errors.front().message);
  }
  return bound;
}

void checkBrandReferences(const Template& tmpl, const BrandKit& brand, Diagnostics* problems) {
  RowProblems found;
  Template copy = tmpl;
  visitStrings(copy, [&](std::string& value, const std::string& pointer, StringKind) {
    Result<std::vector<TextPart>> parts = splitFields(value);
    if (!parts.ok()) {
      return;  // the parser has reported it
    }
    for (const TextPart& part : *parts) {
      if (!part.field) {
        continue;
      }
      if (part.field->name.starts_with("brand.")) {
        Result<FieldValue> resolved = brandField(part.field->name, brand);
        if (!resolved.ok()) {
          found.add(resolved.status(), pointer);
        }
      }
      for (const FieldFilter& filter : part.field->filters) {
        if (filter.name == "asset" && !brand.libraries.contains(filter.argument)) {
          found.add(pointer,
                    "filter 'asset': " + applyAsset(filter.argument, "", brand).status().message());
        }
      }
    }
  });
  for (const BindError& error : found.errors()) {
    problems->error(error.place, error.message);
  }
}

std::vector<RemoteSource> remoteSources(const Template& tmpl, const DataTable& table,
                                        const DataRow& row, const ColumnMapping& mapping) {
  std::vector<RemoteSource> sources;
  Template copy = tmpl;
  visitStrings(copy, [&](std::string& value, const std::string& pointer, StringKind kind) {
    Result<std::vector<TextPart>> parts = splitFields(value);
    if (kind != StringKind::kPath || !parts.ok() || parts->size() != 1 || !parts->front().field) {
      return;
    }
    const FieldRef& ref = *parts->front().field;
    bool keeps_value = std::all_of(ref.filters.begin(), ref.filters.end(),
                                   [](const FieldFilter& filter) { return filter.name == "trim"; });
    if (!keeps_value || tmpl.findField(ref.name) == nullptr) {
      return;
    }
    std::string column = mapping.columnFor(ref.name);
    int index = table.columnIndex(column);
    if (index < 0 || static_cast<size_t>(index) >= row.values.size()) {
      return;
    }
    std::string url = trimSpaces(row.values[static_cast<size_t>(index)]);
    if (!isHttpUrl(url)) {
      return;
    }
    bool listed = std::any_of(sources.begin(), sources.end(),
                              [&](const RemoteSource& source) { return source.column == column; });
    if (!listed) {
      sources.push_back(RemoteSource{column, url, pointer});
    }
  });
  return sources;
}

std::vector<std::string> referencedFields(const Template& tmpl) {
  std::vector<std::string> names;
  Template copy = tmpl;
  visitStrings(copy, [&](std::string& value, const std::string&, StringKind) {
    for (std::string& name : fieldNames(value)) {
      if (!name.starts_with("brand.") &&
          std::find(names.begin(), names.end(), name) == names.end()) {
        names.push_back(std::move(name));
      }
    }
  });
  return names;
}

}  // namespace smmhub::templates
