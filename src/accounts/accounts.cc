// Tenants and users, and the helpers every part of the library shares.
#include "accounts/accounts.h"

#include <soci/soci.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "accounts/internal.h"
#include "common/check.h"
#include "common/log.h"
#include "common/tenant.h"
#include "store/prepared.h"
#include "store/statement.h"

namespace smmhub::accounts {

using internal::alreadyExists;

namespace internal {

void initSodium() {
  // libsodium must not be used once sodium_init() has failed.
  static const bool initialized = sodium_init() >= 0;
  SMMHUB_CHECK(initialized);
}

std::string newId() {
  initSodium();
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof(bytes));
  char hex[sizeof(bytes) * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), bytes, sizeof(bytes));
  return hex;
}

bool isTenantRole(std::string_view role) {
  return role == "owner" || role == "editor" || role == "viewer";
}

Status checkName(std::string_view field, std::string_view name, bool allow_empty) {
  if (name.empty() && !allow_empty) {
    return Status::invalidArgument(std::string(field) + " is empty");
  }
  if (name.size() > kMaxNameBytes) {
    return Status::invalidArgument(std::string(field) + " is longer than " +
                                   std::to_string(kMaxNameBytes) + " bytes");
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::invalidArgument(std::string(field) + " contains a control character");
    }
  }
  return okStatus();
}

namespace {

constexpr std::string_view kUserColumns =
    "id, tenant, email, name, role, platform_admin, created_at_ms, disabled_at_ms";

// Binds the columns of kUserColumns, plus the password hash after them.
struct UserRow {
  User user;
  long long platform_admin = 0;
  long long created_at_ms = 0;
  long long disabled_at_ms = 0;
  std::string password_hash;

  User take() const {
    User copy = user;
    copy.platform_admin = platform_admin != 0;
    copy.created_at_ms = created_at_ms;
    copy.disabled_at_ms = disabled_at_ms;
    return copy;
  }
};

// Reads a tenant by id. Every request with an API key runs it.
struct TenantById {
  static std::string query() {
    return "SELECT id, name, created_at_ms, disabled_at_ms FROM tenants WHERE id = :id";
  }

  std::string id;
  Tenant tenant;
  long long created_at_ms = 0;
  long long disabled_at_ms = 0;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(tenant.id));
    statement.exchange(soci::into(tenant.name));
    statement.exchange(soci::into(created_at_ms));
    statement.exchange(soci::into(disabled_at_ms));
    statement.exchange(soci::use(id));
  }
};

}  // namespace

std::optional<Tenant> selectTenant(soci::session& sql, const std::string& id) {
  store::Prepared<TenantById> select(sql);
  select->id = id;
  if (!select.execute(true)) {
    return std::nullopt;
  }
  Tenant tenant = select->tenant;
  tenant.created_at_ms = select->created_at_ms;
  tenant.disabled_at_ms = select->disabled_at_ms;
  return tenant;
}

std::optional<User> selectUser(soci::session& sql, const std::string& tenant,
                               const std::string& id) {
  UserRow row;
  sql << "SELECT " + std::string(kUserColumns) + " FROM users WHERE tenant = :tenant AND id = :id",
      soci::into(row.user.id), soci::into(row.user.tenant), soci::into(row.user.email),
      soci::into(row.user.name), soci::into(row.user.role), soci::into(row.platform_admin),
      soci::into(row.created_at_ms), soci::into(row.disabled_at_ms), soci::use(tenant),
      soci::use(id);
  if (!sql.got_data()) {
    return std::nullopt;
  }
  return row.take();
}

std::optional<User> selectUserByEmail(soci::session& sql, const std::string& email,
                                      std::string* password_hash) {
  UserRow row;
  sql << "SELECT " + std::string(kUserColumns) + ", password_hash FROM users WHERE email = :email",
      soci::into(row.user.id), soci::into(row.user.tenant), soci::into(row.user.email),
      soci::into(row.user.name), soci::into(row.user.role), soci::into(row.platform_admin),
      soci::into(row.created_at_ms), soci::into(row.disabled_at_ms), soci::into(row.password_hash),
      soci::use(email);
  if (!sql.got_data()) {
    return std::nullopt;
  }
  if (password_hash != nullptr) {
    *password_hash = row.password_hash;
  }
  return row.take();
}

