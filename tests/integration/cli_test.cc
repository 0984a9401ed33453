// The smmhub command run in-process: exit statuses, messages that name the
// place of each problem, and the rows that still render when others fail.
#include "cli/cli.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/credits_command.h"
#include "redis/connection.h"
#include "render/image/image_loader.h"
#include "test_support.h"
#include "testing/redis_server.h"

namespace smmhub::cli {
namespace {

using smmhub::testing::kTestData;
using smmhub::testing::TempDir;

const std::filesystem::path kCliData = kTestData / "cli";
const std::string kBrand = (kTestData / "golden/brand").string();

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  static Outcome runCli(std::vector<std::string> args) {
    args.insert(args.begin(), "smmhub");
    std::vector<char*> argv;
    for (auto& arg : args) {
      argv.push_back(arg.data());
    }
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    int status = run(static_cast<int>(argv.size()), argv.data());
    Outcome outcome;
    outcome.out = ::testing::internal::GetCapturedStdout();
    outcome.err = ::testing::internal::GetCapturedStderr();
    outcome.status = status;
    return outcome;
  }

  static nlohmann::json readJson(const std::filesystem::path& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
  }

  // Returns the arguments that render ROWS of the mini template into OUT.
  static std::vector<std::string> renderArgs(const TempDir& out, const std::string& rows) {
    return {"render",  (kCliData / "mini.json").string(),
            "--data",  (kCliData / "rows.csv").string(),
            "--brand", kBrand,
            "--out",   out.path().string(),
            "--rows",  rows};
  }

  // Returns the arguments that render row 1 at 0.5 s of the mini template
  // into the image file OUT.
  static std::vector<std::string> frameArgs(const std::filesystem::path& out) {
    return {"frame",   (kCliData / "mini.json").string(),
            "--data",  (kCliData / "rows.csv").string(),
            "--brand", kBrand,
            "--row",   "1",
            "--time",  "0.5",
            "--out",   out.string()};
  }

  static std::string firstBytes(const std::filesystem::path& path, size_t count) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes(count, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(count));
    bytes.resize(static_cast<size_t>(in.gcount()));
    return bytes;
  }
};

TEST_F(CliTest, FailingRowsDoNotStopTheBatch) {
  TempDir out;

  Outcome outcome = runCli({"render", (kCliData / "mini.json").string(), "--data",
                            (kCliData / "rows.csv").string(), "--brand", kBrand, "--out",
                            out.path().string(), "--report", out.file("report.json").string()});

  EXPECT_EQ(outcome.status, kExitRowsFailed);
  nlohmann::json report = readJson(out.file("report.json"));
  ASSERT_EQ(report["rows"].size(), 7u);
  EXPECT_EQ(report["succeeded"], 5);
  EXPECT_EQ(report["failed"], 2);
  for (int ok_row : {1, 2, 4, 5, 6}) {
    EXPECT_TRUE(report["rows"][ok_row - 1]["ok"]) << "row " << ok_row;
  }
  EXPECT_TRUE(std::filesystem::exists(out.file("001.mp4")));
  EXPECT_TRUE(std::filesystem::exists(out.file("006.jpg")));
  EXPECT_FALSE(std::filesystem::exists(out.file("003.mp4")));
  EXPECT_FALSE(std::filesystem::exists(out.file("007.mp4")));
}

TEST_F(CliTest, MissingRequiredFieldNamesRowAndColumn) {
  TempDir out;

  Outcome outcome =
      runCli({"render", (kCliData / "mini.json").string(), "--data",
              (kCliData / "rows.csv").string(), "--brand", kBrand, "--out", out.path().string(),
              "--rows", "7", "--report", out.file("report.json").string()});

  EXPECT_EQ(outcome.status, kExitRowsFailed);
  nlohmann::json row = readJson(out.file("report.json"))["rows"][0];
  EXPECT_EQ(row["row"], 7);
  EXPECT_FALSE(row["ok"]);
  std::string error = row["error"];
  EXPECT_NE(error.find("row 7, column home"), std::string::npos) << error;
  EXPECT_NE(error.find("required field 'home' is empty"), std::string::npos) << error;
  EXPECT_NE(outcome.out.find("FAILED"), std::string::npos);
}

TEST_F(CliTest, CorruptImageNamesFileAndLayer) {
  TempDir out;

  runCli({"render", (kCliData / "mini.json").string(), "--data", (kCliData / "rows.csv").string(),
          "--brand", kBrand, "--out", out.path().string(), "--rows", "3", "--report",
          out.file("report.json").string()});

  nlohmann::json row = readJson(out.file("report.json"))["rows"][0];
  std::string error = row["error"];
  EXPECT_FALSE(row["ok"]);
  EXPECT_NE(error.find("/scenes/0/layers/1"), std::string::npos) << error;
  EXPECT_NE(error.find("truncated.png"), std::string::npos) << error;
}

TEST_F(CliTest, ExternalSvgReferenceIsWarnedNotFetched) {
  TempDir out;

  runCli({"render", (kCliData / "mini.json").string(), "--data", (kCliData / "rows.csv").string(),
          "--brand", kBrand, "--out", out.path().string(), "--rows", "5", "--report",
          out.file("report.json").string()});

  nlohmann::json row = readJson(out.file("report.json"))["rows"][0];
  ASSERT_TRUE(row["ok"]) << row.dump();
  ASSERT_EQ(row["warnings"].size(), 2u);
  std::string first = row["warnings"][0];
  std::string second = row["warnings"][1];
  EXPECT_NE(first.find("external-reference.svg"), std::string::npos) << first;
  EXPECT_NE(first.find("'http://example.com/bg.png' was not fetched"), std::string::npos) << first;
  EXPECT_NE(second.find("'http://example.com/x.png' was not fetched"), std::string::npos) << second;
}

