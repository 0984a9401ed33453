// Brand kits: an agency's name, logo, colours, fonts, assets and asset
// libraries, read from a folder with brand.json (docs/templates.md).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/diagnostics.h"
#include "common/status.h"

namespace smmhub::templates {

struct BrandFont {
  std::string family;
  int weight = 400;
  std::string style;           // as brand.json names it ("Regular"); may be empty
  std::filesystem::path file;  // absolute; empty when fontconfig provides the family
};

// Named files, such as club crests, looked up by a value from the data.
struct AssetLibrary {
  std::filesystem::path index;                           // absolute path of the index JSON
  std::map<std::string, std::filesystem::path> entries;  // name -> absolute file path

  // Returns the file for NAME; when no name matches exactly, the one that
  // matches ignoring ASCII case and repeated spaces. Returns nullopt if none.
  std::optional<std::filesystem::path> find(const std::string& name) const;

  // Returns the entry name closest to NAME by edit distance, for messages.
  std::string closestName(const std::string& name) const;
};

struct BrandKit {
  std::filesystem::path dir;  // absolute
  std::string name;
  std::string handle;
  std::filesystem::path logo;                           // absolute; empty if none
  std::map<std::string, std::string> colors;            // name -> "#RRGGBBAA"
  std::map<std::string, BrandFont> fonts;               // "display", "body", ...
  std::map<std::string, std::filesystem::path> assets;  // name -> absolute path
  std::map<std::string, AssetLibrary> libraries;
};

// Reads DIR/brand.json and each library index it names. Every problem goes
// to PROBLEMS (may be null) with the file and JSON pointer as its place;
// files that brand.json names but that do not exist are errors. Returns
// invalidArgument summarising the errors, or notFound without brand.json.
Result<BrandKit> loadBrandKit(const std::filesystem::path& dir, Diagnostics* problems);

// Parses JSON_TEXT as the brand.json of DIR, as loadBrandKit() does once it
// has read the file: the files and library indexes it names are looked up
// under DIR. Errors: as loadBrandKit(), but never notFound.
Result<BrandKit> parseBrandKit(std::string_view json_text, const std::filesystem::path& dir,
                               Diagnostics* problems);

}  // namespace smmhub::templates
