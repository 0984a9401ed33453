#include "template/binding.h"

#include <gtest/gtest.h>

#include "template/parser.h"

namespace smmhub::templates {
namespace {

namespace fs = std::filesystem;

const fs::path kTemplateDir = "tests/testdata/templates";

class BindingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Template> parsed = loadTemplate(kTemplateDir / "matchday.json", nullptr);
    ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
    tmpl_ = *parsed;
    Result<BrandKit> brand = loadBrandKit("tests/testdata/brand", nullptr);
    ASSERT_TRUE(brand.ok()) << brand.status().toString();
    brand_ = *brand;
  }

  // Binds row ROW_INDEX of TABLE to the Match Day template.
  Result<Template> bind(const DataTable& table, size_t row_index) {
    return bindTemplate(tmpl_, brand_, table, table.rows.at(row_index), mapping_, kTemplateDir,
                        &problems_);
  }

  static const TextProps& text(const Template& bound, size_t layer) {
    return std::get<TextProps>(bound.scenes[0].layers[layer].props);
  }

  Template tmpl_;
  BrandKit brand_;
  ColumnMapping mapping_;
  Diagnostics problems_;
};

TEST_F(BindingTest, BindsFieldsBrandAndAssets) {
  Result<DataTable> table = readRows("tests/testdata/csv/R16-utf8-bom.csv");
  ASSERT_TRUE(table.ok()) << table.status().toString();

  Result<Template> bound = bind(*table, 0);

  ASSERT_TRUE(bound.ok()) << bound.status().toString();
  const std::vector<Layer>& layers = bound->scenes[0].layers;
  const Fill& fill = std::get<ShapeProps>(layers[0].props).fill;
  EXPECT_EQ(fill.stops[0].color, "#0B1D51FF");
  EXPECT_EQ(fill.stops[1].color, "#C8102EFF");
  EXPECT_EQ(std::get<ImageProps>(layers[1].props).src,
            fs::absolute("tests/testdata/brand/logo.svg").string());
  EXPECT_EQ(text(*bound, 2).font_family, "Bebas Neue");
  EXPECT_EQ(text(*bound, 3).content, "Feyenoord");
  EXPECT_EQ(std::get<ImageProps>(layers[4].props).src,
            fs::absolute("tests/testdata/brand/crests/feyenoord.svg").string());
  EXPECT_EQ(text(*bound, 5).content, "SAT 4 OCT 2025 \xC2\xB7 18:45");
  EXPECT_EQ(std::get<AudioProps>(bound->audio[0].props).src,
            fs::absolute("tests/testdata/brand/music.wav").string());
}

TEST_F(BindingTest, DayFirstDatesFromSemicolonCsv) {
  Result<DataTable> table = readRows("tests/testdata/csv/R17-semicolon.csv");
  ASSERT_TRUE(table.ok()) << table.status().toString();
  brand_.libraries["crests"].entries["FC Bayern M\xC3\xBCnchen"] =
      brand_.libraries["crests"].entries["Arsenal FC"];

  Result<Template> bound = bind(*table, 0);

  ASSERT_TRUE(bound.ok()) << bound.status().toString();
  EXPECT_EQ(text(*bound, 3).content, "FC Bayern M\xC3\xBCnchen");
  EXPECT_EQ(text(*bound, 5).content, "SAT 4 OCT 2025 \xC2\xB7 15:30");
}

TEST_F(BindingTest, MarkupValuesStayLiteral) {
  Result<DataTable> table = readRows("tests/testdata/csv/R11-ampersand-markup.csv");
  ASSERT_TRUE(table.ok()) << table.status().toString();
  tmpl_.fields.push_back(Field{"away", FieldType::kText, false, std::nullopt, ""});
  BindInputs inputs{tmpl_, brand_, *table, table->rows[2], mapping_};

  Result<ExpandedText> home = expandFields("{{home}} v {{away|upper}}", inputs);

  ASSERT_TRUE(home.ok()) << home.status().toString();
  EXPECT_EQ(home->text, "<b>Bold</b> FC v SMITH &AMP; SONS UNITED");
}

TEST_F(BindingTest, RequiredFieldMissingNamesRowAndColumn) {
  std::string csv = "home,kickoff,date\n";
  for (int i = 1; i <= 7; ++i) {
    csv += (i == 7 ? std::string() : "Arsenal FC") + ",15:00,2024-08-17\n";
  }
  Result<DataTable> table = readCsv(csv, "fixtures.csv");
  ASSERT_TRUE(table.ok()) << table.status().toString();

  Result<Template> bound = bind(*table, 6);

  ASSERT_FALSE(bound.ok());
  EXPECT_EQ(bound.status().message(),
            "row 7: 1 error; first: row 7, column home: required field 'home' is empty; fill "
            "column 'home' or give the field a default");
  ASSERT_EQ(problems_.items().size(), 1u);
  EXPECT_EQ(problems_.items()[0].place, "row 7, column home");
}

