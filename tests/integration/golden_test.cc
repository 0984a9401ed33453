// Golden frames: frames of the Match Day template rendered for hard rows and
// compared with reference PNGs in tests/testdata/golden by PSNR, plus pixel
// checks that hold whatever the reference.
//
// To write new references after a deliberate change in the output, run the
// test with SMMHUB_UPDATE_GOLDEN=1 and look at every changed PNG.
#include <cstdlib>

#include <gtest/gtest.h>

#include "render/batch.h"
#include "render/engine.h"
#include "render/image/image_loader.h"
#include "render/image/psnr.h"
#include "template/binding.h"
#include "template/data_table.h"
#include "template/parser.h"
#include "test_support.h"

namespace smmhub::render {
namespace {

using smmhub::testing::kMatchDay;
using smmhub::testing::kTestData;

// Frames of the same engine and fonts match to well above this; a changed
// layout or colour falls far below it.
constexpr double kMinPsnrDb = 40;

struct GoldenCase {
  std::string name;
  int row;
  double time_s;
};

// The rows of tests/testdata/golden/fixtures.csv: 1 long names, 2 accented
// names, 3 Arabic, 4 emoji, 5 a CMYK JPEG crest. The brand kit's logo is a
// PNG stored sideways with an EXIF orientation.
const GoldenCase kCases[] = {
    {"long-names-shrunk", 1, 3.5},      {"accented-names", 2, 3.5},
    {"arabic-right-to-left", 3, 3.5},   {"emoji", 4, 3.5},
    {"cmyk-jpeg-crest", 5, 3.5},        {"exif-rotated-logo", 2, 1.0},
    {"slide-in-mid-animation", 2, 2.2},
};

class GoldenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Diagnostics problems;
    auto tmpl = templates::loadTemplate(kMatchDay / "template.json", &problems);
    ASSERT_TRUE(tmpl.ok()) << tmpl.status().toString();
    tmpl_ = new templates::Template(*tmpl);
    auto brand = templates::loadBrandKit(kTestData / "golden/brand", &problems);
    ASSERT_TRUE(brand.ok()) << brand.status().toString();
    brand_ = new templates::BrandKit(*brand);
    auto table = templates::readRows(kTestData / "golden/fixtures.csv");
    ASSERT_TRUE(table.ok()) << table.status().toString();
    table_ = new templates::DataTable(*table);
    auto fonts = FontLibrary::create();
    ASSERT_TRUE(fonts.ok()) << fonts.status().toString();
    fonts_ = fonts->release();
    EngineOptions options;
    auto key = registerBrandFonts(*brand_, *fonts_);
    ASSERT_TRUE(key.ok());
    options.font_set_key = *key;
    engine_ = new Engine(fonts_, nullptr, options);
  }

  static void TearDownTestSuite() {
    delete engine_;
    delete fonts_;
    delete table_;
    delete brand_;
    delete tmpl_;
  }

  static templates::Template bind(int row) {
    Diagnostics problems;
    auto bound = templates::bindTemplate(*tmpl_, *brand_, *table_,
                                         table_->rows[static_cast<size_t>(row - 1)], {}, kMatchDay,
                                         &problems);
    EXPECT_TRUE(bound.ok()) << bound.status().toString();
    return bound.ok() ? *bound : templates::Template{};
  }

  static Raster frame(int row, double time_s) {
    Diagnostics warnings;
    auto frame = engine_->renderFrame(bind(row), time_s, &warnings);
    EXPECT_TRUE(frame.ok()) << frame.status().toString();
    return frame.ok() ? *frame : Raster{};
  }

  // Returns the pixel at (x, y) as straight R, G, B.
  static Color pixel(const Raster& raster, int x, int y) {
    const std::uint8_t* p = raster.row(y) + static_cast<size_t>(x) * 4;
    return Color{p[2], p[1], p[0], p[3]};
  }

  static TextReport nameReport(int row, const std::string& layer_id) {
    templates::Template bound = bind(row);
    TextReport report;
    for (const auto& layer : bound.scenes[1].layers) {
      if (layer.id == layer_id) {
        Diagnostics warnings;
        EXPECT_TRUE(engine_->rasterizeLayer(layer, &warnings, &report).ok());
      }
    }
    return report;
  }

  static templates::Template* tmpl_;
  static templates::BrandKit* brand_;
  static templates::DataTable* table_;
  static FontLibrary* fonts_;
  static Engine* engine_;
};

