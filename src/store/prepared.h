// Statements prepared once per pooled session and executed again on every
// request. A query run through runOnce() is parsed and planned by
// PostgreSQL, and compiled by sqlite3_prepare, on each execution. A hot read
// query goes through Prepared<Values> instead:
//
//   struct TenantName {
//     static std::string query() { return "SELECT name FROM tenants WHERE id = :id"; }
//     std::string id;    // parameter
//     std::string name;  // result
//     void bind(soci::statement& statement) {
//       statement.exchange(soci::into(name));
//       statement.exchange(soci::use(id));
//     }
//   };
//
//   store::Prepared<TenantName> select(sql);
//   select->id = id;
//   if (select.execute(true)) { use(select->name); }
//
// Design. Values is a struct that owns the parameter and result storage of
// one query; bind() exchanges soci::into and soci::use elements that point
// into it. The first Prepared<Values> on a session prepares Values::query()
// with those elements bound (a named server-side statement on PostgreSQL,
// an sqlite3_stmt on SQLite) and keeps statement and storage in the
// session's StatementCache, keyed by the Values type. Later ones on the same
// session reset the storage to Values{} and execute the kept statement.
//
// Ownership and threads. Database keeps one StatementCache per session of
// its pool. While Database::read() or write() runs its callback, the leased
// session's cache is bound to that session on the running thread, and
// Prepared finds it there. A pooled session serves one thread at a time, so
// a cache needs no lock. A session that is not leased this way, such as one
// a test opened itself, gets a one-time statement that is dropped with the
// Prepared object. Results are the same on either kind of session.
//
// Lifetime. Database drops a session's cache before it opens the session's
// connection again, because PostgreSQL drops its prepared statements with
// the connection and SOCI's statements refer to the connection object that
// soci::session::reconnect() deletes. Otherwise the cache lives as long as
// the Database, which drops it before it closes the connections.
//
// NOTE: after five executions PostgreSQL may switch a prepared statement to
// a generic plan that ignores the parameter values (plan_cache_mode = auto).
// The cached queries look rows up by key or by tenant, where the generic plan
// uses the same index as the custom one.
#pragma once

#include <soci/soci.h>

#include <cstddef>
#include <memory>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <utility>

#include "store/database.h"

namespace smmhub::store {

namespace internal {

// A statement in a StatementCache, with the storage its elements point to.
class CachedStatement {
 public:
  CachedStatement() = default;
  virtual ~CachedStatement() = default;
  CachedStatement(const CachedStatement&) = delete;
  CachedStatement& operator=(const CachedStatement&) = delete;
  CachedStatement(CachedStatement&&) = delete;
  CachedStatement& operator=(CachedStatement&&) = delete;

  virtual soci::statement& statement() = 0;
};

// The storage is declared before the statement, so that the statement,
// whose elements point into the storage, is destroyed first.
template <typename Values>
class CachedValues final : public CachedStatement {
 public:
  explicit CachedValues(soci::session& sql) : statement_(sql) {}

  Values& values() { return values_; }
  soci::statement& statement() override { return statement_; }

  // Whether a Prepared object uses the statement now.
  bool inUse() const { return in_use_; }
  void setInUse(bool in_use) { in_use_ = in_use; }

 private:
  Values values_;
  soci::statement statement_;
  bool in_use_ = false;
};

// Prepares QUERY on STATEMENT, whose elements are exchanged already, for
// repeated execution when REPEATABLE. Throws soci::soci_error.
void prepareStatement(soci::statement& statement, const std::string& query, bool repeatable);

}  // namespace internal

// The statements prepared on one pooled session, by the type of their Values.
class StatementCache {
 public:
  explicit StatementCache(Backend backend) : backend_(backend) {}
  ~StatementCache();
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;
  StatementCache(StatementCache&&) = delete;
  StatementCache& operator=(StatementCache&&) = delete;

  // The number of statements prepared on the session.
  std::size_t size() const { return statements_.size(); }

  // Returns the statement kept for KEY, or null.
  internal::CachedStatement* find(std::type_index key);

  // Keeps STATEMENT, prepared on this cache's session, for KEY.
  void insert(std::type_index key, std::unique_ptr<internal::CachedStatement> statement);

