// The price of one video for each tenant, in credits, kept in SQL. A tenant
// without a price of its own pays kDefaultVideoPrice. A batch copies the
// price when it is made, so a change applies to later batches only.
//
//   SMMHUB_RETURN_IF_ERROR(setVideoPrice(*db, "acme", 2, now_ms));
//   SMMHUB_ASSIGN_OR_RETURN(std::int64_t price, videoPrice(*db, "acme"));  // 2
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "store/database.h"

namespace smmhub::credits {

inline constexpr std::int64_t kDefaultVideoPrice = 1;

// Returns TENANT's price per video. Errors: invalidArgument for an invalid
// tenant name, unavailable when the database fails.
Result<std::int64_t> videoPrice(store::Database& db, const std::string& tenant);

// Sets TENANT's price per video to PRICE credits (at least 1). Errors:
// invalidArgument for an invalid tenant or price, unavailable when the
// database fails.
Status setVideoPrice(store::Database& db, const std::string& tenant, std::int64_t price,
                     std::int64_t now_ms);

}  // namespace smmhub::credits