TEST_F(CliTest, MalformedJsonNamesLineAndColumn) {
  TempDir out;

  Outcome outcome =
      runCli({"render", (kCliData / "malformed.json").string(), "--data",
              (kCliData / "rows.csv").string(), "--brand", kBrand, "--out", out.path().string()});

  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_NE(outcome.err.find("malformed.json:3:"), std::string::npos) << outcome.err;
  EXPECT_NE(outcome.err.find("syntax error"), std::string::npos) << outcome.err;
}

TEST_F(CliTest, UnknownLayerKindNamesPointer) {
  Outcome outcome = runCli({"validate", (kCliData / "unknown-kind.json").string()});

  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_NE(outcome.out.find("error: /scenes/0/layers/1/kind: unknown layer kind 'sprite'"),
            std::string::npos)
      << outcome.out;
}

TEST_F(CliTest, OversizedCanvasIsRejected) {
  TempDir out;

  Outcome outcome =
      runCli({"render", (kCliData / "oversized-canvas.json").string(), "--data",
              (kCliData / "rows.csv").string(), "--brand", kBrand, "--out", out.path().string()});

  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_NE(outcome.err.find("/canvas/width"), std::string::npos) << outcome.err;
  EXPECT_NE(outcome.err.find("4096"), std::string::npos) << outcome.err;
}

TEST_F(CliTest, InvalidUtf8CsvNamesRowAndColumn) {
  TempDir out;

  Outcome outcome = runCli({"render", (kCliData / "mini.json").string(), "--data",
                            (kTestData / "csv/invalid-utf8.csv").string(), "--brand", kBrand,
                            "--out", out.path().string()});

  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_NE(outcome.err.find("invalid-utf8.csv"), std::string::npos) << outcome.err;
  EXPECT_NE(outcome.err.find("row 1"), std::string::npos) << outcome.err;
  EXPECT_NE(outcome.err.find("column home"), std::string::npos) << outcome.err;
}

TEST_F(CliTest, MissingFontFallsBackWithWarning) {
  TempDir out;
  std::filesystem::path data = out.write("rows.csv", "home\nArsenal FC\n");

  Outcome validate = runCli({"validate", (kCliData / "missing-font.json").string(), "--data",
                             data.string(), "--brand", kBrand});
  Outcome render = runCli({"render", (kCliData / "missing-font.json").string(), "--data",
                           data.string(), "--brand", kBrand, "--out", out.path().string(),
                           "--report", out.file("report.json").string()});

  EXPECT_EQ(validate.status, kExitOk);
  EXPECT_NE(validate.out.find("warning: row 1: /scenes/0/layers/0: 'Arsenal FC' is not in font "
                              "'Nonexistent Display Sans'; drawn with"),
            std::string::npos)
      << validate.out;
  EXPECT_EQ(render.status, kExitOk);
  nlohmann::json row = readJson(out.file("report.json"))["rows"][0];
  ASSERT_EQ(row["warnings"].size(), 1u);
  EXPECT_NE(std::string(row["warnings"][0]).find("Nonexistent Display Sans"), std::string::npos);
}

TEST_F(CliTest, ValidateReportsEveryRowProblemAtOnce) {
  TempDir out;

  Outcome outcome = runCli({"validate", (kCliData / "mini.json").string(), "--data",
                            (kCliData / "rows.csv").string(), "--brand", kBrand, "--proof",
                            out.file("proof.png").string()});

  EXPECT_EQ(outcome.status, kExitRowsFailed);
  EXPECT_NE(outcome.out.find("row 7, column home"), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("truncated.png"), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("was not fetched"), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("7 rows checked, 2 with errors"), std::string::npos) << outcome.out;
  Result<render::Raster> proof = render::readPng(out.file("proof.png"));
  ASSERT_TRUE(proof.ok()) << proof.status().toString();
  EXPECT_EQ(proof->width, 5 * (216 + 8) + 8);
  EXPECT_EQ(proof->height, 384 + 16);
}

TEST_F(CliTest, FrameWritesOnePng) {
  TempDir out;

  Outcome outcome = runCli({"frame", (kCliData / "mini.json").string(), "--data",
                            (kCliData / "rows.csv").string(), "--brand", kBrand, "--row", "1",
                            "--time", "0.5", "--out", out.file("frame.png").string()});

  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  Result<render::Raster> frame = render::readPng(out.file("frame.png"));
  ASSERT_TRUE(frame.ok()) << frame.status().toString();
  EXPECT_EQ(frame->width, 216);
  EXPECT_EQ(frame->height, 384);
}

TEST_F(CliTest, InvalidRowListIsUsageError) {
  TempDir out;

  Outcome outcome = runCli({"render", (kCliData / "mini.json").string(), "--data",
                            (kCliData / "rows.csv").string(), "--brand", kBrand, "--out",
                            out.path().string(), "--rows", "3-x"});

  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_NE(outcome.err.find("--rows '3-x'"), std::string::npos) << outcome.err;
}

TEST_F(CliTest, UnknownPresetIsUsageError) {
  TempDir out;

  Outcome outcome = runCli({"render", (kCliData / "mini.json").string(), "--data",
                            (kCliData / "rows.csv").string(), "--brand", kBrand, "--out",
                            out.path().string(), "--preset", "bogus"});

  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_NE(outcome.err.find("--preset"), std::string::npos) << outcome.err;
  EXPECT_FALSE(std::filesystem::exists(out.file("001.mp4")));
}

TEST_F(CliTest, RowOutsideTableIsUsageError) {
  TempDir out;

  Outcome outcome = runCli({"render", (kCliData / "mini.json").string(), "--data",
                            (kCliData / "rows.csv").string(), "--brand", kBrand, "--out",
                            out.path().string(), "--rows", "9"});

  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_NE(outcome.err.find("row 9 does not exist; the file has 7 rows"), std::string::npos)
      << outcome.err;
}

