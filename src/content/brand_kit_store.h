// A tenant's brand kits, made in the API from uploaded assets and stored in
// the folder format that the workers read (docs/templates.md, "Brand kits").
//
// A kit is created and updated from JSON that names assets by id:
//
//   {"name": "Demo Sports", "handle": "@demosports",
//    "colors": {"primary": "#0B1D51"},
//    "fonts": {"display": {"family": "Bebas Neue", "weight": 400, "asset_id": "ast_..."}},
//    "logo_asset_id": "ast_...", "assets": {"music": "ast_..."},
//    "libraries": {"crests": {"Arsenal FC": "ast_...", "Chelsea FC": "ast_..."}}}
//
// and becomes the folder STORAGE/TENANT/brand-kits/ID with brand.json and a
// files/ folder of hard links to (or copies of) the assets' files, named by
// asset id. Each library becomes the index libraries/NAME.json, which maps
// its entry names to "../files/ASSET_FILE", so that a template's
// {{home|asset:crests}} finds the file of the name in column home.
//
// An update builds the new folder beside the old one and swaps the
// two in one renameat2(RENAME_EXCHANGE), so that a worker reads either the
// old kit or the new one, never a mix.
//
// Every method takes the tenant and looks rows up by (tenant, id), so an id
// of another tenant is notFound.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/diagnostics.h"
#include "common/status.h"
#include "store/database.h"

namespace smmhub::content {

struct BrandKitRecord {
  std::string id;  // "bk_" and 16 hexadecimal digits
  std::string tenant;
  std::string name;
  // The kit as last created or updated, in the JSON form above.
  nlohmann::json spec;
  std::string dir;  // absolute: STORAGE/TENANT/brand-kits/ID
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

class BrandKitStore {
 public:
  // REQUIRES: DB outlives the store; STORAGE is the folder the workers read.
  BrandKitStore(store::Database& db, std::filesystem::path storage);

  // Checks SPEC, writes the kit's folder, checks it with
  // templates::loadBrandKit() and adds the row. Every problem goes to
  // PROBLEMS (may be null) with the JSON pointer of the field in SPEC.
  // Errors: invalidArgument summarising the problems; alreadyExists when the
  // tenant has a kit of that name; unavailable for file or database errors.
  Result<BrandKitRecord> create(const std::string& tenant, const nlohmann::json& spec,
                                Diagnostics* problems);

  // Replaces kit ID's content with SPEC, checked as by create(). Errors: as
  // create(), and notFound.
  Result<BrandKitRecord> update(const std::string& tenant, const std::string& id,
                                const nlohmann::json& spec, Diagnostics* problems);

  // The tenant's kits, by name.
  Result<std::vector<BrandKitRecord>> list(const std::string& tenant);

  // Errors: notFound when the tenant has no kit ID.
  Result<BrandKitRecord> get(const std::string& tenant, const std::string& id);

  // Deletes the row and the folder. Errors: notFound; failedPrecondition
  // while a campaign uses the kit, naming the campaign.
  Status remove(const std::string& tenant, const std::string& id);

  // The absolute path of KIT's folder, which contains brand.json.
  std::filesystem::path directory(const BrandKitRecord& kit) const { return kit.dir; }

 private:
  // Checks SPEC and writes the kit's folder at a fresh temporary path in the
  // tenant's brand-kits folder, which it returns.
  Result<std::filesystem::path> buildFolder(const std::string& tenant, const nlohmann::json& spec,
                                            Diagnostics* problems);

  store::Database& db_;
  std::filesystem::path storage_;
  // Serializes updates, so that the folder swapped in last belongs to the
  // row written last.
  std::mutex update_mutex_;
};

}  // namespace smmhub::content
