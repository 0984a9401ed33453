// Real-world problem inputs run through whole batches. The Match Day template
// gets names with markup characters, right-to-left scripts and very long
// names, and spreadsheet exports with a byte-order mark, semicolons or line
// breaks in cells. Small templates get broken, huge and unusual crest images,
// phone and HDR clips as a background video, and a hi-res mono music bed.
// Each test asserts what a correct system does with the input.
//
// The inputs sit in tests/testdata/cases/<case>/ or are reused by path from
// tests/testdata/{images,video,csv,text}. The small templates in
// tests/testdata/cases/mini/ keep the image and video cases fast. Only the
// Match Day cases render 1080x1920 videos, and only as many rows as an
// assertion needs.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "render/batch.h"
#include "render/canvas.h"
#include "render/engine.h"
#include "render/image/image_loader.h"
#include "render/image/psnr.h"
#include "render/preflight.h"
#include "render/video/probe.h"
#include "template/binding.h"
#include "template/brand_kit.h"
#include "template/data_table.h"
#include "template/parser.h"
#include "test_support.h"

namespace smmhub::render {
namespace {

namespace fs = std::filesystem;

using smmhub::testing::TempDir;

constexpr std::string_view kBrand = "tests/testdata/cases/brand";
constexpr std::string_view kMatchDayTemplate = "examples/matchday/template.json";
constexpr std::string_view kCrestTemplate = "tests/testdata/cases/mini/crest.json";
constexpr std::string_view kClipTemplate = "tests/testdata/cases/mini/clip.json";
constexpr std::string_view kStillTemplate = "tests/testdata/cases/mini/still.json";

// Layers of the Match Day template, by JSON pointer.
constexpr std::string_view kCompetitionLayer = "/scenes/1/layers/1";
constexpr std::string_view kDateLayer = "/scenes/1/layers/6";
constexpr std::string_view kVenueLayer = "/scenes/1/layers/7";
constexpr std::string_view kHomeNameLayer = "/scenes/1/layers/8";
constexpr std::string_view kAwayNameLayer = "/scenes/1/layers/9";

// Returns the batch request for every row of DATA with TEMPLATE_PATH and the
// cases' brand kit, writing into OUT, two videos at a time.
BatchRequest batchRequest(const fs::path& template_path, const fs::path& data, const TempDir& out) {
  BatchRequest request;
  request.template_path = template_path;
  request.data_path = data;
  request.brand_dir = kBrand;
  request.out_dir = out.path();
  request.jobs = 2;
  return request;
}

// Returns TEMPLATE_PATH bound to data row ROW (1-based) of DATA, with the
// cases' brand kit.
Result<templates::Template> bindRow(const fs::path& template_path, const fs::path& data, int row) {
  SMMHUB_ASSIGN_OR_RETURN(templates::Template tmpl,
                          templates::loadTemplate(template_path, nullptr));
  SMMHUB_ASSIGN_OR_RETURN(templates::BrandKit brand, templates::loadBrandKit(kBrand, nullptr));
  SMMHUB_ASSIGN_OR_RETURN(templates::DataTable table, templates::readRows(data));
  if (row < 1 || row > static_cast<int>(table.rows.size())) {
    return Status::invalidArgument(data.string() + ": no row " + std::to_string(row));
  }
  return templates::bindTemplate(tmpl, brand, table, table.rows[static_cast<size_t>(row - 1)], {},
                                 template_path.parent_path(), nullptr);
}

// Returns the layer of BOUND at POINTER, and fails the test when there is none.
templates::Layer* findLayer(templates::Template& bound, std::string_view pointer) {
  for (auto& scene : bound.scenes) {
    for (auto& layer : scene.layers) {
      if (layer.pointer == pointer) {
        return &layer;
      }
    }
  }
  ADD_FAILURE() << "the template has no layer at " << pointer;
  return nullptr;
}

// Returns the content of the text layer of BOUND at POINTER, or "" when there
// is none.
std::string textAt(templates::Template& bound, std::string_view pointer) {
  const templates::Layer* layer = findLayer(bound, pointer);
  return layer == nullptr ? "" : std::get<templates::TextProps>(layer->props).content;
}

// Returns the straight-alpha colour of one Raster pixel.
Color pixelAt(const Raster& raster, int x, int y) {
  const std::uint8_t* p = raster.row(y) + static_cast<size_t>(x) * 4;
  auto straight = [alpha = p[3]](std::uint8_t value) {
    return alpha == 0 ? std::uint8_t{0} : static_cast<std::uint8_t>(value * 255 / alpha);
  };
  return {straight(p[2]), straight(p[1]), straight(p[0]), p[3]};
}

// Returns the number of pixels of RASTER that are not fully transparent.
int inkedPixels(const Raster& raster) {
  int count = 0;
  for (size_t i = 3; i < raster.pixels.size(); i += 4) {
    count += raster.pixels[i] != 0 ? 1 : 0;
  }
  return count;
}

// Returns the number of pixels on the outermost rows and columns of RASTER
// that are not fully transparent: text that touches its box edge was clipped.
int inkedEdgePixels(const Raster& raster) {
  int count = 0;
  for (int y = 0; y < raster.height; ++y) {
    for (int x = 0; x < raster.width; ++x) {
      bool edge = x == 0 || y == 0 || x == raster.width - 1 || y == raster.height - 1;
      count += edge && raster.row(y)[x * 4 + 3] != 0 ? 1 : 0;
    }
  }
  return count;
}

// Returns the mean BT.709 luma of an opaque RASTER, 0 to 255.
double meanLuma(const Raster& raster) {
  double sum = 0;
  for (size_t i = 0; i + 3 < raster.pixels.size(); i += 4) {
    sum +=
        0.0722 * raster.pixels[i] + 0.7152 * raster.pixels[i + 1] + 0.2126 * raster.pixels[i + 2];
  }
  return sum / (static_cast<double>(raster.pixels.size()) / 4);
}

// Expects each channel of ACTUAL within TOLERANCE of EXPECTED.
void expectColorNear(const Color& actual, const Color& expected, int tolerance) {
  EXPECT_NEAR(actual.r, expected.r, tolerance);
  EXPECT_NEAR(actual.g, expected.g, tolerance);
  EXPECT_NEAR(actual.b, expected.b, tolerance);
  EXPECT_NEAR(actual.a, expected.a, tolerance);
}

// What one output video must be, read back through libavformat.
struct ExpectedVideo {
  int frames = 240;
  int width = 1080;
  int height = 1920;
  double fps = 30;
};

// Expects VIDEO to be an H.264 High yuv420p MP4 tagged BT.709, with fast
// start, no edit list, and EXPECTED's frames, size and constant rate. Its AAC
// stereo 48 kHz track must be at most 128 kb/s and last as long as the video.
void expectPlatformSpec(const fs::path& video, const ExpectedVideo& expected) {
  SCOPED_TRACE(video.string());
  Result<MediaInfo> info = probeMedia(video);
  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_TRUE(info->moov_before_mdat);
  EXPECT_FALSE(info->has_edit_list);

  ASSERT_TRUE(info->video.has_value());
  const MediaInfo::VideoStream& stream = *info->video;
  EXPECT_EQ(stream.codec, "h264");
  EXPECT_EQ(stream.profile, "High");
  EXPECT_EQ(stream.pix_fmt, "yuv420p");
  EXPECT_EQ(stream.frame_count, expected.frames);
  EXPECT_EQ(stream.width, expected.width);
  EXPECT_EQ(stream.height, expected.height);
  EXPECT_DOUBLE_EQ(stream.fps, expected.fps);
  EXPECT_TRUE(stream.constant_frame_rate);
  EXPECT_NEAR(stream.duration_s, expected.frames / expected.fps, 1e-6);
  EXPECT_EQ(stream.color_transfer, "bt709");
  EXPECT_EQ(stream.color_primaries, "bt709");
  EXPECT_EQ(stream.color_space, "bt709");

  ASSERT_TRUE(info->audio.has_value());
  const MediaInfo::AudioStream& audio = *info->audio;
  EXPECT_EQ(audio.codec, "aac");
  EXPECT_EQ(audio.channels, 2);
  EXPECT_EQ(audio.sample_rate, 48000);
  EXPECT_LE(audio.bit_rate, 128000);
  EXPECT_NEAR(audio.duration_s, stream.duration_s, 1 / expected.fps);
}

// Expects every row of REPORT to have rendered a video that meets EXPECTED.
void expectAllRowsRendered(const BatchReport& report, const ExpectedVideo& expected) {
  for (const RowOutcome& row : report.rows) {
    SCOPED_TRACE("row " + std::to_string(row.row));
    ASSERT_TRUE(row.ok) << row.error;
    EXPECT_EQ(row.frames, expected.frames);
    expectPlatformSpec(row.video, expected);
  }
}

// Returns the messages of REPORT's problems of SEVERITY placed at a row and
// layer, such as "row 3: /scenes/1/layers/8".
std::vector<std::string> problemsAt(const PreflightReport& report, Severity severity,
                                    const std::string& place) {
  std::vector<std::string> messages;
  for (const Diagnostic& problem : report.problems) {
    if (problem.severity == severity && problem.place == place) {
      messages.push_back(problem.message);
    }
  }
  return messages;
}

bool containsSubstring(const std::vector<std::string>& messages, std::string_view part) {
  return std::any_of(messages.begin(), messages.end(),
                     [&](const std::string& m) { return m.find(part) != std::string::npos; });
}

// Shares one font library and engine among the tests that draw single
// layers or frames, because loading the system fonts takes a while.
class EngineCaseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<std::unique_ptr<FontLibrary>> fonts = FontLibrary::create();
    ASSERT_TRUE(fonts.ok()) << fonts.status().toString();
    shared_fonts = std::move(fonts).value();
    engine = std::make_unique<Engine>(shared_fonts.get(), nullptr, EngineOptions{});
  }

