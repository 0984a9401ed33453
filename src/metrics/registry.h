// Counters and gauges rendered in the Prometheus text exposition format 0.0.4.
//
//   metrics::Registry registry;
//   metrics::Counter& renders =
//       registry.counter("smmhub_renders_total", "Videos rendered.", {{"outcome", "ok"}});
//   renders.inc();
//   registry.gaugeCallback("smmhub_queue_depth", "Jobs waiting in the queue.",
//                          [&] { return static_cast<double>(readQueueDepth()); });
//   std::string text = registry.render();
//
// A family is one metric name with its help text and type; its series are the
// label sets registered under that name. render() writes the families in
// registration order and the series of a family sorted by their label text,
// so that two scrapes list the same series in the same order. Counters and
// gauges live as long as the registry, so the references returned stay
// valid. Invalid names and conflicting registrations are programming errors
// and throw std::invalid_argument. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace smmhub::metrics {

// Label names and values of one series, such as {{"outcome", "ok"}}. The
// order does not matter because the registry sorts the labels by name.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A value that only goes up, such as a count of finished jobs.
class Counter {
 public:
  explicit Counter(std::string series) : series_(std::move(series)) {}
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;
  Counter(Counter&&) = delete;
  Counter& operator=(Counter&&) = delete;
  ~Counter() = default;

  // Adds DELTA. A negative or NaN delta is ignored and logged at debug level,
  // because a counter that goes down reads as a restart to Prometheus.
  void inc(double delta = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::string series_;  // "name{labels}", for log lines
  std::atomic<double> value_{0};
};

// A value that goes up and down, such as the number of jobs in progress.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;
  Gauge(Gauge&&) = delete;
  Gauge& operator=(Gauge&&) = delete;
  ~Gauge() = default;

  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void inc(double delta = 1) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void dec(double delta = 1) { value_.fetch_sub(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  Registry(Registry&&) = delete;
  Registry& operator=(Registry&&) = delete;
  ~Registry() = default;

  // Returns the counter NAME{LABELS}, creating it at 0 on first use. Throws
  // std::invalid_argument when NAME or a label name breaks Prometheus's name
  // rules, a label name repeats, or NAME is already registered as a gauge or
  // with another help text.
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});

  // Returns the gauge NAME{LABELS}, creating it at 0 on first use. Throws
  // std::invalid_argument as counter() does, and also when the series is a
  // callback gauge.
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});

  // Registers the gauge NAME{LABELS} whose value READ returns at each
  // render(). READ runs on the rendering thread without the registry's lock
  // held, so it may be slow (such as a Redis round trip), but it delays the
  // scrape. READ must be thread-safe when several threads call render().
  // When READ throws, render() leaves out that series, logs a warning the
  // first time it fails in a row, and renders the rest. Throws
  // std::invalid_argument as gauge() does, and also when the series exists.
  void gaugeCallback(const std::string& name, const std::string& help, std::function<double()> read,
                     const Labels& labels = {});

  // Renders every family in the text exposition format 0.0.4: "# HELP" and
  // "# TYPE" lines once per family, then one "name{labels} value" line per
  // series.
  std::string render() const;

 private:
  enum class Type {
    kCounter,
    kGauge,
  };

  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::function<double()> read;
    // Whether the last call of `read` threw, so that a failing callback logs
    // one warning and not one per scrape.
    mutable std::atomic<bool> failing{false};
  };

  struct Family {
    std::string name;
    std::string help;
    Type type;
    // By label text, such as {a="1"}. Nodes are never moved or erased, so render()
    // reads them through pointers after releasing the lock.
    std::map<std::string, Series> series;
  };

  // Returns the series NAME{LABELS} under the lock, creating the family and
  // an empty series when missing. REQUIRES: mutex_ held.
  Series& findOrAddSeries(const std::string& name, const std::string& help, Type type,
                          const Labels& labels);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;  // in registration order
  std::unordered_map<std::string, Family*> by_name_;
};

// Formats VALUE for the exposition text. Integers print without a decimal
// point, other finite values in the shortest form that parses back to the
// same double, and the special values as "NaN", "+Inf" or "-Inf".
std::string formatValue(double value);

}  // namespace smmhub::metrics
