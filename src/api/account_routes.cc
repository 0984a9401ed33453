// The people routes: sign-in, the signed-in principal, a tenant's users and
// API keys, and the platform administrators' tenant routes.
#include <optional>
#include <string>
#include <utility>

#include "accounts/accounts.h"
#include "api/auth.h"
#include "api/body.h"
#include "api/route_bodies.h"
#include "api/routes.h"
#include "common/log.h"

namespace smmhub::api {
namespace {

using nlohmann::json;

json tenantJson(const accounts::Tenant& tenant) {
  return {{"id", tenant.id},
          {"name", tenant.name},
          {"created_at_ms", tenant.created_at_ms},
          {"disabled", tenant.disabled()}};
}

json userJson(const accounts::User& user) {
  return {{"id", user.id},
          {"email", user.email},
          {"name", user.name},
          {"role", user.role},
          {"platform_admin", user.platform_admin},
          {"disabled", user.disabled()},
          {"created_at_ms", user.created_at_ms}};
}

json apiKeyJson(const accounts::ApiKey& key) {
  return {{"id", key.id},
          {"name", key.name},
          {"role", key.role},
          {"created_by", key.created_by},
          {"created_at_ms", key.created_at_ms},
          {"last_used_at_ms", key.last_used_at_ms},
          {"revoked", key.revoked()},
          {"revoked_at_ms", key.revoked_at_ms}};
}

// Prefixes a validation error from below with the field it concerns, unless
// its message already names one.
Status forField(const Status& status, std::string_view field) {
  if (status.code() != StatusCode::kInvalidArgument || status.message().starts_with("field '")) {
    return status;
  }
  return status.withContext("field '" + std::string(field) + "'");
}

std::string sessionCookie(const std::string& value, bool secure, bool expire) {
  std::string cookie =
      std::string(kSessionCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Lax";
  if (expire) {
    cookie += "; Max-Age=0";
  }
  if (secure) {
    cookie += "; Secure";
  }
  return cookie;
}

// Returns the body field that an invalidArgument from createUser() is
// about, by the start of its message.
std::string_view newUserField(const Status& status) {
  for (std::string_view field : {"password", "role", "email"}) {
    if (status.message().starts_with(field)) {
      return field;
    }
  }
  return status.message().starts_with("user name") ? "name" : "user";
}

// Creates the user of REQUEST's body in TENANT and returns 201 with it.
Response createUserResponse(accounts::Accounts& accounts, const Request& request,
                            const std::string& tenant, std::string default_role) {
  JsonBody body = parseJsonObject(request);
  if (body.error) {
    return std::move(*body.error);
  }
  Result<accounts::NewUser> user = newUserFrom(body.fields, tenant, std::move(default_role));
  if (!user.ok()) {
    return statusResponse(user.status(), request.request_id);
  }

  Result<accounts::User> created = accounts.createUser(*user);
  if (!created.ok()) {
    return statusResponse(forField(created.status(), newUserField(created.status())),
                          request.request_id);
  }
  return jsonResponse(201, userJson(*created));
}

Response signIn(const Services& services, const Request& request) {
  JsonBody body = parseJsonObject(request);
  if (body.error) {
    return std::move(*body.error);
  }
  Result<std::optional<std::string>> email = stringField(body.fields, "email", true);
  Result<std::optional<std::string>> password = stringField(body.fields, "password", true);
  if (!email.ok() || !password.ok()) {
    return statusResponse(!email.ok() ? email.status() : password.status(), request.request_id);
  }

  Result<accounts::Session> session = services.accounts->signIn(**email, **password, request.peer);
  if (!session.ok()) {
    Response response = statusResponse(session.status(), request.request_id);
    if (std::int64_t seconds = accounts::retryAfterSeconds(session.status()); seconds > 0) {
      response.headers.emplace_back("Retry-After", std::to_string(seconds));
    }
    return response;
  }

  json tenant = nullptr;
  if (!session->user.tenant.empty()) {
    Result<accounts::Tenant> found = services.accounts->tenant(session->user.tenant);
    if (!found.ok()) {
      return statusResponse(found.status(), request.request_id);
    }
    tenant = {{"id", found->id}, {"name", found->name}};
  }
  Response response = jsonResponse(200, {{"user", userJson(session->user)},
                                         {"tenant", tenant},
                                         {"csrf_token", session->csrf_token},
                                         {"expires_at_ms", session->expires_at_ms}});
  response.headers.emplace_back("Set-Cookie",
                                sessionCookie(session->token, services.secure_cookies, false));
  return response;
}

Response signOut(const Services& services, const Request& request) {
  std::string_view token = cookie(request, kSessionCookie);
  if (!token.empty()) {
    Status ended = services.accounts->signOut(std::string(token));
    if (!ended.ok()) {
      return statusResponse(ended, request.request_id);
    }
  }
  Response response{.status = 204};
  response.headers.emplace_back("Set-Cookie", sessionCookie("", services.secure_cookies, true));
  return response;
}

Response me(const Services& services, const Request& request, const Principal& principal) {
  json body = {{"actor", principal.actor()},
               {"role", principal.tenant.empty() ? "none" : roleName(principal.role)},
               {"platform_admin", principal.platform_admin},
               {"user", nullptr},
               {"api_key", nullptr},
               {"tenant", nullptr}};
  if (!principal.tenant.empty()) {
    Result<accounts::Tenant> tenant = services.accounts->tenant(principal.tenant);
    if (!tenant.ok()) {
      return statusResponse(tenant.status(), request.request_id);
    }
    body["tenant"] = {{"id", tenant->id}, {"name", tenant->name}};
  }
  if (!principal.api_key_id.empty()) {
    body["api_key"] = {{"id", principal.api_key_id}};
    return jsonResponse(200, body);
  }

  // The session cookie is HttpOnly, so a page that reloads gets its CSRF
  // token here.
  Result<accounts::Session> session =
      services.accounts->sessionByToken(std::string(cookie(request, kSessionCookie)));
  if (!session.ok()) {
    return statusResponse(session.status(), request.request_id);
  }
  body["user"] = userJson(session->user);
  body["csrf_token"] = session->csrf_token;
  body["expires_at_ms"] = session->expires_at_ms;
  return jsonResponse(200, body);
}

// GET /api/v1/users for the caller's tenant, and
// GET /api/v1/admin/tenants/{id}/users for any.
Response listUsers(const Services& services, const Request& request, const std::string& tenant) {
  Result<std::vector<accounts::User>> users = services.accounts->listUsers(tenant);
  if (!users.ok()) {
    return statusResponse(users.status(), request.request_id);
  }
  json list = json::array();
  for (const accounts::User& user : *users) {
    list.push_back(userJson(user));
  }
  return jsonResponse(200, {{"users", list}});
}

Response updateUser(const Services& services, const Request& request, const Principal& principal) {
  JsonBody body = parseJsonObject(request);
  if (body.error) {
    return std::move(*body.error);
  }
  Result<accounts::UserUpdate> update = userUpdateFrom(body.fields);
  if (!update.ok()) {
    return statusResponse(update.status(), request.request_id);
  }

  Result<accounts::User> user =
      services.accounts->updateUser(principal.tenant, request.params.at("id"), *update);
  if (!user.ok()) {
    return statusResponse(forField(user.status(), "role"), request.request_id);
  }
  return jsonResponse(200, userJson(*user));
}

Response listApiKeys(const Services& services, const Request& request, const Principal& principal) {
  Result<std::vector<accounts::ApiKey>> keys = services.accounts->listApiKeys(principal.tenant);
  if (!keys.ok()) {
    return statusResponse(keys.status(), request.request_id);
  }
  json list = json::array();
  for (const accounts::ApiKey& key : *keys) {
    list.push_back(apiKeyJson(key));
  }
  return jsonResponse(200, {{"api_keys", list}});
}

Response createApiKey(const Services& services, const Request& request,
                      const Principal& principal) {
  JsonBody body = parseJsonObject(request);
  if (body.error) {
    return std::move(*body.error);
  }
  Result<std::optional<std::string>> name = stringField(body.fields, "name", true);
  Result<std::optional<std::string>> role = stringField(body.fields, "role", true);
  if (!name.ok() || !role.ok()) {
    return statusResponse(!name.ok() ? name.status() : role.status(), request.request_id);
  }

  Result<accounts::NewApiKey> made =
      services.accounts->createApiKey(principal.tenant, **name, **role, principal.actor());
  if (!made.ok()) {
    std::string_view field = made.status().message().starts_with("role") ? "role" : "name";
    return statusResponse(forField(made.status(), field), request.request_id);
  }
  json key = apiKeyJson(made->key);
  key["secret"] = made->secret;
  return jsonResponse(201, key);
}

Response revokeApiKey(const Services& services, const Request& request,
                      const Principal& principal) {
  Result<accounts::ApiKey> key =
      services.accounts->revokeApiKey(principal.tenant, request.params.at("id"));
  if (!key.ok()) {
    return statusResponse(key.status(), request.request_id);
  }
  return jsonResponse(200, apiKeyJson(*key));
}

Response listTenants(const Services& services, const Request& request) {
  Result<std::vector<accounts::Tenant>> tenants = services.accounts->listTenants();
  if (!tenants.ok()) {
    return statusResponse(tenants.status(), request.request_id);
  }
  json list = json::array();
  for (const accounts::Tenant& tenant : *tenants) {
    list.push_back(tenantJson(tenant));
  }
  return jsonResponse(200, {{"tenants", list}});
}

Response createTenant(const Services& services, const Request& request) {
  JsonBody body = parseJsonObject(request);
  if (body.error) {
    return std::move(*body.error);
  }
  Result<std::optional<std::string>> id = stringField(body.fields, "id", true);
  Result<std::optional<std::string>> name = stringField(body.fields, "name", true);
  if (!id.ok() || !name.ok()) {
    return statusResponse(!id.ok() ? id.status() : name.status(), request.request_id);
  }

  Result<accounts::Tenant> tenant = services.accounts->createTenant(**id, **name);
  if (!tenant.ok()) {
    std::string_view field = tenant.status().message().starts_with("tenant name") ? "name" : "id";
    return statusResponse(forField(tenant.status(), field), request.request_id);
  }
  return jsonResponse(201, tenantJson(*tenant));
}

Response getTenant(const Services& services, const Request& request) {
  Result<accounts::Tenant> tenant = services.accounts->tenant(request.params.at("id"));
  if (!tenant.ok()) {
    return statusResponse(tenant.status(), request.request_id);
  }
  return jsonResponse(200, tenantJson(*tenant));
}

}  // namespace

void addAccountRoutes(Router& router, const Services& services) {
  const Authenticator* auth = services.auth;
  // Sign-in and setting a password hash the password with Argon2id.
  const RouteOptions hashes{.slow = true};
  router.add(
      "POST", "/api/v1/session",
      [services](const Request& request) { return signIn(services, request); }, hashes);
  router.add("DELETE", "/api/v1/session",
             signedInRoute(auth, [services](const Request& request, const Principal&) {
               return signOut(services, request);
             }));
  router.add("GET", "/api/v1/me",
             signedInRoute(auth, [services](const Request& request, const Principal& principal) {
               return me(services, request, principal);
             }));

  // A tenant's people and keys, for its owners.
  auto owners = [&](auto handler) {
    return tenantRoute(auth, Role::kOwner,
                       [services, handler](const Request& request, const Principal& principal) {
                         return handler(services, request, principal);
                       });
  };
  router.add(
      "GET", "/api/v1/users",
      owners([](const Services& services, const Request& request, const Principal& principal) {
        return listUsers(services, request, principal.tenant);
      }));
  router.add(
      "POST", "/api/v1/users",
      owners([](const Services& services, const Request& request, const Principal& principal) {
        return createUserResponse(*services.accounts, request, principal.tenant, "");
      }),
      hashes);
  router.add("PATCH", "/api/v1/users/{id}", owners(updateUser), hashes);
  router.add("GET", "/api/v1/api-keys", owners(listApiKeys));
  router.add("POST", "/api/v1/api-keys", owners(createApiKey));
  router.add("DELETE", "/api/v1/api-keys/{id}", owners(revokeApiKey));

  // Tenants, for platform administrators.
  auto admins = [&](auto handler) {
    return adminRoute(auth, [services, handler](const Request& request, const Principal&) {
      return handler(services, request);
    });
  };
  router.add("GET", "/api/v1/admin/tenants", admins(listTenants));
  router.add("POST", "/api/v1/admin/tenants", admins(createTenant));
  router.add("GET", "/api/v1/admin/tenants/{id}", admins(getTenant));
  router.add("GET", "/api/v1/admin/tenants/{id}/users",
             admins([](const Services& services, const Request& request) {
               const std::string& tenant = request.params.at("id");
               if (Result<accounts::Tenant> known = services.accounts->tenant(tenant);
                   !known.ok()) {
                 return statusResponse(known.status(), request.request_id);
               }
               return listUsers(services, request, tenant);
             }));
  router.add("POST", "/api/v1/admin/tenants/{id}/users",
             admins([](const Services& services, const Request& request) {
               return createUserResponse(*services.accounts, request, request.params.at("id"),
                                         "owner");
             }),
             hashes);
}

}  // namespace smmhub::api
