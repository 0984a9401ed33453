#include "common/tenant.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace smmhub {

Status checkTenantName(std::string_view name) {
  constexpr size_t kMaxTenantName = 64;
  bool valid = !name.empty() && name.size() <= kMaxTenantName &&
               std::all_of(name.begin(), name.end(), [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
               });
  if (!valid) {
    return Status::invalidArgument("tenant '" + std::string(name) +
                                   "': use 1 to 64 letters, digits, '-' or '_'");
  }
  return okStatus();
}

}  // namespace smmhub