  static void TearDownTestSuite() {
    engine.reset();
    shared_fonts.reset();
  }

  // A text layer drawn at its box size, with what the text renderer saw.
  struct DrawnText {
    TextReport report;
    Raster raster;
  };

  // Draws the text layer at POINTER of BOUND.
  static DrawnText drawText(templates::Template& bound, std::string_view pointer) {
    DrawnText drawn;
    const templates::Layer* layer = findLayer(bound, pointer);
    if (layer == nullptr) {
      return drawn;
    }
    Result<RasterPtr> raster = engine->rasterizeLayer(*layer, nullptr, &drawn.report);
    EXPECT_TRUE(raster.ok()) << raster.status().toString();
    if (raster.ok()) {
      drawn.raster = **raster;
    }
    return drawn;
  }

  // Renders the frame of TEMPLATE_PATH bound to data row ROW at TIME_S.
  static Result<Raster> frameOf(const fs::path& template_path, const fs::path& data, int row,
                                double time_s) {
    SMMHUB_ASSIGN_OR_RETURN(templates::Template bound, bindRow(template_path, data, row));
    Diagnostics warnings;
    return engine->renderFrame(bound, time_s, &warnings);
  }

  inline static std::unique_ptr<FontLibrary> shared_fonts;
  inline static std::unique_ptr<Engine> engine;
};

