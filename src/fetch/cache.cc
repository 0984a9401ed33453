#include "fetch/cache.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/log.h"

namespace smmhub::fetch {
namespace {

namespace fs = std::filesystem;

// How long a replaced body and a temporary file stay before a later store
// of the same URL removes them.
constexpr auto kStaleAge = std::chrono::hours(1);

std::string hexOf(const unsigned char* digest, std::size_t size) {
  std::string hex;
  hex.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    hex += fmt::format("{:02x}", digest[i]);
  }
  return hex;
}

Status errnoStatus(const std::string& what, const fs::path& path) {
  return Status::unavailable(
      fmt::format("fetch cache: cannot {} {}: {}", what, path.string(), std::strerror(errno)));
}

Status writeAll(int fd, const char* data, std::size_t size, const fs::path& path) {
  while (size > 0) {
    ssize_t written = ::write(fd, data, size);
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      return errnoStatus("write", path);
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return okStatus();
}

// Opens a fresh temporary file "KEY.XXXXXX.tmp" in FOLDER.
Result<std::pair<int, fs::path>> openTemp(const fs::path& folder, const std::string& key) {
  std::string name = (folder / (key + ".XXXXXX.tmp")).string();
  int fd = ::mkostemps(name.data(), 4, O_CLOEXEC);
  if (fd < 0) {
    return errnoStatus("create a temporary file in", folder);
  }
  return std::pair<int, fs::path>(fd, fs::path(name));
}

// Returns the extension of the URL's path, such as ".png", when it is 1 to
// 5 letters or digits, otherwise "". Decoders sniff the content, so the
// extension only helps people who look into the cache.
std::string extensionOf(const std::string& url) {
  size_t authority = url.find("://");
  size_t path = authority == std::string::npos ? std::string::npos : url.find('/', authority + 3);
  if (path == std::string::npos) {
    return "";
  }
  std::string_view rest(url);
  rest = rest.substr(path, rest.find_first_of("?#", path) - path);
  std::string_view segment = rest.substr(rest.rfind('/') + 1);
  size_t dot = segment.rfind('.');
  if (dot == std::string_view::npos) {
    return "";
  }
  std::string_view extension = segment.substr(dot + 1);
  if (extension.empty() || extension.size() > 5) {
    return "";
  }
  std::string lower = ".";
  for (char c : extension) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      return "";
    }
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return lower;
}

nlohmann::json toJson(const CacheEntry& entry) {
  return {{"url", entry.url},
          {"etag", entry.etag},
          {"last_modified", entry.last_modified},
          {"fetched_at_ms", entry.fetched_at_ms},
          {"checked_at_ms", entry.checked_at_ms},
          {"body", entry.body_name},
          {"bytes", entry.bytes}};
}

std::optional<CacheEntry> fromJson(const std::string& text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) {
    return std::nullopt;
  }
  try {
    CacheEntry entry;
    entry.url = json.at("url").get<std::string>();
    entry.etag = json.at("etag").get<std::string>();
    entry.last_modified = json.at("last_modified").get<std::string>();
    entry.fetched_at_ms = json.at("fetched_at_ms").get<std::int64_t>();
    entry.checked_at_ms = json.at("checked_at_ms").get<std::int64_t>();
    entry.body_name = json.at("body").get<std::string>();
    entry.bytes = json.at("bytes").get<std::uint64_t>();
    // A body name with a separator would lead out of the cache folder.
    if (entry.body_name.empty() || entry.body_name.find('/') != std::string::npos) {
      return std::nullopt;
    }
    return entry;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::string sha256Hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return hexOf(digest, sizeof digest);
}

BodyWriter::BodyWriter(int fd, fs::path temp_path) : fd_(fd), temp_path_(std::move(temp_path)) {
  crypto_hash_sha256_init(&hash_);
}

BodyWriter::~BodyWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  if (!temp_path_.empty()) {
    std::error_code ignored;
    fs::remove(temp_path_, ignored);
  }
}

Status BodyWriter::write(const char* data, std::size_t size) {
  SMMHUB_RETURN_IF_ERROR(writeAll(fd_, data, size, temp_path_));
  crypto_hash_sha256_update(&hash_, reinterpret_cast<const unsigned char*>(data), size);
  bytes_ += size;
  return okStatus();
}

Status BodyWriter::clear() {
  if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0) {
    return errnoStatus("empty", temp_path_);
  }
  crypto_hash_sha256_init(&hash_);
  bytes_ = 0;
  return okStatus();
}

FetchCache::FetchCache(fs::path dir) : dir_(std::move(dir)) {}