TEST_F(CliTest, NamePatternWithFiltersNamesFiles) {
  TempDir out;

  Outcome outcome =
      runCli({"render", (kCliData / "mini.json").string(), "--data",
              (kCliData / "rows.csv").string(), "--brand", kBrand, "--out", out.path().string(),
              "--rows", "1,2", "--name", "{{row}}-{{home|upper}}"});

  EXPECT_EQ(outcome.status, kExitOk) << outcome.err;
  EXPECT_TRUE(std::filesystem::exists(out.file("001-ARSENAL-FC.mp4")));
  EXPECT_TRUE(std::filesystem::exists(out.file("002-FULHAM-FC.jpg")));
}

TEST_F(CliTest, UnknownFieldInNamePatternIsUsageError) {
  TempDir out;

  Outcome outcome = runCli({"render", (kCliData / "mini.json").string(), "--data",
                            (kCliData / "rows.csv").string(), "--brand", kBrand, "--out",
                            out.path().string(), "--name", "{{hom}}"});

  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_NE(outcome.err.find("--name '{{hom}}': 'hom' is not a field of the template"),
            std::string::npos)
      << outcome.err;
}

TEST_F(CliTest, RowListWithTrailingCharactersIsUsageError) {
  TempDir out;

  Outcome outcome = runCli(renderArgs(out, "2x"));

  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_NE(outcome.err.find("--rows '2x': expected numbers and ranges like 3,7-9"),
            std::string::npos)
      << outcome.err;
  EXPECT_FALSE(std::filesystem::exists(out.file("002.mp4")));
}

TEST_F(CliTest, RowListedTwiceRendersOnce) {
  TempDir out;
  std::vector<std::string> args = renderArgs(out, "2,1-2, 2");
  args.insert(args.end(), {"--report", out.file("report.json").string()});

  Outcome outcome = runCli(args);

  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  nlohmann::json rows = readJson(out.file("report.json"))["rows"];
  ASSERT_EQ(rows.size(), 2u) << rows.dump();
  EXPECT_EQ(rows[0]["row"], 2);
  EXPECT_EQ(rows[1]["row"], 1);
  EXPECT_TRUE(std::filesystem::exists(out.file("002.mp4")));
  EXPECT_FALSE(std::filesystem::exists(out.file("002-2.mp4")));
}

TEST_F(CliTest, ReportInMissingFolderIsUsageError) {
  TempDir out;
  std::string report = out.file("missing/report.json").string();
  std::vector<std::string> args = renderArgs(out, "1");
  args.insert(args.end(), {"--report", report});

  Outcome outcome = runCli(args);

  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_NE(outcome.err.find("smmhub render: --report '" + report + "': folder '" +
                             out.file("missing").string() +
                             "' does not exist; create it or choose another path"),
            std::string::npos)
      << outcome.err;
  EXPECT_FALSE(std::filesystem::exists(out.file("001.mp4")));
  EXPECT_FALSE(std::filesystem::exists(out.file("001.jpg")));
}

TEST_F(CliTest, ReportPathThatIsFolderIsUsageError) {
  TempDir out;
  std::filesystem::create_directory(out.file("report.json"));
  std::vector<std::string> args = renderArgs(out, "1");
  args.insert(args.end(), {"--report", out.file("report.json").string()});

  Outcome outcome = runCli(args);

  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_NE(outcome.err.find("--report '" + out.file("report.json").string() +
                             "': cannot open the file for writing: Is a directory"),
            std::string::npos)
      << outcome.err;
  EXPECT_FALSE(std::filesystem::exists(out.file("001.mp4")));
}

TEST_F(CliTest, ReportCheckLeavesNoFile) {
  TempDir out;
  std::vector<std::string> args = renderArgs(out, "9");
  args.insert(args.end(), {"--report", out.file("report.json").string()});

  Outcome outcome = runCli(args);

  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_NE(outcome.err.find("row 9 does not exist"), std::string::npos) << outcome.err;
  EXPECT_FALSE(std::filesystem::exists(out.file("report.json")));
}

TEST_F(CliTest, ReportMayGoInNewOutputFolder) {
  TempDir tmp;
  std::filesystem::path out = tmp.file("new/out");
  std::filesystem::path report = out / "report.json";

  Outcome outcome = runCli({"render", (kCliData / "mini.json").string(), "--data",
                            (kCliData / "rows.csv").string(), "--brand", kBrand, "--out",
                            out.string() + "/", "--rows", "1", "--report", report.string()});

  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  EXPECT_EQ(readJson(report)["succeeded"], 1);
  EXPECT_TRUE(std::filesystem::exists(out / "001.mp4"));
}

TEST_F(CliTest, FrameWritesJpegForJpgExtension) {
  TempDir out;

  Outcome jpg = runCli(frameArgs(out.file("frame.jpg")));
  Outcome jpeg = runCli(frameArgs(out.file("frame.JPEG")));

  ASSERT_EQ(jpg.status, kExitOk) << jpg.err;
  ASSERT_EQ(jpeg.status, kExitOk) << jpeg.err;
  EXPECT_EQ(firstBytes(out.file("frame.jpg"), 3), "\xFF\xD8\xFF");
  EXPECT_EQ(firstBytes(out.file("frame.JPEG"), 3), "\xFF\xD8\xFF");
}

TEST_F(CliTest, FrameWritesPngForPngExtension) {
  TempDir out;

  Outcome outcome = runCli(frameArgs(out.file("frame.png")));

  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  EXPECT_EQ(firstBytes(out.file("frame.png"), 8), "\x89PNG\r\n\x1A\n");
}

