#include "store/prepared.h"

#include <soci/sqlite3/soci-sqlite3.h>

namespace smmhub::store {
namespace {

// The innermost binding of a leased session to its cache on this thread.
thread_local const internal::CacheBinding* innermost_binding = nullptr;

}  // namespace

namespace internal {

void prepareStatement(soci::statement& statement, const std::string& query, bool repeatable) {
  statement.alloc();
  statement.prepare(
      query, repeatable ? soci::details::st_repeatable_query : soci::details::st_one_time_query);
  statement.define_and_bind();
}

CacheBinding::CacheBinding(const soci::session& sql, StatementCache& cache)
    : session_(sql), cache_(cache), outer_(innermost_binding) {
  innermost_binding = this;
}

CacheBinding::~CacheBinding() {
  innermost_binding = outer_;
}

}  // namespace internal

StatementCache::~StatementCache() = default;

internal::CachedStatement* StatementCache::find(std::type_index key) {
  auto found = statements_.find(key);
  return found == statements_.end() ? nullptr : found->second.get();
}

void StatementCache::insert(std::type_index key,
                            std::unique_ptr<internal::CachedStatement> statement) {
  statements_[key] = std::move(statement);
}

void StatementCache::finish(soci::statement& statement) const {
  if (backend_ != Backend::kSqlite) {
    return;
  }
  // Every statement of this cache was made on a SQLite session. The result
  // code repeats the error of the last step, which execute() or fetch() has
  // raised already.
  auto* sqlite = static_cast<soci::sqlite3_statement_backend*>(statement.get_backend());
  if (sqlite != nullptr && sqlite->stmt_ != nullptr) {
    static_cast<void>(sqlite_api::sqlite3_reset(sqlite->stmt_));
  }
}

void StatementCache::clear() {
  statements_.clear();
}

StatementCache* leasedCache(const soci::session& sql) {
  for (const internal::CacheBinding* binding = innermost_binding; binding != nullptr;
       binding = binding->outer()) {
    if (&binding->session() == &sql) {
      return &binding->cache();
    }
  }
  return nullptr;
}

}  // namespace smmhub::store
