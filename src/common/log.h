// Per-component loggers on spdlog.
//
// Each component logs through its own named logger ("render", "cli", ...) so
// that lines read "[render] encode done frames=240". Messages are lowercase
// with facts as key=value.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace smmhub {

// Returns the logger named COMPONENT, creating it on first use. Loggers write
// to standard error, so that standard output stays free for reports.
std::shared_ptr<spdlog::logger> logger(const std::string& component);

// Sets the level of every existing and future logger ("trace" to "off").
void setLogLevel(spdlog::level::level_enum level);

}  // namespace smmhub
