#include "fetch/fetcher.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "common/log.h"

namespace smmhub::fetch {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t unixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using CurlUrlPtr = std::unique_ptr<CURLU, CurlDeleter>;
using CurlListPtr = std::unique_ptr<curl_slist, CurlDeleter>;

// The parts of a URL that the checks and messages need.
struct UrlParts {
  std::string scheme;
  std::string host;  // as curl normalised it: 2130706433 becomes 127.0.0.1
};

// Returns where a hop's request went, for messages: "URL", or "HOP
// (redirected from URL)".
std::string placeOf(const std::string& hop, const std::string& url) {
  return hop == url ? hop : fmt::format("{} (redirected from {})", hop, url);
}

std::string urlPart(CURLU* handle, CURLUPart part) {
  char* text = nullptr;
  if (curl_url_get(handle, part, &text, 0) != CURLUE_OK || text == nullptr) {
    return "";
  }
  std::string copy(text);
  curl_free(text);
  return copy;
}

// Parses HOP and checks its scheme. Errors: invalidArgument naming HOP.
Result<UrlParts> parseUrl(const std::string& hop, const std::string& url,
                          const FetchOptions& options) {
  std::string place = placeOf(hop, url);
  for (char c : hop) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Status::invalidArgument(fmt::format(
          "invalid URL '{}': it contains a space or a control character; percent-encode it",
          place));
    }
  }
  CurlUrlPtr handle(curl_url());
  if (!handle) {
    return Status::internal("curl_url() failed: out of memory");
  }
  if (CURLUcode parsed = curl_url_set(handle.get(), CURLUPART_URL, hop.c_str(), 0);
      parsed != CURLUE_OK) {
    return Status::invalidArgument(
        fmt::format("invalid URL '{}': {}", place, curl_url_strerror(parsed)));
  }
  UrlParts parts{urlPart(handle.get(), CURLUPART_SCHEME), urlPart(handle.get(), CURLUPART_HOST)};
  if (parts.scheme == "https" || (parts.scheme == "http" && options.allow_http)) {
    return parts;
  }
  if (parts.scheme == "http") {
    return Status::invalidArgument(fmt::format(
        "cannot fetch {}: http URLs are not fetched, because the network could change the "
        "file; use https, or allow http with {}allow-http",
        place, options.option_prefix));
  }
  return Status::invalidArgument(fmt::format(
      "cannot fetch {}: scheme '{}' is not fetched; use an https URL", place, parts.scheme));
}

// The state that curl's callbacks fill during one request.
struct Transfer {
  CURL* curl = nullptr;
  const AllowList* allow = nullptr;
  BodyWriter* body = nullptr;
  std::uint64_t max_bytes = 0;

  std::uint64_t received = 0;  // body bytes of this response, kept or not
  bool too_large = false;
  Status write_error;
  std::string etag;
  std::string last_modified;
  // The first address the check rejected, and why.
  std::string rejected_reason;
  std::string rejected_prefix;

  // Clears the state of the previous request, before the next hop.
  void startRequest() {
    received = 0;
    too_large = false;
    etag.clear();
    last_modified.clear();
    rejected_reason.clear();
    rejected_prefix.clear();
  }
};

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  transfer->received += bytes;
  if (transfer->received > transfer->max_bytes) {
    transfer->too_large = true;
    return 0;  // any other count than BYTES makes curl stop with CURLE_WRITE_ERROR
  }
  // Only a 200 reply's body is kept; a redirect's or an error's is dropped.
  long status = 0;
  curl_easy_getinfo(transfer->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    return bytes;
  }
  Status written = transfer->body->write(data, bytes);
  if (!written.ok()) {
    transfer->write_error = written;
    return 0;
  }
  return bytes;
}

std::string trimmed(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return "";
  }
  size_t last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

