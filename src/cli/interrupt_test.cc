#include "cli/interrupt.h"

#include <signal.h>

#include <csignal>
#include <string>

#include <gtest/gtest.h>

namespace smmhub::cli {
namespace {

void (*currentHandler(int signal_number))(int) {
  struct sigaction current {};
  sigaction(signal_number, nullptr, &current);
  return current.sa_handler;
}

TEST(InterruptScopeTest, FirstSigintRequestsStop) {
  InterruptScope scope;
  ASSERT_FALSE(scope.requested().load());

  ::testing::internal::CaptureStderr();
  ASSERT_EQ(std::raise(SIGINT), 0);
  std::string message = ::testing::internal::GetCapturedStderr();

  EXPECT_TRUE(scope.requested().load());
  EXPECT_EQ(scope.signalNumber(), SIGINT);
  EXPECT_NE(message.find("smmhub: stopping; the videos in progress finish first"),
            std::string::npos)
      << message;
}

TEST(InterruptScopeTest, SecondSignalGetsDefaultAction) {
  InterruptScope scope;
  ASSERT_NE(currentHandler(SIGINT), SIG_DFL);
  ASSERT_NE(currentHandler(SIGTERM), SIG_DFL);

  ::testing::internal::CaptureStderr();
  ASSERT_EQ(std::raise(SIGTERM), 0);
  ::testing::internal::GetCapturedStderr();

  EXPECT_EQ(scope.signalNumber(), SIGTERM);
  EXPECT_EQ(currentHandler(SIGINT), SIG_DFL);
  EXPECT_EQ(currentHandler(SIGTERM), SIG_DFL);
}

TEST(InterruptScopeTest, RestoresPreviousHandlers) {
  std::signal(SIGTERM, SIG_IGN);

  {
    InterruptScope scope;
    EXPECT_NE(currentHandler(SIGTERM), SIG_IGN);
  }

  EXPECT_EQ(currentHandler(SIGTERM), SIG_IGN);
  EXPECT_EQ(currentHandler(SIGINT), SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

TEST(InterruptScopeTest, NewScopeStartsClear) {
  {
    InterruptScope first;
    ::testing::internal::CaptureStderr();
    ASSERT_EQ(std::raise(SIGINT), 0);
    ::testing::internal::GetCapturedStderr();
  }

  InterruptScope second;

  EXPECT_FALSE(second.requested().load());
  EXPECT_EQ(second.signalNumber(), 0);
}

}  // namespace
}  // namespace smmhub::cli
