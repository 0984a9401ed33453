// Helpers shared by the stores of src/content, not for use outside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace soci {
class session;
}  // namespace soci

namespace smmhub::content::internal {

// Milliseconds since the Unix epoch.
std::int64_t nowMillis();

// Returns the SHA-256 of BYTES as 64 lowercase hexadecimal digits.
std::string sha256Hex(std::string_view bytes);

// Reads the whole file at PATH. Errors: notFound or unavailable naming it.
Result<std::string> readFile(const std::filesystem::path& path);

// Checks that TENANT can name a folder of the storage (checkTenantName()),
// so that no tenant id reaches outside its folder.
Status checkTenant(std::string_view tenant);

// Checks a brand kit's or template's display name: 1 to 100 bytes and no
// control characters. Errors: invalidArgument naming WHAT ("brand kit name").
Status checkDisplayName(std::string_view what, std::string_view name);

// A brand kit that names an asset.
struct BrandKitUse {
  std::string id;
  std::string name;
};

// Returns the tenant's brand kits whose logo, fonts, assets or libraries
// name ASSET_ID, read on SQL inside the caller's transaction. Errors:
// dataLoss when a kit's stored JSON does not parse.
Result<std::vector<BrandKitUse>> brandKitsUsingAsset(soci::session& sql, const std::string& tenant,
                                                     const std::string& asset_id);

}  // namespace smmhub::content::internal
