// Who a request acts for, and the wrappers that let a route serve only
// the people allowed to call it.
//
//   router.add("GET", "/api/v1/campaigns",
//              tenantRoute(auth, Role::kViewer, [](const Request& request,
//                                                  const Principal& principal) {
//                return listCampaigns(principal.tenant);
//              }));
//
// A request authenticates with either
//   - the session cookie smmhub_session, set by POST /api/v1/session. On
//     POST, PUT, PATCH and DELETE it must also send the session's CSRF token
//     in the X-CSRF-Token header; or
//   - an API key: "Authorization: Bearer smk_...". API keys need no CSRF
//     token, because browsers never send them on their own.
//
// The wrappers return, before the handler runs:
//   401 unauthenticated   no credentials, or unknown, expired or revoked ones
//   403 csrf_failed       a cookie session without the right X-CSRF-Token
//   403 forbidden         the role is below the route's minimum
//   404 not_found         a tenant route for a platform administrator who
//                         belongs to no tenant
// An id of another tenant's data is the handler's concern: it looks rows up
// by (principal.tenant, id) and answers 404 when none matches, never 403.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "api/router.h"
#include "common/status.h"

namespace smmhub::accounts {
class Accounts;
}  // namespace smmhub::accounts

namespace smmhub::api {

// The name of the session cookie.
inline constexpr std::string_view kSessionCookie = "smmhub_session";

// Roles within a tenant, in increasing power: a viewer reads, an editor also
// changes content and generates videos, an owner also manages people, keys,
// webhooks and settings.
enum class Role {
  kViewer = 1,
  kEditor = 2,
  kOwner = 3
};

// "viewer", "editor" or "owner".
std::string_view roleName(Role role);

// Errors: invalidArgument naming VALUE and the valid roles.
Result<Role> parseRole(std::string_view value);

struct Principal {
  // The tenant whose data the request may reach; empty for a platform
  // administrator who belongs to no tenant.
  std::string tenant;
  std::string user_id;     // set for a session
  std::string api_key_id;  // set for an API key
  Role role = Role::kViewer;
  bool platform_admin = false;

  // "user:ID" or "key:ID", for the credit ledger and the logs.
  std::string actor() const;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;

  // Returns who REQUEST acts for. Errors: unauthenticated when it carries no
  // credentials or ones that are unknown, expired or revoked;
  // permissionDenied when a cookie session's unsafe request lacks the CSRF
  // token. The messages say which.
  virtual Result<Principal> authenticate(const Request& request) const = 0;
};

using PrincipalHandler = std::function<Response(const Request&, const Principal&)>;

// A route of the principal's tenant, for roles MINIMUM and above.
Handler tenantRoute(const Authenticator& auth, Role minimum, PrincipalHandler handler);

// A route for platform administrators only; anyone else gets 404, so that
// the route's existence is not revealed. A platform administrator's cookie
// session without the CSRF token still gets 403 csrf_failed.
Handler adminRoute(const Authenticator& auth, PrincipalHandler handler);

// A route for any signed-in principal, such as GET /api/v1/me.
Handler signedInRoute(const Authenticator& auth, PrincipalHandler handler);

// The same wrappers for an authenticator that may be null, as in a router
// made for its route table alone (Services left empty). A request to such a
// route gets 500 internal.
Handler tenantRoute(const Authenticator* auth, Role minimum, PrincipalHandler handler);
Handler adminRoute(const Authenticator* auth, PrincipalHandler handler);
Handler signedInRoute(const Authenticator* auth, PrincipalHandler handler);

// Returns the error response for a non-ok STATUS:
//   invalidArgument 422 invalid_field     notFound 404 not_found
//   alreadyExists 409 conflict            failedPrecondition 409 failed_precondition
//   permissionDenied 403 forbidden        unauthenticated 401 unauthenticated
//   resourceExhausted 429 rate_limited    unavailable 503 unavailable
//   deadlineExceeded 504 timeout          anything else 500 internal
// A 500 carries a fixed message, and the status goes to the log instead.
Response statusResponse(const Status& status, std::string_view request_id);

// Authenticates requests with the sessions and API keys of an Accounts.
class AccountsAuthenticator : public Authenticator {
 public:
  // ACCOUNTS must outlive the authenticator.
  explicit AccountsAuthenticator(accounts::Accounts& accounts) : accounts_(accounts) {}

  // Tries the Authorization header first, then the session cookie. An
  // Authorization header that is not "Bearer smk_..." is unauthenticated,
  // whatever cookie comes with it.
  Result<Principal> authenticate(const Request& request) const override;

 private:
  accounts::Accounts& accounts_;
};

}  // namespace smmhub::api
