#include "common/hash.h"

#include <gtest/gtest.h>

namespace smmhub {
namespace {

TEST(HasherTest, FieldBoundariesChangeDigest) {
  Hasher split_late;
  split_late.add(std::string_view("ab")).add(std::string_view("c"));
  Hasher split_early;
  split_early.add(std::string_view("a")).add(std::string_view("bc"));

  EXPECT_NE(split_late.hexDigest(), split_early.hexDigest());
}

TEST(HasherTest, SameInputSameDigest) {
  EXPECT_EQ(hashBytes("match day"), hashBytes("match day"));
  EXPECT_NE(hashBytes("match day"), hashBytes("match dax"));
  EXPECT_EQ(hashBytes("").size(), 32u);
}

}  // namespace
}  // namespace smmhub