templates::Template* GoldenTest::tmpl_ = nullptr;
templates::BrandKit* GoldenTest::brand_ = nullptr;
templates::DataTable* GoldenTest::table_ = nullptr;
FontLibrary* GoldenTest::fonts_ = nullptr;
Engine* GoldenTest::engine_ = nullptr;

TEST_F(GoldenTest, FramesMatchReferences) {
  bool update = std::getenv("SMMHUB_UPDATE_GOLDEN") != nullptr;
  for (const GoldenCase& golden : kCases) {
    SCOPED_TRACE(golden.name);
    std::filesystem::path reference = kTestData / "golden" / (golden.name + ".png");

    Raster actual = frame(golden.row, golden.time_s);

    if (update) {
      ASSERT_TRUE(writePng(actual, reference).ok());
      continue;
    }
    Result<Raster> expected = readPng(reference);
    ASSERT_TRUE(expected.ok()) << expected.status().toString();
    EXPECT_GE(psnr(actual, *expected), kMinPsnrDb);
  }
}

TEST_F(GoldenTest, LongNameShrinksToFitBox) {
  TextReport home = nameReport(1, "home-name");
  TextReport away = nameReport(1, "away-name");
  TextReport short_name = nameReport(2, "home-name");

  EXPECT_TRUE(home.shrunk);
  EXPECT_LT(home.size_px, 72);
  EXPECT_GE(home.size_px, 36);
  EXPECT_FALSE(home.overflows);
  EXPECT_TRUE(away.shrunk);
  EXPECT_FALSE(short_name.shrunk);
  EXPECT_EQ(short_name.size_px, 72);
}

TEST_F(GoldenTest, ArabicNameIsRightToLeft) {
  TextReport home = nameReport(3, "home-name");

  EXPECT_TRUE(home.right_to_left);
  EXPECT_EQ(home.unknown_glyphs, 0);
}

TEST_F(GoldenTest, EmojiFallsBackToColourFont) {
  TextReport home = nameReport(4, "home-name");

  ASSERT_FALSE(home.fallbacks.empty());
  EXPECT_EQ(home.fallbacks.back().font_family, "Noto Color Emoji");
  EXPECT_EQ(home.unknown_glyphs, 0);
}

TEST_F(GoldenTest, CmykCrestKeepsItsColours) {
  Raster card = frame(5, 3.5);

  // The home crest box is 360x432 at (90, 420); the 400x300 crest is fitted
  // to 360x270 and centred, so its shield centre (200, 200) lands at (270, 681)
  // and its top band (200, 130) at (270, 618).
  Color shield = pixel(card, 270, 681);
  Color band = pixel(card, 270, 618);
  EXPECT_GT(shield.r, 150);
  EXPECT_LT(shield.g, 90);
  EXPECT_LT(shield.b, 90);
  EXPECT_GT(band.b, band.r);
  EXPECT_GT(band.b, band.g);
}

TEST_F(GoldenTest, ExifRotatedLogoIsUpright) {
  Raster intro = frame(2, 1.0);

  // The 600x360 logo box at (240, 560) holds the upright 300x400 logo fitted
  // to 270x360: red band on top (first 72 rows), green band at the bottom.
  Color top = pixel(intro, 540, 580);
  Color bottom = pixel(intro, 540, 900);
  EXPECT_GT(top.r, 180);
  EXPECT_LT(top.g, 60);
  EXPECT_LT(bottom.r, 60);
  EXPECT_GT(bottom.g, 140);
}

TEST_F(GoldenTest, SlideInIsHalfwayAtMidAnimation) {
  Raster start = frame(2, 2.0);
  Raster middle = frame(2, 2.2);
  Raster end = frame(2, 2.5);

  // The home name slides in from 500 px to the left with a cubic ease-out:
  // at 0.2 s of 0.4 s it is 500 * (1 - 0.875) = 62.5 px short of x = 40, so
  // nothing of it is drawn right of x = 440 yet, while at rest it reaches
  // further.
  auto rightmost_white = [](const Raster& frame) {
    int rightmost = -1;
    for (int y = 900; y < 1000; ++y) {
      for (int x = 0; x < 540; ++x) {
        Color c = pixel(frame, x, y);
        if (c.r > 240 && c.g > 240 && c.b > 240) {
          rightmost = std::max(rightmost, x);
        }
      }
    }
    return rightmost;
  };
  int at_start = rightmost_white(start);
  int at_middle = rightmost_white(middle);
  int at_end = rightmost_white(end);
  EXPECT_LT(at_start, at_middle);
  EXPECT_LT(at_middle, at_end);
  EXPECT_NEAR(at_end - at_middle, 62, 2);
}

}  // namespace
}  // namespace smmhub::render