  // Ends the current execution of STATEMENT. On SQLite a statement that
  // stopped on a row keeps a read transaction open until it is reset, which
  // would pin this session to an old snapshot.
  void finish(soci::statement& statement) const;

  // Destroys every statement. On PostgreSQL each sends a DEALLOCATE, whose
  // failure on a lost connection SOCI 4.0.3 ignores. REQUIRES: the
  // session's connection has not been opened again since the statements
  // were prepared.
  void clear();

 private:
  Backend backend_;
  std::unordered_map<std::type_index, std::unique_ptr<internal::CachedStatement>> statements_;
};

// Returns the cache of SQL when SQL is a session that Database::read() or
// write() has leased on this thread, or null.
StatementCache* leasedCache(const soci::session& sql);

namespace internal {

// Makes leasedCache(SQL) return CACHE on this thread while it lives.
// Bindings nest, so a callback may lease a second session.
class CacheBinding {
 public:
  CacheBinding(const soci::session& sql, StatementCache& cache);
  ~CacheBinding();
  CacheBinding(const CacheBinding&) = delete;
  CacheBinding& operator=(const CacheBinding&) = delete;
  CacheBinding(CacheBinding&&) = delete;
  CacheBinding& operator=(CacheBinding&&) = delete;

  const soci::session& session() const { return session_; }
  StatementCache& cache() const { return cache_; }
  const CacheBinding* outer() const { return outer_; }

 private:
  const soci::session& session_;
  StatementCache& cache_;
  const CacheBinding* outer_;
};

}  // namespace internal

// One use of the statement of Values::query() on a session: its values,
// reset to Values{}, and execute() and fetch(). Values must be
// default-constructible and move-assignable, and define these members:
//   static std::string query();
//   void bind(soci::statement& statement);  // exchanges the into and use elements
// A second Prepared of the same Values while the first lives on the session,
// such as one inside a loop over the first one's rows, gets a one-time
// statement of its own. Throws soci::soci_error, as the statements of
// runOnce() do.
template <typename Values>
class Prepared {
 public:
  explicit Prepared(soci::session& sql) : cache_(leasedCache(sql)) {
    std::type_index key(typeid(Values));
    internal::CachedStatement* found = cache_ != nullptr ? cache_->find(key) : nullptr;
    auto* cached = static_cast<internal::CachedValues<Values>*>(found);
    if (cached != nullptr && !cached->inUse()) {
      entry_ = cached;
      entry_->values() = Values{};
      entry_->setInUse(true);
      return;
    }

    // A statement is kept only once it is prepared, so that a failed prepare
    // leaves nothing behind.
    bool keep = cache_ != nullptr && cached == nullptr;
    auto created = std::make_unique<internal::CachedValues<Values>>(sql);
    created->values().bind(created->statement());
    internal::prepareStatement(created->statement(), Values::query(), keep);
    entry_ = created.get();
    if (keep) {
      entry_->setInUse(true);
      cache_->insert(key, std::move(created));
    } else {
      owned_ = std::move(created);
    }
  }

  ~Prepared() {
    if (owned_ == nullptr) {
      cache_->finish(entry_->statement());
      entry_->setInUse(false);
    }
  }

  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;
  Prepared(Prepared&&) = delete;
  Prepared& operator=(Prepared&&) = delete;

  Values& operator*() { return entry_->values(); }
  Values* operator->() { return &entry_->values(); }

  // Executes the statement with the parameters in the values. With
  // FETCH_FIRST, reads the first row into the values and returns whether
  // there was one. Without it, fetch() reads the rows.
  bool execute(bool fetch_first) { return entry_->statement().execute(fetch_first); }

  // Reads the next row into the values. Returns false when there is none.
  bool fetch() { return entry_->statement().fetch(); }

  // Whether the last execute(true) or fetch() read a row.
  bool gotData() { return entry_->statement().got_data(); }

 private:
  StatementCache* cache_;
  internal::CachedValues<Values>* entry_ = nullptr;
  std::unique_ptr<internal::CachedValues<Values>> owned_;
};

}  // namespace smmhub::store