// ---------------------------------------------------------------------------
// Text in the Match Day template.

using MatchDayTextTest = EngineCaseTest;

TEST_F(MatchDayTextTest, MarkupCharactersRenderLiterally) {
  const fs::path data = "tests/testdata/csv/R11-ampersand-markup.csv";
  TempDir out;

  Result<BatchReport> report = runBatch(batchRequest(kMatchDayTemplate, data, out), nullptr);
  Result<templates::Template> row1 = bindRow(kMatchDayTemplate, data, 1);
  Result<templates::Template> row3 = bindRow(kMatchDayTemplate, data, 3);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->succeeded(), 4);
  expectAllRowsRendered(*report, ExpectedVideo{});
  ASSERT_TRUE(row1.ok()) << row1.status().toString();
  ASSERT_TRUE(row3.ok()) << row3.status().toString();
  EXPECT_EQ(textAt(*row1, kHomeNameLayer), "Brighton & Hove Albion");
  EXPECT_EQ(textAt(*row1, kAwayNameLayer), "Wolves <U21>");
  EXPECT_EQ(textAt(*row3, kHomeNameLayer), "<b>Bold</b> FC");
  EXPECT_EQ(textAt(*row3, kAwayNameLayer), "Smith &amp; Sons United");
  EXPECT_EQ(textAt(*row3, kVenueLayer), "Arena <span foreground=\"red\">X</span>");
}

TEST_F(MatchDayTextTest, EntityIsDrawnAsFiveCharacters) {
  const fs::path data = "tests/testdata/csv/R11-ampersand-markup.csv";
  Result<templates::Template> bound = bindRow(kMatchDayTemplate, data, 3);
  ASSERT_TRUE(bound.ok()) << bound.status().toString();
  templates::Template decoded = *bound;
  templates::Layer* decoded_name = findLayer(decoded, kAwayNameLayer);
  ASSERT_NE(decoded_name, nullptr);
  std::get<templates::TextProps>(decoded_name->props).content = "Smith & Sons United";

  TextReport literal = drawText(*bound, kAwayNameLayer).report;
  TextReport entity_decoded = drawText(decoded, kAwayNameLayer).report;

  // "&amp;" drawn as typed is four characters longer than "&", so the name
  // shrinks further to fit its 460 px box.
  EXPECT_TRUE(literal.shrunk);
  EXPECT_LT(literal.size_px, entity_decoded.size_px);
  EXPECT_FALSE(literal.overflows);
}

