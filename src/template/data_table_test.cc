#include "template/data_table.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace smmhub::templates {
namespace {

const std::vector<std::string> kFixtureColumns = {"competition", "matchday", "date", "kickoff",
                                                  "home",        "away",     "venue"};

bool anyContains(const DataTable& table, std::string_view needle) {
  for (const std::string& column : table.columns) {
    if (column.find(needle) != std::string::npos) {
      return true;
    }
  }
  for (const DataRow& row : table.rows) {
    for (const std::string& value : row.values) {
      if (value.find(needle) != std::string::npos) {
        return true;
      }
    }
  }
  return false;
}

TEST(DataTableTest, Utf8BomIsStripped) {
  Result<DataTable> table = readRows("tests/testdata/csv/R16-utf8-bom.csv");

  ASSERT_TRUE(table.ok()) << table.status().toString();
  EXPECT_EQ(table->columns, kFixtureColumns);
  ASSERT_EQ(table->rows.size(), 3u);
  EXPECT_EQ(table->rows[0].values,
            (std::vector<std::string>{"Eredivisie", "8", "2025-10-04", "18:45", "Feyenoord", "PSV",
                                      "De Kuip"}));
  EXPECT_EQ(table->rows[2].values[6], "AFAS Stadion");
  EXPECT_FALSE(anyContains(*table, "\xEF\xBB\xBF"));
  EXPECT_FALSE(anyContains(*table, "\r"));
  EXPECT_EQ(table->delimiter, ',');
}

TEST(DataTableTest, SemicolonDelimiterDetected) {
  for (const char* path :
       {"tests/testdata/csv/R17-semicolon.csv", "tests/testdata/csv/R17-semicolon-sep-hint.csv"}) {
    SCOPED_TRACE(path);
    Result<DataTable> table = readRows(path);

    ASSERT_TRUE(table.ok()) << table.status().toString();
    EXPECT_EQ(table->delimiter, ';');
    EXPECT_EQ(table->columns, kFixtureColumns);
    ASSERT_EQ(table->rows.size(), 3u);
    for (const DataRow& row : table->rows) {
      EXPECT_EQ(row.values.size(), 7u);
    }
    EXPECT_EQ(table->rows[1].values[4], "Fortuna D\xC3\xBCsseldorf, U23");
    EXPECT_EQ(table->rows[1].values[5], "1. FC K\xC3\xB6ln");
    EXPECT_EQ(table->rows[0].values[2], "04.10.2025");
  }
}

TEST(DataTableTest, SepHintLineCountsAsLine) {
  Result<DataTable> table = readRows("tests/testdata/csv/R17-semicolon-sep-hint.csv");

  ASSERT_TRUE(table.ok()) << table.status().toString();
  EXPECT_EQ(table->rows[0].number, 1);
  EXPECT_EQ(table->rows[0].line, 3);
}

TEST(DataTableTest, NewlinesInQuotedCellsKept) {
  Result<DataTable> table = readRows("tests/testdata/csv/R19-newline-in-cell.csv");

  ASSERT_TRUE(table.ok()) << table.status().toString();
  ASSERT_EQ(table->rows.size(), 4u);
  EXPECT_EQ(table->rows[0].values[6], "Estadio Azteca\nTribuna Norte");
  EXPECT_EQ(table->rows[1].values[4], "Paris Saint-Germain, F\xC3\xA9minine");
  EXPECT_EQ(table->rows[2].values[4], "The \"Red\" Devils");
  EXPECT_EQ(table->rows[2].values[6], "Old Trafford\nSir Bobby Charlton Stand");
  EXPECT_EQ(table->rows[3].values[6], "San Siro");
  EXPECT_FALSE(anyContains(*table, "\r"));
  EXPECT_EQ(table->rows[1].line, 4);
  EXPECT_EQ(table->rows[3].line, 7);
}

TEST(DataTableTest, MarkupKeptLiterally) {
  Result<DataTable> table = readRows("tests/testdata/csv/R11-ampersand-markup.csv");

  ASSERT_TRUE(table.ok()) << table.status().toString();
  ASSERT_EQ(table->rows.size(), 4u);
  EXPECT_EQ(table->rows[0].values[4], "Brighton & Hove Albion");
  EXPECT_EQ(table->rows[0].values[5], "Wolves <U21>");
  EXPECT_EQ(table->rows[2].values[4], "<b>Bold</b> FC");
  EXPECT_EQ(table->rows[2].values[5], "Smith &amp; Sons United");
  EXPECT_EQ(table->rows[2].values[6], "Arena <span foreground=\"red\">X</span>");
  EXPECT_EQ(table->rows[3].values[0], "Cup <Final>");
  EXPECT_EQ(table->rows[3].values[5], "Fish & Chips < 5 Town");
}

TEST(DataTableTest, InvalidUtf8NamesRowAndColumn) {
  Result<DataTable> table = readRows("tests/testdata/csv/invalid-utf8.csv");

  ASSERT_FALSE(table.ok());
  EXPECT_EQ(
      table.status().message(),
      "tests/testdata/csv/invalid-utf8.csv: row 1 (line 2), column home: invalid UTF-8 at byte "
      "offset 34 of the file; save the file as UTF-8 (\"CSV UTF-8\" in Excel)");
}

TEST(DataTableTest, RaggedRowNamesRow) {
  Result<DataTable> table = readCsv("a,b,c\n1,2,3\n4,5\n", "data.csv");

  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().message(),
            "data.csv: row 2 (line 3) has 2 cells but the header has 3 columns; quote values "
            "that contain the delimiter ','");
}

