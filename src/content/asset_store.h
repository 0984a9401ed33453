// A tenant's uploaded files: images and fonts that brand kits and templates
// use. Each asset is a row of the assets table and a file at
// STORAGE/TENANT/assets/ID.EXT, where EXT comes from the sniffed type: the
// client's name never reaches the file system.
//
//   AssetStore assets(*db, "/srv/smmhub/storage");
//   AssetRejection rejection;
//   SMMHUB_ASSIGN_OR_RETURN(Asset asset,
//                           assets.create("acme", {.name = "crest.png", .bytes = body},
//                                         &rejection));
//
// Every method takes the tenant and looks rows up by (tenant, id), so an id
// of another tenant is notFound. An AssetStore is safe to use from many
// threads at once, as Database is.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "content/asset_check.h"
#include "store/database.h"

namespace smmhub::content {

struct Asset {
  std::string id;  // "ast_" and 16 hexadecimal digits
  std::string tenant;
  std::string name;
  std::string media_type;  // the sniffed type, such as "image/png"
  std::int64_t bytes = 0;
  std::int64_t width = 0;  // 0 for fonts
  std::int64_t height = 0;
  std::string sha256;
  std::string path;  // absolute: STORAGE/TENANT/assets/ID.EXT
  std::int64_t created_at_ms = 0;
};

class AssetStore {
 public:
  // REQUIRES: DB outlives the store; STORAGE is the folder the workers read.
  AssetStore(store::Database& db, std::filesystem::path storage, AssetLimits limits = {});

  // Checks UPLOAD (checkAsset()), writes its bytes and adds its row.
  // Errors: those of checkAsset() with REJECTION (may be null) set;
  // alreadyExists when the tenant has an asset of that name; unavailable
  // when the file or the row cannot be written.
  Result<Asset> create(const std::string& tenant, const AssetUpload& upload,
                       AssetRejection* rejection);

  // The tenant's assets, by name.
  Result<std::vector<Asset>> list(const std::string& tenant);

  // Errors: notFound when the tenant has no asset ID.
  Result<Asset> get(const std::string& tenant, const std::string& id);

  // Deletes the row and the file. Errors: notFound; failedPrecondition while
  // a brand kit names the asset, naming the kit.
  Status remove(const std::string& tenant, const std::string& id);

  // The absolute path of ASSET's file.
  std::filesystem::path filePath(const Asset& asset) const { return asset.path; }

  const AssetLimits& limits() const { return limits_; }

 private:
  store::Database& db_;
  std::filesystem::path storage_;
  AssetLimits limits_;
};

}  // namespace smmhub::content