TEST_F(CliTest, FrameWithUnknownExtensionIsUsageError) {
  TempDir out;

  Outcome gif = runCli(frameArgs(out.file("frame.gif")));
  Outcome bare = runCli(frameArgs(out.file("frame")));

  EXPECT_EQ(gif.status, kExitUsage);
  EXPECT_NE(gif.err.find("smmhub frame: --out '" + out.file("frame.gif").string() +
                         "': unsupported extension '.gif'; use .png, .jpg or .jpeg"),
            std::string::npos)
      << gif.err;
  EXPECT_FALSE(std::filesystem::exists(out.file("frame.gif")));
  EXPECT_EQ(bare.status, kExitUsage);
  EXPECT_NE(bare.err.find("': the file name has no extension; use .png, .jpg or .jpeg"),
            std::string::npos)
      << bare.err;
}

TEST_F(CliTest, FrameRejectsNonFiniteTime) {
  TempDir out;

  for (std::string time : {"nan", "inf", "-inf"}) {
    std::vector<std::string> args = frameArgs(out.file("frame.png"));
    args[args.size() - 3] = time;

    Outcome outcome = runCli(args);

    EXPECT_EQ(outcome.status, kExitUsage) << time;
    EXPECT_NE(outcome.err.find("smmhub frame: --time " + time +
                               ": expected a finite number of seconds, such as 1.5"),
              std::string::npos)
        << outcome.err;
    EXPECT_FALSE(std::filesystem::exists(out.file("frame.png"))) << time;
  }
}

TEST_F(CliTest, VersionPrintsProjectVersion) {
  Outcome outcome = runCli({"--version"});

  EXPECT_EQ(outcome.status, kExitOk);
  EXPECT_EQ(outcome.out, "smmhub " SMMHUB_EXPECTED_VERSION "\n");
}

TEST_F(CliTest, LeftoverPartialFilesAreRemoved) {
  TempDir out;
  std::vector<std::string> leftovers = {".001.mp4.partial", ".001.jpg.partial",
                                        ".Arsenal-FC-v-Chelsea.mp4.partial"};
  std::vector<std::string> unrelated = {".keep.partial.txt", "notes.partial",
                                        ".notes.partial",    "clip.mp4.partial",
                                        ".mp4.partial",      ".my clip.mp4.partial"};
  for (const auto& name : leftovers) {
    out.write(name, "unfinished");
  }
  for (const auto& name : unrelated) {
    out.write(name, "keep");
  }
  std::vector<std::string> args = renderArgs(out, "1");
  args.insert(args.begin(), {"--log-level", "info"});

  Outcome outcome = runCli(args);

  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  for (const auto& name : leftovers) {
    EXPECT_FALSE(std::filesystem::exists(out.file(name))) << name;
  }
  for (const auto& name : unrelated) {
    EXPECT_TRUE(std::filesystem::exists(out.file(name))) << name;
  }
  EXPECT_TRUE(std::filesystem::exists(out.file("001.mp4")));
  EXPECT_NE(
      outcome.err.find("removed leftover partial files count=3 folder=" + out.path().string()),
      std::string::npos)
      << outcome.err;
}

