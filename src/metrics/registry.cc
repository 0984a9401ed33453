#include "metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

#include "common/log.h"

namespace smmhub::metrics {
namespace {

bool isLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// Metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, per the Prometheus data model.
void checkMetricName(const std::string& name) {
  bool valid = !name.empty() && (isLetter(name[0]) || name[0] == ':') &&
               std::all_of(name.begin(), name.end(),
                           [](char c) { return isLetter(c) || isDigit(c) || c == ':'; });
  if (!valid) {
    throw std::invalid_argument("invalid metric name '" + name +
                                "': expected [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
}

// Label names match [a-zA-Z_][a-zA-Z0-9_]*, and names that start with "__"
// are reserved for Prometheus itself.
void checkLabelName(const std::string& metric, const std::string& label) {
  bool valid =
      !label.empty() && isLetter(label[0]) &&
      std::all_of(label.begin(), label.end(), [](char c) { return isLetter(c) || isDigit(c); });
  if (!valid) {
    throw std::invalid_argument("metric '" + metric + "': invalid label name '" + label +
                                "': expected [a-zA-Z_][a-zA-Z0-9_]*");
  }
  if (label.starts_with("__")) {
    throw std::invalid_argument("metric '" + metric + "': label name '" + label +
                                "' starts with \"__\", which Prometheus reserves");
  }
}

// Escapes a label value: backslash, double quote and newline.
std::string escapeLabelValue(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// Escapes help text: backslash and newline. Double quotes stay as they are.
std::string escapeHelp(std::string_view help) {
  std::string escaped;
  escaped.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// Returns the label text of a series, such as {a="1",b="x"}, with the labels
// sorted by name; empty without labels.
std::string labelText(const std::string& metric, Labels labels) {
  std::sort(labels.begin(), labels.end());
  for (size_t i = 0; i < labels.size(); ++i) {
    checkLabelName(metric, labels[i].first);
    if (i > 0 && labels[i].first == labels[i - 1].first) {
      throw std::invalid_argument("metric '" + metric + "': label '" + labels[i].first +
                                  "' appears twice");
    }
  }
  if (labels.empty()) {
    return "";
  }
  std::string text = "{";
  for (const auto& [label, value] : labels) {
    if (text.size() > 1) {
      text += ',';
    }
    text += label + "=\"" + escapeLabelValue(value) + "\"";
  }
  return text + "}";
}

}  // namespace

void Counter::inc(double delta) {
  if (!(delta >= 0)) {
    logger("metrics")->debug("negative counter increment ignored metric={} delta={}", series_,
                             delta);
    return;
  }
  value_.fetch_add(delta, std::memory_order_relaxed);
}

std::string formatValue(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }

  // Below 2^53 every integer is exact in a double, so it prints as one.
  constexpr double kMaxExactInteger = 9007199254740992.0;
  if (value == std::trunc(value) && std::abs(value) < kMaxExactInteger) {
    return fmt::format("{}", static_cast<std::int64_t>(value));
  }
  return fmt::format("{}", value);
}

Registry::Series& Registry::findOrAddSeries(const std::string& name, const std::string& help,
                                            Type type, const Labels& labels) {
  checkMetricName(name);
  std::string labels_text = labelText(name, labels);

  auto found = by_name_.find(name);
  Family* family = found == by_name_.end() ? nullptr : found->second;
  if (family == nullptr) {
    families_.push_back(std::make_unique<Family>(Family{name, help, type, {}}));
    family = families_.back().get();
    by_name_.emplace(name, family);
  } else if (family->type != type) {
    throw std::invalid_argument("metric '" + name + "' is already registered as a " +
                                (family->type == Type::kCounter ? "counter" : "gauge"));
  } else if (family->help != help) {
    throw std::invalid_argument("metric '" + name + "' is already registered with help '" +
                                family->help + "'");
  }
  return family->series[labels_text];
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  Series& series = findOrAddSeries(name, help, Type::kCounter, labels);
  if (series.counter == nullptr) {
    series.counter = std::make_unique<Counter>(name + labelText(name, labels));
  }
  return *series.counter;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  Series& series = findOrAddSeries(name, help, Type::kGauge, labels);
  if (series.read) {
    throw std::invalid_argument("gauge '" + name + labelText(name, labels) +
                                "' is already registered as a callback");
  }
  if (series.gauge == nullptr) {
    series.gauge = std::make_unique<Gauge>();
  }
  return *series.gauge;
}

void Registry::gaugeCallback(const std::string& name, const std::string& help,
                             std::function<double()> read, const Labels& labels) {
  if (!read) {
    throw std::invalid_argument("gauge '" + name + "': callback is empty");
  }
  std::lock_guard lock(mutex_);
  Series& series = findOrAddSeries(name, help, Type::kGauge, labels);
  if (series.read || series.gauge != nullptr) {
    throw std::invalid_argument("gauge '" + name + labelText(name, labels) +
                                "' is already registered");
  }
  series.read = std::move(read);
}

namespace {

// Returns the value of a callback gauge, or nothing when the callback throws.
// METRIC is "name{labels}", for log lines.
std::optional<double> readCallback(const std::function<double()>& read, std::atomic<bool>& failing,
                                   const std::string& metric) {
  std::string error;
  try {
    double value = read();
    if (failing.exchange(false)) {
      logger("metrics")->info("gauge callback recovered metric={}", metric);
    }
    return value;
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }

  // One warning when a callback starts failing; repeats go to debug.
  if (!failing.exchange(true)) {
    logger("metrics")->warn("gauge callback failed, series left out metric={} error={}", metric,
                            error);
  } else {
    logger("metrics")->debug("gauge callback failed again metric={} error={}", metric, error);
  }
  return std::nullopt;
}

}  // namespace

std::string Registry::render() const {
  // Take pointers under the lock and read values without it, so that a slow
  // callback does not block threads that register or update metrics.
  using SeriesRef = std::pair<const std::string*, const Series*>;
  std::vector<std::pair<const Family*, std::vector<SeriesRef>>> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot.reserve(families_.size());
    for (const auto& family : families_) {
      std::vector<SeriesRef> series;
      series.reserve(family->series.size());
      for (const auto& [labels_text, one] : family->series) {
        series.emplace_back(&labels_text, &one);
      }
      snapshot.emplace_back(family.get(), std::move(series));
    }
  }

  std::string text;
  for (const auto& [family, series] : snapshot) {
    text += "# HELP " + family->name;
    if (!family->help.empty()) {
      text += " " + escapeHelp(family->help);
    }
    text += "\n# TYPE " + family->name;
    text += family->type == Type::kCounter ? " counter\n" : " gauge\n";
    for (const auto& [labels_text, one] : series) {
      std::optional<double> value;
      if (one->counter != nullptr) {
        value = one->counter->value();
      } else if (one->gauge != nullptr) {
        value = one->gauge->value();
      } else if (one->read) {
        value = readCallback(one->read, one->failing, family->name + *labels_text);
      }
      if (value.has_value()) {
        text += family->name + *labels_text + " " + formatValue(*value) + "\n";
      }
    }
  }
  return text;
}

}  // namespace smmhub::metrics
