#include "common/json_depth.h"

#include <string>

#include <gtest/gtest.h>

namespace smmhub {
namespace {

TEST(JsonDepthTest, CountsArraysAndObjects) {
  EXPECT_EQ(jsonNestingDepth(""), 0);
  EXPECT_EQ(jsonNestingDepth("7"), 0);
  EXPECT_EQ(jsonNestingDepth("[]"), 1);
  EXPECT_EQ(jsonNestingDepth(R"({"scenes": [{"layers": [{}]}], "fields": {}})"), 5);
  EXPECT_EQ(jsonNestingDepth(std::string(100'000, '[')), 100'000);
}

TEST(JsonDepthTest, BracketsInStringsDoNotCount) {
  EXPECT_EQ(jsonNestingDepth(R"({"a": "[[[{{{"})"), 1);
  EXPECT_EQ(jsonNestingDepth(R"(["\"[[", "\\", []])"), 2);
}

TEST(JsonDepthTest, UnbalancedClosersAreIgnored) {
  EXPECT_EQ(jsonNestingDepth("]]]]["), 1);
  EXPECT_EQ(jsonNestingDepth("[}]]{{"), 2);
}

}  // namespace
}  // namespace smmhub
