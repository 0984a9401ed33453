#include "render/image/image_loader.h"

#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "render/image/psnr.h"
#include "testing/temp_dir.h"

namespace smmhub::render {
namespace {

const std::filesystem::path kImages = "tests/testdata/images";

}  // namespace
}  // namespace smmhub::render

// librsvg 2.54 leaks the entity values libxml2 parses from a DOCTYPE's
// internal subset; the leak is in the library, not in the adapter.
extern "C" const char* __lsan_default_suppressions() {  // NOLINT(bugprone-reserved-identifier)
  return "leak:xmlParseEntityValue\n";
}

namespace smmhub::render {
namespace {

// Returns the straight-alpha colour of one Raster pixel.
Color pixelAt(const Raster& raster, int x, int y) {
  const std::uint8_t* p = raster.row(y) + static_cast<std::size_t>(x) * 4;
  auto straight = [alpha = p[3]](std::uint8_t value) {
    return alpha == 0 ? std::uint8_t{0} : static_cast<std::uint8_t>(value * 255 / alpha);
  };
  return {straight(p[2]), straight(p[1]), straight(p[0]), p[3]};
}

Result<Raster> load(const std::string& name, int width, int height, Fit fit = Fit::kContain,
                    Diagnostics* warnings = nullptr) {
  ImageRequest request{
      .path = kImages / name, .box_width = width, .box_height = height, .fit = fit};
  return loadImage(request, ImageLimits{}, warnings);
}

// Returns the Raster's pixels at (X, Y) within WIDTH x HEIGHT, for comparing
// a crop with a reference.
Raster crop(const Raster& raster, int x, int y, int width, int height) {
  Raster out(width, height);
  for (int row = 0; row < height; ++row) {
    std::copy_n(raster.row(y + row) + static_cast<std::size_t>(x) * 4, width * 4, out.row(row));
  }
  return out;
}

TEST(SniffImageFormatTest, DetectsFormatsByContent) {
  EXPECT_EQ(*sniffImageFormat(kImages / "crest-rgba16.png"), ImageFormat::kPng);
  EXPECT_EQ(*sniffImageFormat(kImages / "crest-cmyk-noicc.jpg"), ImageFormat::kJpeg);
  EXPECT_EQ(*sniffImageFormat(kImages / "crest-jpeg-named-png.png"), ImageFormat::kJpeg);
  EXPECT_EQ(*sniffImageFormat(kImages / "logo-animated-optimized.gif"), ImageFormat::kGif);
  EXPECT_EQ(*sniffImageFormat(kImages / "logo-animated.webp"), ImageFormat::kWebp);
  EXPECT_EQ(*sniffImageFormat(kImages / "crest-viewbox-only.svg"), ImageFormat::kSvg);
}

TEST(SniffImageFormatTest, FindsSvgAfterLongDoctype) {
  Result<ImageFormat> format = sniffImageFormat(kImages / "crest-illustrator-export.svg");

  ASSERT_TRUE(format.ok()) << format.status().toString();
  EXPECT_EQ(*format, ImageFormat::kSvg);
}

TEST(SniffImageFormatTest, RejectsEmptyFile) {
  Result<ImageFormat> format = sniffImageFormat(kImages / "crest-zero-bytes.png");

  ASSERT_FALSE(format.ok());
  EXPECT_EQ(format.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(format.status().message(),
            "tests/testdata/images/crest-zero-bytes.png: file is empty (0 bytes)");
}

TEST(SniffImageFormatTest, RejectsHtmlPage) {
  Result<ImageFormat> format = sniffImageFormat(kImages / "crest-html-error-page.png");

  ASSERT_FALSE(format.ok());
  EXPECT_EQ(format.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(format.status().message(),
            "tests/testdata/images/crest-html-error-page.png: not an image: content starts like "
            "an HTML page");
}

TEST(SniffImageFormatTest, RejectsUnknownBytesWithHexPrefix) {
  Result<ImageFormat> format = sniffImageFormat(kImages / "../text/rtl-fixtures.csv");

  ASSERT_FALSE(format.ok());
  EXPECT_EQ(format.status().message(),
            "tests/testdata/images/../text/rtl-fixtures.csv: unrecognised image format (first "
            "bytes 63 6f 6d 70 65 74 69 74 ...)");
}

TEST(SniffImageFormatTest, MissingFileIsNotFound) {
  Result<ImageFormat> format = sniffImageFormat(kImages / "no-such-crest.png");

  ASSERT_FALSE(format.ok());
  EXPECT_EQ(format.status().code(), StatusCode::kNotFound);
  EXPECT_NE(format.status().message().find("no-such-crest.png"), std::string::npos);
}

TEST(LoadImageTest, CmykJpegKeepsBrandColours) {
  for (const char* name : {"crest-cmyk-noicc.jpg", "crest-cmyk-no-adobe-marker.jpg"}) {
    SCOPED_TRACE(name);

    Result<Raster> raster = load(name, 400, 300);

    ASSERT_TRUE(raster.ok()) << raster.status().toString();
    Color shield = pixelAt(*raster, 200, 200);
    EXPECT_GT(shield.r, 150);
    EXPECT_LT(shield.g, 90);
    EXPECT_LT(shield.b, 90);
    Color band = pixelAt(*raster, 200, 130);
    // libvips' fallback CMYK profile gives a duller blue, about (0,64,111)
    // for #0033A0, but never a colour negative.
    EXPECT_GT(band.b, band.r + 60);
    EXPECT_GT(band.b, band.g + 30);
    Color corner = pixelAt(*raster, 10, 10);
    EXPECT_GT(corner.r, 240);
    EXPECT_GT(corner.g, 240);
    EXPECT_GT(corner.b, 240);
    Result<Raster> reference = readPng(kImages / "reference-rgb.png");
    ASSERT_TRUE(reference.ok()) << reference.status().toString();
    EXPECT_GT(psnr(*raster, *reference), 18.0);
  }
}

TEST(LoadImageTest, ExifOrientationGivesUprightPortrait) {
  Result<Raster> reference = readPng(kImages / "reference-upright.png");
  ASSERT_TRUE(reference.ok()) << reference.status().toString();

  for (const char* name : {"photo-orient6.jpg", "photo-orient3.jpg", "photo-orient6-cmyk.jpg"}) {
    SCOPED_TRACE(name);

    // A square box shows whether the displayed (portrait) size drives the fit.
    Result<Raster> raster = load(name, 400, 400);

    ASSERT_TRUE(raster.ok()) << raster.status().toString();
    EXPECT_EQ(pixelAt(*raster, 10, 200).a, 0);   // left margin of a 300x400 picture
    EXPECT_EQ(pixelAt(*raster, 390, 200).a, 0);  // right margin
    EXPECT_EQ(pixelAt(*raster, 60, 200).a, 255);
    Color top = pixelAt(*raster, 200, 20);
    EXPECT_GT(top.r, 150);
    EXPECT_LT(top.g, 90);
    Color bottom = pixelAt(*raster, 200, 380);
    EXPECT_GT(bottom.g, 100);
    EXPECT_LT(bottom.r, 90);
    Color arrow_tip = pixelAt(*raster, 200, 110);
    EXPECT_LT(arrow_tip.r, 60);
  }
  Result<Raster> upright = load("photo-orient6.jpg", 300, 400);
  ASSERT_TRUE(upright.ok());
  EXPECT_GT(psnr(*upright, *reference), 30.0);
}

TEST(LoadImageTest, Png16AlphaKeepsHoleAndShield) {
  Result<Raster> raster = load("crest-rgba16.png", 240, 280);

  ASSERT_TRUE(raster.ok()) << raster.status().toString();
  EXPECT_EQ(pixelAt(*raster, 115, 130).a, 0);  // the hole
  EXPECT_EQ(pixelAt(*raster, 0, 0).a, 0);
  EXPECT_EQ(pixelAt(*raster, 239, 279).a, 0);
  Color shield = pixelAt(*raster, 50, 40);
  EXPECT_NEAR(shield.r, 200, 2);
  EXPECT_NEAR(shield.g, 16, 2);
  EXPECT_NEAR(shield.b, 46, 2);
  EXPECT_EQ(shield.a, 255);
  Color shadow = pixelAt(*raster, 205, 165);  // soft shadow right of the shield
  EXPECT_GT(shadow.a, 40);
  EXPECT_LT(shadow.a, 200);
}

TEST(LoadImageTest, GreyAlphaPngLoadsAsGrey) {
  Result<Raster> raster = load("crest-gray-alpha16.png", 240, 280);

  ASSERT_TRUE(raster.ok()) << raster.status().toString();
  EXPECT_EQ(pixelAt(*raster, 115, 130).a, 0);
  Color shield = pixelAt(*raster, 50, 40);
  EXPECT_EQ(shield.a, 255);
  EXPECT_EQ(shield.r, shield.g);
  EXPECT_EQ(shield.g, shield.b);
}

TEST(LoadImageTest, DecompressionBombRejectedFromHeader) {
  auto start = std::chrono::steady_clock::now();

  Result<Raster> raster = load("crest-bomb-30000x30000.png", 360, 420);

  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(raster.ok());
  EXPECT_EQ(raster.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(raster.status().message(),
            "tests/testdata/images/crest-bomb-30000x30000.png: 30000x30000 pixels (900.0 "
            "megapixels) exceeds the limit of 100 megapixels");
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(LoadImageTest, FileOverByteLimitRejected) {
  ImageRequest request{.path = kImages / "crest-rgba16.png", .box_width = 10, .box_height = 10};

  Result<Raster> raster = loadImage(request, ImageLimits{.max_file_bytes = 1000}, nullptr);

  ASSERT_FALSE(raster.ok());
  EXPECT_EQ(raster.status().message(),
            "tests/testdata/images/crest-rgba16.png: file is 28048 bytes, over the limit of "
            "1000 bytes");
}

TEST(LoadImageTest, HugeSvgCanvasRendersAtBoxSize) {
  Result<Raster> raster = load("logo-huge-canvas.svg", 360, 420);

  ASSERT_TRUE(raster.ok()) << raster.status().toString();
  EXPECT_EQ(raster->width, 360);
  EXPECT_EQ(raster->height, 420);
  EXPECT_EQ(pixelAt(*raster, 180, 10).a, 0);  // square canvas: margins above and below
  Color edge = pixelAt(*raster, 5, 210);
  EXPECT_EQ(edge, (Color{0, 51, 160, 255}));
  Color centre = pixelAt(*raster, 180, 210);
  EXPECT_EQ(centre, (Color{255, 209, 0, 255}));
}

TEST(LoadImageTest, IllustratorSvgMatchesReference) {
  Result<Raster> reference = readPng(kImages / "crest-illustrator-reference.png");
  ASSERT_TRUE(reference.ok()) << reference.status().toString();

  Result<Raster> raster = load("crest-illustrator-export.svg", 240, 280);

  ASSERT_TRUE(raster.ok()) << raster.status().toString();
  EXPECT_GT(psnr(*raster, *reference), 30.0);
  EXPECT_EQ(pixelAt(*raster, 2, 2).a, 0);
  Color band = pixelAt(*raster, 120, 72);
  EXPECT_EQ(band, (Color{255, 255, 255, 255}));
}

TEST(LoadImageTest, ViewBoxOnlySvgsRenderIdentically) {
  Result<Raster> reference = readPng(kImages / "crest-viewbox-reference-360w.png");
  ASSERT_TRUE(reference.ok()) << reference.status().toString();

  Result<Raster> viewbox_only = load("crest-viewbox-only.svg", 360, 420);
  Result<Raster> percent = load("crest-percent-size.svg", 360, 420);
  Result<Raster> tiny = load("crest-tiny-intrinsic.svg", 360, 420);

  ASSERT_TRUE(viewbox_only.ok()) << viewbox_only.status().toString();
  ASSERT_TRUE(percent.ok()) << percent.status().toString();
  ASSERT_TRUE(tiny.ok()) << tiny.status().toString();
  EXPECT_EQ(viewbox_only->pixels, percent->pixels);
  EXPECT_EQ(viewbox_only->pixels, tiny->pixels);
  EXPECT_GT(psnr(*viewbox_only, *reference), 30.0);
  // A sharp edge: the shield's left side (x = 30 at this scale) goes from
  // transparent to opaque within 2 pixels.
  EXPECT_EQ(pixelAt(*tiny, 28, 150).a, 0);
  EXPECT_EQ(pixelAt(*tiny, 31, 150).a, 255);
}

TEST(LoadImageTest, OptimizedGifGivesFullFirstFrame) {
  Result<Raster> reference = readPng(kImages / "logo-reference-frame1.png");
  ASSERT_TRUE(reference.ok()) << reference.status().toString();

  for (const char* name : {"logo-animated-optimized.gif", "logo-animated.webp"}) {
    SCOPED_TRACE(name);

    Result<Raster> raster = load(name, 200, 200);

    ASSERT_TRUE(raster.ok()) << raster.status().toString();
    EXPECT_GT(psnr(*raster, *reference), 30.0);
    EXPECT_GT(psnr(crop(*raster, 0, 0, 200, 30), crop(*reference, 0, 0, 200, 30)), 30.0);
  }
}

TEST(LoadImageTest, JpegNamedPngLoads) {
  Result<Raster> raster = load("crest-jpeg-named-png.png", 240, 280);

  ASSERT_TRUE(raster.ok()) << raster.status().toString();
  EXPECT_EQ(raster->width, 240);
  EXPECT_EQ(raster->height, 280);
}

TEST(LoadImageTest, BrokenAssetsFailWithReason) {
  Result<Raster> empty = load("crest-zero-bytes.png", 240, 280);
  Result<Raster> html = load("crest-html-error-page.png", 240, 280);
  Result<Raster> missing = load("no-such-crest.png", 240, 280);

  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(),
            "tests/testdata/images/crest-zero-bytes.png: file is empty (0 bytes)");
  ASSERT_FALSE(html.ok());
  EXPECT_NE(html.status().message().find("crest-html-error-page.png: not an image"),
            std::string::npos);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(LoadImageTest, ExternalSvgReferenceWarnsAndRenders) {
  Diagnostics warnings;

  Result<Raster> raster = load("logo-external-reference.svg", 100, 100, Fit::kContain, &warnings);

  ASSERT_TRUE(raster.ok()) << raster.status().toString();
  std::vector<Diagnostic> items = warnings.items();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].severity, Severity::kWarning);
  EXPECT_EQ(items[0].place, "tests/testdata/images/logo-external-reference.svg");
  EXPECT_EQ(items[0].message,
            "external reference 'http://example.com/bg.png' was not fetched; embed it as a "
            "data: URL");
  EXPECT_EQ(items[1].message,
            "external reference 'http://example.com/x.png' was not fetched; embed it as a data: "
            "URL");
  EXPECT_EQ(pixelAt(*raster, 75, 25), (Color{0, 51, 160, 255}));
}

TEST(LoadImageTest, FitModesPlaceImage) {
  // crest-good.svg is 240x280; the box is wide.
  Result<Raster> contain = load("crest-good.svg", 480, 280, Fit::kContain);
  Result<Raster> cover = load("crest-good.svg", 480, 280, Fit::kCover);
  Result<Raster> fill = load("crest-good.svg", 480, 280, Fit::kFill);

  ASSERT_TRUE(contain.ok());
  ASSERT_TRUE(cover.ok());
  ASSERT_TRUE(fill.ok());
  EXPECT_EQ(pixelAt(*contain, 100, 100).a, 0);  // margin left of the centred crest
  EXPECT_EQ(pixelAt(*contain, 240, 100).a, 255);
  // Cover scales by 2 and crops 140 rows off the top, band included.
  EXPECT_EQ(pixelAt(*cover, 240, 5), (Color{108, 29, 69, 255}));
  EXPECT_EQ(pixelAt(*cover, 5, 5).a, 0);
  EXPECT_EQ(pixelAt(*fill, 60, 100).a, 255);  // stretched: x = 30 in crest units
  EXPECT_EQ(pixelAt(*fill, 20, 100).a, 0);    // x = 10 in crest units, outside the shield
}

TEST(LoadImageTest, CoverCropsRasterImage) {
  // reference-upright.png is 300x400 with an 80-row red band on top and a
  // green one at the bottom. Cover into 400x200 scales it by 4/3 to 400x533
  // and keeps the middle 200 rows, so both bands are cropped away.
  Result<Raster> cover = load("reference-upright.png", 400, 200, Fit::kCover);
  Result<Raster> fill = load("reference-upright.png", 400, 200, Fit::kFill);

  ASSERT_TRUE(cover.ok()) << cover.status().toString();
  ASSERT_TRUE(fill.ok()) << fill.status().toString();
  EXPECT_EQ(cover->width, 400);
  EXPECT_EQ(cover->height, 200);
  Color cover_top = pixelAt(*cover, 200, 2);
  Color fill_top = pixelAt(*fill, 200, 2);
  EXPECT_LT(cover_top.r - cover_top.g, 60) << "red band left in the cover crop";
  EXPECT_GT(fill_top.r, 150);
  EXPECT_LT(fill_top.g, 90);
}

TEST(LoadImageTest, CornerRadiusMasksCorners) {
  ImageRequest request{.path = kImages / "crest-jpeg-named-png.png",
                       .box_width = 240,
                       .box_height = 280,
                       .fit = Fit::kFill,
                       .corner_radius = 40};

  Result<Raster> raster = loadImage(request, ImageLimits{}, nullptr);

  ASSERT_TRUE(raster.ok()) << raster.status().toString();
  EXPECT_EQ(pixelAt(*raster, 1, 1).a, 0);
  EXPECT_EQ(pixelAt(*raster, 238, 278).a, 0);
  EXPECT_EQ(pixelAt(*raster, 40, 1).a, 255);
  EXPECT_EQ(pixelAt(*raster, 120, 140).a, 255);
}

TEST(LoadImageTest, InvalidBoxRejected) {
  Result<Raster> raster = load("crest-good.svg", 0, 280);

  ASSERT_FALSE(raster.ok());
  EXPECT_EQ(raster.status().code(), StatusCode::kInvalidArgument);
}

TEST(LoadImageTest, ConcurrentLoadsAgree) {
  Result<Raster> expected = load("crest-cmyk-noicc.jpg", 200, 150);
  ASSERT_TRUE(expected.ok());

  std::vector<Raster> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&result] { result = *load("crest-cmyk-noicc.jpg", 200, 150); });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  for (const Raster& result : results) {
    EXPECT_EQ(result.pixels, expected->pixels);
  }
}

TEST(WriteImageTest, PngRoundTripIsExact) {
  Result<Raster> raster = load("crest-good.svg", 120, 140);
  ASSERT_TRUE(raster.ok());
  testing::TempDir temp;
  std::filesystem::path path = temp.file("roundtrip.png");

  Status written = writePng(*raster, path);
  Result<Raster> read = readPng(path);

  ASSERT_TRUE(written.ok()) << written.toString();
  ASSERT_TRUE(read.ok()) << read.status().toString();
  EXPECT_EQ(read->width, 120);
  EXPECT_EQ(read->height, 140);
  EXPECT_GT(psnr(*read, *raster), 45.0);
  EXPECT_EQ(pixelAt(*read, 60, 70), pixelAt(*raster, 60, 70));
}

TEST(WriteImageTest, PosterJpegIsWritten) {
  Result<Raster> raster = load("crest-cmyk-noicc.jpg", 400, 300);
  ASSERT_TRUE(raster.ok());
  testing::TempDir temp;
  std::filesystem::path path = temp.file("poster.jpg");

  Status written = writePosterJpeg(*raster, path, 90);
  Result<ImageFormat> format = sniffImageFormat(path);
  Result<Raster> reread = load(path.string(), 400, 300);

  ASSERT_TRUE(written.ok()) << written.toString();
  EXPECT_EQ(*format, ImageFormat::kJpeg);
  ASSERT_TRUE(reread.ok()) << reread.status().toString();
  EXPECT_GT(psnr(*reread, *raster), 30.0);
  EXPECT_FALSE(writePosterJpeg(*raster, path, 0).ok());
}

}  // namespace
}  // namespace smmhub::render
