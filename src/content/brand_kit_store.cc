#include "content/brand_kit_store.h"

#include <fcntl.h>
#include <soci/soci.h>
#include <stdio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/files.h"
#include "common/ids.h"
#include "common/log.h"
#include "content/internal.h"
#include "content/media.h"
#include "store/statement.h"
#include "template/brand_kit.h"
#include "template/color.h"

namespace smmhub::content {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Limits of a kit's asset libraries: a worker reads every index each time it
// loads the kit.
constexpr size_t kMaxLibraries = 100;
constexpr size_t kMaxLibraryEntries = 5'000;  // over all the kit's libraries
constexpr size_t kMaxEntryNameBytes = 200;
// The largest JSON file that templates::loadBrandKit() reads.
constexpr size_t kMaxIndexBytes = 1024 * 1024;

// The kind of asset a field of the kit accepts.
enum class AssetKind {
  kFont,
  kImage,  // PNG, JPEG, GIF, WebP or SVG
  kAny,
};

// What a kit needs to know of one asset.
struct AssetFile {
  std::string media_type;
  std::string path;  // absolute
};

// Escapes KEY as one JSON pointer token (RFC 6901).
std::string pointerToken(const std::string& key) {
  std::string token;
  for (char c : key) {
    if (c == '~') {
      token += "~0";
    } else if (c == '/') {
      token += "~1";
    } else {
      token += c;
    }
  }
  return token;
}

// Whether KEY can name a colour, font or asset that templates reach as
// {{brand.colors.KEY}}: 1 to 64 letters, digits, '_' or '-'.
bool isBrandKey(const std::string& key) {
  return !key.empty() && key.size() <= 64 && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// Returns the length of the UTF-8 sequence that starts TEXT, or 0 when
// TEXT does not start with a valid one (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
size_t utf8SequenceLength(std::string_view text) {
  auto byte = [&](size_t i) {
    return static_cast<unsigned char>(text[i]);
  };
  unsigned char lead = byte(0);
  if (lead < 0x80) {
    return 1;
  }
  size_t length = 0;
  if (lead >= 0xF0) {
    length = 4;
  } else if (lead >= 0xE0) {
    length = 3;
  } else if (lead >= 0xC2) {
    length = 2;
  }
  if (length == 0 || lead > 0xF4 || text.size() < length) {
    return 0;
  }
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) {
      return 0;
    }
  }
  bool overlong = (lead == 0xE0 && byte(1) < 0xA0) || (lead == 0xF0 && byte(1) < 0x90);
  bool surrogate = lead == 0xED && byte(1) >= 0xA0;
  bool too_high = lead == 0xF4 && byte(1) >= 0x90;
  return overlong || surrogate || too_high ? 0 : length;
}

// Checks the name of a library entry, the text a row's column holds: 1 to
// 200 bytes of UTF-8 without control characters (U+0000 to U+001F, U+007F to
// U+009F).
Status checkEntryName(std::string_view name) {
  if (name.empty() || name.size() > kMaxEntryNameBytes) {
    return Status::invalidArgument(
        fmt::format("entry name has {} bytes; give 1 to {}", name.size(), kMaxEntryNameBytes));
  }
  for (size_t i = 0; i < name.size();) {
    size_t length = utf8SequenceLength(name.substr(i));
    if (length == 0) {
      return Status::invalidArgument(fmt::format("entry name is not valid UTF-8 at byte {}", i));
    }
    auto c = static_cast<unsigned char>(name[i]);
    bool c1_control = length == 2 && c == 0xC2 && static_cast<unsigned char>(name[i + 1]) < 0xA0;
    if (c < 0x20 || c == 0x7F || c1_control) {
      return Status::invalidArgument(
          fmt::format("entry name contains a control character at byte {}", i));
    }
    i += length;
  }
  return okStatus();
}

// Checks a kit's JSON and collects the files it names.
class SpecChecker {
 public:
  SpecChecker(const std::map<std::string, AssetFile>& assets, Diagnostics* problems)
      : assets_(assets), problems_(problems) {}