TEST_F(CliTest, PartialFilesOfRunningBatchAreKept) {
  TempDir out;
  out.write(".009.mp4.partial", "being written");
  // Every batch that renders into a folder takes this shared lock on it.
  int folder = ::open(out.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(folder, 0);
  ASSERT_EQ(::flock(folder, LOCK_SH), 0);
  std::vector<std::string> args = renderArgs(out, "1");
  args.insert(args.begin(), {"--log-level", "info"});

  Outcome outcome = runCli(args);
  ::close(folder);

  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  EXPECT_TRUE(std::filesystem::exists(out.file(".009.mp4.partial")));
  EXPECT_TRUE(std::filesystem::exists(out.file("001.mp4")));
  EXPECT_NE(outcome.err.find("another batch is writing to folder="), std::string::npos)
      << outcome.err;
}

TEST_F(CliTest, RenderThroughRedisThenCacheStatsAndClear) {
  smmhub::testing::RedisServer redis;
  TempDir out;
  std::vector<std::string> args = renderArgs(out, "1,2");
  args.insert(args.end(), {"--cache-redis", redis.url(), "--tenant", "acme"});

  Outcome render = runCli(args);
  Outcome stats = runCli({"cache", "stats", "--cache-redis", redis.url(), "--tenant", "acme"});
  Outcome other = runCli({"cache", "stats", "--cache-redis", redis.url(), "--tenant", "globex"});
  Outcome clear = runCli({"cache", "clear", "--cache-redis", redis.url(), "--tenant", "acme"});
  Outcome after = runCli({"cache", "stats", "--cache-redis", redis.url(), "--tenant", "acme"});

  ASSERT_EQ(render.status, kExitOk) << render.err;
  EXPECT_NE(render.out.find("render buffer: layers "), std::string::npos) << render.out;
  EXPECT_NE(render.out.find("; redis "), std::string::npos) << render.out;
  ASSERT_EQ(stats.status, kExitOk) << stats.err;
  EXPECT_TRUE(stats.out.starts_with("tenant acme: ")) << stats.out;
  EXPECT_EQ(stats.out.find("tenant acme: 0 values"), std::string::npos) << stats.out;
  EXPECT_NE(other.out.find("tenant globex: 0 values"), std::string::npos) << other.out;
  ASSERT_EQ(clear.status, kExitOk) << clear.err;
  EXPECT_TRUE(clear.out.starts_with("tenant acme: removed ")) << clear.out;
  EXPECT_NE(after.out.find("tenant acme: 0 values"), std::string::npos) << after.out;
}

TEST_F(CliTest, RenderWithRedisDownSaysUncached) {
  smmhub::testing::RedisServer redis;
  std::string url = redis.url();
  redis.kill();
  TempDir out;
  std::vector<std::string> args = renderArgs(out, "1");
  args.insert(args.end(), {"--cache-redis", url});

  Outcome outcome = runCli(args);

  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  EXPECT_TRUE(std::filesystem::exists(out.file("001.mp4")));
  EXPECT_NE(outcome.out.find("redis was unreachable 1 times"), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("those parts rendered uncached"), std::string::npos) << outcome.out;
}

TEST_F(CliTest, CacheCommandErrorsAreUsageErrors) {
  Outcome bad_url = runCli({"cache", "stats", "--cache-redis", "http://127.0.0.1:1"});
  Outcome unreachable = runCli({"cache", "clear", "--cache-redis", "redis://127.0.0.1:1"});
  Outcome bad_tenant =
      runCli({"cache", "stats", "--cache-redis", "redis://127.0.0.1:1", "--tenant", "a b"});
  TempDir out;
  std::vector<std::string> args = renderArgs(out, "1");
  args.insert(args.end(), {"--tenant", "a:b"});
  Outcome render_bad_tenant = runCli(args);

  EXPECT_EQ(bad_url.status, kExitUsage);
  EXPECT_NE(bad_url.err.find("expected redis://HOST:PORT[/DB] or unix:///PATH"), std::string::npos)
      << bad_url.err;
  EXPECT_EQ(unreachable.status, kExitUsage);
  EXPECT_NE(unreachable.err.find(
                "smmhub cache clear: render buffer: redis redis://127.0.0.1:1: connect: "),
            std::string::npos)
      << unreachable.err;
  EXPECT_EQ(bad_tenant.status, kExitUsage);
  EXPECT_NE(bad_tenant.err.find("tenant 'a b': use 1 to 64 letters"), std::string::npos)
      << bad_tenant.err;
  EXPECT_EQ(render_bad_tenant.status, kExitUsage);
  EXPECT_FALSE(std::filesystem::exists(out.file("001.mp4")));
}

// Runs `smmhub credits ARGS...` against REDIS and a SQLite ledger in DIR.
std::vector<std::string> creditsArgs(const smmhub::testing::RedisServer& redis, const TempDir& dir,
                                     std::vector<std::string> args) {
  args.insert(args.begin(), "credits");
  args.insert(args.end(),
              {"--redis", redis.url(), "--db", "sqlite:" + dir.file("ledger.db").string()});
  return args;
}

TEST_F(CliTest, CreditsTopupReserveCommitReleaseAndHistory) {
  smmhub::testing::RedisServer redis;
  TempDir dir;
  auto credits = [&](std::vector<std::string> args) {
    return runCli(creditsArgs(redis, dir, args));
  };

  Outcome topup = credits({"topup", "acme", "100", "--key", "t1", "--actor", "ops"});
  Outcome short_reserve = credits({"reserve", "acme", "150", "--key", "r1", "--job", "b1"});
  Outcome reserve = credits({"reserve", "acme", "40", "--key", "r1", "--job", "b1"});
  Outcome repeat = credits({"reserve", "acme", "40", "--key", "r1", "--job", "b1"});
  Outcome commit = credits({"commit", "acme", "1", "--key", "c1", "--job", "b1"});
  Outcome over_commit = credits({"commit", "acme", "100", "--key", "c2", "--job", "b1"});
  Outcome release = credits({"release", "acme", "all", "--key", "x1", "--job", "b1"});
  Outcome balance = credits({"balance", "acme"});
  Outcome history = credits({"history", "acme"});

  EXPECT_EQ(topup.status, kExitOk) << topup.err;
  EXPECT_EQ(topup.out, "topup=100 available=100 held=0\n");
  EXPECT_EQ(short_reserve.status, kExitShort);
  EXPECT_EQ(short_reserve.out, "short=50 available=100 held=0\n");
  EXPECT_EQ(short_reserve.err,
            "smmhub credits reserve: tenant acme is short of 50 credits: 100 available, 150 "
            "needed\n");
  EXPECT_EQ(reserve.out, "reserve=40 available=60 held=40\n");
  EXPECT_EQ(repeat.out,
            "reserve=40 available=60 held=40 (repeated key: the first call's result)\n");
  EXPECT_EQ(commit.out, "commit=1 available=60 held=39\n");
  EXPECT_EQ(over_commit.status, kExitNotHeld);
  EXPECT_EQ(release.out, "release=39 available=99 held=0\n");
  EXPECT_EQ(balance.out, "available=99 held=0\n");
  ASSERT_EQ(history.status, kExitOk) << history.err;
  std::istringstream lines(history.out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) {
    rows.push_back(line);
  }
  ASSERT_EQ(rows.size(), 5u) << history.out;
  EXPECT_NE(rows[1].find("release           39         99       0  b1"), std::string::npos)
      << rows[1];
  EXPECT_NE(rows[4].find("topup            100        100       0  -"), std::string::npos)
      << rows[4];
  EXPECT_TRUE(rows[4].ends_with("  t1                        ops")) << rows[4];

  // Each call's ledger writer left the consumer group when it was done.
  redis::Connection connection(*redis::parseUrl(redis.url(), "test"), std::chrono::seconds(1));
  Result<redis::ReplyPtr> consumers =
      connection.command({"XINFO", "CONSUMERS", "smmhub:cr:{acme}:events", "ledger"});
  ASSERT_TRUE(consumers.ok()) << consumers.status().toString();
  EXPECT_EQ((*consumers)->elements, 0u);
}

TEST_F(CliTest, CreditsReconcileRepairsCountersRedisLost) {
  smmhub::testing::RedisServer redis;
  TempDir dir;
  auto credits = [&](std::vector<std::string> args) {
    return runCli(creditsArgs(redis, dir, args));
  };
  ASSERT_EQ(credits({"topup", "acme", "70", "--key", "t1"}).status, kExitOk);
  ASSERT_EQ(credits({"reserve", "acme", "20", "--key", "r1", "--job", "b1"}).status, kExitOk);
  redis.restart();  // no persistence: every counter is gone

  Outcome check = credits({"reconcile"});
  Outcome repair = credits({"reconcile", "--repair"});
  Outcome after = credits({"reconcile"});
  Outcome balance = credits({"balance", "acme"});

  EXPECT_EQ(check.status, kExitDifferences);
  EXPECT_EQ(check.out,
            "tenant acme: redis has no counters, the ledger says available 50 held 20 (b1 20)\n"
            "1 tenants checked, 1 differ, 0 repaired\n");
  EXPECT_EQ(repair.status, kExitOk);
  EXPECT_EQ(after.out, "1 tenants checked, 0 differ, 0 repaired\n");
  EXPECT_EQ(balance.out, "available=50 held=20\n  job b1 holds 20\n");
}

// `balance` against a Redis other than the one that keeps the counters (a
// wrong --redis) names the problem, and writes nothing there that a later
// call would take for the balance.
TEST_F(CliTest, CreditsBalanceWithoutCountersWritesNothing) {
  smmhub::testing::RedisServer redis;
  smmhub::testing::RedisServer other;
  TempDir dir;
  ASSERT_EQ(runCli(creditsArgs(redis, dir, {"topup", "acme", "70", "--key", "t1"})).status,
            kExitOk);
  ASSERT_EQ(runCli(creditsArgs(redis, dir, {"reserve", "acme", "20", "--key", "r1", "--job", "b1"}))
                .status,
            kExitOk);

  Outcome wrong = runCli(creditsArgs(other, dir, {"balance", "acme"}));
  Outcome again = runCli(creditsArgs(other, dir, {"balance", "acme"}));
  Outcome unused = runCli(creditsArgs(other, dir, {"balance", "globex"}));
  Outcome right = runCli(creditsArgs(redis, dir, {"balance", "acme"}));
  redis::Connection connection(*redis::parseUrl(other.url(), "test"), std::chrono::seconds(1));
  Result<redis::ReplyPtr> keys = connection.command({"DBSIZE"});

  EXPECT_EQ(wrong.status, kExitCreditsFailed);
  EXPECT_EQ(wrong.out, "");
  EXPECT_EQ(wrong.err,
            "smmhub credits balance: redis " + other.url() +
                " has no credit counters for tenant acme, but the ledger has available=50 "
                "held=20. Check that --redis names the Redis of smmhub-api and the workers: its "
                "counters are the balance. If it is that Redis and it lost its data, the next "
                "change of the tenant's credits rebuilds them from the ledger.\n");
  EXPECT_EQ(again.status, kExitCreditsFailed);
  EXPECT_EQ(unused.status, kExitOk) << unused.err;
  EXPECT_EQ(unused.out, "available=0 held=0\n");
  EXPECT_EQ(right.out, "available=50 held=20\n  job b1 holds 20\n");
  ASSERT_TRUE(keys.ok()) << keys.status().toString();
  EXPECT_EQ((*keys)->integer, 0);
}

TEST_F(CliTest, CreditsErrorsNameTheProblem) {
  smmhub::testing::RedisServer redis;
  TempDir dir;
  auto credits = [&](std::vector<std::string> args) {
    return runCli(creditsArgs(redis, dir, args));
  };
  std::string url = redis.url();

  Outcome bad_amount = credits({"topup", "acme", "1x", "--key", "k"});
  Outcome bad_tenant = credits({"topup", "a b", "1", "--key", "k"});
  Outcome no_servers = runCli({"credits", "balance", "acme"});
  Outcome no_db = runCli({"credits", "balance", "acme", "--redis", url});
  Outcome bad_db = runCli({"credits", "balance", "acme", "--redis", url, "--db", "mysql://x"});
  Outcome bad_amount_bad_db =
      runCli({"credits", "topup", "acme", "-0", "--key", "k", "--redis", url, "--db", "mysql://x"});
  Outcome zero_limit = credits({"history", "acme", "--limit", "0"});
  Outcome topup = credits({"topup", "acme", "10", "--key", "t1"});
  Outcome reused_key = credits({"reserve", "acme", "5", "--key", "t1", "--job", "b1"});
  Outcome below_zero = credits({"adjust", "acme", "-15", "--key", "a1"});
  Outcome over_release = credits({"release", "acme", "3", "--key", "x1"});
  redis.kill();
  Outcome down = credits({"reserve", "acme", "1", "--key", "k"});

  EXPECT_EQ(bad_amount.status, kExitUsage);
  EXPECT_EQ(bad_amount.err, "smmhub credits topup: amount '1x' is not a whole number of credits\n");
  EXPECT_EQ(bad_tenant.status, kExitUsage);
  EXPECT_EQ(bad_tenant.err,
            "smmhub credits topup: tenant 'a b': use 1 to 64 letters, digits, '-' or '_'\n");
  EXPECT_EQ(no_servers.status, kExitUsage);
  EXPECT_EQ(no_servers.err,
            "smmhub credits: missing Redis URL: pass --redis URL or set SMMHUB_REDIS\n");
  EXPECT_EQ(no_db.status, kExitUsage);
  EXPECT_EQ(no_db.err,
            "smmhub credits: missing ledger database URL: pass --db URL or set SMMHUB_DB\n");
  EXPECT_EQ(bad_amount_bad_db.status, kExitUsage);
  EXPECT_EQ(bad_amount_bad_db.err,
            "smmhub credits topup: amount 0: topup takes a number of credits from 1 to "
            "1000000000\n");
  EXPECT_EQ(zero_limit.status, kExitUsage);
  ASSERT_EQ(topup.status, kExitOk) << topup.err;
  EXPECT_EQ(reused_key.status, kExitUsage);
  EXPECT_EQ(reused_key.err,
            "smmhub credits reserve: credits reserve for tenant acme: key 't1' was already used "
            "for another call (topup|10|); use a new key for each call\n");
  EXPECT_EQ(below_zero.status, kExitShort);
  EXPECT_EQ(below_zero.out, "short=5 available=10 held=0\n");
  EXPECT_EQ(below_zero.err,
            "smmhub credits adjust: tenant acme is short of 5 credits: 10 available, 15 needed\n");
  EXPECT_EQ(over_release.status, kExitNotHeld);
  EXPECT_EQ(over_release.err,
            "smmhub credits release: the hold without a job holds 0 credits, fewer than the 3 "
            "requested\n");
  EXPECT_EQ(bad_db.status, kExitUsage);
  EXPECT_EQ(bad_db.err,
            "smmhub credits balance: database URL 'mysql://x': expected sqlite:PATH or "
            "postgresql://...\n");
  EXPECT_EQ(down.status, kExitCreditsFailed);
  EXPECT_TRUE(
      down.err.starts_with("smmhub credits reserve: credits reserve for tenant acme "
                           "failed: redis " +
                           url + ": "))
      << down.err;
}

TEST_F(CliTest, BilledRenderNeedsCreditsAndRedis) {
  smmhub::testing::RedisServer redis;
  TempDir dir;
  TempDir out;
  std::string db = "sqlite:" + dir.file("ledger.db").string();
  ASSERT_EQ(
      runCli({"credits", "topup", "acme", "1", "--key", "t1", "--redis", redis.url(), "--db", db})
          .status,
      kExitOk);
  auto billed = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = renderArgs(out, "1,2");
    args.insert(args.end(), {"--tenant", "acme"});
    args.insert(args.end(), extra.begin(), extra.end());
    return runCli(args);
  };

  Outcome no_db = billed({"--credits-redis", redis.url()});
  Outcome no_redis = billed({"--credits-db", db});
  Outcome short_balance = billed({"--credits-redis", redis.url(), "--credits-db", db});
  std::string url = redis.url();
  redis.kill();
  Outcome down = billed({"--credits-redis", url, "--credits-db", db});

  EXPECT_EQ(no_db.status, kExitUsage);
  EXPECT_EQ(no_db.err,
            "smmhub render: --credits-redis needs --credits-db URL, the ledger (sqlite:PATH or "
            "postgresql://...)\n");
  EXPECT_EQ(no_redis.status, kExitUsage);
  EXPECT_EQ(short_balance.status, kExitCreditsShort);
  EXPECT_NE(short_balance.err.find("smmhub render: tenant acme has 1 credits available and the "
                                   "batch needs 2, one per video: short by 1; nothing rendered"),
            std::string::npos)
      << short_balance.err;
  EXPECT_EQ(down.status, kExitRowsFailed);
  EXPECT_NE(down.err.find("smmhub render: credits reserve for tenant acme failed: redis " + url),
            std::string::npos)
      << down.err;
  EXPECT_FALSE(std::filesystem::exists(out.file("001.mp4")));
  EXPECT_FALSE(std::filesystem::exists(out.file("002.mp4")));
}