TEST_F(BindingTest, MappedColumnAndBadTimeNamed) {
  Result<DataTable> table =
      readCsv("team,kickoff,date\nArsenal FC,3 pm,2024-08-17\n", "fixtures.csv");
  ASSERT_TRUE(table.ok()) << table.status().toString();
  mapping_.field_to_column["home"] = "team";

  Result<Template> bound = bind(*table, 0);

  ASSERT_FALSE(bound.ok());
  ASSERT_EQ(problems_.items().size(), 1u);
  EXPECT_EQ(problems_.items()[0].place, "row 1, column kickoff");
  EXPECT_EQ(problems_.items()[0].message, "'3 pm' is not a time; write HH:mm, as in 15:00");
}

TEST_F(BindingTest, UnknownCrestNamesLibraryAndClosest) {
  Result<DataTable> table =
      readCsv("home,kickoff,date\nArsenall FC,15:00,2024-08-17\n", "fixtures.csv");
  ASSERT_TRUE(table.ok()) << table.status().toString();

  Result<Template> bound = bind(*table, 0);

  ASSERT_FALSE(bound.ok());
  ASSERT_EQ(problems_.items().size(), 1u);
  EXPECT_EQ(problems_.items()[0].place, "row 1, column home");
  EXPECT_EQ(problems_.items()[0].message,
            "filter 'asset': 'Arsenall FC' is not in library 'crests' (" +
                fs::absolute("tests/testdata/brand/crests/index.json").string() +
                "); closest name: 'Arsenal FC'");
}

TEST_F(BindingTest, MissingLiteralFileNamesLayer) {
  tmpl_.scenes[0].layers[1].props = ImageProps{"missing/logo.png", Fit::kContain, 0};
  Result<DataTable> table =
      readCsv("home,kickoff,date\nArsenal FC,15:00,2024-08-17\n", "fixtures.csv");
  ASSERT_TRUE(table.ok()) << table.status().toString();

  Result<Template> bound = bind(*table, 0);

  ASSERT_FALSE(bound.ok());
  ASSERT_EQ(problems_.items().size(), 1u);
  EXPECT_EQ(problems_.items()[0].place, "/scenes/0/layers/1/src");
  EXPECT_EQ(problems_.items()[0].message,
            "file not found: " + fs::absolute(kTemplateDir / "missing/logo.png").string());
}

TEST_F(BindingTest, UrlSourceRejectedAsUrl) {
  tmpl_.scenes[0].layers[1].props =
      ImageProps{"https://cdn.example.invalid/logo.svg", Fit::kContain, 0};
  Result<DataTable> table =
      readCsv("home,kickoff,date\nArsenal FC,15:00,2024-08-17\n", "fixtures.csv");
  ASSERT_TRUE(table.ok()) << table.status().toString();

  Result<Template> bound = bind(*table, 0);

  ASSERT_FALSE(bound.ok());
  ASSERT_EQ(problems_.items().size(), 1u);
  EXPECT_EQ(problems_.items()[0].place, "/scenes/0/layers/1/src");
  EXPECT_EQ(problems_.items()[0].message,
            "'https://cdn.example.invalid/logo.svg' is a URL, and remote files are not fetched; "
            "download the file and give its path");
}

TEST_F(BindingTest, FolderAsSourceNamedAsFolder) {
  tmpl_.scenes[0].layers[1].props = ImageProps{"../brand", Fit::kContain, 0};
  Result<DataTable> table =
      readCsv("home,kickoff,date\nArsenal FC,15:00,2024-08-17\n", "fixtures.csv");
  ASSERT_TRUE(table.ok()) << table.status().toString();

  Result<Template> bound = bind(*table, 0);

  ASSERT_FALSE(bound.ok());
  ASSERT_EQ(problems_.items().size(), 1u);
  EXPECT_EQ(problems_.items()[0].place, "/scenes/0/layers/1/src");
  EXPECT_EQ(problems_.items()[0].message,
            fs::absolute("tests/testdata/brand").string() + " is a folder, not a file");
}