  // Returns brand.json for SPEC, with file names under files/.
  json check(const json& spec) {
    json brand = json::object();
    if (!spec.is_object()) {
      error("",
            "expected a JSON object with name, handle, colors, fonts, logo_asset_id, assets, "
            "libraries");
      return brand;
    }
    checkMembers(spec, "",
                 {"name", "handle", "colors", "fonts", "logo_asset_id", "assets", "libraries"});

    auto name = spec.find("name");
    if (name == spec.end()) {
      error("/name", "missing; give the kit's name");
    } else if (!name->is_string()) {
      error("/name", "expected a string");
    } else if (Status valid =
                   internal::checkDisplayName("brand kit name", name->get<std::string>());
               !valid.ok()) {
      error("/name", valid.message());
    } else {
      brand["name"] = *name;
    }
    if (spec.contains("handle")) {
      brand["handle"] = string(spec, "handle", "");
    }
    if (spec.contains("logo_asset_id")) {
      std::string id = string(spec, "logo_asset_id", "");
      if (std::optional<std::string> file = assetFile(id, "/logo_asset_id", AssetKind::kImage)) {
        brand["logo"] = *file;
      }
    }
    checkColors(spec, &brand);
    checkFonts(spec, &brand);
    checkAssets(spec, &brand);
    checkLibraries(spec, &brand);
    return brand;
  }

  int errors() const { return errors_; }
  const std::string& first() const { return first_; }
  // Asset files to place in files/, by file name.
  const std::map<std::string, std::string>& files() const { return files_; }
  // The text of each library's index, to write as libraries/NAME.json.
  const std::map<std::string, std::string>& libraries() const { return libraries_; }

  void error(const std::string& pointer, std::string message) {
    if (errors_++ == 0) {
      first_ = (pointer.empty() ? "/" : pointer) + ": " + message;
    }
    if (problems_ != nullptr) {
      problems_->error(pointer, std::move(message));
    }
  }

