#include "common/ids.h"

#include <random>

#include <fmt/format.h>

namespace smmhub {

std::string randomId(std::string_view prefix) {
  thread_local std::mt19937_64 random = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return fmt::format("{}{:016x}", prefix, random());
}

}  // namespace smmhub
