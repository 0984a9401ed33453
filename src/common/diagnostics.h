// Problems found in a template, its data or its assets, each with its place.
//
// Validation collects every problem at once instead of stopping at the first,
// so that a user fixes a template in one round.
#pragma once

#include <mutex>
#include <string>
#include <vector>

namespace smmhub {

enum class Severity {
  kError,
  kWarning,
  kInfo,
};

struct Diagnostic {
  Severity severity = Severity::kError;
  // Where: a JSON pointer ("/scenes/1/layers/3/kind"), "row 7, column home",
  // or a file path.
  std::string place;
  std::string message;

  // "error: PLACE: MESSAGE".
  std::string toString() const;
};

// A thread-safe list of diagnostics.
class Diagnostics {
 public:
  void add(Severity severity, std::string place, std::string message);
  void error(std::string place, std::string message) {
    add(Severity::kError, std::move(place), std::move(message));
  }
  void warning(std::string place, std::string message) {
    add(Severity::kWarning, std::move(place), std::move(message));
  }
  void info(std::string place, std::string message) {
    add(Severity::kInfo, std::move(place), std::move(message));
  }

  std::vector<Diagnostic> items() const;
  bool hasErrors() const;
  size_t count(Severity severity) const;

 private:
  mutable std::mutex mutex_;
  std::vector<Diagnostic> items_;
};

}  // namespace smmhub
