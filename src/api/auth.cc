#include "api/auth.h"

#include <cctype>
#include <optional>
#include <utility>

#include "accounts/accounts.h"
#include "common/log.h"

namespace smmhub::api {
namespace {

Status unauthenticated(std::string message) {
  return {StatusCode::kUnauthenticated, std::move(message)};
}

// Methods that change state, which a cookie session may call only with its
// CSRF token.
bool isUnsafe(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// Returns the credential after "Bearer " (the scheme in any case), or
// nothing when VALUE has another scheme.
std::optional<std::string_view> bearerToken(std::string_view value) {
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view token = value.substr(kScheme.size());
  std::size_t first = token.find_first_not_of(' ');
  return first == std::string_view::npos ? std::string_view() : token.substr(first);
}

Result<Role> roleOf(const accounts::User& user) {
  if (user.role == "none") {
    return Role::kViewer;
  }
  return parseRole(user.role);
}

Response noRoute(const Request& request) {
  return errorResponse(404, "not_found", "no route for path " + request.path, request.request_id);
}

// Runs AUTH on REQUEST and, when it succeeds and CHECK returns no response,
// HANDLER. CHECK returns a response to send instead of running HANDLER.
// When HIDDEN, a request without valid credentials gets the 404 of a path
// without a route.
template <typename Check>
Response guard(const Authenticator* auth, const Request& request, const PrincipalHandler& handler,
               bool hidden, Check check) {
  if (auth == nullptr) {
    logger("api")->error("route has no authenticator id={} path={}", request.request_id,
                         request.path);
    return errorResponse(500, "internal", "internal error", request.request_id);
  }
  Result<Principal> principal = auth->authenticate(request);
  if (!principal.ok()) {
    const Status& status = principal.status();
    if (status.code() == StatusCode::kPermissionDenied) {
      return errorResponse(403, "csrf_failed", status.message(), request.request_id);
    }
    if (hidden && status.code() == StatusCode::kUnauthenticated) {
      return noRoute(request);
    }
    return statusResponse(status, request.request_id);
  }
  if (std::optional<Response> refused = check(*principal)) {
    return std::move(*refused);
  }
  return handler(request, *principal);
}

}  // namespace

std::string_view roleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kEditor:
      return "editor";
    case Role::kOwner:
      return "owner";
  }
  return "viewer";
}

Result<Role> parseRole(std::string_view value) {
  for (Role role : {Role::kViewer, Role::kEditor, Role::kOwner}) {
    if (value == roleName(role)) {
      return role;
    }
  }
  return Status::invalidArgument("role '" + std::string(value) +
                                 "' is invalid: expected owner, editor or viewer");
}

std::string Principal::actor() const {
  return api_key_id.empty() ? "user:" + user_id : "key:" + api_key_id;
}

Response statusResponse(const Status& status, std::string_view request_id) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return errorResponse(422, "invalid_field", status.message(), request_id);
    case StatusCode::kNotFound:
      return errorResponse(404, "not_found", status.message(), request_id);
    case StatusCode::kAlreadyExists:
      return errorResponse(409, "conflict", status.message(), request_id);
    case StatusCode::kFailedPrecondition:
      return errorResponse(409, "failed_precondition", status.message(), request_id);
    case StatusCode::kPermissionDenied:
      return errorResponse(403, "forbidden", status.message(), request_id);
    case StatusCode::kUnauthenticated:
      return errorResponse(401, "unauthenticated", status.message(), request_id);
    case StatusCode::kResourceExhausted:
      return errorResponse(429, "rate_limited", status.message(), request_id);
    case StatusCode::kUnavailable:
      return errorResponse(503, "unavailable", status.message(), request_id);
    case StatusCode::kDeadlineExceeded:
      return errorResponse(504, "timeout", status.message(), request_id);
    default:
      break;
  }
  logger("api")->error("request failed id={} error={}", request_id, status.toString());
  return errorResponse(500, "internal", "internal error; the server log has the details",
                       request_id);
}

Result<Principal> AccountsAuthenticator::authenticate(const Request& request) const {
  std::string_view authorization = header(request, "authorization");
  if (!authorization.empty()) {
    std::optional<std::string_view> secret = bearerToken(authorization);
    if (!secret) {
      return unauthenticated("Authorization header must be 'Bearer smk_...'");
    }
    SMMHUB_ASSIGN_OR_RETURN(accounts::ApiKey key, accounts_.authenticateKey(std::string(*secret)));
    SMMHUB_ASSIGN_OR_RETURN(Role role, parseRole(key.role));
    return Principal{.tenant = key.tenant, .api_key_id = key.id, .role = role};
  }

  std::string_view token = cookie(request, kSessionCookie);
  if (token.empty()) {
    return unauthenticated("sign in first, or send an API key as 'Authorization: Bearer smk_...'");
  }
  SMMHUB_ASSIGN_OR_RETURN(accounts::Session session, accounts_.sessionByToken(std::string(token)));

  // A cross-site form can make the browser send the cookie, but it cannot
  // read the CSRF token that came with the sign-in response.
  if (isUnsafe(request.method) &&
      !accounts::constantTimeEqual(header(request, "x-csrf-token"), session.csrf_token)) {
    return Status(StatusCode::kPermissionDenied,
                  "missing or wrong X-CSRF-Token header; send the csrf_token from sign-in");
  }
  SMMHUB_ASSIGN_OR_RETURN(Role role, roleOf(session.user));
  return Principal{.tenant = session.user.tenant,
                   .user_id = session.user.id,
                   .role = role,
                   .platform_admin = session.user.platform_admin};
}

Handler tenantRoute(const Authenticator* auth, Role minimum, PrincipalHandler handler) {
  return [auth, minimum, handler = std::move(handler)](const Request& request) {
    return guard(
        auth, request, handler, false, [&](const Principal& principal) -> std::optional<Response> {
          if (principal.tenant.empty()) {
            return errorResponse(404, "not_found",
                                 "no tenant: a platform administrator outside every tenant has no "
                                 "tenant data",
                                 request.request_id);
          }
          if (principal.role < minimum) {
            return errorResponse(403, "forbidden",
                                 "role " + std::string(roleName(principal.role)) +
                                     " may not call " + request.method + " " + request.path +
                                     "; it needs " + std::string(roleName(minimum)) + " or above",
                                 request.request_id);
          }
          return std::nullopt;
        });
  };
}

Handler adminRoute(const Authenticator* auth, PrincipalHandler handler) {
  return [auth, handler = std::move(handler)](const Request& request) {
    return guard(auth, request, handler, true,
                 [&](const Principal& principal) -> std::optional<Response> {
                   if (!principal.platform_admin) {
                     return noRoute(request);
                   }
                   return std::nullopt;
                 });
  };
}

Handler signedInRoute(const Authenticator* auth, PrincipalHandler handler) {
  return [auth, handler = std::move(handler)](const Request& request) {
    return guard(auth, request, handler, false,
                 [](const Principal&) -> std::optional<Response> { return std::nullopt; });
  };
}

Handler tenantRoute(const Authenticator& auth, Role minimum, PrincipalHandler handler) {
  return tenantRoute(&auth, minimum, std::move(handler));
}

Handler adminRoute(const Authenticator& auth, PrincipalHandler handler) {
  return adminRoute(&auth, std::move(handler));
}

Handler signedInRoute(const Authenticator& auth, PrincipalHandler handler) {
  return signedInRoute(&auth, std::move(handler));
}

}  // namespace smmhub::api
