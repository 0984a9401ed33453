#include "template/brand_kit.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "template/color.h"
#include "template/text_util.h"

namespace smmhub::templates {
namespace {

namespace fs = std::filesystem;

std::string foldName(const std::string& name) {
  std::string folded;
  for (char c : name) {
    if (c == ' ' && (folded.empty() || folded.back() == ' ')) {
      continue;
    }
    folded += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  while (!folded.empty() && folded.back() == ' ') {
    folded.pop_back();
  }
  return folded;
}

// Errors of one brand kit, each placed as "FILE#POINTER".
struct BrandContext {
  std::vector<Diagnostic> errors;

  void error(const fs::path& file, const std::string& pointer, std::string message) {
    errors.push_back(
        Diagnostic{Severity::kError, file.string() + "#" + pointer, std::move(message)});
  }
};

// Parses TEXT, the content of PATH, as JSON.
Result<nlohmann::json> parseJsonText(std::string_view text, const fs::path& path) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& parse_error) {
    return Status::invalidArgument(path.string() + ": invalid JSON: " + parse_error.what());
  } catch (const nlohmann::json::out_of_range& range_error) {
    return Status::invalidArgument(path.string() + ": invalid JSON: " + range_error.what());
  }
}

Result<std::string> readJsonText(const fs::path& path) {
  // Checked before opening, so that a FIFO, /dev/zero or a huge file is
  // never read.
  constexpr std::uintmax_t kMaxJsonBytes = 1024 * 1024;
  std::error_code error;
  if (!fs::is_regular_file(path, error)) {
    return Status::notFound(path.string() + ": not found or not a regular file");
  }
  std::uintmax_t size = fs::file_size(path, error);
  if (error || size > kMaxJsonBytes) {
    return Status::invalidArgument(path.string() + ": larger than the limit of " +
                                   std::to_string(kMaxJsonBytes) + " bytes");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status::notFound(path.string() + ": not found");
  }
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

Result<nlohmann::json> readJsonFile(const fs::path& path) {
  SMMHUB_ASSIGN_OR_RETURN(std::string text, readJsonText(path));
  return parseJsonText(text, path);
}

// Resolves RELATIVE against BASE and checks that the file exists.
fs::path existingFile(const fs::path& base, const std::string& relative, const fs::path& file,
                      const std::string& pointer, BrandContext* context) {
  fs::path path = fs::absolute(base / relative).lexically_normal();
  if (std::optional<std::string> problem = regularFileProblem(path)) {
    context->error(file, pointer, *problem);
  }
  return path;
}

std::string stringMember(const nlohmann::json& object, const std::string& key, const fs::path& file,
                         const std::string& pointer, BrandContext* context) {
  auto found = object.find(key);
  if (found == object.end()) {
    return "";
  }
  if (!found->is_string()) {
    context->error(file, pointer + "/" + key, "expected a string");
    return "";
  }
  return found->get<std::string>();
}

// Iterates the string members of OBJECT[KEY], reporting other types.
template <typename Visit>
void forEachString(const nlohmann::json& object, const std::string& key, const fs::path& file,
                   BrandContext* context, Visit visit) {
  auto found = object.find(key);
  if (found == object.end()) {
    return;
  }
  if (!found->is_object()) {
    context->error(file, "/" + key, "expected an object of name: value");
    return;
  }
  for (const auto& [name, value] : found->items()) {
    std::string pointer = "/" + key + "/" + name;
    if (!value.is_string()) {
      context->error(file, pointer, "expected a string");
      continue;
    }
    visit(name, value.template get<std::string>(), pointer);
  }
}

AssetLibrary loadLibrary(const fs::path& index_path, const fs::path& brand_file,
                         const std::string& pointer, BrandContext* context) {
  AssetLibrary library;
  library.index = index_path;
  Result<nlohmann::json> index = readJsonFile(index_path);
  if (!index.ok()) {
    context->error(brand_file, pointer, index.status().message());
    return library;
  }
  if (!index->is_object()) {
    context->error(index_path, "", "expected an object of name: file");
    return library;
  }
  for (const auto& [name, value] : index->items()) {
    std::string entry_pointer = "/" + name;
    if (!value.is_string()) {
      context->error(index_path, entry_pointer, "expected a file name");
      continue;
    }
    library.entries[name] = existingFile(index_path.parent_path(), value.get<std::string>(),
                                         index_path, entry_pointer, context);
  }
  return library;
}

BrandFont parseFont(const nlohmann::json& json, const fs::path& dir, const fs::path& file,
                    const std::string& pointer, BrandContext* context) {
  BrandFont font;
  if (json.is_string()) {
    font.family = json.get<std::string>();
    return font;
  }
  if (!json.is_object()) {
    context->error(file, pointer, "expected a family name or {family, weight, file}");
    return font;
  }
  font.family = stringMember(json, "family", file, pointer, context);
  if (font.family.empty()) {
    context->error(file, pointer + "/family", "missing font family");
  }
  font.style = stringMember(json, "style", file, pointer, context);
  if (auto weight = json.find("weight"); weight != json.end()) {
    if (weight->is_number_integer() && *weight >= 100 && *weight <= 900) {
      font.weight = weight->get<int>();
    } else {
      context->error(file, pointer + "/weight", "expected a weight from 100 to 900");
    }
  }
  std::string font_file = stringMember(json, "file", file, pointer, context);
  if (!font_file.empty()) {
    font.file = existingFile(dir, font_file, file, pointer + "/file", context);
  }
  return font;
}

// Warns of each member of JSON that brand.json does not define, naming the
// closest known member: a misspelt "colours" would otherwise be dropped
// without a word.
void warnUnknownMembers(const nlohmann::json& json, const fs::path& file, Diagnostics* problems) {
  constexpr std::array<std::string_view, 7> kKnown = {"name",  "handle", "logo",     "colors",
                                                      "fonts", "assets", "libraries"};
  for (const auto& item : json.items()) {
    // A named reference, not a structured binding: clang 14, which builds the
    // fuzz targets, cannot capture those in a lambda.
    const std::string& key = item.key();
    if (std::find(kKnown.begin(), kKnown.end(), key) != kKnown.end()) {
      continue;
    }
    std::string_view closest = *std::min_element(
        kKnown.begin(), kKnown.end(), [&](std::string_view a, std::string_view b) {
          return editDistance(key, a) < editDistance(key, b);
        });
    problems->warning(
        file.string() + "#/" + key,
        "unknown member, ignored; the closest known one is '" + std::string(closest) + "'");
  }
}

void parseBrand(const nlohmann::json& json, const fs::path& file, BrandKit* kit,
                BrandContext* context) {
  kit->name = stringMember(json, "name", file, "", context);
  kit->handle = stringMember(json, "handle", file, "", context);
  std::string logo = stringMember(json, "logo", file, "", context);
  if (!logo.empty()) {
    kit->logo = existingFile(kit->dir, logo, file, "/logo", context);
  }
  forEachString(json, "colors", file, context,
                [&](const std::string& name, const std::string& value, const std::string& pointer) {
                  Result<std::string> color = normalizeColor(value);
                  if (color.ok()) {
                    kit->colors[name] = *color;
                  } else {
                    context->error(file, pointer, color.status().message());
                  }
                });
  if (auto fonts = json.find("fonts"); fonts != json.end() && fonts->is_object()) {
    for (const auto& [name, value] : fonts->items()) {
      kit->fonts[name] = parseFont(value, kit->dir, file, "/fonts/" + name, context);
    }
  }
  forEachString(json, "assets", file, context,
                [&](const std::string& name, const std::string& value, const std::string& pointer) {
                  kit->assets[name] = existingFile(kit->dir, value, file, pointer, context);
                });
  forEachString(json, "libraries", file, context,
                [&](const std::string& name, const std::string& value, const std::string& pointer) {
                  fs::path index = fs::absolute(kit->dir / value).lexically_normal();
                  kit->libraries[name] = loadLibrary(index, file, pointer, context);
                });
}

}  // namespace

std::optional<fs::path> AssetLibrary::find(const std::string& name) const {
  if (auto found = entries.find(name); found != entries.end()) {
    return found->second;
  }
  std::string folded = foldName(name);
  for (const auto& [entry_name, path] : entries) {
    if (foldName(entry_name) == folded) {
      return path;
    }
  }
  return std::nullopt;
}

std::string AssetLibrary::closestName(const std::string& name) const {
  std::string closest;
  size_t closest_distance = SIZE_MAX;
  for (const auto& [entry_name, path] : entries) {
    size_t distance = editDistance(foldName(name), foldName(entry_name));
    if (distance < closest_distance) {
      closest = entry_name;
      closest_distance = distance;
    }
  }
  return closest;
}

Result<BrandKit> parseBrandKit(std::string_view json_text, const fs::path& dir,
                               Diagnostics* problems) {
  BrandKit kit;
  kit.dir = fs::absolute(dir).lexically_normal();
  fs::path file = kit.dir / "brand.json";
  Result<nlohmann::json> json = parseJsonText(json_text, file);
  if (!json.ok()) {
    if (problems != nullptr) {
      problems->error(file.string(), json.status().message());
    }
    return json.status();
  }
  if (!json->is_object()) {
    if (problems != nullptr) {
      problems->error(file.string() + "#", "expected a JSON object");
    }
    return Status::invalidArgument(file.string() + ": expected a JSON object");
  }

  BrandContext context;
  parseBrand(*json, file, &kit, &context);
  if (problems != nullptr) {
    warnUnknownMembers(*json, file, problems);
    for (const Diagnostic& error : context.errors) {
      problems->error(error.place, error.message);
    }
  }
  if (!context.errors.empty()) {
    const Diagnostic& first = context.errors.front();
    return Status::invalidArgument(file.string() + ": " + std::to_string(context.errors.size()) +
                                   (context.errors.size() == 1 ? " error" : " errors") +
                                   "; first: " + first.place + ": " + first.message);
  }
  return kit;
}

Result<BrandKit> loadBrandKit(const fs::path& dir, Diagnostics* problems) {
  fs::path file = fs::absolute(dir).lexically_normal() / "brand.json";
  Result<std::string> text = readJsonText(file);
  if (!text.ok()) {
    if (problems != nullptr) {
      problems->error(file.string(), text.status().message());
    }
    return text.status();
  }
  return parseBrandKit(*text, dir, problems);
}

}  // namespace smmhub::templates