TEST(DataTableTest, TrailingBlankLinesIgnored) {
  Result<DataTable> table = readCsv(" a ;b\r\n1;2\r\n\r\n\r\n", "data.csv");

  ASSERT_TRUE(table.ok()) << table.status().toString();
  EXPECT_EQ(table->columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(table->rows.size(), 1u);
  EXPECT_EQ(table->columnIndex("b"), 1);
  EXPECT_EQ(table->columnIndex("c"), -1);
}

TEST(DataTableTest, UnclosedQuoteIsError) {
  Result<DataTable> table = readCsv("a,b\n1,\"open\n", "data.csv");

  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().message(),
            "data.csv: the quote opened on line 2 is never closed; close it or double it (\"\") "
            "if it is text");
}

// Found by fuzz/csv_reader.cc: an error in the header line did not name the
// file, unlike the same error in a row.
TEST(DataTableTest, UnclosedQuoteInHeaderNamesFile) {
  Result<DataTable> table = readCsv("\"home,away\n", "rows.csv");

  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(table.status().message(),
            "rows.csv: the quote opened on line 1 is never closed; close it or double it (\"\") "
            "if it is text");
}

TEST(DataTableTest, JsonRowsUnionColumns) {
  Result<DataTable> table = readJsonRows(
      R"([{"home": "Arsenal FC", "matchday": 7},
          {"home": "Feyenoord", "live": true, "venue": null}])",
      "rows.json");

  ASSERT_TRUE(table.ok()) << table.status().toString();
  EXPECT_EQ(table->columns, (std::vector<std::string>{"home", "matchday", "live", "venue"}));
  ASSERT_EQ(table->rows.size(), 2u);
  EXPECT_EQ(table->rows[0].values, (std::vector<std::string>{"Arsenal FC", "7", "", ""}));
  EXPECT_EQ(table->rows[1].values, (std::vector<std::string>{"Feyenoord", "", "true", ""}));
  EXPECT_EQ(table->rows[1].line, 2);
}

TEST(DataTableTest, JsonNestedValueIsError) {
  Result<DataTable> table = readJsonRows(R"([{"home": {"name": "x"}}])", "rows.json");

  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().message(),
            "rows.json: row 1, column home: expected a string, number, boolean or null, got "
            "object");
}

}  // namespace
}  // namespace smmhub::templates