 private:
  void checkMembers(const json& object, const std::string& pointer,
                    std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : object.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string names;
        for (std::string_view name : known) {
          names += (names.empty() ? "" : ", ") + std::string(name);
        }
        error(pointer + "/" + pointerToken(key), "unknown member; known are " + names);
      }
    }
  }

  std::string string(const json& object, const std::string& key, const std::string& pointer) {
    auto found = object.find(key);
    if (found == object.end()) {
      return "";
    }
    if (!found->is_string()) {
      error(pointer + "/" + pointerToken(key), "expected a string");
      return "";
    }
    return found->get<std::string>();
  }

  // Returns the file name under the kit's folder for asset ID, after
  // checking that the tenant has it and that it is of KIND.
  std::optional<std::string> assetFile(const std::string& id, const std::string& pointer,
                                       AssetKind kind) {
    if (id.empty()) {
      return std::nullopt;  // string() reported the wrong type
    }
    auto found = assets_.find(id);
    if (found == assets_.end()) {
      error(pointer, "asset '" + id + "' not found");
      return std::nullopt;
    }
    const std::string& media_type = found->second.media_type;
    if (kind == AssetKind::kFont && !media_type.starts_with("font/")) {
      error(pointer, "asset '" + id + "' is " + media_type + ", not a font");
      return std::nullopt;
    }
    if (kind == AssetKind::kImage && !media_type.starts_with("image/")) {
      error(pointer, "asset '" + id + "' is " + media_type + ", not an image");
      return std::nullopt;
    }
    std::string name = "files/" + fs::path(found->second.path).filename().string();
    files_[name] = found->second.path;
    return name;
  }

  // Iterates the members of SPEC[KEY], which must be an object whose keys
  // are brand keys.
  template <typename Visit>
  void forEachMember(const json& spec, const std::string& key, Visit visit) {
    auto found = spec.find(key);
    if (found == spec.end()) {
      return;
    }
    if (!found->is_object()) {
      error("/" + key, "expected an object of name: value");
      return;
    }
    for (const auto& [name, value] : found->items()) {
      std::string pointer = "/" + key + "/" + pointerToken(name);
      if (!isBrandKey(name)) {
        error(pointer, "invalid name '" + name + "'; use 1 to 64 letters, digits, '_' or '-'");
        continue;
      }
      visit(name, value, pointer);
    }
  }

  void checkColors(const json& spec, json* brand) {
    forEachMember(spec, "colors",
                  [&](const std::string& name, const json& value, const std::string& pointer) {
                    if (!value.is_string()) {
                      error(pointer, "expected a colour string such as \"#0B1D51\"");
                      return;
                    }
                    Result<std::string> color = templates::normalizeColor(value.get<std::string>());
                    if (!color.ok()) {
                      error(pointer, color.status().message());
                      return;
                    }
                    (*brand)["colors"][name] = value;
                  });
  }

  void checkFonts(const json& spec, json* brand) {
    forEachMember(
        spec, "fonts", [&](const std::string& name, const json& value, const std::string& pointer) {
          if (!value.is_object()) {
            error(pointer, "expected {\"family\": ..., \"weight\": ..., \"asset_id\": ...}");
            return;
          }
          checkMembers(value, pointer, {"family", "weight", "asset_id"});
          json font = json::object();
          std::string family = string(value, "family", pointer);
          if (family.empty()) {
            error(pointer + "/family", "missing font family");
          }
          font["family"] = family;
          if (auto weight = value.find("weight"); weight != value.end()) {
            if (weight->is_number_integer() && *weight >= 100 && *weight <= 900) {
              font["weight"] = *weight;
            } else {
              error(pointer + "/weight", "expected a weight from 100 to 900");
            }
          }
          if (value.contains("asset_id")) {
            std::string id = string(value, "asset_id", pointer);
            if (std::optional<std::string> file =
                    assetFile(id, pointer + "/asset_id", AssetKind::kFont)) {
              font["file"] = *file;
            }
          }
          (*brand)["fonts"][name] = font;
        });
  }

  void checkAssets(const json& spec, json* brand) {
    forEachMember(spec, "assets",
                  [&](const std::string& name, const json& value, const std::string& pointer) {
                    if (!value.is_string()) {
                      error(pointer, "expected an asset id");
                      return;
                    }
                    if (std::optional<std::string> file =
                            assetFile(value.get<std::string>(), pointer, AssetKind::kAny)) {
                      (*brand)["assets"][name] = *file;
                    }
                  });
  }

  // Checks the libraries: each maps entry names (what a row's column holds)
  // to image assets, and becomes the index libraries/NAME.json, whose paths
  // are relative to the index as loadBrandKit() reads them.
  void checkLibraries(const json& spec, json* brand) {
    auto found = spec.find("libraries");
    if (found != spec.end() && found->is_object()) {
      size_t entries = 0;
      for (const auto& [name, library] : found->items()) {
        entries += library.is_object() ? library.size() : 0;
      }
      if (found->size() > kMaxLibraries) {
        error("/libraries",
              fmt::format("{} libraries; a kit has at most {}", found->size(), kMaxLibraries));
        return;
      }
      if (entries > kMaxLibraryEntries) {
        error("/libraries", fmt::format("{} entries in all libraries; a kit has at most {}",
                                        entries, kMaxLibraryEntries));
        return;
      }
    }
    forEachMember(spec, "libraries",
                  [&](const std::string& name, const json& value, const std::string& pointer) {
                    checkLibrary(name, value, pointer, brand);
                  });
  }

  void checkLibrary(const std::string& name, const json& library, const std::string& pointer,
                    json* brand) {
    if (!library.is_object()) {
      error(pointer, "expected an object of entry name: asset id");
      return;
    }
    json index = json::object();
    for (const auto& [entry, value] : library.items()) {
      std::string entry_pointer = pointer + "/" + pointerToken(entry);
      if (Status valid = checkEntryName(entry); !valid.ok()) {
        error(entry_pointer, valid.message());
        continue;
      }
      if (!value.is_string()) {
        error(entry_pointer, "expected an asset id");
        continue;
      }
      if (std::optional<std::string> file =
              assetFile(value.get<std::string>(), entry_pointer, AssetKind::kImage)) {
        index[entry] = "../" + *file;
      }
    }
    std::string text = index.dump();
    if (text.size() > kMaxIndexBytes) {
      error(pointer, fmt::format("the library's index takes {} bytes; the limit is {}: use fewer "
                                 "or shorter entry names",
                                 text.size(), kMaxIndexBytes));
      return;
    }
    (*brand)["libraries"][name] = "libraries/" + name + ".json";
    libraries_[name] = std::move(text);
  }

  const std::map<std::string, AssetFile>& assets_;
  Diagnostics* problems_;
  int errors_ = 0;
  std::string first_;
  std::map<std::string, std::string> files_;
  std::map<std::string, std::string> libraries_;
};

// Turns a place of loadBrandKit() ("/abs/brand.json#/fonts/display/file")
// into the pointer of the field in the request.
std::string requestPointer(const std::string& place) {
  size_t hash = place.find('#');
  std::string pointer = hash == std::string::npos ? "" : place.substr(hash + 1);
  fs::path file = place.substr(0, hash);
  if (file.parent_path().filename() == "libraries") {
    return "/libraries/" + pointerToken(file.stem().string());
  }
  if (pointer == "/logo") {
    return "/logo_asset_id";
  }
  if (pointer.starts_with("/fonts/") && pointer.ends_with("/file")) {
    return pointer.substr(0, pointer.size() - 5) + "/asset_id";
  }
  return pointer;
}

