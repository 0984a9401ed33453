#include "credits/prices.h"

#include <soci/soci.h>

#include "common/tenant.h"

namespace smmhub::credits {

Result<std::int64_t> videoPrice(store::Database& db, const std::string& tenant) {
  SMMHUB_RETURN_IF_ERROR(checkTenantName(tenant));
  std::int64_t price = kDefaultVideoPrice;
  SMMHUB_RETURN_IF_ERROR(db.read([&](soci::session& sql) -> Status {
    soci::indicator indicator = soci::i_null;
    std::int64_t stored = 0;
    sql << "SELECT video_price FROM tenant_prices WHERE tenant = :tenant",
        soci::into(stored, indicator), soci::use(tenant);
    price = sql.got_data() && indicator == soci::i_ok ? stored : kDefaultVideoPrice;
    return okStatus();
  }));
  return price;
}

Status setVideoPrice(store::Database& db, const std::string& tenant, std::int64_t price,
                     std::int64_t now_ms) {
  SMMHUB_RETURN_IF_ERROR(checkTenantName(tenant));
  if (price < 1) {
    return Status::invalidArgument("video price " + std::to_string(price) +
                                   " is invalid; expected 1 credit or more");
  }
  return db.write([&](soci::session& sql) -> Status {
    sql << "INSERT INTO tenant_prices (tenant, video_price, updated_at_ms) "
           "VALUES (:tenant, :price, :at) ON CONFLICT (tenant) DO UPDATE SET "
           "video_price = excluded.video_price, updated_at_ms = excluded.updated_at_ms",
        soci::use(tenant), soci::use(price), soci::use(now_ms);
    return okStatus();
  });
}

}  // namespace smmhub::credits
