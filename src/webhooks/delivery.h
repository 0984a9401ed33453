// Signing and sending one webhook delivery.
//
// A delivery is one HTTP POST of the event's JSON with these headers:
//   Content-Type: application/json
//   X-Smmhub-Event-Id: evt_...
//   X-Smmhub-Timestamp: Unix seconds of this attempt
//   X-Smmhub-Signature: v1=HEX
// where HEX is the lowercase hex HMAC-SHA256, keyed with the webhook's whole
// secret ("whsec_..." as shown at creation), of TIMESTAMP + "." + BODY.
//
// Like src/fetch, the request connects only to an address that
// fetch::checkAddress() accepts, checked on the address curl is about to
// connect to, after DNS resolution. Redirects are not followed and proxies
// from the environment are ignored.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "fetch/address.h"

namespace smmhub::webhooks {

// The reply bytes kept for last_error; the transfer stops past them.
inline constexpr std::size_t kMaxReplyBytes = 4 * 1024;

// Returns "v1=" and the hex HMAC-SHA256 of TIMESTAMP_S + "." + BODY keyed
// with SECRET.
std::string signature(std::string_view secret, std::int64_t timestamp_s, std::string_view body);

struct PostOptions {
  // The whole request: connect, TLS, sending and the reply.
  std::chrono::milliseconds timeout{5'000};
  // Send to http:// URLs too.
  bool allow_http = false;
  // Ranges allowed besides public addresses. Must outlive the call.
  const fetch::AllowList* allow = nullptr;
  // The option that adds to ALLOW, named in rejection messages.
  std::string allow_option = "--webhook-allow";
};

// What one attempt got back.
struct PostOutcome {
  // The reply's HTTP status, 0 when none came back.
  int status = 0;
  // Empty for a 2xx reply; otherwise what went wrong, such as "HTTP 500:
  // BODY" (the first 200 bytes of the reply) or the connection error.
  std::string error;

  bool delivered() const { return status >= 200 && status <= 299; }
};

// POSTs BODY to URL for the event EVENT_ID, signed with SECRET at
// TIMESTAMP_S. Never fails as a call: every failure is in the outcome.
PostOutcome postEvent(const std::string& url, const std::string& event_id, const std::string& body,
                      const std::string& secret, std::int64_t timestamp_s,
                      const PostOptions& options);

// Initializes libcurl and libsodium once per process. Errors: internal.
Status initLibraries();

}  // namespace smmhub::webhooks
