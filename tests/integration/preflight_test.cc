// Preflight of the mini card template: every problem once, each at its place.
#include "render/preflight.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "test_support.h"

namespace smmhub::render {
namespace {

namespace fs = std::filesystem;
using smmhub::testing::kTestData;
using smmhub::testing::TempDir;

const fs::path kCliData = kTestData / "cli";
const fs::path kBrand = kTestData / "golden/brand";

std::vector<Diagnostic> errorsOf(const PreflightReport& report) {
  std::vector<Diagnostic> errors;
  std::copy_if(report.problems.begin(), report.problems.end(), std::back_inserter(errors),
               [](const Diagnostic& d) { return d.severity == Severity::kError; });
  return errors;
}

// Copies the golden brand kit into DIR and writes BRAND_JSON as its brand.json.
fs::path brandCopy(const TempDir& dir, const std::string& brand_json) {
  fs::path copy = dir.file("brand");
  fs::copy(kBrand, copy, fs::copy_options::recursive);
  dir.write("brand/brand.json", brand_json);
  return copy;
}

TEST(PreflightTest, MissingBrandKitReportedOnceNotPerRow) {
  PreflightRequest request;
  request.template_path = kCliData / "mini.json";
  request.data_path = kCliData / "rows.csv";

  Result<PreflightReport> report = preflight(request);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  std::vector<Diagnostic> errors = errorsOf(*report);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].place, "/");
  EXPECT_EQ(errors[0].message,
            "the template uses the brand kit in 3 places and no brand kit was given; name its "
            "folder with --brand");
  for (const Diagnostic& error : errors) {
    EXPECT_EQ(error.message.find("brand kit ''"), std::string::npos) << error.toString();
  }
  EXPECT_EQ(report->rows, 7);
}

TEST(PreflightTest, BrandErrorsReportedOnce) {
  TempDir dir;
  fs::path brand = brandCopy(dir, R"({"name": "No Primary", "colors": {"secondary": "#C8102E"},
    "fonts": {"display": {"family": "Bebas Neue"}}, "assets": {"music": "music.wav"}})");
  PreflightRequest request;
  request.template_path = kCliData / "mini.json";
  request.brand_dir = brand;

  Result<PreflightReport> alone = preflight(request);
  request.data_path = kCliData / "rows.csv";
  Result<PreflightReport> with_rows = preflight(request);

  ASSERT_TRUE(alone.ok()) << alone.status().toString();
  ASSERT_EQ(errorsOf(*alone).size(), 1u);
  EXPECT_EQ(errorsOf(*alone)[0].place, "/scenes/0/layers/0/fill");
  EXPECT_EQ(errorsOf(*alone)[0].message,
            "brand kit 'No Primary' has no colour or asset 'primary'; add it to brand.json under "
            "colors or assets");
  ASSERT_TRUE(with_rows.ok()) << with_rows.status().toString();
  std::vector<Diagnostic> errors = errorsOf(*with_rows);
  long primary = std::count_if(errors.begin(), errors.end(), [](const Diagnostic& d) {
    return d.message.find("'primary'") != std::string::npos;
  });
  EXPECT_EQ(primary, 1);
  EXPECT_EQ(with_rows->rows_with_errors, 7);
}

TEST(PreflightTest, RowErrorsNameRowLayerAndColumn) {
  TempDir dir;
  fs::create_directories(dir.file("crests/folder.png"));
  fs::copy(kCliData / "crests/truncated.png", dir.file("crests/truncated.png"));
  fs::path rows = dir.write("rows.csv",
                            "home,crest\n"
                            "Folder FC,crests/folder.png\n"
                            "Corrupt City,crests/truncated.png\n");
  PreflightRequest request;
  request.template_path = kCliData / "mini.json";
  request.data_path = rows;
  request.brand_dir = kBrand;

  Result<PreflightReport> report = preflight(request);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  std::vector<Diagnostic> errors = errorsOf(*report);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].place, "row 1: /scenes/0/layers/1/src");
  EXPECT_EQ(errors[0].message,
            fs::absolute(dir.file("crests/folder.png")).lexically_normal().string() +
                " is a folder, not a file");
  EXPECT_EQ(errors[1].place, "row 2");
  EXPECT_TRUE(errors[1].message.starts_with("/scenes/0/layers/1 (column crest): "))
      << errors[1].message;
  EXPECT_EQ(report->rows_with_errors, 2);
}

}  // namespace
}  // namespace smmhub::render
