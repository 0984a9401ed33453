#include "template/color.h"

#include <gtest/gtest.h>

namespace smmhub::templates {
namespace {

TEST(ColorTest, FormsNormaliseToRgba) {
  EXPECT_EQ(*normalizeColor("#0b1d51"), "#0B1D51FF");
  EXPECT_EQ(*normalizeColor("#F80"), "#FF8800FF");
  EXPECT_EQ(*normalizeColor("#11223344"), "#11223344");
  EXPECT_EQ(*normalizeColor("rgb(200, 16, 46)"), "#C8102EFF");
  EXPECT_EQ(*normalizeColor("rgba(0,0,0,0.5)"), "#00000080");
  EXPECT_EQ(*normalizeColor("White"), "#FFFFFFFF");
  EXPECT_EQ(*normalizeColor("transparent"), "#00000000");
}

TEST(ColorTest, InvalidColourNamesValue) {
  Result<std::string> color = normalizeColor("#12345");

  ASSERT_FALSE(color.ok());
  EXPECT_TRUE(color.status().message().starts_with("invalid colour '#12345'; use #RRGGBB"));
  EXPECT_FALSE(normalizeColor("rgb(300, 0, 0)").ok());
  EXPECT_FALSE(normalizeColor("blurple").ok());
}

}  // namespace
}  // namespace smmhub::templates