TEST_F(MatchDayTextTest, RightToLeftRowsRenderAndAreReported) {
  const fs::path data = "tests/testdata/text/rtl-fixtures.csv";
  TempDir out;
  PreflightRequest check{
      .template_path = kMatchDayTemplate, .data_path = data, .brand_dir = kBrand};

  Result<PreflightReport> preflight_report = preflight(check);
  Result<BatchReport> report = runBatch(batchRequest(kMatchDayTemplate, data, out), nullptr);

  ASSERT_TRUE(preflight_report.ok()) << preflight_report.status().toString();
  EXPECT_EQ(preflight_report->rows, 4);
  EXPECT_EQ(preflight_report->rows_with_errors, 0);
  for (int row = 1; row <= 4; ++row) {
    SCOPED_TRACE("row " + std::to_string(row));
    std::string home = "row " + std::to_string(row) + ": " + std::string(kHomeNameLayer);
    std::string away = "row " + std::to_string(row) + ": " + std::string(kAwayNameLayer);
    std::vector<std::string> home_infos = problemsAt(*preflight_report, Severity::kInfo, home);
    std::vector<std::string> away_infos = problemsAt(*preflight_report, Severity::kInfo, away);
    std::vector<std::string> home_warnings =
        problemsAt(*preflight_report, Severity::kWarning, home);
    std::vector<std::string> away_warnings =
        problemsAt(*preflight_report, Severity::kWarning, away);
    EXPECT_TRUE(containsSubstring(home_infos, "text is right to left"));
    EXPECT_TRUE(containsSubstring(away_infos, "text is right to left"));
    EXPECT_FALSE(containsSubstring(home_warnings, "no installed font has the characters"));
    EXPECT_FALSE(containsSubstring(away_warnings, "no installed font has the characters"));
    EXPECT_FALSE(containsSubstring(home_warnings, "does not fit its box"));
    EXPECT_FALSE(containsSubstring(away_warnings, "does not fit its box"));
  }
  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->succeeded(), 4);
  expectAllRowsRendered(*report, ExpectedVideo{});
}

TEST_F(MatchDayTextTest, LongNamesShrinkToTheirBox) {
  const fs::path data = "tests/testdata/text/long-names-fixtures.csv";
  TempDir out;
  Result<templates::Template> afc_row = bindRow(kMatchDayTemplate, data, 1);
  Result<templates::Template> unbreakable_row = bindRow(kMatchDayTemplate, data, 3);
  Result<templates::Template> wide_row = bindRow(kMatchDayTemplate, data, 4);
  ASSERT_TRUE(afc_row.ok()) << afc_row.status().toString();
  ASSERT_TRUE(unbreakable_row.ok()) << unbreakable_row.status().toString();
  ASSERT_TRUE(wide_row.ok()) << wide_row.status().toString();

  DrawnText afc = drawText(*afc_row, kAwayNameLayer);
  DrawnText unbreakable = drawText(*unbreakable_row, kHomeNameLayer);
  DrawnText wide_name = drawText(*wide_row, kHomeNameLayer);
  DrawnText narrow_name = drawText(*wide_row, kAwayNameLayer);
  Result<BatchReport> report = runBatch(batchRequest(kMatchDayTemplate, data, out), nullptr);

  EXPECT_DOUBLE_EQ(afc.report.size_px, 72);
  EXPECT_FALSE(afc.report.shrunk);
  EXPECT_FALSE(afc.report.overflows);
  // The 58-letter word fits neither on one line nor wrapped at spaces at
  // 36 px, so it is broken inside the word: two whole lines, none clipped.
  EXPECT_DOUBLE_EQ(unbreakable.report.size_px, 36);
  EXPECT_TRUE(unbreakable.report.overflows);
  EXPECT_EQ(unbreakable.report.line_count, 2);
  EXPECT_FALSE(unbreakable.report.ellipsized);
  EXPECT_EQ(inkedEdgePixels(unbreakable.raster), 0);
  // Twenty W's are much wider than twenty i's.
  EXPECT_TRUE(wide_name.report.shrunk);
  EXPECT_FALSE(wide_name.report.overflows);
  EXPECT_EQ(wide_name.report.line_count, 1);
  EXPECT_EQ(inkedEdgePixels(wide_name.raster), 0);
  EXPECT_FALSE(narrow_name.report.shrunk);
  EXPECT_LT(wide_name.report.size_px, narrow_name.report.size_px * 0.75);
  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->succeeded(), 4);
  expectAllRowsRendered(*report, ExpectedVideo{});
}

// ---------------------------------------------------------------------------
// Spreadsheet exports as the Match Day data table.

using MatchDayCsvTest = EngineCaseTest;

// Returns the columns of the Match Day data files, in file order.
std::vector<std::string> matchDayColumns() {
  return {"competition", "matchday", "date", "kickoff", "home", "away", "venue"};
}