Status FetchCache::prepare() const {
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) {
    return Status::unavailable(fmt::format("fetch cache: cannot create the folder {}: {}",
                                           dir_.string(), error.message()));
  }
  return okStatus();
}

fs::path FetchCache::folderOf(const std::string& key) const {
  return dir_ / key.substr(0, 2);
}

fs::path FetchCache::bodyPath(const CacheEntry& entry) const {
  return folderOf(sha256Hex(entry.url)) / entry.body_name;
}

std::optional<CacheEntry> FetchCache::lookup(const std::string& url) const {
  std::string key = sha256Hex(url);
  std::ifstream in(folderOf(key) / (key + ".json"), std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::optional<CacheEntry> entry = fromJson(text);
  if (!entry || entry->url != url) {
    logger("fetch")->warn("cache entry ignored url={} key={}: unreadable metadata", url, key);
    return std::nullopt;
  }
  std::error_code error;
  std::uintmax_t size = fs::file_size(bodyPath(*entry), error);
  if (error || size != entry->bytes) {
    logger("fetch")->warn("cache entry ignored url={} key={}: body missing or not {} bytes", url,
                          key, entry->bytes);
    return std::nullopt;
  }
  return entry;
}

Result<std::unique_ptr<BodyWriter>> FetchCache::startBody(const std::string& url) const {
  std::string key = sha256Hex(url);
  fs::path folder = folderOf(key);
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) {
    return Status::unavailable(fmt::format("fetch cache: cannot create the folder {}: {}",
                                           folder.string(), error.message()));
  }
  SMMHUB_ASSIGN_OR_RETURN(auto temp, openTemp(folder, key));
  return std::make_unique<BodyWriter>(temp.first, temp.second);
}

Status FetchCache::writeMetadata(const std::string& key, const CacheEntry& entry) const {
  fs::path folder = folderOf(key);
  SMMHUB_ASSIGN_OR_RETURN(auto temp, openTemp(folder, key));
  BodyWriter file(temp.first, temp.second);
  std::string text = toJson(entry).dump(2) + "\n";
  SMMHUB_RETURN_IF_ERROR(file.write(text.data(), text.size()));
  if (::fsync(file.fd_) != 0) {
    return errnoStatus("flush", file.temp_path_);
  }
  fs::path target = folder / (key + ".json");
  if (::rename(file.temp_path_.c_str(), target.c_str()) != 0) {
    return errnoStatus("rename a temporary file to", target);
  }
  file.temp_path_.clear();
  return okStatus();
}

Result<CacheEntry> FetchCache::store(BodyWriter& body, CacheEntry entry) const {
  std::string key = sha256Hex(entry.url);
  fs::path folder = folderOf(key);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&body.hash_, digest);
  entry.body_name = key + "." + hexOf(digest, 8) + extensionOf(entry.url);
  entry.bytes = body.bytes_;

  // The body reaches the disk before the metadata names it.
  if (::fsync(body.fd_) != 0) {
    return errnoStatus("flush", body.temp_path_);
  }
  fs::path target = folder / entry.body_name;
  if (::rename(body.temp_path_.c_str(), target.c_str()) != 0) {
    return errnoStatus("rename a temporary file to", target);
  }
  body.temp_path_.clear();

  std::optional<CacheEntry> replaced = lookup(entry.url);
  SMMHUB_RETURN_IF_ERROR(writeMetadata(key, entry));
  removeStale(key, entry, replaced);
  return entry;
}

Status FetchCache::markChecked(CacheEntry entry, std::int64_t now_ms) const {
  entry.checked_at_ms = now_ms;
  return writeMetadata(sha256Hex(entry.url), entry);
}

void FetchCache::removeStale(const std::string& key, const CacheEntry& current,
                             const std::optional<CacheEntry>& replaced) const {
  fs::path folder = folderOf(key);
  auto now = fs::file_time_type::clock::now();
  std::error_code error;
  // The replaced body's age counts from now, when the metadata stopped
  // naming it.
  if (replaced && replaced->body_name != current.body_name) {
    fs::last_write_time(folder / replaced->body_name, now, error);
  }
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().string();
    if (!name.starts_with(key + ".") || name == current.body_name || name == key + ".json") {
      continue;
    }
    std::error_code time_error;
    fs::file_time_type written = fs::last_write_time(it->path(), time_error);
    if (!time_error && now - written > kStaleAge) {
      stale.push_back(it->path());
    }
  }
  for (const fs::path& path : stale) {
    std::error_code ignored;
    fs::remove(path, ignored);
    logger("fetch")->debug("cache file removed path={}", path.string());
  }
}

}  // namespace smmhub::fetch
