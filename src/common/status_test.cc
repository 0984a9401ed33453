#include "common/status.h"

#include <gtest/gtest.h>

namespace smmhub {
namespace {

Result<int> parsePositive(int value) {
  if (value <= 0) {
    return Status::invalidArgument("value " + std::to_string(value) + " is not positive");
  }
  return value;
}

Result<int> doublePositive(int value) {
  SMMHUB_ASSIGN_OR_RETURN(int parsed, parsePositive(value));
  return parsed * 2;
}

TEST(StatusTest, OkByDefault) {
  Status status;

  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.toString(), "ok");
}

TEST(StatusTest, ContextPrefixesMessage) {
  Status status = Status::notFound("file missing").withContext("brand/logo.svg");

  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "brand/logo.svg: file missing");
  EXPECT_EQ(status.toString(), "not found: brand/logo.svg: file missing");
}

TEST(StatusTest, AssignOrReturnPassesValue) {
  Result<int> result = doublePositive(21);

  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 42);
}

TEST(StatusTest, AssignOrReturnPropagatesError) {
  Result<int> result = doublePositive(-1);

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(), "value -1 is not positive");
}

}  // namespace
}  // namespace smmhub