// Called once per header line, status lines included.
size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  std::string_view line(data, bytes);
  // An interim reply (100 Continue) has headers of its own.
  if (line.starts_with("HTTP/")) {
    transfer->etag.clear();
    transfer->last_modified.clear();
    return bytes;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return bytes;
  }
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name == "etag") {
    transfer->etag = trimmed(line.substr(colon + 1));
  } else if (name == "last-modified") {
    transfer->last_modified = trimmed(line.substr(colon + 1));
  }
  return bytes;
}

// Opens the socket of each connection curl makes, after DNS resolution, and
// only to an address that checkAddress() accepts.
curl_socket_t onOpenSocket(void* user, curlsocktype /*purpose*/, curl_sockaddr* address) {
  auto* transfer = static_cast<Transfer*>(user);
  sockaddr_storage storage{};
  std::memcpy(&storage, &address->addr,
              std::min<size_t>(address->addrlen, sizeof(sockaddr_storage)));
  const auto& target = reinterpret_cast<const sockaddr&>(storage);
  Status allowed = checkAddress(target, *transfer->allow);
  if (!allowed.ok()) {
    if (transfer->rejected_reason.empty()) {
      transfer->rejected_reason = allowed.message();
      transfer->rejected_prefix = hostPrefix(target);
    }
    logger("fetch")->debug("connection rejected address={}: {}", addressText(target),
                           allowed.message());
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

bool isTlsError(CURLcode code) {
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

bool isRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// One fetch: the request of each hop, and the mapping of failures to errors.
class Download {
 public:
  Download(const FetchOptions& options, const AllowList& allow, const FetchCache& cache,
           std::string url)
      : options_(options), allow_(allow), cache_(cache), url_(std::move(url)) {}

  Result<Fetched> run(const std::optional<CacheEntry>& cached) {
    SMMHUB_ASSIGN_OR_RETURN(std::unique_ptr<BodyWriter> body, cache_.startBody(url_));
    CurlPtr curl(curl_easy_init());
    if (!curl) {
      return Status::internal("curl_easy_init() failed: out of memory");
    }
    transfer_ = {
        .curl = curl.get(), .allow = &allow_, .body = body.get(), .max_bytes = options_.max_bytes};
    CurlListPtr headers = conditionalHeaders(cached);
    setOptions(curl.get(), headers.get());

    auto deadline = Clock::now() + options_.timeout;
    std::string hop = url_;
    for (int redirects = 0;;) {
      SMMHUB_ASSIGN_OR_RETURN(UrlParts parts, parseUrl(hop, url_, options_));
      SMMHUB_ASSIGN_OR_RETURN(long status, request(curl.get(), hop, parts, deadline));
      if (isRedirect(status)) {
        SMMHUB_ASSIGN_OR_RETURN(hop, nextHop(curl.get(), hop, status, ++redirects));
        SMMHUB_RETURN_IF_ERROR(body->clear());
        continue;
      }
      if (status == 304 && cached) {
        return revalidated(*cached, redirects);
      }
      if (status != 200) {
        return httpError(hop, status);
      }
      std::int64_t now = unixMillis();
      CacheEntry entry{.url = url_,
                       .etag = transfer_.etag,
                       .last_modified = transfer_.last_modified,
                       .fetched_at_ms = now,
                       .checked_at_ms = now};
      SMMHUB_ASSIGN_OR_RETURN(CacheEntry stored, cache_.store(*body, std::move(entry)));
      return Fetched{cache_.bodyPath(stored), FetchSource::kDownloaded, stored.bytes, redirects};
    }
  }

 private:
  CurlListPtr conditionalHeaders(const std::optional<CacheEntry>& cached) const {
    curl_slist* list = nullptr;
    if (cached && !cached->etag.empty()) {
      list = curl_slist_append(list, ("If-None-Match: " + cached->etag).c_str());
    }
    if (cached && !cached->last_modified.empty()) {
      list = curl_slist_append(list, ("If-Modified-Since: " + cached->last_modified).c_str());
    }
    return CurlListPtr(list);
  }

  void setOptions(CURL* curl, curl_slist* headers) {
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    // An empty proxy turns off the proxies of the environment, whose
    // address the check would see in place of the server's.
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, options_.allow_http ? "http,https" : "https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_bytes));
    curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text_);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, onOpenSocket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &transfer_);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer_);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer_);
  }

  // Sends one request within what is left of the fetch's time, and returns
  // the reply's HTTP status.
  Result<long> request(CURL* curl, const std::string& hop, const UrlParts& parts,
                       Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return timedOut(hop, "no time was left for this redirect");
    }
    curl_easy_setopt(curl, CURLOPT_URL, hop.c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min(left, options_.connect_timeout).count()));
    transfer_.startRequest();
    error_text_[0] = '\0';
    CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
      return transferError(code, hop, parts);
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    logger("fetch")->debug("fetch reply url={} status={} bytes={}", hop, status,
                           transfer_.received);
    return status;
  }

  Result<std::string> nextHop(CURL* curl, const std::string& hop, long status, int redirects) {
    char* location = nullptr;
    curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location);
    if (location == nullptr || *location == '\0') {
      return Status::invalidArgument(
          fmt::format("fetching {} failed: the server replied HTTP {} without a Location header",
                      placeOf(hop, url_), status));
    }
    if (redirects > options_.max_redirects) {
      return Status::failedPrecondition(
          fmt::format("fetching {} failed: more than {} redirects; the last one pointed to {}",
                      url_, options_.max_redirects, location));
    }
    return std::string(location);
  }

  Result<Fetched> revalidated(CacheEntry entry, int redirects) {
    // A 304 reply may carry newer validators, which replace the stored ones.
    if (!transfer_.etag.empty()) {
      entry.etag = transfer_.etag;
    }
    if (!transfer_.last_modified.empty()) {
      entry.last_modified = transfer_.last_modified;
    }
    SMMHUB_RETURN_IF_ERROR(cache_.markChecked(entry, unixMillis()));
    return Fetched{cache_.bodyPath(entry), FetchSource::kRevalidated, entry.bytes, redirects};
  }

  Status httpError(const std::string& hop, long status) const {
    std::string message =
        fmt::format("fetching {} failed: the server replied HTTP {}", placeOf(hop, url_), status);
    if (status == 404 || status == 410) {
      return Status::notFound(message + "; check the URL");
    }
    if (status >= 500) {
      return Status::unavailable(message);
    }
    return Status::failedPrecondition(message + ", expected 200");
  }

  Status timedOut(const std::string& hop, std::string_view detail) const {
    return {
        StatusCode::kDeadlineExceeded,
        fmt::format("fetching {} timed out: {}; the limit is {} ms for the whole fetch ({}"
                    "timeout-ms)",
                    placeOf(hop, url_), detail, options_.timeout.count(), options_.option_prefix)};
  }

  Status transferError(CURLcode code, const std::string& hop, const UrlParts& parts) const {
    std::string place = placeOf(hop, url_);
    std::string detail = error_text_[0] != '\0' ? error_text_ : curl_easy_strerror(code);
    if (!transfer_.rejected_reason.empty() && code == CURLE_COULDNT_CONNECT) {
      return {StatusCode::kPermissionDenied,
              fmt::format("cannot fetch {}: host {} resolved to an address that is not "
                          "allowed: {}; if the deployment trusts it, allow it with {}allow {}",
                          place, parts.host, transfer_.rejected_reason, options_.option_prefix,
                          transfer_.rejected_prefix)};
    }
    if (transfer_.too_large || code == CURLE_FILESIZE_EXCEEDED) {
      return Status::resourceExhausted(
          fmt::format("fetching {} stopped: the body is over the limit of {} bytes ({}max-bytes)",
                      place, options_.max_bytes, options_.option_prefix));
    }
    if (!transfer_.write_error.ok()) {
      return transfer_.write_error;
    }
    if (code == CURLE_OPERATION_TIMEDOUT) {
      return timedOut(hop, detail);
    }
    if (isTlsError(code)) {
      return Status::unavailable(
          fmt::format("fetching {} failed: the TLS handshake with {} failed: "
                      "{}",
                      place, parts.host, detail));
    }
    if (code == CURLE_COULDNT_RESOLVE_HOST) {
      return Status::unavailable(
          fmt::format("fetching {} failed: cannot resolve host {}: {}", place, parts.host, detail));
    }
    return Status::unavailable(fmt::format("fetching {} failed: {}", place, detail));
  }

  const FetchOptions& options_;
  const AllowList& allow_;
  const FetchCache& cache_;
  std::string url_;
  Transfer transfer_;
  char error_text_[CURL_ERROR_SIZE] = {};
};

