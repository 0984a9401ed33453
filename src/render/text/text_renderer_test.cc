#include "render/text/text_renderer.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace smmhub::render {
namespace {

const std::filesystem::path kTextData = "tests/testdata/text";

}  // namespace
}  // namespace smmhub::render

// LeakSanitizer reports fontconfig allocations: parts of the parsed XML
// configuration, scanned font files, and each test's FcConfig.
// TODO: find out whether Pango or cairo still references a FontLibrary's
// FcConfig after its font maps are released. Until then a process that
// creates FontLibraries repeatedly grows by about one configuration each.
extern "C" const char* __lsan_default_suppressions() {  // NOLINT(bugprone-reserved-identifier)
  return "leak:libfontconfig.so\n";
}

namespace smmhub::render {
namespace {

// Bounding box of the pixels with any alpha; empty when nothing was drawn.
struct InkBox {
  int left = 0;
  int top = 0;
  int right = -1;  // inclusive
  int bottom = -1;
  int width() const { return right - left + 1; }
  bool empty() const { return right < left; }
};

InkBox inkBox(const Raster& raster) {
  InkBox box{raster.width, raster.height, -1, -1};
  for (int y = 0; y < raster.height; ++y) {
    for (int x = 0; x < raster.width; ++x) {
      if (raster.row(y)[x * 4 + 3] != 0) {
        box.left = std::min(box.left, x);
        box.right = std::max(box.right, x);
        box.top = std::min(box.top, y);
        box.bottom = std::max(box.bottom, y);
      }
    }
  }
  return box;
}

// Counts opaque pixels whose channels differ by more than 60, which grey or
// single-colour text never has.
int colourfulPixels(const Raster& raster) {
  int count = 0;
  for (std::size_t i = 0; i + 3 < raster.pixels.size(); i += 4) {
    auto [low, high] = std::minmax({raster.pixels[i], raster.pixels[i + 1], raster.pixels[i + 2]});
    count += (raster.pixels[i + 3] > 200 && high - low > 60) ? 1 : 0;
  }
  return count;
}

// Reads the given columns of every data row of a simple CSV (quoted fields
// may contain commas and doubled quotes, no line breaks).
std::vector<std::string> csvValues(const std::string& name, std::vector<int> columns) {
  std::ifstream file(kTextData / name);
  std::string line;
  std::getline(file, line);  // header
  std::vector<std::string> values;
  while (std::getline(file, line)) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (c == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        fields.emplace_back();
      } else {
        fields.back() += c;
      }
    }
    for (int column : columns) {
      values.push_back(fields.at(column));
    }
  }
  return values;
}

class TextRendererTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<FontLibrary>> created = FontLibrary::create();
    ASSERT_TRUE(created.ok()) << created.status().toString();
    fonts_ = std::move(*created);
  }

  Result<Raster> render(std::string_view text, const TextStyle& style, int width, int height,
                        TextReport* report = nullptr) {
    return renderText(*fonts_, text, style, width, height, report);
  }

  // Checks that RASTER shows all of the ink: the same text at the reported
  // size in a box 80 px larger each way has the same ink size. Only one-line
  // results compare, because a wider box wraps differently.
  void expectNotClipped(std::string_view text, TextStyle style, const Raster& raster,
                        const TextReport& report) {
    if (report.line_count != 1 || report.ellipsized) {
      return;
    }
    style.size_px = report.size_px;
    style.min_size_px = 0;
    Result<Raster> roomy = render(text, style, raster.width + 80, raster.height + 80);
    ASSERT_TRUE(roomy.ok());
    InkBox expected = inkBox(*roomy);
    InkBox actual = inkBox(raster);
    EXPECT_NEAR(actual.width(), expected.width(), 1);
    EXPECT_NEAR(actual.bottom - actual.top, expected.bottom - expected.top, 1);
  }

  std::unique_ptr<FontLibrary> fonts_;
};

TEST_F(TextRendererTest, MarkupCharactersShowLiterally) {
  std::vector<std::string> values = csvValues("ampersand-markup-fixtures.csv", {0, 4, 5, 6});
  ASSERT_EQ(values.size(), 16u);
  EXPECT_EQ(values[10], "Smith &amp; Sons United");

  for (const std::string& value : values) {
    SCOPED_TRACE(value);
    TextReport report;

    Result<Raster> raster = render(value, TextStyle{.size_px = 40}, 1400, 80, &report);

    ASSERT_TRUE(raster.ok()) << raster.status().toString();
    EXPECT_FALSE(inkBox(*raster).empty());
    EXPECT_EQ(report.unknown_glyphs, 0);
    EXPECT_EQ(report.line_count, 1);
    EXPECT_FALSE(report.overflows);
  }
}

