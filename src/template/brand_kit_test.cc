#include "template/brand_kit.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace smmhub::templates {
namespace {

namespace fs = std::filesystem;

TEST(BrandKitTest, LoadsKitAndLibrary) {
  Diagnostics problems;

  Result<BrandKit> kit = loadBrandKit("tests/testdata/brand", &problems);

  ASSERT_TRUE(kit.ok()) << kit.status().toString();
  EXPECT_EQ(kit->name, "Demo Sports");
  EXPECT_EQ(kit->handle, "@demosports");
  EXPECT_EQ(kit->logo, fs::absolute("tests/testdata/brand/logo.svg"));
  EXPECT_EQ(kit->colors.at("primary"), "#0B1D51FF");
  EXPECT_EQ(kit->fonts.at("display").family, "Bebas Neue");
  EXPECT_EQ(kit->assets.at("music"), fs::absolute("tests/testdata/brand/music.wav"));
  const AssetLibrary& crests = kit->libraries.at("crests");
  EXPECT_EQ(crests.find("Arsenal FC"), fs::absolute("tests/testdata/brand/crests/arsenal-fc.svg"));
  EXPECT_EQ(crests.find("arsenal  fc"), crests.find("Arsenal FC"));
  EXPECT_EQ(crests.find("Chelsea FC"), std::nullopt);
  EXPECT_EQ(crests.closestName("Arsenall FC"), "Arsenal FC");
}

TEST(BrandKitTest, MissingFileNamed) {
  testing::TempDir temp;
  fs::path dir = temp.path();
  temp.write("brand.json", R"({"name": "X", "logo": "missing.svg",
                             "colors": {"primary": "bluish"}})");
  Diagnostics problems;

  Result<BrandKit> kit = loadBrandKit(dir, &problems);

  ASSERT_FALSE(kit.ok());
  std::vector<Diagnostic> items = problems.items();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].place, (dir / "brand.json").string() + "#/logo");
  EXPECT_EQ(items[0].message, "file not found: " + (dir / "missing.svg").string());
  EXPECT_EQ(items[1].place, (dir / "brand.json").string() + "#/colors/primary");
}

TEST(BrandKitTest, UnknownMemberWarnedWithClosest) {
  testing::TempDir temp;
  temp.write("brand.json", R"({"name": "X", "colours": {"primary": "#0B1D51"}})");
  Diagnostics problems;

  Result<BrandKit> kit = loadBrandKit(temp.path(), &problems);

  ASSERT_TRUE(kit.ok()) << kit.status().toString();
  ASSERT_EQ(problems.items().size(), 1u);
  EXPECT_EQ(problems.items()[0].severity, Severity::kWarning);
  EXPECT_EQ(problems.items()[0].place, (temp.path() / "brand.json").string() + "#/colours");
  EXPECT_EQ(problems.items()[0].message,
            "unknown member, ignored; the closest known one is 'colors'");
}

// Found by fuzz/brand_kit.cc: a brand.json that is not an object failed
// without a diagnostic, so `smmhub validate` listed no problem.
TEST(BrandKitTest, NonObjectIsReportedAsProblem) {
  testing::TempDir temp;
  temp.write("brand.json", "[1, 2]");
  std::string file = (temp.path() / "brand.json").string();
  Diagnostics problems;

  Result<BrandKit> kit = loadBrandKit(temp.path(), &problems);

  ASSERT_FALSE(kit.ok());
  EXPECT_EQ(kit.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(kit.status().message(), file + ": expected a JSON object");
  ASSERT_EQ(problems.items().size(), 1u);
  EXPECT_EQ(problems.items()[0].severity, Severity::kError);
  EXPECT_EQ(problems.items()[0].place, file + "#");
  EXPECT_EQ(problems.items()[0].message, "expected a JSON object");
}

}  // namespace
}  // namespace smmhub::templates