namespace {

std::vector<User> selectUsersOfTenant(soci::session& sql, const std::string& tenant) {
  UserRow row;
  soci::statement statement = store::runOnce(
      sql,
      "SELECT " + std::string(kUserColumns) + " FROM users WHERE tenant = :tenant ORDER BY email",
      soci::into(row.user.id), soci::into(row.user.tenant), soci::into(row.user.email),
      soci::into(row.user.name), soci::into(row.user.role), soci::into(row.platform_admin),
      soci::into(row.created_at_ms), soci::into(row.disabled_at_ms), soci::use(tenant));
  statement.execute();
  std::vector<User> users;
  while (statement.fetch()) {
    users.push_back(row.take());
  }
  return users;
}

}  // namespace
}  // namespace internal

namespace {

// Hashes PASSWORD with Argon2id at libsodium's interactive limits (2
// passes over 64 MiB).
Result<std::string> hashPassword(const std::string& password) {
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Status::resourceExhausted("cannot hash the password: out of memory");
  }
  return std::string(hash);
}

// Counts the Unicode code points of UTF-8 TEXT: every byte that does not
// continue a sequence.
std::size_t countCharacters(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

}  // namespace

Result<std::string> normalizeEmail(std::string_view email) {
  std::string lower(email);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto invalid = [&](std::string_view why) {
    return Status::invalidArgument("email '" + std::string(email) +
                                   "' is invalid: " + std::string(why));
  };
  if (lower.empty()) {
    return Status::invalidArgument("email is empty");
  }
  if (lower.size() > kMaxEmailBytes) {
    return invalid("longer than " + std::to_string(kMaxEmailBytes) + " bytes");
  }
  for (char c : lower) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) {
      return invalid("it contains a space or a control character");
    }
  }
  std::size_t at = lower.find('@');
  if (at == std::string::npos || lower.find('@', at + 1) != std::string::npos) {
    return invalid("expected one '@'");
  }
  std::string_view domain = std::string_view(lower).substr(at + 1);
  if (at == 0 || domain.empty()) {
    return invalid("expected a name before and a domain after '@'");
  }
  if (domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.') {
    return invalid("expected a domain such as example.com after '@'");
  }
  return lower;
}

Status checkPassword(std::string_view password) {
  if (countCharacters(password) < kMinPasswordCharacters) {
    return Status::invalidArgument("password is shorter than " +
                                   std::to_string(kMinPasswordCharacters) + " characters");
  }
  if (password.size() > kMaxPasswordBytes) {
    return Status::invalidArgument("password is longer than " + std::to_string(kMaxPasswordBytes) +
                                   " bytes");
  }
  return okStatus();
}

std::string sha256Hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[sizeof(digest) * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return hex;
}

