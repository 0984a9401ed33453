#include "cli/cache_command.h"

#include <fmt/format.h>

#include "buffer/redis_tier.h"
#include "buffer/render_buffer.h"
#include "cli/cli.h"
#include "common/tenant.h"

namespace smmhub::cli {

CLI::App* addCacheCommand(CLI::App& app, CacheArgs& args) {
  CLI::App* cache = app.add_subcommand(
      "cache", "Show or clear what the render buffer's Redis tier holds for a tenant");
  cache->require_subcommand(1);
  args.stats = cache->add_subcommand("stats", "Count the tenant's stored values and their bytes");
  args.clear = cache->add_subcommand("clear", "Remove every stored value of the tenant");
  for (CLI::App* command : {args.stats, args.clear}) {
    command
        ->add_option("--cache-redis", args.redis_url, "Redis URL, such as redis://127.0.0.1:6379")
        ->required();
    command->add_option("--tenant", args.tenant, "Tenant whose values to count or remove")
        ->capture_default_str();
  }
  return cache;
}

int runCache(const CacheArgs& args) {
  const char* name = args.stats->parsed() ? "smmhub cache stats" : "smmhub cache clear";
  if (Status valid = checkTenantName(args.tenant); !valid.ok()) {
    fmt::print(stderr, "{}: {}\n", name, valid.message());
    return kExitUsage;
  }
  auto tier = buffer::RedisTier::create({.url = args.redis_url});
  if (!tier.ok()) {
    fmt::print(stderr, "{}: {}\n", name, tier.status().message());
    return kExitUsage;
  }
  std::string prefix = buffer::tenantKeyPrefix(args.tenant);
  if (args.stats->parsed()) {
    auto measured = (*tier)->measurePrefix(prefix);
    if (!measured.ok()) {
      fmt::print(stderr, "{}: {}\n", name, measured.status().message());
      return kExitUsage;
    }
    fmt::print("tenant {}: {} values, {:.1f} MB in {}\n", args.tenant, measured->first,
               measured->second / 1e6, args.redis_url);
    return kExitOk;
  }
  auto removed = (*tier)->removePrefix(prefix);
  if (!removed.ok()) {
    fmt::print(stderr, "{}: {}\n", name, removed.status().message());
    return kExitUsage;
  }
  fmt::print("tenant {}: removed {} values from {}\n", args.tenant, *removed, args.redis_url);
  return kExitOk;
}

}  // namespace smmhub::cli
