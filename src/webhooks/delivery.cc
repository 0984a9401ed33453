#include "webhooks/delivery.h"

#include <curl/curl.h>
#include <sodium.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "common/log.h"

namespace smmhub::webhooks {
namespace {

// The part of a non-2xx reply that goes into last_error.
constexpr std::size_t kErrorBodyBytes = 200;

// The state curl's callbacks fill during one request.
struct Transfer {
  const fetch::AllowList* allow = nullptr;
  std::string reply;
  bool too_long = false;
  std::string rejected_reason;
  std::string rejected_prefix;
};

size_t onReply(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  size_t kept = std::min(bytes, kMaxReplyBytes - transfer->reply.size());
  transfer->reply.append(data, kept);
  if (kept < bytes) {
    // Stops the transfer: the status has arrived, and the rest is ignored.
    transfer->too_long = true;
    return 0;
  }
  return bytes;
}

// Opens the socket of a connection only to an address that
// fetch::checkAddress() accepts.
curl_socket_t onOpenSocket(void* user, curlsocktype /*purpose*/, curl_sockaddr* address) {
  auto* transfer = static_cast<Transfer*>(user);
  sockaddr_storage storage{};
  std::memcpy(&storage, &address->addr,
              std::min<size_t>(address->addrlen, sizeof(sockaddr_storage)));
  const auto& target = reinterpret_cast<const sockaddr&>(storage);
  Status allowed = fetch::checkAddress(target, *transfer->allow);
  if (!allowed.ok()) {
    if (transfer->rejected_reason.empty()) {
      transfer->rejected_reason = allowed.message();
      transfer->rejected_prefix = fetch::hostPrefix(target);
    }
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

Status initLibraries() {
  // Both initialisations are process-wide and not thread-safe in every
  // version, so they run once.
  static std::once_flag once;
  static Status initialised;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      initialised = Status::internal("curl_global_init() failed");
    } else if (sodium_init() < 0) {
      initialised = Status::internal("sodium_init() failed");
    }
  });
  return initialised;
}

std::string signature(std::string_view secret, std::int64_t timestamp_s, std::string_view body) {
  std::string signed_text = std::to_string(timestamp_s) + ".";
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(signed_text.data()),
                                signed_text.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()),
                                body.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[sizeof mac * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return std::string("v1=") + hex;
}

PostOutcome postEvent(const std::string& url, const std::string& event_id, const std::string& body,
                      const std::string& secret, std::int64_t timestamp_s,
                      const PostOptions& options) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    return {.error = "curl_easy_init() failed: out of memory"};
  }
  curl_slist* list = nullptr;
  list = curl_slist_append(list, "Content-Type: application/json");
  list = curl_slist_append(list, ("X-Smmhub-Event-Id: " + event_id).c_str());
  list = curl_slist_append(list, fmt::format("X-Smmhub-Timestamp: {}", timestamp_s).c_str());
  list = curl_slist_append(list,
                           ("X-Smmhub-Signature: " + signature(secret, timestamp_s, body)).c_str());
  // Without this, curl sends "Expect: 100-continue" for larger bodies and
  // waits a second for the interim reply.
  list = curl_slist_append(list, "Expect:");
  std::unique_ptr<curl_slist, CurlDeleter> headers(list);

  fetch::AllowList none;
  Transfer transfer{.allow = options.allow != nullptr ? options.allow : &none};
  char error_text[CURL_ERROR_SIZE] = {};
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  // An empty proxy turns off the proxies of the environment, whose address
  // the check would see in place of the receiver's.
  curl_easy_setopt(handle, CURLOPT_PROXY, "");
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, options.allow_http ? "http,https" : "https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "smmhub-webhooks");
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, onOpenSocket);
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, onReply);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);

  CURLcode code = curl_easy_perform(handle);
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  PostOutcome outcome{.status = static_cast<int>(status)};
  if (!transfer.rejected_reason.empty() && code == CURLE_COULDNT_CONNECT) {
    outcome.error = fmt::format(
        "the host resolved to an address that is not allowed: {}; if the deployment trusts it, "
        "allow it with {} {}",
        transfer.rejected_reason, options.allow_option, transfer.rejected_prefix);
    return outcome;
  }
  if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && transfer.too_long && status != 0)) {
    outcome.error =
        code == CURLE_OPERATION_TIMEDOUT
            ? fmt::format("timed out after {} ms", options.timeout.count())
            : std::string(error_text[0] != '\0' ? error_text : curl_easy_strerror(code));
    return outcome;
  }
  if (!outcome.delivered()) {
    outcome.error = fmt::format("HTTP {}: {}", status, transfer.reply.substr(0, kErrorBodyBytes));
  }
  return outcome;
}

}  // namespace smmhub::webhooks
