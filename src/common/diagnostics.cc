#include "common/diagnostics.h"

#include <algorithm>

namespace smmhub {

std::string Diagnostic::toString() const {
  std::string label = severity == Severity::kError     ? "error"
                      : severity == Severity::kWarning ? "warning"
                                                       : "info";
  if (place.empty()) {
    return label + ": " + message;
  }
  return label + ": " + place + ": " + message;
}

void Diagnostics::add(Severity severity, std::string place, std::string message) {
  std::lock_guard lock(mutex_);
  items_.push_back({severity, std::move(place), std::move(message)});
}

std::vector<Diagnostic> Diagnostics::items() const {
  std::lock_guard lock(mutex_);
  return items_;
}

bool Diagnostics::hasErrors() const {
  return count(Severity::kError) > 0;
}

size_t Diagnostics::count(Severity severity) const {
  std::lock_guard lock(mutex_);
  return static_cast<size_t>(std::count_if(
      items_.begin(), items_.end(), [&](const Diagnostic& d) { return d.severity == severity; }));
}

}  // namespace smmhub