// Returns the arguments of `smmhub jobs enqueue` for ROWS of rows.csv,
// paid by tenant acme, against REDIS and the SQLite database of creditsArgs().
std::vector<std::string> enqueueArgs(const smmhub::testing::RedisServer& redis, const TempDir& dir,
                                     const std::string& rows) {
  return {"jobs",
          "enqueue",
          (kCliData / "mini.json").string(),
          "--data",
          (kCliData / "rows.csv").string(),
          "--brand",
          kBrand,
          "--tenant",
          "acme",
          "--storage",
          dir.file("out").string(),
          "--rows",
          rows,
          "--redis",
          redis.url(),
          "--db",
          "sqlite:" + dir.file("ledger.db").string()};
}

// Returns the arguments of `smmhub jobs SUBCOMMAND BATCH` against REDIS and DIR.
std::vector<std::string> jobsArgs(const smmhub::testing::RedisServer& redis, const TempDir& dir,
                                  const std::string& subcommand, const std::string& batch) {
  return {"jobs",
          subcommand,
          batch,
          "--redis",
          redis.url(),
          "--db",
          "sqlite:" + dir.file("ledger.db").string()};
}

// Returns the length of the Redis list KEY.
long long listLength(const smmhub::testing::RedisServer& redis, const std::string& key) {
  redis::Connection connection(*redis::parseUrl(redis.url(), "test"), std::chrono::seconds(1));
  Result<redis::ReplyPtr> length = connection.command({"LLEN", key});
  EXPECT_TRUE(length.ok()) << length.status().toString();
  return length.ok() ? (*length)->integer : -1;
}