TEST_F(MatchDayCsvTest, ByteOrderMarkIsStripped) {
  const fs::path data = "tests/testdata/csv/R16-utf8-bom.csv";
  TempDir out;

  Result<templates::DataTable> table = templates::readRows(data);
  Result<BatchReport> report = runBatch(batchRequest(kMatchDayTemplate, data, out), nullptr);

  ASSERT_TRUE(table.ok()) << table.status().toString();
  EXPECT_EQ(table->columns, matchDayColumns());
  ASSERT_EQ(table->rows.size(), 3u);
  for (const auto& row : table->rows) {
    for (const std::string& value : row.values) {
      EXPECT_EQ(value.find("\xEF\xBB\xBF"), std::string::npos) << value;
      EXPECT_EQ(value.find('\r'), std::string::npos) << value;
    }
  }
  EXPECT_EQ(table->rows[0].values[0], "Eredivisie");
  for (int row = 1; row <= 3; ++row) {
    SCOPED_TRACE("row " + std::to_string(row));
    Result<templates::Template> bound = bindRow(kMatchDayTemplate, data, row);
    ASSERT_TRUE(bound.ok()) << bound.status().toString();
    const templates::Layer* competition = findLayer(*bound, kCompetitionLayer);
    ASSERT_NE(competition, nullptr);
    EXPECT_EQ(textAt(*bound, kCompetitionLayer), "Eredivisie");
    Result<RasterPtr> drawn = engine->rasterizeLayer(*competition, nullptr);
    ASSERT_TRUE(drawn.ok()) << drawn.status().toString();
    EXPECT_GT(inkedPixels(**drawn), 500);
  }
  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->succeeded(), 3);
  expectAllRowsRendered(*report, ExpectedVideo{});
}

class SemicolonCsvTest : public ::testing::TestWithParam<const char*> {};

TEST_P(SemicolonCsvTest, ExcelSemicolonFileRenders) {
  const fs::path data = fs::path("tests/testdata/csv") / GetParam();
  TempDir out;

  Result<templates::DataTable> table = templates::readRows(data);
  Result<templates::Template> row1 = bindRow(kMatchDayTemplate, data, 1);
  Result<BatchReport> report = runBatch(batchRequest(kMatchDayTemplate, data, out), nullptr);

  ASSERT_TRUE(table.ok()) << table.status().toString();
  EXPECT_EQ(table->delimiter, ';');
  EXPECT_EQ(table->columns, matchDayColumns());
  ASSERT_EQ(table->rows.size(), 3u);
  EXPECT_EQ(table->rows[1].values[4], "Fortuna Düsseldorf, U23");
  EXPECT_EQ(table->rows[1].values[5], "1. FC Köln");
  ASSERT_TRUE(row1.ok()) << row1.status().toString();
  // 04.10.2025 is read day first: Saturday 4 October.
  EXPECT_EQ(textAt(*row1, kDateLayer), "SAT 4 OCT 2025 · 15:30");
  EXPECT_EQ(textAt(*row1, kHomeNameLayer), "FC Bayern München");
  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->succeeded(), 3);
  expectAllRowsRendered(*report, ExpectedVideo{});
}

INSTANTIATE_TEST_SUITE_P(ExcelExports, SemicolonCsvTest,
                         ::testing::Values("R17-semicolon.csv", "R17-semicolon-sep-hint.csv"));

TEST_F(MatchDayCsvTest, QuotedLineBreakStaysInCell) {
  const fs::path data = "tests/testdata/csv/R19-newline-in-cell.csv";
  TempDir out;

  Result<templates::DataTable> table = templates::readRows(data);
  Result<templates::Template> row1 = bindRow(kMatchDayTemplate, data, 1);
  Result<templates::Template> row3 = bindRow(kMatchDayTemplate, data, 3);
  Result<BatchReport> report = runBatch(batchRequest(kMatchDayTemplate, data, out), nullptr);

  ASSERT_TRUE(table.ok()) << table.status().toString();
  ASSERT_EQ(table->rows.size(), 4u);
  for (const auto& row : table->rows) {
    for (const std::string& value : row.values) {
      EXPECT_EQ(value.find('\r'), std::string::npos) << value;
    }
  }
  EXPECT_EQ(table->rows[0].values[6], "Estadio Azteca\nTribuna Norte");
  EXPECT_EQ(table->rows[1].values[4], "Paris Saint-Germain, Féminine");
  EXPECT_EQ(table->rows[2].values[4], "The \"Red\" Devils");
  EXPECT_EQ(table->rows[2].values[6], "Old Trafford\nSir Bobby Charlton Stand");
  EXPECT_EQ(table->rows[3].values[4], "Inter");
  ASSERT_TRUE(row1.ok()) << row1.status().toString();
  ASSERT_TRUE(row3.ok()) << row3.status().toString();
  // Two lines do not fit the 50 px venue box at its 24 px minimum size, so
  // the break becomes a space, never a symbol or a cut line.
  for (templates::Template* bound : {&*row1, &*row3}) {
    templates::Template spaced = *bound;
    templates::Layer* spaced_venue = findLayer(spaced, kVenueLayer);
    ASSERT_NE(spaced_venue, nullptr);
    std::string& content = std::get<templates::TextProps>(spaced_venue->props).content;
    std::replace(content.begin(), content.end(), '\n', ' ');
    SCOPED_TRACE(content);

    DrawnText venue = drawText(*bound, kVenueLayer);
    DrawnText expected = drawText(spaced, kVenueLayer);

    EXPECT_EQ(venue.report.line_count, 1);
    EXPECT_FALSE(venue.report.overflows);
    EXPECT_FALSE(venue.report.ellipsized);
    EXPECT_EQ(venue.raster.pixels, expected.raster.pixels);
  }
  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->succeeded(), 4);
  expectAllRowsRendered(*report, ExpectedVideo{});
}