// Places FROM (an asset's file) at TO: a hard link when both are on one file
// system, a copy otherwise.
Status placeFile(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::create_hard_link(from, to, error);
  if (!error) {
    return okStatus();
  }
  fs::copy_file(from, to, error);
  if (error) {
    return Status::unavailable("copying " + from.string() + " to " + to.string() +
                               " failed: " + error.message());
  }
  return okStatus();
}

// Writes each library's index as FOLDER/libraries/NAME.json.
Status writeLibraries(const fs::path& folder, const std::map<std::string, std::string>& indexes) {
  if (indexes.empty()) {
    return okStatus();
  }
  std::error_code error;
  fs::create_directories(folder / "libraries", error);
  if (error) {
    return Status::unavailable("creating folder " + (folder / "libraries").string() +
                               " failed: " + error.message());
  }
  for (const auto& [name, index] : indexes) {
    SMMHUB_RETURN_IF_ERROR(writeFileAtomically(folder / "libraries" / (name + ".json"), index));
  }
  return okStatus();
}

void removeQuietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove_all(path, ignored);
}

constexpr std::string_view kKitColumns =
    "SELECT id, tenant, name, brand_json, dir, created_at_ms, updated_at_ms FROM brand_kits ";

Result<std::vector<BrandKitRecord>> selectKits(soci::session& sql, const std::string& clause,
                                               const std::string& tenant, const std::string* id) {
  BrandKitRecord row;
  std::string brand_json;
  soci::statement statement(sql);
  statement.exchange(soci::into(row.id));
  statement.exchange(soci::into(row.tenant));
  statement.exchange(soci::into(row.name));
  statement.exchange(soci::into(brand_json));
  statement.exchange(soci::into(row.dir));
  statement.exchange(soci::into(row.created_at_ms));
  statement.exchange(soci::into(row.updated_at_ms));
  statement.exchange(soci::use(tenant));
  if (id != nullptr) {
    statement.exchange(soci::use(*id));
  }
  statement.alloc();
  statement.prepare(std::string(kKitColumns) + clause, soci::details::st_one_time_query);
  statement.define_and_bind();
  statement.execute();

  std::vector<BrandKitRecord> kits;
  while (statement.fetch()) {
    row.spec = json::parse(brand_json, nullptr, false);
    if (row.spec.is_discarded()) {
      return Status::dataLoss("brand kit " + row.id + " has invalid JSON in brand_kits.brand_json");
    }
    kits.push_back(row);
  }
  return kits;
}

Result<std::map<std::string, AssetFile>> tenantAssets(store::Database& db,
                                                      const std::string& tenant) {
  std::map<std::string, AssetFile> assets;
  SMMHUB_RETURN_IF_ERROR(db.read([&](soci::session& sql) {
    std::string id;
    AssetFile file;
    soci::statement statement = store::runOnce(sql,
                                               "SELECT id, media_type, path FROM assets "
                                               "WHERE tenant = :tenant",
                                               soci::into(id), soci::into(file.media_type),
                                               soci::into(file.path), soci::use(tenant));
    statement.execute();
    while (statement.fetch()) {
      assets[id] = file;
    }
    return okStatus();
  }));
  return assets;
}

// NOTE: brand_kits has no UNIQUE (tenant, name), so on PostgreSQL two
// transactions that take one name at the same time can both pass this check.
Status checkNameFree(soci::session& sql, const std::string& tenant, const std::string& name,
                     const std::string& id) {
  int taken = 0;
  sql << "SELECT COUNT(*) FROM brand_kits WHERE tenant = :tenant AND name = :name AND id <> :id",
      soci::into(taken), soci::use(tenant), soci::use(name), soci::use(id);
  if (taken > 0) {
    return Status(StatusCode::kAlreadyExists,
                  "a brand kit named '" + name + "' exists already; choose another name");
  }
  return okStatus();
}

}  // namespace