std::string randomToken(std::size_t count) {
  internal::initSodium();
  std::vector<unsigned char> bytes(count);
  randombytes_buf(bytes.data(), bytes.size());
  std::string encoded(sodium_base64_encoded_len(count, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                      '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), bytes.data(), bytes.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  encoded.resize(encoded.size() - 1);  // the terminating NUL
  return encoded;
}

bool constantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return a.empty() || sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Accounts::Accounts(store::Database& db, redis::Pool* redis, AccountsOptions options)
    : db_(db), redis_(redis), options_(std::move(options)) {
  internal::initSodium();
}

std::int64_t Accounts::nowMs() const {
  if (options_.now_ms) {
    return options_.now_ms();
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<Tenant> Accounts::createTenant(const std::string& id, const std::string& name) {
  SMMHUB_RETURN_IF_ERROR(checkTenantName(id));
  SMMHUB_RETURN_IF_ERROR(internal::checkName("tenant name", name, false));

  Tenant tenant{.id = id, .name = name, .created_at_ms = nowMs()};
  long long created_at_ms = tenant.created_at_ms;
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    soci::statement insert =
        store::runOnce(sql,
                       "INSERT INTO tenants (id, name, created_at_ms) VALUES (:id, :name, "
                       ":created_at_ms) ON CONFLICT DO NOTHING",
                       soci::use(id), soci::use(name), soci::use(created_at_ms));
    insert.execute(true);
    if (insert.get_affected_rows() == 0) {
      return alreadyExists("tenant '" + id + "' already exists");
    }
    return okStatus();
  }));
  logger("accounts")->info("tenant created tenant={}", id);
  return tenant;
}

Result<Tenant> Accounts::tenant(const std::string& id) {
  std::optional<Tenant> found;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    found = internal::selectTenant(sql, id);
    return okStatus();
  }));
  if (!found) {
    return Status::notFound("tenant '" + id + "' not found");
  }
  return *found;
}

Result<std::vector<Tenant>> Accounts::listTenants() {
  std::vector<Tenant> tenants;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    Tenant row;
    long long created_at_ms = 0;
    long long disabled_at_ms = 0;
    soci::statement statement = store::runOnce(
        sql, "SELECT id, name, created_at_ms, disabled_at_ms FROM tenants ORDER BY id",
        soci::into(row.id), soci::into(row.name), soci::into(created_at_ms),
        soci::into(disabled_at_ms));
    statement.execute();
    while (statement.fetch()) {
      row.created_at_ms = created_at_ms;
      row.disabled_at_ms = disabled_at_ms;
      tenants.push_back(row);
    }
    return okStatus();
  }));
  return tenants;
}

Result<Tenant> Accounts::setTenantDisabled(const std::string& id, bool disabled) {
  std::optional<Tenant> tenant;
  long long now = nowMs();
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    tenant = internal::selectTenant(sql, id);
    if (!tenant) {
      return Status::notFound("tenant '" + id + "' not found");
    }
    if (tenant->disabled() == disabled) {
      return okStatus();
    }
    long long disabled_at_ms = disabled ? now : 0;
    sql << "UPDATE tenants SET disabled_at_ms = :disabled_at_ms WHERE id = :id",
        soci::use(disabled_at_ms), soci::use(id);
    tenant->disabled_at_ms = disabled_at_ms;
    return okStatus();
  }));
  logger("accounts")->info("tenant {} tenant={}", disabled ? "disabled" : "enabled", id);
  return *tenant;
}

Result<User> Accounts::createUser(const NewUser& request) {
  User user{.id = internal::newId(),
            .tenant = request.tenant,
            .name = request.name,
            .role = request.role,
            .platform_admin = request.platform_admin,
            .created_at_ms = nowMs()};
  SMMHUB_ASSIGN_OR_RETURN(user.email, normalizeEmail(request.email));
  SMMHUB_RETURN_IF_ERROR(internal::checkName("user name", request.name, true));
  SMMHUB_RETURN_IF_ERROR(checkPassword(request.password));

  // A user outside every tenant can only administer the platform.
  if (user.tenant.empty()) {
    if (!user.platform_admin) {
      return Status::invalidArgument("user " + user.email +
                                     " has no tenant; only a platform administrator may have none");
    }
    if (!user.role.empty() && user.role != "none") {
      return Status::invalidArgument("role '" + user.role +
                                     "' needs a tenant; a user without one has role none");
    }
    user.role = "none";
  } else if (!internal::isTenantRole(user.role)) {
    return Status::invalidArgument("role '" + user.role +
                                   "' is invalid: expected owner, editor "
                                   "or viewer");
  }

  SMMHUB_ASSIGN_OR_RETURN(std::string password_hash, hashPassword(request.password));
  long long platform_admin = user.platform_admin ? 1 : 0;
  long long created_at_ms = user.created_at_ms;
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    if (!user.tenant.empty() && !internal::selectTenant(sql, user.tenant)) {
      return Status::notFound("tenant '" + user.tenant + "' not found");
    }
    soci::statement insert =
        store::runOnce(sql,
                       "INSERT INTO users (id, tenant, email, name, role, platform_admin, "
                       "password_hash, created_at_ms) VALUES (:id, :tenant, :email, :name, "
                       ":role, :platform_admin, :password_hash, :created_at_ms) "
                       "ON CONFLICT DO NOTHING",
                       soci::use(user.id), soci::use(user.tenant), soci::use(user.email),
                       soci::use(user.name), soci::use(user.role), soci::use(platform_admin),
                       soci::use(password_hash), soci::use(created_at_ms));
    insert.execute(true);
    if (insert.get_affected_rows() == 0) {
      return alreadyExists("email " + user.email + " is already taken by another user");
    }
    return okStatus();
  }));
  logger("accounts")
      ->info("user created user={} tenant={} role={} platform_admin={}", user.id, user.tenant,
             user.role, user.platform_admin);
  return user;
}

