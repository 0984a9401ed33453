#include "render/engine.h"

#include <gtest/gtest.h>

#include "render/batch.h"
#include "render/video/probe.h"
#include "template/parser.h"
#include "testing/temp_dir.h"

namespace smmhub::render {
namespace {

// Two 1 s scenes at 10 fps: red, then blue fading in over 0.5 s.
constexpr const char* kCrossfadeTemplate = R"({
  "version": 1,
  "canvas": {"width": 32, "height": 32, "fps": 10, "background": "#000000"},
  "scenes": [
    {"id": "red", "duration": 1, "layers": [
      {"kind": "shape", "shape": "rectangle", "x": 0, "y": 0, "width": 32, "height": 32,
       "fill": "#FF0000"}]},
    {"id": "blue", "duration": 1, "transition": {"type": "crossfade", "duration": 0.5},
     "layers": [
      {"kind": "shape", "shape": "rectangle", "x": 0, "y": 0, "width": 32, "height": 32,
       "fill": "#0000FF"}]}
  ]
})";

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Diagnostics problems;
    auto parsed = templates::parseTemplate(kCrossfadeTemplate, "crossfade.json", &problems);
    ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
    tmpl_ = *parsed;
    auto fonts = FontLibrary::create();
    ASSERT_TRUE(fonts.ok());
    fonts_ = std::move(fonts).value();
    engine_ = std::make_unique<Engine>(fonts_.get(), nullptr, EngineOptions{});
  }

  Color centre(double time_s) {
    Diagnostics warnings;
    auto frame = engine_->renderFrame(tmpl_, time_s, &warnings);
    EXPECT_TRUE(frame.ok()) << frame.status().toString();
    const std::uint8_t* p = frame->row(16) + 16 * 4;
    return Color{p[2], p[1], p[0], p[3]};
  }

  templates::Template tmpl_;
  std::unique_ptr<FontLibrary> fonts_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, CrossfadeBlendsFromPreviousScene) {
  Color before = centre(0.9);
  Color start = centre(1.0);
  Color middle = centre(1.2);
  Color after = centre(1.6);

  EXPECT_EQ(before, (Color{255, 0, 0, 255}));
  EXPECT_EQ(start, (Color{255, 0, 0, 255}));
  EXPECT_NEAR(middle.r, 153, 2);  // 40% of the way to blue
  EXPECT_NEAR(middle.b, 102, 2);
  EXPECT_EQ(after, (Color{0, 0, 255, 255}));
}

TEST_F(EngineTest, StaticFramesAreRepeatedNotDrawn) {
  testing::TempDir temp;
  const std::filesystem::path& dir = temp.path();
  Diagnostics warnings;

  auto output =
      engine_->renderVideo(tmpl_, dir / "crossfade.mp4", dir / "crossfade.jpg", &warnings);

  // Frame 0 of each scene, the four crossfade steps after it, and the first
  // frame at full blue are drawn; the other 13 repeat the frame before.
  ASSERT_TRUE(output.ok()) << output.status().toString();
  EXPECT_EQ(output->frames, 20);
  EXPECT_EQ(output->composited_frames, 7);
  auto info = probeMedia(dir / "crossfade.mp4");
  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_EQ(info->video->frame_count, 20);
  ASSERT_TRUE(info->audio.has_value());
  EXPECT_NEAR(info->audio->duration_s, 2.0, 0.1);
}

TEST(SafeFileNameTest, ReplacesReservedCharacters) {
  EXPECT_EQ(safeFileName("Brighton & Hove Albion FC-v-Wolves <U21>"),
            "Brighton-&-Hove-Albion-FC-v-Wolves-U21");
  EXPECT_EQ(safeFileName("../../etc/passwd"), "etc-passwd");
  EXPECT_EQ(safeFileName("a/b\\c:d*e?f\"g|h"), "a-b-c-d-e-f-g-h");
  EXPECT_EQ(safeFileName("Bayern München"), "Bayern-München");
  EXPECT_EQ(safeFileName("..."), "");
}

TEST(SafeFileNameTest, ReplacesInvisibleCharacters) {
  EXPECT_EQ(safeFileName("invoice\u202Egpj.exe"), "invoice-gpj.exe");
  EXPECT_EQ(safeFileName("\u2067Al Ahly\u2069"), "Al-Ahly");
  EXPECT_EQ(safeFileName("Zero\u200Bwidth\uFEFF"), "Zero-width");
  EXPECT_EQ(safeFileName("C1\u0085control"), "C1-control");
  EXPECT_EQ(safeFileName("\u0627\u0644\u0623\u0647\u0644\u064A"),
            "\u0627\u0644\u0623\u0647\u0644\u064A");
}

TEST(SafeFileNameTest, PrefixesWindowsDeviceNames) {
  EXPECT_EQ(safeFileName("CON"), "_CON");
  EXPECT_EQ(safeFileName("nul.txt"), "_nul.txt");
  EXPECT_EQ(safeFileName("com1"), "_com1");
  EXPECT_EQ(safeFileName("LPT9"), "_LPT9");
  EXPECT_EQ(safeFileName("CONCACAF"), "CONCACAF");
  EXPECT_EQ(safeFileName("COM10"), "COM10");
}

TEST(SafeFileNameTest, CutsLongNamesOnCharacterBoundary) {
  std::string name;
  for (int i = 0; i < 100; ++i) {
    name += "ü";  // two bytes each
  }

  std::string safe = safeFileName(name);

  EXPECT_EQ(safe.size(), 120u);
  EXPECT_EQ(safe.substr(118), "ü");
}

}  // namespace
}  // namespace smmhub::render