namespace internal {

Result<std::vector<BrandKitUse>> brandKitsUsingAsset(soci::session& sql, const std::string& tenant,
                                                     const std::string& asset_id) {
  SMMHUB_ASSIGN_OR_RETURN(std::vector<BrandKitRecord> kits,
                          selectKits(sql, "WHERE tenant = :tenant ORDER BY name", tenant, nullptr));
  std::vector<BrandKitUse> uses;
  for (const BrandKitRecord& kit : kits) {
    bool uses_asset = kit.spec.value("logo_asset_id", json()) == asset_id;
    for (const char* key : {"fonts", "assets"}) {
      json members = kit.spec.value(key, json::object());
      for (const auto& [name, value] : members.items()) {
        json id = value.is_object() ? value.value("asset_id", json()) : value;
        uses_asset = uses_asset || id == asset_id;
      }
    }
    json libraries = kit.spec.value("libraries", json::object());
    for (const auto& [name, library] : libraries.items()) {
      if (!library.is_object()) {
        continue;
      }
      for (const auto& [entry, id] : library.items()) {
        uses_asset = uses_asset || id == asset_id;
      }
    }
    if (uses_asset) {
      uses.push_back({kit.id, kit.name});
    }
  }
  return uses;
}

}  // namespace internal

BrandKitStore::BrandKitStore(store::Database& db, fs::path storage)
    : db_(db), storage_(fs::absolute(storage)) {}

Result<fs::path> BrandKitStore::buildFolder(const std::string& tenant, const json& spec,
                                            Diagnostics* problems) {
  SMMHUB_ASSIGN_OR_RETURN(auto assets, tenantAssets(db_, tenant));
  SpecChecker checker(assets, problems);
  json brand = checker.check(spec);
  if (checker.errors() > 0) {
    return Status::invalidArgument("invalid brand kit: " + std::to_string(checker.errors()) +
                                   (checker.errors() == 1 ? " problem" : " problems") +
                                   "; first: " + checker.first());
  }

  fs::path folder = storage_ / tenant / "brand-kits" / (".tmp-" + randomId(""));
  std::error_code error;
  fs::create_directories(folder / "files", error);
  if (error) {
    return Status::unavailable("creating folder " + folder.string() +
                               " failed: " + error.message());
  }
  for (const auto& [name, source] : checker.files()) {
    if (Status placed = placeFile(source, folder / name); !placed.ok()) {
      removeQuietly(folder);
      return placed;
    }
  }
  if (Status written = writeLibraries(folder, checker.libraries()); !written.ok()) {
    removeQuietly(folder);
    return written;
  }
  if (Status written = writeFileAtomically(folder / "brand.json", brand.dump(2)); !written.ok()) {
    removeQuietly(folder);
    return written;
  }

  // The workers read the kit with loadBrandKit(), so the folder must pass it.
  Diagnostics loaded_problems;
  Result<templates::BrandKit> loaded = templates::loadBrandKit(folder, &loaded_problems);
  if (!loaded.ok()) {
    removeQuietly(folder);
    for (const Diagnostic& problem : loaded_problems.items()) {
      if (problem.severity == Severity::kError) {
        checker.error(requestPointer(problem.place), problem.message);
      }
    }
    return Status::invalidArgument("invalid brand kit: " + checker.first());
  }
  return folder;
}

Result<BrandKitRecord> BrandKitStore::create(const std::string& tenant, const json& spec,
                                             Diagnostics* problems) {
  SMMHUB_RETURN_IF_ERROR(internal::checkTenant(tenant));
  SMMHUB_ASSIGN_OR_RETURN(fs::path folder, buildFolder(tenant, spec, problems));
  BrandKitRecord kit{.id = randomId("bk_"),
                     .tenant = tenant,
                     .name = spec.at("name").get<std::string>(),
                     .spec = spec,
                     .created_at_ms = internal::nowMillis()};
  kit.dir = (storage_ / tenant / "brand-kits" / kit.id).string();
  kit.updated_at_ms = kit.created_at_ms;

  std::error_code error;
  fs::rename(folder, directory(kit), error);
  if (error) {
    removeQuietly(folder);
    return Status::unavailable("renaming " + folder.string() + " failed: " + error.message());
  }
  std::string brand_json = spec.dump();
  Status inserted = db_.write([&](soci::session& sql) {
    SMMHUB_RETURN_IF_ERROR(checkNameFree(sql, tenant, kit.name, kit.id));
    sql << "INSERT INTO brand_kits (id, tenant, name, brand_json, dir, created_at_ms, "
           "updated_at_ms) VALUES (:id, :tenant, :name, :brand_json, :dir, :created_at_ms, "
           ":updated_at_ms)",
        soci::use(kit.id), soci::use(kit.tenant), soci::use(kit.name), soci::use(brand_json),
        soci::use(kit.dir), soci::use(kit.created_at_ms), soci::use(kit.updated_at_ms);
    return okStatus();
  });
  if (!inserted.ok()) {
    removeQuietly(directory(kit));
    return inserted;
  }
  logger("content")->info("brand kit created tenant={} id={}", tenant, kit.id);
  return kit;
}

