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

#include "common/files.h"
#include "common/ids.h"
#include "common/log.h"
#include "content/internal.h"
#include "content/media.h"
#include "template/brand_kit.h"
#include "template/color.h"

namespace smmhub::content {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

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

// Checks a kit's JSON and collects the files it names.
class SpecChecker {
 public:
  SpecChecker(const std::map<std::string, AssetFile>& assets, Diagnostics* problems)
      : assets_(assets), problems_(problems) {}

  // Returns brand.json for SPEC, with file names under files/.
  json check(const json& spec) {
    json brand = json::object();
    if (!spec.is_object()) {
      error("", "expected a JSON object with name, handle, colors, fonts, logo_asset_id, assets");
      return brand;
    }
    checkMembers(spec, "", {"name", "handle", "colors", "fonts", "logo_asset_id", "assets"});

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
      if (std::optional<std::string> file = assetFile(id, "/logo_asset_id", false)) {
        brand["logo"] = *file;
      }
    }
    checkColors(spec, &brand);
    checkFonts(spec, &brand);
    checkAssets(spec, &brand);
    return brand;
  }

  int errors() const { return errors_; }
  const std::string& first() const { return first_; }
  // Asset files to place in files/, by file name.
  const std::map<std::string, std::string>& files() const { return files_; }

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
  // checking that the tenant has it and that it is a font exactly when FONT.
  std::optional<std::string> assetFile(const std::string& id, const std::string& pointer,
                                       bool font) {
    if (id.empty()) {
      return std::nullopt;  // string() reported the wrong type
    }
    auto found = assets_.find(id);
    if (found == assets_.end()) {
      error(pointer, "asset '" + id + "' not found");
      return std::nullopt;
    }
    bool is_font = found->second.media_type.starts_with("font/");
    if (font && !is_font) {
      error(pointer, "asset '" + id + "' is " + found->second.media_type + ", not a font");
      return std::nullopt;
    }
    if (!font && is_font && pointer == "/logo_asset_id") {
      error(pointer, "asset '" + id + "' is " + found->second.media_type + ", not an image");
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
            if (std::optional<std::string> file = assetFile(id, pointer + "/asset_id", true)) {
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
                            assetFile(value.get<std::string>(), pointer, false)) {
                      (*brand)["assets"][name] = *file;
                    }
                  });
  }

  const std::map<std::string, AssetFile>& assets_;
  Diagnostics* problems_;
  int errors_ = 0;
  std::string first_;
  std::map<std::string, std::string> files_;
};

// Turns a place of loadBrandKit() ("/abs/brand.json#/fonts/display/file")
// into the pointer of the field in the request.
std::string requestPointer(const std::string& place) {
  size_t hash = place.find('#');
  std::string pointer = hash == std::string::npos ? "" : place.substr(hash + 1);
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
  statement.prepare(std::string(kKitColumns) + clause);
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
    soci::statement statement =
        (sql.prepare << "SELECT id, media_type, path FROM assets "
                        "WHERE tenant = :tenant",
         soci::into(id), soci::into(file.media_type), soci::into(file.path), soci::use(tenant));
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
  if (Status written = writeFileAtomically(folder / "brand.json", brand.dump(2));
      !written.ok()) {
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
        (sql.prepare << "UPDATE brand_kits SET name = :name, brand_json = :brand_json, "
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
    soci::statement statement = (sql.prepare << "DELETE FROM brand_kits WHERE tenant = :tenant "
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
