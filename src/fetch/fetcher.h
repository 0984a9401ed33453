// Fetcher: downloads an https URL from a data feed (a club crest) into a
// cache folder and returns the local file's path.
//
//   FetchOptions options;
//   options.cache_dir = "/srv/videos/.fetch-cache";
//   SMMHUB_ASSIGN_OR_RETURN(auto fetcher, Fetcher::create(options));
//   SMMHUB_ASSIGN_OR_RETURN(Fetched crest, fetcher->fetch("https://cdn.example.com/c.png"));
//   render(crest.path);
//
// Every connection, the first and each redirect's, goes only to an address
// that checkAddress() accepts. The check runs on the address that curl is
// about to connect to, after DNS resolution, so a second DNS answer cannot
// differ from the checked one. Proxies from the environment are ignored,
// because with a proxy the connected address would be the proxy's.
// Redirects are followed here, one request each, so every hop's scheme is
// checked too.
//
// Cache: see cache.h. A URL fetched within `revalidate_after` is served
// from the cache without a request. After that, the cached entry is
// revalidated with If-None-Match and If-Modified-Since, and a 304 reply
// reuses the body.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "fetch/address.h"
#include "fetch/cache.h"

namespace smmhub::fetch {

struct FetchOptions {
  // The cache folder; created when missing. Required.
  std::filesystem::path cache_dir;
  // The largest body accepted. The transfer stops as soon as more bytes
  // arrive, whatever the Content-Length header declared.
  std::uint64_t max_bytes = std::uint64_t{10} << 20;
  // The whole fetch, redirects included.
  std::chrono::milliseconds timeout{10'000};
  // Each connection's TCP and TLS handshake, within the whole timeout.
  std::chrono::milliseconds connect_timeout{5'000};
  int max_redirects = 5;
  // Fetch http URLs too; off by default, because plain http lets the network
  // change the file. For tests and private deployments.
  bool allow_http = false;
  // CIDR ranges fetches may connect to besides public addresses, such as
  // "127.0.0.1/32".
  std::vector<std::string> allow;
  // A cached URL is used without a request for this long after the server
  // last confirmed it.
  std::chrono::seconds revalidate_after{300};
  // The prefix of the command-line options that error messages name:
  // PREFIX + "allow", "allow-http", "max-bytes", "timeout-ms".
  std::string option_prefix = "--fetch-";
  std::string user_agent = "smmhub-fetch";
};

enum class FetchSource {
  kDownloaded,   // the server sent the body
  kRevalidated,  // the server replied 304 Not Modified to a conditional request
  kCached,       // the cache was fresh enough: no request
};

// Returns "downloaded", "revalidated" or "cached".
std::string_view fetchSourceName(FetchSource source);

struct Fetched {
  std::filesystem::path path;  // the body in the cache
  FetchSource source = FetchSource::kDownloaded;
  std::uint64_t bytes = 0;
  int redirects = 0;  // redirects followed by this fetch
};

class Fetcher {
 public:
  // Checks OPTIONS and creates the cache folder. Errors: invalidArgument
  // naming a bad option (a CIDR range, a limit that is not positive),
  // unavailable when the cache folder cannot be created.
  static Result<std::unique_ptr<Fetcher>> create(FetchOptions options);

  // Returns the local copy of URL, downloading or revalidating it when the
  // cache has no fresh copy. Safe to call from several threads. Errors,
  // each naming the URL:
  //   invalidArgument    a malformed URL, a scheme other than https (and
  //                      http when allowed), or a redirect without Location
  //   permissionDenied   an address that checkAddress() rejects; the message
  //                      names the host, the address and the option that
  //                      allows it
  //   notFound           HTTP 404 or 410
  //   failedPrecondition an HTTP status other than 200, 304 to a conditional
  //                      request, a redirect, 404, 410 and 5xx; or more
  //                      than max_redirects redirects
  //   resourceExhausted  a body over max_bytes
  //   deadlineExceeded   the fetch took longer than the timeout
  //   unavailable        a failed connection, DNS lookup or TLS handshake,
  //                      HTTP 5xx, or a cache write that failed
  Result<Fetched> fetch(const std::string& url);

  const FetchOptions& options() const { return options_; }

 private:
  Fetcher(FetchOptions options, AllowList allow);

  FetchOptions options_;
  AllowList allow_;
  FetchCache cache_;
};

}  // namespace smmhub::fetch
