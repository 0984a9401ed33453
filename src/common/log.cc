#include "common/log.h"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace smmhub {
namespace {

std::mutex& registryMutex() {
  static std::mutex mutex;
  return mutex;
}

spdlog::level::level_enum& defaultLevel() {
  static spdlog::level::level_enum level = spdlog::level::info;
  return level;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger(const std::string& component) {
  std::lock_guard lock(registryMutex());
  if (auto existing = spdlog::get(component)) {
    return existing;
  }
  auto created = spdlog::stderr_color_mt(component);
  created->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  created->set_level(defaultLevel());
  return created;
}

void setLogLevel(spdlog::level::level_enum level) {
  std::lock_guard lock(registryMutex());
  defaultLevel() = level;
  spdlog::set_level(level);
}

}  // namespace smmhub
