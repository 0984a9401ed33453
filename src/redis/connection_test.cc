#include "redis/connection.h"

#include <array>
#include <string>

#include <gtest/gtest.h>

#include "testing/redis_server.h"

namespace smmhub::redis {
namespace {

using smmhub::testing::RedisServer;
using std::chrono::milliseconds;

Endpoint mustParse(const std::string& url) {
  Result<Endpoint> endpoint = parseUrl(url, "--redis");
  EXPECT_TRUE(endpoint.ok()) << endpoint.status().toString();
  return endpoint.ok() ? *endpoint : Endpoint{};
}

TEST(RedisUrlTest, ParsesHostPortDatabaseAndSocket) {
  Endpoint plain = mustParse("redis://127.0.0.1:6380/2");
  EXPECT_EQ(plain.host, "127.0.0.1");
  EXPECT_EQ(plain.port, 6380);
  EXPECT_EQ(plain.db, 2);

  Endpoint default_port = mustParse("redis://cache.internal");
  EXPECT_EQ(default_port.host, "cache.internal");
  EXPECT_EQ(default_port.port, 6379);

  Endpoint v6 = mustParse("redis://[::1]:7000");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 7000);
  EXPECT_EQ(mustParse("redis://[::1]").port, 6379);

  Endpoint trailing_slash = mustParse("redis://127.0.0.1:6380/");
  EXPECT_EQ(trailing_slash.port, 6380);
  EXPECT_EQ(trailing_slash.db, 0);

  Endpoint socket = mustParse("unix:///run/redis/redis.sock");
  EXPECT_EQ(socket.socket, "/run/redis/redis.sock");
  EXPECT_TRUE(socket.host.empty());
}

TEST(RedisUrlTest, NamesWhatIsWrong) {
  auto message = [](const std::string& url) {
    return parseUrl(url, "--redis").status().message();
  };
  EXPECT_EQ(message("http://x"),
            "--redis 'http://x': expected redis://HOST:PORT[/DB] or unix:///PATH");
  EXPECT_EQ(message("redis://h:0"),
            "--redis 'redis://h:0': port '0' is not a number from 1 to 65535");
  EXPECT_EQ(message("redis://h:6379x"),
            "--redis 'redis://h:6379x': port '6379x' is not a number from 1 to 65535");
  EXPECT_EQ(message("redis://h/x"), "--redis 'redis://h/x': database 'x' is not a number");
  EXPECT_EQ(message("redis://:1"), "--redis 'redis://:1': no host");
  EXPECT_EQ(message("unix://relative.sock"),
            "--redis 'unix://relative.sock': expected unix:///absolute/path/to/redis.sock");
  EXPECT_NE(message("redis://u:p@h").find("passwords are not supported"), std::string::npos);
}

TEST(RedisReplyTest, ElementAtRejectsWhatIsNotAnElement) {
  redisReply text{};
  text.type = REDIS_REPLY_STRING;
  redisReply* elements[] = {&text, nullptr};
  redisReply array{};
  array.type = REDIS_REPLY_ARRAY;
  array.elements = 2;
  array.element = elements;

  EXPECT_EQ(elementAt(&array, 0), &text);
  EXPECT_EQ(elementAt(&array, 1), nullptr);
  EXPECT_EQ(elementAt(&array, 2), nullptr);
  EXPECT_EQ(elementAt(&text, 0), nullptr);
  EXPECT_EQ(elementAt(nullptr, 0), nullptr);
  EXPECT_EQ(replyText(elementAt(&array, 1)), "");
}

TEST(RedisConnectionTest, RunsCommandsAndPipelines) {
  RedisServer server;
  Connection connection(mustParse(server.url()), milliseconds(500));

  Result<ReplyPtr> set = connection.command({"SET", "k", std::string_view("a\0b", 3)});
  ASSERT_TRUE(set.ok()) << set.status().toString();
  Result<ReplyPtr> get = connection.command({"GET", "k"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(replyText(get->get()), std::string_view("a\0b", 3));

  std::array<std::string_view, 2> incr = {"INCR", "n"};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(connection.append(incr).ok());
  }
  for (long long expected = 1; expected <= 3; ++expected) {
    Result<ReplyPtr> reply = connection.readReply();
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ((*reply)->integer, expected);
  }

  Result<ReplyPtr> wrong = connection.command({"INCR", "k"});
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ((*wrong)->type, REDIS_REPLY_ERROR);
  EXPECT_TRUE(connection.isOpen());
}

TEST(RedisConnectionTest, SelectsTheDatabaseOfTheUrl) {
  RedisServer server;
  Connection db3(mustParse(server.url() + "/3"), milliseconds(500));
  Connection db0(mustParse(server.url()), milliseconds(500));
  ASSERT_TRUE(db3.command({"SET", "k", "three"}).ok());

  Result<ReplyPtr> in_db0 = db0.command({"EXISTS", "k"});
  ASSERT_TRUE(in_db0.ok());
  EXPECT_EQ((*in_db0)->integer, 0);
  ASSERT_TRUE(db0.command({"SELECT", "3"}).ok());
  Result<ReplyPtr> after_select = db0.command({"GET", "k"});
  ASSERT_TRUE(after_select.ok());
  EXPECT_EQ(replyText(after_select->get()), "three");
}

TEST(RedisConnectionTest, ServerGoneIsUnavailableAndReconnects) {
  RedisServer server;
  Connection connection(mustParse(server.url()), milliseconds(300));
  ASSERT_TRUE(connection.command({"PING"}).ok());

  server.kill();
  Result<ReplyPtr> down = connection.command({"PING"});
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(down.status().message().starts_with("redis " + server.url() + ": "))
      << down.status().message();
  EXPECT_FALSE(connection.isOpen());

  server.restart();
  Result<ReplyPtr> again = connection.command({"PING"});
  ASSERT_TRUE(again.ok()) << again.status().toString();
  EXPECT_EQ(replyText(again->get()), "PONG");
}

TEST(RedisScriptTest, LoadsAgainAfterTheServerForgetsScripts) {
  RedisServer server;
  Connection connection(mustParse(server.url()), milliseconds(500));
  Script script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  std::array<std::string, 1> keys = {"counter"};
  std::array<std::string, 1> args = {"5"};

  Result<ReplyPtr> first = script.run(connection, keys, args);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_EQ((*first)->integer, 5);

  ASSERT_TRUE(connection.command({"SCRIPT", "FLUSH"}).ok());
  Result<ReplyPtr> second = script.run(connection, keys, args);
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_EQ((*second)->integer, 10);
}

}  // namespace
}  // namespace smmhub::redis