// ---------------------------------------------------------------------------
// Crest images from the data, in the small crest template: 270x480, 10 fps,
// 1 s, a vertical gradient and the crest stretched to a 240x280 box at
// (15, 100).

using CrestImageTest = EngineCaseTest;

constexpr ExpectedVideo kCrestVideo{.frames = 10, .width = 270, .height = 480, .fps = 10};

// Returns where point (X, Y) of an IMAGE_WIDTH x IMAGE_HEIGHT crest lands on
// the canvas of the crest template.
std::pair<int, int> crestToCanvas(int x, int y, int image_width, int image_height) {
  return {15 + x * 240 / image_width, 100 + y * 280 / image_height};
}

TEST_F(CrestImageTest, DecompressionBombFailsFastAndOthersRender) {
  const fs::path data = "tests/testdata/cases/R05-decompression-bomb/crests.csv";
  TempDir out;

  Result<BatchReport> report = runBatch(batchRequest(kCrestTemplate, data, out), nullptr);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  ASSERT_EQ(report->rows.size(), 3u);
  const RowOutcome& bomb = report->rows[0];
  EXPECT_FALSE(bomb.ok);
  EXPECT_NE(bomb.error.find("crest-bomb-30000x30000.png: 30000x30000 pixels (900.0 megapixels) "
                            "exceeds the limit of 100 megapixels"),
            std::string::npos)
      << bomb.error;
  EXPECT_LT(bomb.seconds, 2.0);
  EXPECT_EQ(report->succeeded(), 2);
  const RowOutcome& good_svg = report->rows[1];
  const RowOutcome& huge_svg = report->rows[2];
  ASSERT_TRUE(good_svg.ok) << good_svg.error;
  ASSERT_TRUE(huge_svg.ok) << huge_svg.error;
  expectPlatformSpec(good_svg.video, kCrestVideo);
  expectPlatformSpec(huge_svg.video, kCrestVideo);
}

TEST_F(CrestImageTest, HugeSvgCanvasIsDrawnAtBoxSize) {
  const fs::path data = "tests/testdata/cases/R05-decompression-bomb/crests.csv";

  Result<Raster> frame = frameOf(kCrestTemplate, data, 3, 0.5);

  // The 100000 px square is scaled into the 240x280 box: the blue square
  // with the yellow disc in its middle.
  ASSERT_TRUE(frame.ok()) << frame.status().toString();
  auto [edge_x, edge_y] = crestToCanvas(3, 140, 240, 280);
  auto [centre_x, centre_y] = crestToCanvas(120, 140, 240, 280);
  expectColorNear(pixelAt(*frame, edge_x, edge_y), Color{0, 51, 160, 255}, 2);
  expectColorNear(pixelAt(*frame, centre_x, centre_y), Color{255, 209, 0, 255}, 2);
}

