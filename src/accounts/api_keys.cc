// API keys: secrets of the form smk_ID_RANDOM, stored as SHA-256.
#include <soci/soci.h>

#include "accounts/accounts.h"
#include "accounts/internal.h"
#include "common/log.h"
#include "store/prepared.h"
#include "store/statement.h"

namespace smmhub::accounts {

using internal::unauthenticated;

namespace {

constexpr std::string_view kSecretPrefix = "smk_";
constexpr std::size_t kIdDigits = 16;
constexpr std::size_t kSecretBytes = 32;
// Base64url without padding spells 32 bytes in 43 characters.
constexpr std::size_t kRandomCharacters = 43;

// The last use is written at most this often.
constexpr std::int64_t kTouchIntervalMs = 60'000;

constexpr std::string_view kKeyColumns =
    "id, tenant, name, role, created_by, created_at_ms, last_used_at_ms, revoked_at_ms";

struct KeyRow {
  ApiKey key;
  std::string secret_hash;
  long long created_at_ms = 0;
  long long last_used_at_ms = 0;
  long long revoked_at_ms = 0;

  ApiKey take() const {
    ApiKey copy = key;
    copy.created_at_ms = created_at_ms;
    copy.last_used_at_ms = last_used_at_ms;
    copy.revoked_at_ms = revoked_at_ms;
    return copy;
  }
};

// Reads a key by id with its secret hash. Every request with an API key
// runs it.
struct KeyById {
  static std::string query() {
    return "SELECT " + std::string(kKeyColumns) + ", secret_hash FROM api_keys WHERE id = :id";
  }

  std::string id;
  KeyRow row;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(row.key.id));
    statement.exchange(soci::into(row.key.tenant));
    statement.exchange(soci::into(row.key.name));
    statement.exchange(soci::into(row.key.role));
    statement.exchange(soci::into(row.key.created_by));
    statement.exchange(soci::into(row.created_at_ms));
    statement.exchange(soci::into(row.last_used_at_ms));
    statement.exchange(soci::into(row.revoked_at_ms));
    statement.exchange(soci::into(row.secret_hash));
    statement.exchange(soci::use(id));
  }
};

// Reads the key ID, with its secret hash. Throws soci::soci_error.
std::optional<KeyRow> selectKey(soci::session& sql, const std::string& id) {
  store::Prepared<KeyById> select(sql);
  select->id = id;
  if (!select.execute(true)) {
    return std::nullopt;
  }
  return select->row;
}

// Returns the key id of SECRET, or nothing when SECRET is not shaped like
// "smk_" + 16 hex digits + "_" + 43 base64url characters.
std::optional<std::string> keyIdOf(std::string_view secret) {
  if (secret.size() != kSecretPrefix.size() + kIdDigits + 1 + kRandomCharacters ||
      !secret.starts_with(kSecretPrefix) || secret[kSecretPrefix.size() + kIdDigits] != '_') {
    return std::nullopt;
  }
  std::string_view id = secret.substr(kSecretPrefix.size(), kIdDigits);
  if (id.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(id);
}

}  // namespace

Result<NewApiKey> Accounts::createApiKey(const std::string& tenant, const std::string& name,
                                         const std::string& role, const std::string& created_by) {
  SMMHUB_RETURN_IF_ERROR(internal::checkName("API key name", name, false));
  if (!internal::isTenantRole(role)) {
    return Status::invalidArgument("role '" + role +
                                   "' is invalid: expected owner, editor or viewer");
  }

  NewApiKey made{.key = {.id = internal::newId(),
                         .tenant = tenant,
                         .name = name,
                         .role = role,
                         .created_by = created_by,
                         .created_at_ms = nowMs()}};
  made.secret = std::string(kSecretPrefix) + made.key.id + "_" + randomToken(kSecretBytes);
  std::string secret_hash = sha256Hex(made.secret);
  long long created_at_ms = made.key.created_at_ms;
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    if (!internal::selectTenant(sql, tenant)) {
      return Status::notFound("tenant '" + tenant + "' not found");
    }
    sql << "INSERT INTO api_keys (id, tenant, name, role, secret_hash, created_by, created_at_ms) "
           "VALUES (:id, :tenant, :name, :role, :secret_hash, :created_by, :created_at_ms)",
        soci::use(made.key.id), soci::use(tenant), soci::use(name), soci::use(role),
        soci::use(secret_hash), soci::use(created_by), soci::use(created_at_ms);
    return okStatus();
  }));
  logger("accounts")
      ->info("api key created key={} tenant={} role={} by={}", made.key.id, tenant, role,
             created_by);
  return made;
}

Result<std::vector<ApiKey>> Accounts::listApiKeys(const std::string& tenant) {
  std::vector<ApiKey> keys;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    KeyRow row;
    soci::statement statement = store::runOnce(
        sql,
        "SELECT " + std::string(kKeyColumns) +
            " FROM api_keys WHERE tenant = :tenant ORDER BY created_at_ms, id",
        soci::into(row.key.id), soci::into(row.key.tenant), soci::into(row.key.name),
        soci::into(row.key.role), soci::into(row.key.created_by), soci::into(row.created_at_ms),
        soci::into(row.last_used_at_ms), soci::into(row.revoked_at_ms), soci::use(tenant));
    statement.execute();
    while (statement.fetch()) {
      keys.push_back(row.take());
    }
    return okStatus();
  }));
  return keys;
}

Result<ApiKey> Accounts::revokeApiKey(const std::string& tenant, const std::string& id) {
  std::optional<KeyRow> row;
  long long now = nowMs();
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    row = selectKey(sql, id);
    if (!row || row->key.tenant != tenant) {
      return Status::notFound("API key '" + id + "' not found");
    }
    if (row->revoked_at_ms == 0) {
      sql << "UPDATE api_keys SET revoked_at_ms = :now WHERE id = :id", soci::use(now),
          soci::use(id);
      row->revoked_at_ms = now;
    }
    return okStatus();
  }));
  logger("accounts")->info("api key revoked key={} tenant={}", id, tenant);
  return row->take();
}

Result<ApiKey> Accounts::authenticateKey(const std::string& secret) {
  constexpr std::string_view kUnknown = "unknown API key";
  std::optional<std::string> id = keyIdOf(secret);
  if (!id) {
    return unauthenticated("malformed API key: expected smk_ followed by the key id and secret");
  }

  std::optional<KeyRow> row;
  bool tenant_disabled = false;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    row = selectKey(sql, *id);
    if (row) {
      std::optional<Tenant> tenant = internal::selectTenant(sql, row->key.tenant);
      tenant_disabled = !tenant || tenant->disabled();
    }
    return okStatus();
  }));
  // The hashes compare in constant time, so the response time does not show
  // how much of a guessed secret matched.
  if (!row || !constantTimeEqual(sha256Hex(secret), row->secret_hash)) {
    return unauthenticated(std::string(kUnknown));
  }
  if (row->revoked_at_ms != 0) {
    return unauthenticated("API key " + *id + " is revoked");
  }
  if (tenant_disabled) {
    return unauthenticated("tenant '" + row->key.tenant + "' is disabled");
  }

  long long now = nowMs();
  if (now - row->last_used_at_ms >= kTouchIntervalMs) {
    SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
      sql << "UPDATE api_keys SET last_used_at_ms = :now WHERE id = :id", soci::use(now),
          soci::use(*id);
      return okStatus();
    }));
    row->last_used_at_ms = now;
  }
  return row->take();
}

}  // namespace smmhub::accounts