TEST_F(BindingTest, OverlongTextRejectedAtLayer) {
  std::string long_name(kMaxTextChars + 1, 'A');
  std::string many_lines = "\"";
  for (size_t i = 0; i < kMaxTextLines; ++i) {
    many_lines += "x\n";
  }
  many_lines += "x\"";
  Result<DataTable> table = readCsv("home,kickoff,date\n" + long_name + ",15:00,2024-08-17\n" +
                                        many_lines + ",15:00,2024-08-17\n",
                                    "fixtures.csv");
  ASSERT_TRUE(table.ok()) << table.status().toString();
  // No crest lookup for these names.
  tmpl_.scenes[0].layers[4].props = ImageProps{"../brand/logo.svg", Fit::kContain, 0};

  ASSERT_FALSE(bind(*table, 0).ok());
  ASSERT_FALSE(bind(*table, 1).ok());

  ASSERT_EQ(problems_.items().size(), 2u);
  EXPECT_EQ(problems_.items()[0].place, "/scenes/0/layers/3/content");
  EXPECT_EQ(problems_.items()[0].message,
            "text is 4001 characters long, over the limit of 4000; shorten it");
  EXPECT_EQ(problems_.items()[1].place, "/scenes/0/layers/3/content");
  EXPECT_EQ(problems_.items()[1].message, "text has 201 lines, over the limit of 200; shorten it");
}

TEST_F(BindingTest, FileFromDataCellNotesColumn) {
  Result<DataTable> table =
      readCsv("home,kickoff,date\nArsenal FC,15:00,2024-08-17\n", "fixtures.csv");
  ASSERT_TRUE(table.ok()) << table.status().toString();

  Result<Template> bound = bind(*table, 0);

  ASSERT_TRUE(bound.ok()) << bound.status().toString();
  const std::vector<Layer>& layers = bound->scenes[0].layers;
  EXPECT_EQ(layers[4].source_column, "column home");
  EXPECT_EQ(layers[4].place(), "/scenes/0/layers/4 (column home)");
  EXPECT_EQ(layers[1].source_column, "");  // the brand logo
  EXPECT_EQ(layers[1].place(), "/scenes/0/layers/1");
}

TEST_F(BindingTest, BrandReferencesCheckedOnceWithoutData) {
  brand_.colors.erase("primary");
  brand_.libraries.clear();
  Diagnostics problems;

  checkBrandReferences(tmpl_, brand_, &problems);

  ASSERT_EQ(problems.items().size(), 2u);
  EXPECT_EQ(problems.items()[0].place, "/scenes/0/layers/0/fill/stops/0/color");
  EXPECT_EQ(problems.items()[0].message,
            "brand kit '" + brand_.name +
                "' has no colour or asset 'primary'; add it to brand.json under colors or assets");
  EXPECT_EQ(problems.items()[1].place, "/scenes/0/layers/4/src");
  EXPECT_EQ(problems.items()[1].message,
            "filter 'asset': brand kit '" + brand_.name +
                "' has no library 'crests'; add it to brand.json under libraries");
}

TEST_F(BindingTest, ReferencedFieldsInOrder) {
  EXPECT_EQ(referencedFields(tmpl_), (std::vector<std::string>{"home", "date", "kickoff"}));
}

// The mini card reads its image layer's src from the crest field,
// "{{crest}}", and its text layer from home.
class RemoteSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Template> parsed = loadTemplate("tests/testdata/cli/mini.json", nullptr);
    ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
    tmpl_ = *parsed;
  }

  // Returns "COLUMN URL POINTER" for each remote source of CSV's first row.
  std::vector<std::string> sourcesOf(const std::string& csv) {
    Result<DataTable> table = readCsv(csv, "rows.csv");
    EXPECT_TRUE(table.ok()) << table.status().toString();
    std::vector<std::string> listed;
    if (!table.ok()) {
      return listed;
    }
    for (const RemoteSource& source : remoteSources(tmpl_, *table, table->rows[0], mapping_)) {
      listed.push_back(source.column + " " + source.url + " " + source.pointer);
    }
    return listed;
  }

  void setCrestSource(const std::string& src) {
    std::get<ImageProps>(tmpl_.scenes[0].layers[1].props).src = src;
  }

  Template tmpl_;
  ColumnMapping mapping_;
};

TEST_F(RemoteSourcesTest, DataPathsOutsideTheSourceRootsAreRefused) {
  Result<BrandKit> brand = loadBrandKit("tests/testdata/golden/brand", nullptr);
  ASSERT_TRUE(brand.ok()) << brand.status().toString();
  Result<DataTable> table = readCsv(
      "home,crest\nArsenal FC,crests/good.svg\nFulham FC,../golden/brand/logo.svg\n"
      "Leeds,/etc/hostname\n",
      "rows.csv");
  ASSERT_TRUE(table.ok()) << table.status().toString();
  table->source = fs::absolute("tests/testdata/cli/rows.csv");
  table->source_roots = {fs::absolute("tests/testdata/cli")};
  auto bind = [&](size_t row) {
    Diagnostics problems;
    return bindTemplate(tmpl_, *brand, *table, table->rows[row], mapping_,
                        "tests/testdata/cli", &problems);
  };

  Result<Template> inside = bind(0);
  Result<Template> climbing = bind(1);
  Result<Template> absolute = bind(2);

  ASSERT_TRUE(inside.ok()) << inside.status().toString();
  EXPECT_EQ(std::get<ImageProps>(inside->scenes[0].layers[1].props).src,
            fs::absolute("tests/testdata/cli/crests/good.svg").string());
  ASSERT_FALSE(climbing.ok());
  EXPECT_NE(climbing.status().message().find(
                "row 2: 1 error; first: /scenes/0/layers/1/src: '../golden/brand/logo.svg' names "
                "a file outside the ones this batch may read"),
            std::string::npos)
      << climbing.status().message();
  ASSERT_FALSE(absolute.ok());
  EXPECT_NE(absolute.status().message().find("'/etc/hostname' names a file outside"),
            std::string::npos)
      << absolute.status().message();
  // Without roots, the same rows read any file, as the command line allows.
  table->source_roots.clear();
  EXPECT_TRUE(bind(1).ok());
}