TEST_F(CrestImageTest, BrokenCrestsFailNamingFileAndReason) {
  const fs::path data = "tests/testdata/cases/R31-missing-asset-fail-fast/crests.csv";
  TempDir out;

  Result<BatchReport> report = runBatch(batchRequest(kCrestTemplate, data, out), nullptr);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  ASSERT_EQ(report->rows.size(), 5u);
  const RowOutcome& zero_bytes = report->rows[0];
  const RowOutcome& html = report->rows[1];
  const RowOutcome& jpeg_named_png = report->rows[2];
  const RowOutcome& url = report->rows[3];
  const RowOutcome& good = report->rows[4];
  EXPECT_FALSE(zero_bytes.ok);
  EXPECT_NE(zero_bytes.error.find("crest-zero-bytes.png: file is empty (0 bytes)"),
            std::string::npos)
      << zero_bytes.error;
  EXPECT_FALSE(html.ok);
  EXPECT_NE(html.error.find("crest-html-error-page.png: not an image: content starts like an "
                            "HTML page"),
            std::string::npos)
      << html.error;
  ASSERT_TRUE(jpeg_named_png.ok) << jpeg_named_png.error;
  expectPlatformSpec(jpeg_named_png.video, kCrestVideo);
  ASSERT_TRUE(good.ok) << good.error;
  expectPlatformSpec(good.video, kCrestVideo);
  EXPECT_FALSE(url.ok);
  EXPECT_NE(url.error.find("'https://crest-cdn.example.invalid/unreachable-city.svg' is a URL, "
                           "and remote files are not fetched"),
            std::string::npos)
      << url.error;
  // A URL is never fetched, so the row fails at once, not after a timeout.
  EXPECT_LT(url.seconds, 10.0);
  EXPECT_EQ(report->succeeded(), 2);
}

TEST_F(CrestImageTest, CmykJpegKeepsItsColours) {
  const fs::path data = "tests/testdata/cases/R01-cmyk-jpeg/crests.csv";
  for (int row : {1, 2}) {
    SCOPED_TRACE(row == 1 ? "with the Adobe marker" : "without the Adobe marker");

    Result<Raster> frame = frameOf(kCrestTemplate, data, row, 0.5);

    // The crest is 400x300: a red shield, a blue band and a white field.
    ASSERT_TRUE(frame.ok()) << frame.status().toString();
    auto [shield_x, shield_y] = crestToCanvas(200, 200, 400, 300);
    auto [band_x, band_y] = crestToCanvas(200, 130, 400, 300);
    auto [corner_x, corner_y] = crestToCanvas(10, 10, 400, 300);
    Color shield = pixelAt(*frame, shield_x, shield_y);
    Color band = pixelAt(*frame, band_x, band_y);
    Color corner = pixelAt(*frame, corner_x, corner_y);
    EXPECT_GT(shield.r, 150);
    EXPECT_LT(shield.g, 90);
    EXPECT_LT(shield.b, 90);
    EXPECT_GT(band.b, band.r + 60);
    EXPECT_GT(band.b, band.g + 30);
    EXPECT_GT(corner.r, 240);
    EXPECT_GT(corner.g, 240);
    EXPECT_GT(corner.b, 240);
  }
}

TEST_F(CrestImageTest, Png16HoleShowsTheBackground) {
  const fs::path data = "tests/testdata/cases/R03-png16-alpha/crests.csv";
  for (int row : {1, 2}) {
    SCOPED_TRACE(row == 1 ? "16-bit RGBA" : "16-bit grey and alpha");

    Result<Raster> frame = frameOf(kCrestTemplate, data, row, 0.5);

    // The gradient runs top to bottom, so the background at any point equals
    // the background at x = 5 on the same line, left of the crest box.
    ASSERT_TRUE(frame.ok()) << frame.status().toString();
    auto [hole_x, hole_y] = crestToCanvas(115, 130, 240, 280);
    auto [shield_x, shield_y] = crestToCanvas(50, 40, 240, 280);
    auto [top_left_x, top_left_y] = crestToCanvas(0, 0, 240, 280);
    auto [bottom_left_x, bottom_left_y] = crestToCanvas(0, 279, 240, 280);
    expectColorNear(pixelAt(*frame, hole_x, hole_y), pixelAt(*frame, 5, hole_y), 4);
    expectColorNear(pixelAt(*frame, top_left_x, top_left_y), pixelAt(*frame, 5, top_left_y), 4);
    expectColorNear(pixelAt(*frame, bottom_left_x, bottom_left_y),
                    pixelAt(*frame, 5, bottom_left_y), 4);
    Color shield = pixelAt(*frame, shield_x, shield_y);
    if (row == 1) {
      expectColorNear(shield, Color{200, 16, 46, 255}, 2);
    } else {
      EXPECT_EQ(shield.r, shield.g);
      EXPECT_EQ(shield.g, shield.b);
    }
  }
}

TEST_F(CrestImageTest, Png16CrestsRenderInABatch) {
  const fs::path data = "tests/testdata/cases/R03-png16-alpha/crests.csv";
  TempDir out;

  Result<BatchReport> report = runBatch(batchRequest(kCrestTemplate, data, out), nullptr);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->succeeded(), 2);
  expectAllRowsRendered(*report, kCrestVideo);
}

// ---------------------------------------------------------------------------
// Clips from the data as the background video of the small clip template:
// 180x320, 30 fps, 3 s, the clip's sound mixed in.

using BackgroundClipTest = EngineCaseTest;

