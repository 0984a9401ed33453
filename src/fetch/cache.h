// The fetch cache: one entry per URL in a folder that several processes
// share.
//
// Layout: DIR/AB/KEY.json holds the metadata and DIR/AB/KEY.HASH.EXT the
// body, where KEY is the SHA-256 of the URL in hex, AB its first two digits,
// HASH the first 16 hex digits of the body's SHA-256 and EXT the extension
// of the URL's path. Every file is written under a temporary name and then
// renamed, so that a reader sees a whole file or none. The metadata names
// its body, and a body file never changes after its rename, so that two
// processes that store the same URL at once leave a consistent pair: the
// metadata renamed last wins, and the body it names is in place.
//
// A body that the metadata no longer names is kept for an hour after it was
// replaced, so that a job that read the earlier metadata can still open it,
// and the next store of the same URL removes it. Temporary files older than
// an hour, left by a process that died, go the same way.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace smmhub::fetch {

struct CacheEntry {
  std::string url;
  std::string etag;                // the ETag response header; empty: none
  std::string last_modified;       // the Last-Modified response header; empty: none
  std::int64_t fetched_at_ms = 0;  // Unix time the body was downloaded
  std::int64_t checked_at_ms = 0;  // Unix time the server last confirmed the body
  std::string body_name;           // file name of the body, in the entry's folder
  std::uint64_t bytes = 0;         // size of the body
};

// A body being downloaded, in a temporary file of the cache. The destructor
// removes the file unless FetchCache::store() renamed it.
class BodyWriter {
 public:
  BodyWriter(int fd, std::filesystem::path temp_path);
  ~BodyWriter();
  BodyWriter(const BodyWriter&) = delete;
  BodyWriter& operator=(const BodyWriter&) = delete;
  BodyWriter(BodyWriter&&) = delete;
  BodyWriter& operator=(BodyWriter&&) = delete;

  // Appends SIZE bytes. Errors: unavailable when the disk write fails.
  Status write(const char* data, std::size_t size);
  // Empties the file, for a response that replaces an earlier one.
  Status clear();

  std::uint64_t bytes() const { return bytes_; }

 private:
  friend class FetchCache;

  int fd_;
  std::filesystem::path temp_path_;
  std::uint64_t bytes_ = 0;
  crypto_hash_sha256_state hash_{};
};

class FetchCache {
 public:
  explicit FetchCache(std::filesystem::path dir);

  // Creates the cache folder. Errors: unavailable naming the folder.
  Status prepare() const;

  // Returns the entry of URL when its metadata and its whole body are in
  // place, otherwise nothing.
  std::optional<CacheEntry> lookup(const std::string& url) const;

  // Returns the path of ENTRY's body.
  std::filesystem::path bodyPath(const CacheEntry& entry) const;

  // Opens a temporary file for the body of URL. Errors: unavailable.
  Result<std::unique_ptr<BodyWriter>> startBody(const std::string& url) const;

  // Flushes BODY, renames it to its final name and writes ENTRY's metadata
  // naming it, replacing the URL's earlier entry. Returns ENTRY with
  // body_name and bytes set. Errors: unavailable naming the file.
  Result<CacheEntry> store(BodyWriter& body, CacheEntry entry) const;

  // Rewrites ENTRY's metadata with checked_at_ms = NOW_MS, after the
  // server confirmed the body. Errors: unavailable naming the file.
  Status markChecked(CacheEntry entry, std::int64_t now_ms) const;

 private:
  std::filesystem::path folderOf(const std::string& key) const;
  Status writeMetadata(const std::string& key, const CacheEntry& entry) const;
  void removeStale(const std::string& key, const CacheEntry& current,
                   const std::optional<CacheEntry>& replaced) const;

  std::filesystem::path dir_;
};

// Returns the SHA-256 of BYTES as 64 lowercase hex digits.
std::string sha256Hex(std::string_view bytes);

}  // namespace smmhub::fetch