TEST_F(CliTest, JobsEnqueueHoldsCreditsAndListsQueuedJobs) {
  smmhub::testing::RedisServer redis;
  TempDir dir;
  ASSERT_EQ(runCli(creditsArgs(redis, dir, {"topup", "acme", "5", "--key", "t1"})).status, kExitOk);

  std::vector<std::string> keyed_args = enqueueArgs(redis, dir, "1-3");
  keyed_args.insert(keyed_args.end(), {"--key", "k1"});

  Outcome enqueue = runCli(keyed_args);
  Outcome repeat = runCli(keyed_args);
  std::string batch = enqueue.out.substr(0, enqueue.out.find('\n'));
  Outcome list = runCli(jobsArgs(redis, dir, "list", batch));
  Outcome balance = runCli(creditsArgs(redis, dir, {"balance", "acme"}));

  ASSERT_EQ(enqueue.status, kExitOk) << enqueue.err;
  EXPECT_TRUE(batch.starts_with("b-")) << enqueue.out;
  EXPECT_EQ(enqueue.out, batch + "\n");
  EXPECT_EQ(repeat.status, kExitOk) << repeat.err;
  EXPECT_EQ(repeat.out, batch + "\n");
  ASSERT_EQ(list.status, kExitOk) << list.err;
  std::istringstream lines(list.out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) {
    rows.push_back(line);
  }
  ASSERT_EQ(rows.size(), 4u) << list.out;
  EXPECT_EQ(rows[0], "total=3 queued=3 active=0 retrying=0 completed=0 failed=0 cancelled=0");
  for (int row = 1; row <= 3; ++row) {
    EXPECT_TRUE(rows[row].starts_with("j-")) << rows[row];
    EXPECT_TRUE(rows[row].ends_with(fmt::format(" row={} state=queued attempts=0 error=\"\"", row)))
        << rows[row];
  }
  EXPECT_EQ(listLength(redis, "smmhub:bk:{acme}:ready"), 3);
  EXPECT_EQ(balance.out, "available=2 held=3\n  job " + batch + " holds 3\n");
}