constexpr ExpectedVideo kClipVideo{.frames = 90, .width = 180, .height = 320, .fps = 30};

TEST_F(BackgroundClipTest, RotatedPhoneClipIsUpright) {
  const fs::path data = "tests/testdata/cases/R20-video-rotation-metadata/clips.csv";
  for (int row : {1, 2}) {
    SCOPED_TRACE(row == 1 ? "rotated 90 degrees" : "rotated 180 degrees");

    Result<Raster> frame = frameOf(kClipTemplate, data, row, 1.0);

    // Upright, the clip is 180x320 with a red band on top and a green band
    // at the bottom, and fills the canvas.
    ASSERT_TRUE(frame.ok()) << frame.status().toString();
    Color top = pixelAt(*frame, 30, 20);
    Color bottom = pixelAt(*frame, 30, 300);
    EXPECT_GT(top.r, 200);
    EXPECT_LT(top.g, 60);
    EXPECT_LT(top.b, 60);
    EXPECT_LT(bottom.r, 60);
    EXPECT_GT(bottom.g, 100);
    EXPECT_LT(bottom.b, 60);
  }
}

TEST_F(BackgroundClipTest, VfrClipGivesConstantRate) {
  const fs::path data = "tests/testdata/cases/R22-video-vfr-phone/clips.csv";
  TempDir out;

  Result<BatchReport> report = runBatch(batchRequest(kClipTemplate, data, out), nullptr);
  Result<Raster> flash_1s = frameOf(kClipTemplate, data, 1, 1.0);
  Result<Raster> between = frameOf(kClipTemplate, data, 1, 1.5);
  Result<Raster> flash_2s = frameOf(kClipTemplate, data, 1, 2.0);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->succeeded(), 1);
  expectAllRowsRendered(*report, kClipVideo);
  // The clip flashes white at 0, 1 and 2 s of its real timing: its 100
  // frames neither last 100/30 s nor 100/60 s.
  ASSERT_TRUE(flash_1s.ok()) << flash_1s.status().toString();
  ASSERT_TRUE(between.ok()) << between.status().toString();
  ASSERT_TRUE(flash_2s.ok()) << flash_2s.status().toString();
  EXPECT_GT(meanLuma(*flash_1s), 200);
  EXPECT_LT(meanLuma(*between), 200);
  EXPECT_GT(meanLuma(*flash_2s), 200);
}

TEST_F(BackgroundClipTest, SoundlessClipsGetFullAudioTrack) {
  const fs::path data = "tests/testdata/cases/R23-video-no-audio/clips.csv";
  TempDir out;

  Result<BatchReport> report = runBatch(batchRequest(kClipTemplate, data, out), nullptr);

  // Row 1 has no audio stream and row 2 a silent one. Both outputs must carry
  // an AAC stereo 48 kHz track as long as the video.
  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->succeeded(), 2);
  expectAllRowsRendered(*report, kClipVideo);
}

TEST_F(BackgroundClipTest, HlgClipGivesBt709Output) {
  const fs::path data = "tests/testdata/cases/R26-hdr-hlg-10bit/clips.csv";
  TempDir out;
  Result<Raster> reference = readPng("tests/testdata/video/reference-sdr-tonemapped.png");
  ASSERT_TRUE(reference.ok()) << reference.status().toString();

  Result<BatchReport> report = runBatch(batchRequest(kClipTemplate, data, out), nullptr);
  Result<Raster> frame = frameOf(kClipTemplate, data, 1, 0);

  // expectPlatformSpec() requires BT.709 tags, never arib-std-b67 or bt2020.
  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->succeeded(), 1);
  expectAllRowsRendered(*report, kClipVideo);
  ASSERT_TRUE(frame.ok()) << frame.status().toString();
  EXPECT_GT(psnr(*frame, scaleRaster(*reference, 180, 320)), 25.0);
}

// ---------------------------------------------------------------------------
// A still-only template: a 1080x1920 RGB picture, a title and a 96 kHz,
// 24-bit mono FLAC music bed, 3 s at 30 fps.

TEST(StillTemplateTest, OutputMeetsPlatformSpec) {
  const fs::path data = "tests/testdata/cases/R27-platform-spec-output/rows.csv";
  TempDir out;

  Result<BatchReport> report = runBatch(batchRequest(kStillTemplate, data, out), nullptr);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  ASSERT_EQ(report->rows.size(), 1u);
  EXPECT_EQ(report->succeeded(), 1);
  expectAllRowsRendered(*report, ExpectedVideo{.frames = 90});
  Result<MediaInfo> info = probeMedia(report->rows[0].video);
  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_GE(info->duration_s, 3.0);
}

}  // namespace
}  // namespace smmhub::render
