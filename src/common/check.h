// Invariant checks. Never use them on user input or on data from the network,
// a database or a file: those failures are Status values.
//
//   SMMHUB_CHECK(cond)   always on; logs and aborts.
//   SMMHUB_DCHECK(cond)  debug builds only; aborts.
//   SMMHUB_BUG(cond)     always on; in release logs an error and counts it, in
//                        debug builds aborts. Use where the program can go on.
#pragma once

#include <cstdint>

namespace smmhub::internal {

[[noreturn]] void checkFailed(const char* file, int line, const char* condition);
void bugFound(const char* file, int line, const char* condition);

}  // namespace smmhub::internal

namespace smmhub {
// Number of SMMHUB_BUG checks that failed in this process.
std::uint64_t bugCount();
}  // namespace smmhub

#define SMMHUB_CHECK(cond)                                        \
  do {                                                            \
    if (!(cond)) {                                                \
      ::smmhub::internal::checkFailed(__FILE__, __LINE__, #cond); \
    }                                                             \
  } while (false)

#ifdef NDEBUG
#define SMMHUB_DCHECK(cond) \
  do {                      \
  } while (false)
#else
#define SMMHUB_DCHECK(cond) SMMHUB_CHECK(cond)
#endif

#define SMMHUB_BUG(cond)                                       \
  do {                                                         \
    if (!(cond)) {                                             \
      ::smmhub::internal::bugFound(__FILE__, __LINE__, #cond); \
    }                                                          \
  } while (false)