Result<User> Accounts::user(const std::string& tenant, const std::string& id) {
  std::optional<User> found;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    found = internal::selectUser(sql, tenant, id);
    return okStatus();
  }));
  if (!found) {
    return Status::notFound("user '" + id + "' not found");
  }
  return *found;
}

Result<std::vector<User>> Accounts::listUsers(const std::string& tenant) {
  std::vector<User> users;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    users = internal::selectUsersOfTenant(sql, tenant);
    return okStatus();
  }));
  return users;
}

Result<User> Accounts::updateUser(const std::string& tenant, const std::string& id,
                                  const UserUpdate& update) {
  if (update.role && !internal::isTenantRole(*update.role)) {
    return Status::invalidArgument("role '" + *update.role +
                                   "' is invalid: expected owner, editor or viewer");
  }
  if (update.role && tenant.empty()) {
    return Status::invalidArgument("a user without a tenant has role none, which cannot change");
  }

  std::optional<User> user;
  long long now = nowMs();
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    // Locking the tenant's row makes concurrent changes to its users take
    // turns on PostgreSQL, whose transactions read committed rows, so that two
    // owners cannot both step down at once. SQLite's write lock does the same.
    sql << "UPDATE tenants SET id = id WHERE id = :tenant", soci::use(tenant);
    user = internal::selectUser(sql, tenant, id);
    if (!user) {
      return Status::notFound("user '" + id + "' not found");
    }
    std::string role = update.role.value_or(user->role);
    bool disabled = update.disabled.value_or(user->disabled());
    long long disabled_at_ms = !disabled ? 0 : (user->disabled() ? user->disabled_at_ms : now);

    // The last enabled owner can neither step down nor be disabled, or no one
    // could manage the tenant's people and keys any more.
    bool stays_owner = role == "owner" && !disabled;
    if (user->role == "owner" && !user->disabled() && !stays_owner) {
      int other_owners = 0;
      sql << "SELECT COUNT(*) FROM users WHERE tenant = :tenant AND role = 'owner' AND "
             "disabled_at_ms = 0 AND id <> :id",
          soci::into(other_owners), soci::use(tenant), soci::use(id);
      if (other_owners == 0) {
        return Status::failedPrecondition("user " + user->email +
                                          " is the last enabled owner of "
                                          "tenant '" +
                                          tenant + "'; make another owner first");
      }
    }

    sql << "UPDATE users SET role = :role, disabled_at_ms = :disabled_at_ms WHERE id = :id",
        soci::use(role), soci::use(disabled_at_ms), soci::use(id);
    if (disabled) {
      sql << "DELETE FROM sessions WHERE user_id = :id", soci::use(id);
    }
    user->role = role;
    user->disabled_at_ms = disabled_at_ms;
    return okStatus();
  }));
  logger("accounts")
      ->info("user updated user={} tenant={} role={} disabled={}", id, tenant, user->role,
             user->disabled());
  return *user;
}

}  // namespace smmhub::accounts