TEST_F(CliTest, JobsEnqueueShortOfCreditsEnqueuesNothing) {
  smmhub::testing::RedisServer redis;
  TempDir dir;
  ASSERT_EQ(runCli(creditsArgs(redis, dir, {"topup", "acme", "2", "--key", "t1"})).status, kExitOk);

  Outcome enqueue = runCli(enqueueArgs(redis, dir, "1-3"));
  Outcome balance = runCli(creditsArgs(redis, dir, {"balance", "acme"}));

  EXPECT_EQ(enqueue.status, kExitCreditsShort);
  EXPECT_EQ(enqueue.out, "");
  EXPECT_EQ(enqueue.err,
            "smmhub jobs enqueue: tenant acme has 2 credits available and the batch needs 3, 1 "
            "per video: short by 1; nothing enqueued\n");
  EXPECT_EQ(listLength(redis, "smmhub:bk:{acme}:ready"), 0);
  EXPECT_EQ(listLength(redis, "smmhub:bk:ring"), 0);
  EXPECT_EQ(balance.out, "available=2 held=0\n");
}

TEST_F(CliTest, JobsCancelThenListShowsCancelled) {
  smmhub::testing::RedisServer redis;
  TempDir dir;
  ASSERT_EQ(runCli(creditsArgs(redis, dir, {"topup", "acme", "5", "--key", "t1"})).status, kExitOk);
  Outcome enqueue = runCli(enqueueArgs(redis, dir, "2,4"));
  ASSERT_EQ(enqueue.status, kExitOk) << enqueue.err;
  std::string batch = enqueue.out.substr(0, enqueue.out.find('\n'));

  Outcome cancel = runCli(jobsArgs(redis, dir, "cancel", batch));
  Outcome again = runCli(jobsArgs(redis, dir, "cancel", batch));
  Outcome list = runCli(jobsArgs(redis, dir, "list", batch));
  Outcome unknown = runCli(jobsArgs(redis, dir, "list", "b-unknown"));

  EXPECT_EQ(cancel.status, kExitOk) << cancel.err;
  EXPECT_EQ(cancel.out, "cancelled=2 active=0\n");
  EXPECT_EQ(again.out, "cancelled=0 active=0\n");
  ASSERT_EQ(list.status, kExitOk) << list.err;
  EXPECT_TRUE(list.out.starts_with(
      "total=2 queued=0 active=0 retrying=0 completed=0 failed=0 cancelled=2\n"))
      << list.out;
  EXPECT_NE(list.out.find(" row=2 state=cancelled attempts=0"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(" row=4 state=cancelled attempts=0"), std::string::npos) << list.out;
  EXPECT_EQ(listLength(redis, "smmhub:bk:{acme}:ready"), 0);
  EXPECT_EQ(unknown.status, kExitUsage);
  EXPECT_NE(unknown.err.find("b-unknown"), std::string::npos) << unknown.err;
}

TEST_F(CliTest, JobsEnqueueRejectsBadInput) {
  smmhub::testing::RedisServer redis;
  TempDir dir;
  ASSERT_EQ(runCli(creditsArgs(redis, dir, {"topup", "acme", "50", "--key", "t1"})).status,
            kExitOk);
  std::vector<std::string> no_storage_args = enqueueArgs(redis, dir, "1");
  auto storage = std::find(no_storage_args.begin(), no_storage_args.end(), "--storage");
  no_storage_args.erase(storage, storage + 2);
  std::vector<std::string> urgent_args = enqueueArgs(redis, dir, "1");
  urgent_args.insert(urgent_args.end(), {"--priority", "urgent"});

  Outcome no_storage = runCli(no_storage_args);
  Outcome urgent = runCli(urgent_args);
  Outcome past_end = runCli(enqueueArgs(redis, dir, "7-9"));
  Outcome balance = runCli(creditsArgs(redis, dir, {"balance", "acme"}));

  EXPECT_EQ(no_storage.status, kExitUsage);
  EXPECT_EQ(no_storage.err,
            "smmhub jobs enqueue: missing --storage DIR: the folder where the workers write the "
            "videos\n");
  EXPECT_EQ(urgent.status, kExitUsage);
  EXPECT_EQ(urgent.err,
            "smmhub jobs enqueue: --priority 'urgent' is invalid; expected normal or high\n");
  EXPECT_EQ(past_end.status, kExitUsage);
  EXPECT_NE(past_end.err.find("row 8 is past the last row"), std::string::npos) << past_end.err;
  EXPECT_EQ(listLength(redis, "smmhub:bk:{acme}:ready"), 0);
  EXPECT_EQ(balance.out, "available=50 held=0\n");
}

}  // namespace
}  // namespace smmhub::cli
