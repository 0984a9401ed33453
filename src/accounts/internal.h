// Helpers shared by the files of src/accounts, not for use outside it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accounts/accounts.h"

namespace soci {
class session;
}  // namespace soci

namespace smmhub::accounts::internal {

inline Status unauthenticated(std::string message) {
  return {StatusCode::kUnauthenticated, std::move(message)};
}

inline Status alreadyExists(std::string message) {
  return {StatusCode::kAlreadyExists, std::move(message)};
}

// Initializes libsodium once per process; later calls do nothing.
void initSodium();

// Returns 8 random bytes as 16 lowercase hex digits: the id of a user or a
// key.
std::string newId();

// Whether ROLE is one a tenant's user or key may have.
bool isTenantRole(std::string_view role);

// Checks a display NAME given as FIELD: at most kMaxNameBytes, no control
// characters, and not empty unless ALLOW_EMPTY. Errors: invalidArgument.
Status checkName(std::string_view field, std::string_view name, bool allow_empty);

// Row readers. Each throws soci::soci_error when the query fails.
std::optional<Tenant> selectTenant(soci::session& sql, const std::string& id);
std::optional<User> selectUser(soci::session& sql, const std::string& tenant,
                               const std::string& id);
std::optional<User> selectUserByEmail(soci::session& sql, const std::string& email,
                                      std::string* password_hash);

}  // namespace smmhub::accounts::internal