TEST_F(RemoteSourcesTest, ListsUrlCellOfImageSource) {
  std::vector<std::string> https =
      sourcesOf("home,crest\nArsenal FC, https://cdn.example.invalid/a.svg \n");
  std::vector<std::string> http =
      sourcesOf("home,crest\nArsenal FC,HTTP://cdn.example.invalid/b\n");

  EXPECT_EQ(https, std::vector<std::string>{
                       "crest https://cdn.example.invalid/a.svg /scenes/0/layers/1/src"});
  EXPECT_EQ(http,
            std::vector<std::string>{"crest HTTP://cdn.example.invalid/b /scenes/0/layers/1/src"});
}

TEST_F(RemoteSourcesTest, SkipsPathsOtherSchemesAndText) {
  EXPECT_TRUE(sourcesOf("home,crest\nArsenal FC,crests/good.svg\n").empty());
  EXPECT_TRUE(sourcesOf("home,crest\nArsenal FC,ftp://cdn.example.invalid/a.svg\n").empty());
  EXPECT_TRUE(sourcesOf("home,crest\nArsenal FC,\n").empty());
  // A URL in a text field is text.
  EXPECT_TRUE(sourcesOf("home,crest\nhttps://club.example.invalid,crests/good.svg\n").empty());
}

TEST_F(RemoteSourcesTest, ListsWholeValueOnly) {
  const std::string csv = "home,crest\nArsenal FC,https://cdn.example.invalid/a.svg\n";

  setCrestSource("{{crest | trim}}");
  std::vector<std::string> trimmed = sourcesOf(csv);
  setCrestSource("{{crest | upper}}");
  std::vector<std::string> upper = sourcesOf(csv);
  setCrestSource("{{crest}}?size=large");
  std::vector<std::string> longer = sourcesOf(csv);

  EXPECT_EQ(trimmed.size(), 1u);
  EXPECT_TRUE(upper.empty());
  EXPECT_TRUE(longer.empty());
}

TEST_F(RemoteSourcesTest, FollowsColumnMapping) {
  mapping_.field_to_column["crest"] = "logo_url";

  std::vector<std::string> listed =
      sourcesOf("home,logo_url\nArsenal FC,https://cdn.example.invalid/a.svg\n");

  EXPECT_EQ(listed, std::vector<std::string>{
                        "logo_url https://cdn.example.invalid/a.svg /scenes/0/layers/1/src"});
}

// Expands TEXT with one row whose column n holds VALUE, for a number field n.
Result<ExpandedText> expandNumber(std::string_view text, const std::string& value) {
  Template tmpl;
  tmpl.fields.push_back(Field{.name = "n", .type = FieldType::kNumber});
  BrandKit brand;
  DataTable table;
  table.columns = {"n"};
  DataRow row{.number = 1, .line = 2, .values = {value}};
  ColumnMapping mapping;
  return expandFields(text, {tmpl, brand, table, row, mapping});
}

// Found while writing fuzz/field_text.cc, whose invariant catches it: the
// number filter wrote into 64 bytes and cut longer numbers short.
TEST(ExpandFieldsTest, NumberFilterWritesEveryDigit) {
  Result<ExpandedText> expanded = expandNumber("{{n|number:0}}", "1e70");

  ASSERT_TRUE(expanded.ok()) << expanded.status().toString();
  EXPECT_EQ(expanded->text,
            "10000000000000000725314363815292351261583744096465219555182101554790400");
}

// Found by fuzz/field_text.cc: a number field took "inf", and "nan" too.
TEST(ExpandFieldsTest, NotANumberIsRejected) {
  Result<ExpandedText> nan = expandNumber("{{n|number:2}}", "nan");
  Result<ExpandedText> infinity = expandNumber("{{n}}", "-inf");

  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(nan.status().message(), "row 1, column n: 'nan' is not a number; use digits and a '.'");
  ASSERT_FALSE(infinity.ok());
  EXPECT_EQ(infinity.status().message(),
            "row 1, column n: '-inf' is not a number; use digits and a '.'");
}

}  // namespace
}  // namespace smmhub::templates