TEST_F(TextRendererTest, EntityAndTagsAreNotInterpreted) {
  TextStyle style{.size_px = 40};

  Result<Raster> entity = render("Smith &amp; Sons", style, 1000, 80);
  Result<Raster> ampersand = render("Smith & Sons", style, 1000, 80);
  Result<Raster> tags = render("<b>Bold</b> FC", style, 1000, 80);
  Result<Raster> plain = render("Bold FC", style, 1000, 80);

  ASSERT_TRUE(entity.ok());
  ASSERT_TRUE(ampersand.ok());
  ASSERT_TRUE(tags.ok());
  ASSERT_TRUE(plain.ok());
  // "&amp;" is five characters wide, the tags add "<b>" and "</b>".
  EXPECT_GT(inkBox(*entity).width(), inkBox(*ampersand).width() + 60);
  EXPECT_GT(inkBox(*tags).width(), inkBox(*plain).width() + 80);
}

TEST_F(TextRendererTest, InvalidUtf8Rejected) {
  Result<Raster> raster = render("Caf\xC3", TextStyle{}, 200, 100);

  ASSERT_FALSE(raster.ok());
  EXPECT_EQ(raster.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(raster.status().message(), "text is not valid UTF-8; re-save the data as UTF-8");
}

TEST_F(TextRendererTest, ArabicAndHebrewAreRightToLeft) {
  std::vector<std::string> values = csvValues("rtl-fixtures.csv", {0, 4, 5, 6});
  ASSERT_EQ(values.size(), 16u);
  TextStyle style{.size_px = 72, .min_size_px = 24};

  for (const std::string& value : values) {
    SCOPED_TRACE(value);
    TextReport report;

    Result<Raster> raster = render(value, style, 460, 200, &report);

    ASSERT_TRUE(raster.ok()) << raster.status().toString();
    EXPECT_TRUE(report.right_to_left);
    EXPECT_EQ(report.unknown_glyphs, 0);
    EXPECT_EQ(report.missing_characters, "");
    EXPECT_FALSE(report.fallbacks.empty());  // Inter has no Arabic or Hebrew
    EXPECT_FALSE(report.overflows);
    expectNotClipped(value, style, *raster, report);
  }
}

TEST_F(TextRendererTest, LatinIsLeftToRight) {
  TextReport report;

  Result<Raster> raster = render("Al Ahly 1907 FC", TextStyle{}, 600, 100, &report);

  ASSERT_TRUE(raster.ok());
  EXPECT_FALSE(report.right_to_left);
  EXPECT_TRUE(report.fallbacks.empty());
}

TEST_F(TextRendererTest, ArabicLettersAreJoined) {
  // U+200C ZERO WIDTH NON-JOINER between the letters forces isolated forms,
  // which are wider than the joined forms HarfBuzz picks without it.
  TextStyle style{.size_px = 60};

  Result<Raster> joined = render("الزمالك", style, 800, 120);
  Result<Raster> isolated = render("ا\u200cل\u200cز\u200cم\u200cا\u200cل\u200cك", style, 800, 120);

  ASSERT_TRUE(joined.ok());
  ASSERT_TRUE(isolated.ok());
  EXPECT_LT(inkBox(*joined).width(), inkBox(*isolated).width());
}

TEST_F(TextRendererTest, ShortNameKeepsFullSize) {
  TextStyle style{.size_px = 72, .min_size_px = 36};
  TextReport report;

  Result<Raster> raster = render("AFC", style, 460, 120, &report);

  ASSERT_TRUE(raster.ok());
  EXPECT_EQ(report.size_px, 72);
  EXPECT_FALSE(report.shrunk);
  EXPECT_EQ(report.line_count, 1);
  // Inter's cap height is 0.727 em, so about 52 px at 72 px, plus the
  // overshoot of the round 'C' above and below.
  InkBox ink = inkBox(*raster);
  EXPECT_GE(ink.bottom - ink.top + 1, 52);
  EXPECT_LE(ink.bottom - ink.top + 1, 56);
}

TEST_F(TextRendererTest, LongNamesShrinkToShapedWidth) {
  std::vector<std::string> values = csvValues("long-names-fixtures.csv", {4, 5});
  ASSERT_EQ(values.size(), 8u);
  TextStyle style{.size_px = 72, .min_size_px = 30, .max_lines = 2};

  for (const std::string& value : values) {
    SCOPED_TRACE(value);
    TextReport report;

    Result<Raster> raster = render(value, style, 460, 160, &report);

    ASSERT_TRUE(raster.ok()) << raster.status().toString();
    EXPECT_GE(report.size_px, 30);
    EXPECT_LE(report.line_count, 2);
    expectNotClipped(value, style, *raster, report);
  }
}

TEST_F(TextRendererTest, WideLettersShrinkMore) {
  TextStyle style{.size_px = 72, .min_size_px = 8};
  TextReport wide;
  TextReport narrow;

  ASSERT_TRUE(render(std::string(20, 'W'), style, 460, 120, &wide).ok());
  ASSERT_TRUE(render(std::string(20, 'i'), style, 460, 120, &narrow).ok());

  EXPECT_TRUE(wide.shrunk);
  EXPECT_LT(wide.size_px, narrow.size_px / 2);
  EXPECT_EQ(wide.line_count, 1);
  EXPECT_EQ(std::fmod(wide.size_px, 0.5), 0.0);
}

TEST_F(TextRendererTest, UnbreakableWordEllipsizedInBox) {
  TextStyle style{.size_px = 72, .min_size_px = 36, .max_lines = 2};
  TextReport report;

  Result<Raster> raster = render("Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch F.C.",
                                 style, 460, 120, &report);

  ASSERT_TRUE(raster.ok());
  EXPECT_TRUE(report.overflows);
  EXPECT_TRUE(report.ellipsized);
  EXPECT_EQ(report.size_px, 36);
  EXPECT_LE(report.line_count, 2);
  InkBox ink = inkBox(*raster);
  EXPECT_GT(ink.left, 0);
  EXPECT_LT(ink.right, 459);
  EXPECT_GT(ink.top, 0);
  EXPECT_LT(ink.bottom, 119);
}

TEST_F(TextRendererTest, LineBreaksAreHonoured) {
  TextStyle style{.size_px = 40};
  TextReport crlf_report;
  TextReport lf_report;

  Result<Raster> crlf = render("Matchday\r\nSeven", style, 400, 200, &crlf_report);
  Result<Raster> lf = render("Matchday\nSeven", style, 400, 200, &lf_report);

  ASSERT_TRUE(crlf.ok());
  ASSERT_TRUE(lf.ok());
  EXPECT_EQ(crlf_report.line_count, 2);
  EXPECT_EQ(lf_report.line_count, 2);
  EXPECT_EQ(crlf->pixels, lf->pixels);
}

TEST_F(TextRendererTest, UnfittingLineBreaksBecomeSpaces) {
  TextStyle style{.size_px = 40, .min_size_px = 24};
  TextReport report;
  TextReport spaced_report;

  // Two lines need about 58 px at 24 px, more than the 50 px box.
  Result<Raster> broken = render("Estadio Azteca\nTribuna Norte", style, 1080, 50, &report);
  Result<Raster> spaced = render("Estadio Azteca Tribuna Norte", style, 1080, 50, &spaced_report);

  ASSERT_TRUE(broken.ok());
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ(report.line_count, 1);
  EXPECT_FALSE(report.overflows);
  EXPECT_FALSE(report.ellipsized);
  EXPECT_EQ(report.size_px, spaced_report.size_px);
  EXPECT_EQ(broken->pixels, spaced->pixels);
}

TEST_F(TextRendererTest, AlignmentPlacesText) {
  TextStyle left{
      .size_px = 40, .align = TextStyle::Align::kLeft, .valign = TextStyle::VAlign::kTop};
  TextStyle right{
      .size_px = 40, .align = TextStyle::Align::kRight, .valign = TextStyle::VAlign::kBottom};

  Result<Raster> left_raster = render("Kick-off", left, 600, 200);
  Result<Raster> right_raster = render("Kick-off", right, 600, 200);
  Result<Raster> rtl_right = render("الأهلي", right, 600, 200);

  ASSERT_TRUE(left_raster.ok());
  ASSERT_TRUE(right_raster.ok());
  ASSERT_TRUE(rtl_right.ok());
  EXPECT_LT(inkBox(*left_raster).left, 10);
  EXPECT_LT(inkBox(*left_raster).top, 20);
  EXPECT_GT(inkBox(*right_raster).right, 585);
  EXPECT_GT(inkBox(*right_raster).bottom, 170);
  EXPECT_GT(inkBox(*rtl_right).right, 585);
}

TEST_F(TextRendererTest, MaxLinesEllipsizesWithoutShrinking) {
  TextStyle style{.size_px = 40, .max_lines = 2};
  TextReport report;

  Result<Raster> raster =
      render("Estadio Libertadores de America Ricardo Enrique Bochini Avellaneda Buenos Aires",
             style, 400, 400, &report);

  ASSERT_TRUE(raster.ok());
  EXPECT_EQ(report.line_count, 2);
  EXPECT_TRUE(report.ellipsized);
  EXPECT_TRUE(report.overflows);
  EXPECT_FALSE(report.shrunk);
}

TEST_F(TextRendererTest, EmojiUsesColourFallback) {
  TextStyle style{.size_px = 64, .color = Color{0, 0, 0, 255}};
  TextReport report;

  Result<Raster> raster = render("Goal \xF0\x9F\x8E\x89", style, 400, 100, &report);

  ASSERT_TRUE(raster.ok());
  EXPECT_GT(colourfulPixels(*raster), 100);
  ASSERT_EQ(report.fallbacks.size(), 1u);
  EXPECT_EQ(report.fallbacks[0].font_family, "Noto Color Emoji");
  EXPECT_EQ(report.fallbacks[0].text, "\xF0\x9F\x8E\x89");
  EXPECT_EQ(report.unknown_glyphs, 0);
}

TEST_F(TextRendererTest, MissingCharacterReported) {
  TextReport report;

  // U+0870 (Arabic Extended-B, Unicode 14) is in none of the installed fonts.
  Result<Raster> raster = render("A\u0870B", TextStyle{}, 400, 100, &report);

  ASSERT_TRUE(raster.ok());
  EXPECT_EQ(report.unknown_glyphs, 1);
  EXPECT_EQ(report.missing_characters, "\u0870");
}

TEST_F(TextRendererTest, GenericFamilyIsNoFallback) {
  TextStyle style{.family = "sans-serif", .size_px = 40};
  TextReport plain;
  TextReport with_emoji;

  Result<Raster> raster = render("Derby Day", style, 400, 100, &plain);
  Result<Raster> emoji = render("Derby Day \xF0\x9F\x8E\x89", style, 400, 100, &with_emoji);

  ASSERT_TRUE(raster.ok());
  EXPECT_TRUE(plain.fallbacks.empty());
  ASSERT_TRUE(emoji.ok());
  ASSERT_EQ(with_emoji.fallbacks.size(), 1u);
  EXPECT_EQ(with_emoji.fallbacks[0].font_family, "Noto Color Emoji");
  EXPECT_TRUE(isGenericFamily("Sans-Serif"));
  EXPECT_FALSE(isGenericFamily("Inter"));
  EXPECT_NE(matchedFamily(*fonts_, "sans-serif"), "sans-serif");
  EXPECT_EQ(matchedFamily(*fonts_, "Inter"), "Inter");
}

TEST_F(TextRendererTest, MissingFamilyReported) {
  TextStyle style{.family = "No Such Club Font", .size_px = 40};
  TextReport report;

  Result<Raster> raster = render("Derby Day", style, 400, 100, &report);
  Result<std::string> file = resolveFontFile(*fonts_, "No Such Club Font", 400, false);

  ASSERT_TRUE(raster.ok());
  ASSERT_EQ(report.fallbacks.size(), 1u);
  EXPECT_EQ(report.fallbacks[0].text, "Derby Day");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(file.status().message().rfind("font family 'No Such Club Font' is not installed; "
                                          "fontconfig would use '",
                                          0),
            0u);
}

TEST_F(TextRendererTest, InstalledFamiliesResolveToTheirFiles) {
  Result<std::string> bebas = resolveFontFile(*fonts_, "Bebas Neue", 400, false);
  Result<std::string> inter = resolveFontFile(*fonts_, "Inter", 400, false);
  Result<std::string> inter_bold = resolveFontFile(*fonts_, "Inter", 700, true);

  ASSERT_TRUE(bebas.ok()) << bebas.status().toString();
  ASSERT_TRUE(inter.ok()) << inter.status().toString();
  ASSERT_TRUE(inter_bold.ok()) << inter_bold.status().toString();
  EXPECT_NE(bebas->find("/BebasNeue-"), std::string::npos) << *bebas;
  EXPECT_EQ(std::filesystem::path(*inter).filename(), "Inter-Regular.otf");
  EXPECT_EQ(std::filesystem::path(*inter_bold).filename(), "Inter-BoldItalic.otf");
}

TEST_F(TextRendererTest, AddFontFileNamesBadFile) {
  Status added = fonts_->addFontFile(kTextData / "rtl-fixtures.csv");

  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(added.message().rfind("tests/testdata/text/rtl-fixtures.csv: font file", 0), 0u);
}

TEST_F(TextRendererTest, AddedFontFileIsUsed) {
  std::filesystem::path file = "/usr/share/fonts/opentype/bebas-neue/BebasNeue-Regular.otf";
  ASSERT_TRUE(std::filesystem::exists(file));
  TextStyle style{.family = "Bebas Neue", .size_px = 40};
  TextReport before;
  ASSERT_TRUE(render("Derby", style, 400, 100, &before).ok());

  Status added = fonts_->addFontFile(file);
  TextReport after;
  Result<Raster> raster = render("Derby", style, 400, 100, &after);

  ASSERT_TRUE(added.ok()) << added.toString();
  ASSERT_TRUE(raster.ok());
  EXPECT_TRUE(after.fallbacks.empty());
}

TEST_F(TextRendererTest, StrokeAndShadowDrawAroundFill) {
  TextStyle plain{.size_px = 60, .color = Color{255, 255, 255, 255}};
  TextStyle styled = plain;
  styled.stroke = Stroke{Color{0, 0, 0, 255}, 6};
  styled.shadow = Shadow{Color{255, 0, 0, 255}, 12, 12, 3};

  Result<Raster> plain_raster = render("GOAL", plain, 400, 140);
  Result<Raster> styled_raster = render("GOAL", styled, 400, 140);

  ASSERT_TRUE(plain_raster.ok());
  ASSERT_TRUE(styled_raster.ok());
  InkBox plain_ink = inkBox(*plain_raster);
  InkBox styled_ink = inkBox(*styled_raster);
  EXPECT_GT(styled_ink.right, plain_ink.right + 8);    // shadow offset to the right
  EXPECT_GT(styled_ink.bottom, plain_ink.bottom + 8);  // and down
  int red = 0;
  int black = 0;
  for (std::size_t i = 0; i + 3 < styled_raster->pixels.size(); i += 4) {
    const std::uint8_t* p = &styled_raster->pixels[i];
    red += (p[3] > 100 && p[2] > 100 && p[1] < 30) ? 1 : 0;
    black += (p[3] == 255 && p[0] < 30 && p[1] < 30 && p[2] < 30) ? 1 : 0;
  }
  EXPECT_GT(red, 100);
  EXPECT_GT(black, 100);
}

TEST_F(TextRendererTest, LetterSpacingWidensText) {
  TextStyle normal{.size_px = 40};
  TextStyle spaced{.size_px = 40, .letter_spacing_px = 10};

  Result<Raster> normal_raster = render("Derby", normal, 600, 100);
  Result<Raster> spaced_raster = render("Derby", spaced, 600, 100);

  ASSERT_TRUE(normal_raster.ok());
  ASSERT_TRUE(spaced_raster.ok());
  EXPECT_NEAR(inkBox(*spaced_raster).width() - inkBox(*normal_raster).width(), 40, 3);
}

TEST_F(TextRendererTest, ConcurrentRendersMatchSerial) {
  const std::vector<std::string> texts = {"Brighton & Hove Albion", "الأهلي", "מכבי תל אביב",
                                          "Goal \xF0\x9F\x8E\x89", "Borussia Mönchengladbach"};
  TextStyle style{.size_px = 60, .min_size_px = 20};
  std::vector<Raster> expected;
  for (const std::string& text : texts) {
    expected.push_back(*render(text, style, 460, 120));
  }

  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (std::size_t i = 0; i < texts.size(); ++i) {
          Result<Raster> raster = render(texts[i], style, 460, 120);
          mismatches[t] += (raster.ok() && raster->pixels == expected[i].pixels) ? 0 : 1;
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }

  for (int count : mismatches) {
    EXPECT_EQ(count, 0);
  }
}

}  // namespace
}  // namespace smmhub::render