Status checkOptions(const FetchOptions& options) {
  if (options.cache_dir.empty()) {
    return Status::invalidArgument("missing fetch cache folder");
  }
  if (options.max_bytes == 0) {
    return Status::invalidArgument(
        fmt::format("{}max-bytes must be positive", options.option_prefix));
  }
  if (options.timeout.count() <= 0 || options.connect_timeout.count() <= 0) {
    return Status::invalidArgument(fmt::format(
        "{}timeout-ms {} must be positive, and the connect timeout too ({} ms)",
        options.option_prefix, options.timeout.count(), options.connect_timeout.count()));
  }
  if (options.max_redirects < 0) {
    return Status::invalidArgument(
        fmt::format("the redirect limit {} must not be negative", options.max_redirects));
  }
  if (options.revalidate_after.count() < 0) {
    return Status::invalidArgument(fmt::format("the revalidation period {} s must not be negative",
                                               options.revalidate_after.count()));
  }
  return okStatus();
}

}  // namespace

std::string_view fetchSourceName(FetchSource source) {
  switch (source) {
    case FetchSource::kDownloaded:
      return "downloaded";
    case FetchSource::kRevalidated:
      return "revalidated";
    case FetchSource::kCached:
      return "cached";
  }
  return "unknown";
}

Fetcher::Fetcher(FetchOptions options, AllowList allow)
    : options_(std::move(options)), allow_(std::move(allow)), cache_(options_.cache_dir) {}

