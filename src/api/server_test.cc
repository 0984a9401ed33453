// The server's threads for slow handlers, through a server on loopback.
#include "api/server.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "api/router.h"
#include "metrics/registry.h"
#include "testing/http_client.h"

namespace smmhub::api {
namespace {

using namespace std::chrono_literals;
using testing::HttpClient;
using testing::HttpReply;

// A route that waits until the test lets it go, beside a quick one.
class SlowRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add("POST", "/slow",
                [this](const Request&) {
                  entered_.set_value();
                  bool released = release_.wait_for(10s) == std::future_status::ready;
                  finished_ = true;
                  return Response{.body = released ? "released" : "timed out"};
                },
                {.slow = true});
    router_.add("GET", "/quick", [this](const Request&) {
      return Response{.body = finished_ ? "after the slow one" : "while the slow one waits"};
    });
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
    }
    if (slow_.joinable()) {
      slow_.join();
    }
  }

  void start(int threads, int slow_threads) {
    Result<std::unique_ptr<Server>> server = Server::start({.listen = "127.0.0.1:0",
                                                            .router = &router_,
                                                            .registry = &registry_,
                                                            .threads = threads,
                                                            .slow_threads = slow_threads});
    ASSERT_TRUE(server.ok()) << server.status().toString();
    server_ = std::move(*server);
  }

  // Sends the slow request from a thread of its own and waits until its
  // handler runs.
  void sendSlow() {
    slow_ = std::thread([this] {
      HttpClient client("127.0.0.1", server_->port());
      slow_reply_ = client.post("/slow", "");
    });
    ASSERT_EQ(entered_.get_future().wait_for(10s), std::future_status::ready);
  }

  Router router_;
  metrics::Registry registry_;
  std::unique_ptr<Server> server_;
  std::promise<void> entered_;
  std::promise<void> released_;
  std::shared_future<void> release_ = released_.get_future().share();
  std::atomic<bool> finished_{false};
  std::thread slow_;
  HttpReply slow_reply_;
};

TEST_F(SlowRouteTest, QuickRouteIsAnsweredWhileSlowHandlerWaits) {
  start(1, 1);
  sendSlow();

  HttpReply quick = HttpClient("127.0.0.1", server_->port()).get("/quick");
  released_.set_value();
  slow_.join();

  EXPECT_EQ(quick.status, 200);
  EXPECT_EQ(quick.body, "while the slow one waits");
  EXPECT_EQ(slow_reply_.status, 200);
  EXPECT_EQ(slow_reply_.body, "released");
}

TEST_F(SlowRouteTest, ZeroSlowThreadsShareServingThreads) {
  start(2, 0);
  sendSlow();

  released_.set_value();
  slow_.join();
  HttpReply quick = HttpClient("127.0.0.1", server_->port()).get("/quick");

  EXPECT_EQ(slow_reply_.status, 200);
  EXPECT_EQ(slow_reply_.body, "released");
  EXPECT_EQ(quick.body, "after the slow one");
}

TEST_F(SlowRouteTest, StopLetsSlowHandlerFinishAndAnswer) {
  start(1, 1);
  sendSlow();

  std::thread stopper([this] { server_->stop(); });
  std::this_thread::sleep_for(100ms);
  released_.set_value();
  stopper.join();
  slow_.join();

  EXPECT_EQ(slow_reply_.status, 200);
  EXPECT_EQ(slow_reply_.body, "released");
}

TEST(ServerTest, NegativeSlowThreadCountIsRejected) {
  Router router;
  metrics::Registry registry;
  Result<std::unique_ptr<Server>> server = Server::start(
      {.listen = "127.0.0.1:0", .router = &router, .registry = &registry, .slow_threads = -1});

  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server.status().message(), "slow thread count -1 is invalid: it must be 0 or more");
}

}  // namespace
}  // namespace smmhub::api
