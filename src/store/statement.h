// Statements that run once. SOCI's `sql.prepare << ...` makes a prepared
// statement, which on PostgreSQL costs a PREPARE and a DEALLOCATE round trip
// besides the execution (SOCI 4.0.3's PostgreSQL backend). A query that a
// request runs once goes through runOnce() instead, which sends the query
// with its parameters in one round trip. Statements executed many times in
// a loop keep `sql.prepare`, and hot read queries that many requests run
// use Prepared (store/prepared.h), which keeps them per pooled session.
#pragma once

#include <soci/soci.h>

#include <string>
#include <utility>

namespace smmhub::store {

// Returns a statement of QUERY on SQL with ELEMENTS (soci::into and
// soci::use) bound, ready to execute() and fetch(). It parses QUERY on each
// execution, so it suits a statement executed once or a few times.
template <typename... Elements>
soci::statement runOnce(soci::session& sql, const std::string& query, Elements&&... elements) {
  soci::statement statement(sql);
  (statement.exchange(std::forward<Elements>(elements)), ...);
  statement.alloc();
  statement.prepare(query, soci::details::st_one_time_query);
  statement.define_and_bind();
  return statement;
}

}  // namespace smmhub::store
