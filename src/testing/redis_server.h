// A real redis-server for one test: started on a free loopback port with its
// files in a temporary folder, and stopped when the object goes.
#pragma once

#include <signal.h>

#include <string>

#include <gtest/gtest.h>

#include "testing/local_redis.h"

namespace smmhub::testing {

class RedisServer {
 public:
  RedisServer() { EXPECT_EQ(redis_.start(), ""); }

  int port() const { return redis_.port(); }
  std::string url() const { return redis_.url(); }

  // Kills the server at once, as a crash would.
  void kill() { redis_.stop(SIGKILL); }

  // Starts the server again on the same port.
  void restart() {
    redis_.stop(SIGKILL);
    EXPECT_EQ(redis_.start(), "");
  }

 private:
  LocalRedis redis_;
};

}  // namespace smmhub::testing
