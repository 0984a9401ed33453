#include "content/asset_store.h"

#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/ids.h"
#include "common/log.h"
#include "content/internal.h"

namespace smmhub::content {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kAssetColumns =
    "SELECT id, tenant, name, media_type, bytes, width, height, sha256, path, created_at_ms "
    "FROM assets ";

// Reads the rows that CLAUSE selects, with TENANT and then ID (when not null)
// bound to its parameters.
std::vector<Asset> selectAssets(soci::session& sql, const std::string& clause,
                                const std::string& tenant, const std::string* id) {
  Asset row;
  soci::statement statement(sql);
  statement.exchange(soci::into(row.id));
  statement.exchange(soci::into(row.tenant));
  statement.exchange(soci::into(row.name));
  statement.exchange(soci::into(row.media_type));
  statement.exchange(soci::into(row.bytes));
  statement.exchange(soci::into(row.width));
  statement.exchange(soci::into(row.height));
  statement.exchange(soci::into(row.sha256));
  statement.exchange(soci::into(row.path));
  statement.exchange(soci::into(row.created_at_ms));
  statement.exchange(soci::use(tenant));
  if (id != nullptr) {
    statement.exchange(soci::use(*id));
  }
  statement.alloc();
  statement.prepare(std::string(kAssetColumns) + clause, soci::details::st_one_time_query);
  statement.define_and_bind();
  statement.execute();

  std::vector<Asset> assets;
  while (statement.fetch()) {
    assets.push_back(row);
  }
  return assets;
}

}  // namespace

AssetStore::AssetStore(store::Database& db, fs::path storage, AssetLimits limits)
    : db_(db), storage_(fs::absolute(storage)), limits_(limits) {}

Result<Asset> AssetStore::create(const std::string& tenant, const AssetUpload& upload,
                                 AssetRejection* rejection) {
  SMMHUB_RETURN_IF_ERROR(internal::checkTenant(tenant));
  SMMHUB_ASSIGN_OR_RETURN(CheckedAsset checked, checkAsset(upload, limits_, rejection));

  Asset asset{.id = randomId("ast_"),
              .tenant = tenant,
              .name = upload.name,
              .media_type = std::string(mediaTypeName(checked.media.type)),
              .bytes = static_cast<std::int64_t>(upload.bytes.size()),
              .width = checked.media.width,
              .height = checked.media.height,
              .sha256 = internal::sha256Hex(upload.bytes),
              .created_at_ms = internal::nowMillis()};
  asset.path = (storage_ / tenant / "assets" /
                (asset.id + "." + std::string(mediaTypeExtension(checked.media.type))))
                   .string();

  // The file goes first, so that a row never names a missing file; a failed
  // insert removes it again.
  SMMHUB_RETURN_IF_ERROR(writeFileAtomically(filePath(asset), upload.bytes));
  // NOTE: two uploads of one name at the same time on PostgreSQL can both
  // pass the check; UNIQUE (tenant, name) then fails the second as unavailable.
  Status inserted = db_.write([&](soci::session& sql) {
    int taken = 0;
    sql << "SELECT COUNT(*) FROM assets WHERE tenant = :tenant AND name = :name", soci::into(taken),
        soci::use(tenant), soci::use(asset.name);
    if (taken > 0) {
      return Status(StatusCode::kAlreadyExists, "an asset named '" + asset.name +
                                                    "' exists already; delete it or choose "
                                                    "another name");
    }
    sql << "INSERT INTO assets (id, tenant, name, media_type, bytes, width, height, sha256, "
           "path, created_at_ms) VALUES (:id, :tenant, :name, :media_type, :bytes, :width, "
           ":height, :sha256, :path, :created_at_ms)",
        soci::use(asset.id), soci::use(asset.tenant), soci::use(asset.name),
        soci::use(asset.media_type), soci::use(asset.bytes), soci::use(asset.width),
        soci::use(asset.height), soci::use(asset.sha256), soci::use(asset.path),
        soci::use(asset.created_at_ms);
    return okStatus();
  });
  if (!inserted.ok()) {
    std::error_code ignored;
    fs::remove(filePath(asset), ignored);
    return inserted;
  }
  logger("content")->info("asset created tenant={} id={} type={} bytes={} size={}x{}", tenant,
                          asset.id, asset.media_type, asset.bytes, asset.width, asset.height);
  return asset;
}

Result<std::vector<Asset>> AssetStore::list(const std::string& tenant) {
  SMMHUB_RETURN_IF_ERROR(internal::checkTenant(tenant));
  std::vector<Asset> assets;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    assets = selectAssets(sql, "WHERE tenant = :tenant ORDER BY name", tenant, nullptr);
    return okStatus();
  }));
  return assets;
}

Result<Asset> AssetStore::get(const std::string& tenant, const std::string& id) {
  SMMHUB_RETURN_IF_ERROR(internal::checkTenant(tenant));
  std::vector<Asset> assets;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    assets = selectAssets(sql, "WHERE tenant = :tenant AND id = :id", tenant, &id);
    return okStatus();
  }));
  if (assets.empty()) {
    return Status::notFound("asset '" + id + "' not found");
  }
  return assets.front();
}

Status AssetStore::remove(const std::string& tenant, const std::string& id) {
  SMMHUB_RETURN_IF_ERROR(internal::checkTenant(tenant));
  Asset asset;
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    std::vector<Asset> found =
        selectAssets(sql, "WHERE tenant = :tenant AND id = :id", tenant, &id);
    if (found.empty()) {
      return Status::notFound("asset '" + id + "' not found");
    }
    asset = found.front();
    SMMHUB_ASSIGN_OR_RETURN(std::vector<internal::BrandKitUse> uses,
                            internal::brandKitsUsingAsset(sql, tenant, id));
    if (!uses.empty()) {
      return Status::failedPrecondition("asset '" + asset.name + "' (" + id +
                                        ") is used by brand kit '" + uses.front().name + "' (" +
                                        uses.front().id + "); remove it from the kit first");
    }
    sql << "DELETE FROM assets WHERE tenant = :tenant AND id = :id", soci::use(tenant),
        soci::use(id);
    return okStatus();
  }));

  // Brand kits hold hard links or copies of their files, so removing the
  // asset's own file affects no kit.
  std::error_code error;
  fs::remove(filePath(asset), error);
  if (error) {
    logger("content")->warn("asset file not removed tenant={} id={} path={} error={}", tenant, id,
                            filePath(asset).string(), error.message());
  }
  logger("content")->info("asset deleted tenant={} id={}", tenant, id);
  return okStatus();
}

}  // namespace smmhub::content