Result<BrandKitRecord> BrandKitStore::update(const std::string& tenant, const std::string& id,
                                             const json& spec, Diagnostics* problems) {
  SMMHUB_ASSIGN_OR_RETURN(BrandKitRecord kit, get(tenant, id));
  std::lock_guard lock(update_mutex_);
  SMMHUB_ASSIGN_OR_RETURN(fs::path folder, buildFolder(tenant, spec, problems));
  kit.name = spec.at("name").get<std::string>();
  kit.spec = spec;
  kit.updated_at_ms = internal::nowMillis();
  std::string brand_json = spec.dump();
  Status updated = db_.write([&](soci::session& sql) {
    SMMHUB_RETURN_IF_ERROR(checkNameFree(sql, tenant, kit.name, kit.id));
    soci::statement statement =
        store::runOnce(sql,
                       "UPDATE brand_kits SET name = :name, brand_json = :brand_json, "
                       "updated_at_ms = :updated_at_ms WHERE tenant = :tenant AND id = :id",
                       soci::use(kit.name), soci::use(brand_json), soci::use(kit.updated_at_ms),
                       soci::use(tenant), soci::use(id));
    statement.execute(true);
    if (statement.get_affected_rows() == 0) {
      return Status::notFound("brand kit '" + id + "' not found");
    }
    return okStatus();
  });
  if (!updated.ok()) {
    removeQuietly(folder);
    return updated;
  }

  // After the exchange FOLDER contains the old kit, which is removed.
  if (::renameat2(AT_FDCWD, folder.c_str(), AT_FDCWD, directory(kit).c_str(), RENAME_EXCHANGE) !=
      0) {
    int exchange_error = errno;
    removeQuietly(folder);
    return Status::unavailable("swapping in the new folder of brand kit " + id +
                               " failed: " + std::strerror(exchange_error));
  }
  removeQuietly(folder);
  logger("content")->info("brand kit updated tenant={} id={}", tenant, id);
  return kit;
}

Result<std::vector<BrandKitRecord>> BrandKitStore::list(const std::string& tenant) {
  SMMHUB_RETURN_IF_ERROR(internal::checkTenant(tenant));
  Result<std::vector<BrandKitRecord>> kits = Status::internal("not read");
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    kits = selectKits(sql, "WHERE tenant = :tenant ORDER BY name", tenant, nullptr);
    return okStatus();
  }));
  return kits;
}

Result<BrandKitRecord> BrandKitStore::get(const std::string& tenant, const std::string& id) {
  SMMHUB_RETURN_IF_ERROR(internal::checkTenant(tenant));
  Result<std::vector<BrandKitRecord>> kits = Status::internal("not read");
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    kits = selectKits(sql, "WHERE tenant = :tenant AND id = :id", tenant, &id);
    return okStatus();
  }));
  if (!kits.ok()) {
    return kits.status();
  }
  if (kits->empty()) {
    return Status::notFound("brand kit '" + id + "' not found");
  }
  return kits->front();
}

Status BrandKitStore::remove(const std::string& tenant, const std::string& id) {
  SMMHUB_ASSIGN_OR_RETURN(BrandKitRecord kit, get(tenant, id));
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    std::string campaign_id;
    std::string campaign_name;
    sql << "SELECT id, name FROM campaigns WHERE tenant = :tenant AND brand_kit_id = :id "
           "ORDER BY name LIMIT 1",
        soci::into(campaign_id), soci::into(campaign_name), soci::use(tenant), soci::use(id);
    if (sql.got_data()) {
      return Status::failedPrecondition("brand kit '" + kit.name + "' (" + id +
                                        ") is used by campaign '" + campaign_name + "' (" +
                                        campaign_id + "); change the campaign's brand kit first");
    }
    soci::statement statement = store::runOnce(sql,
                                               "DELETE FROM brand_kits WHERE tenant = :tenant "
                                               "AND id = :id",
                                               soci::use(tenant), soci::use(id));
    statement.execute(true);
    if (statement.get_affected_rows() == 0) {
      return Status::notFound("brand kit '" + id + "' not found");
    }
    return okStatus();
  }));
  removeQuietly(directory(kit));
  logger("content")->info("brand kit deleted tenant={} id={}", tenant, id);
  return okStatus();
}

}  // namespace smmhub::content