Result<std::unique_ptr<Fetcher>> Fetcher::create(FetchOptions options) {
  SMMHUB_RETURN_IF_ERROR(checkOptions(options));
  AllowList allow;
  for (const std::string& range : options.allow) {
    if (Status added = allow.add(range); !added.ok()) {
      return added.withContext(options.option_prefix + "allow");
    }
  }

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
  SMMHUB_RETURN_IF_ERROR(initialised);

  std::unique_ptr<Fetcher> fetcher(new Fetcher(std::move(options), std::move(allow)));
  SMMHUB_RETURN_IF_ERROR(fetcher->cache_.prepare());
  return fetcher;
}

Result<Fetched> Fetcher::fetch(const std::string& url) {
  SMMHUB_RETURN_IF_ERROR(parseUrl(url, url, options_));
  std::optional<CacheEntry> cached = cache_.lookup(url);
  std::int64_t now = unixMillis();
  std::int64_t fresh_ms = options_.revalidate_after.count() * 1000;
  // A clock set back makes the entry look checked in the future: revalidate.
  if (cached && cached->checked_at_ms <= now && now - cached->checked_at_ms < fresh_ms) {
    return Fetched{cache_.bodyPath(*cached), FetchSource::kCached, cached->bytes, 0};
  }

  Download download(options_, allow_, cache_, url);
  Result<Fetched> fetched = download.run(cached);
  if (fetched.ok()) {
    logger("fetch")->info("fetch done url={} source={} bytes={} redirects={}", url,
                          fetchSourceName(fetched->source), fetched->bytes, fetched->redirects);
  }
  return fetched;
}

}  // namespace smmhub::fetch
