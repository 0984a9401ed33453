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

// Found while writing fuzz/field_text.cc, whose invariant catches it: rgb()
// took "nan" as a channel and made it 0.
TEST(ColorTest, NotANumberChannelIsRejected) {
  Result<std::string> color = normalizeColor("rgb(nan, 0, 0)");

  ASSERT_FALSE(color.ok());
  EXPECT_EQ(color.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(color.status().message(),
            "invalid colour 'rgb(nan, 0, 0)'; use #RRGGBB, #RRGGBBAA, #RGB, rgb(r, g, b), "
            "rgba(r, g, b, a) or a colour name such as 'white'");
  EXPECT_FALSE(normalizeColor("rgba(0, 0, 0, nan)").ok());
}

}  // namespace
}  // namespace smmhub::templates
