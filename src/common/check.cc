#include "common/check.h"

#include <atomic>
#include <cstdlib>

#include "common/log.h"

namespace smmhub {
namespace {
std::atomic<std::uint64_t> bug_count{0};
}  // namespace

std::uint64_t bugCount() {
  return bug_count.load();
}

namespace internal {

void checkFailed(const char* file, int line, const char* condition) {
  logger("check")->critical("check failed at {}:{}: {}", file, line, condition);
  std::abort();
}

void bugFound(const char* file, int line, const char* condition) {
  bug_count.fetch_add(1);
  logger("check")->error("bug at {}:{}: {}", file, line, condition);
#ifndef NDEBUG
  std::abort();
#endif
}

}  // namespace internal
}  // namespace smmhub
