// Binding: one template, one brand kit and one data row give the template
// the render engine draws, with every field expanded and every file found.
//
//   Diagnostics problems;
//   for (const DataRow& row : table.rows) {
//     Result<Template> bound = bindTemplate(tmpl, brand, table, row, {}, template_dir, &problems);
//     if (!bound.ok()) { ... this row fails, the batch goes on ... }
//   }
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostics.h"
#include "common/status.h"
#include "template/brand_kit.h"
#include "template/data_table.h"
#include "template/template.h"

namespace smmhub::templates {

// Image, video and audio files larger than this are rejected.
inline constexpr std::uintmax_t kMaxAssetBytes = 50 * 1024 * 1024;

// Mapping from template fields to data columns. A field that is not listed
// reads the column of the same name.
struct ColumnMapping {
  std::map<std::string, std::string> field_to_column;

  std::string columnFor(const std::string& field) const;
};

// Where an expanded value came from, which decides what a relative path in
// it is relative to.
enum class ValueOrigin {
  kTemplate,  // literal text in the template: the template's folder
  kData,      // one data field: the data file's folder
  kBrand,     // a brand value or asset: already an absolute path
};

struct ExpandedText {
  std::string text;
  ValueOrigin origin = ValueOrigin::kTemplate;
  // "column crest" when the whole text is one data field, else empty.
  std::string data_column;
};

// Inputs that stay the same while one row is bound.
struct BindInputs {
  const Template& tmpl;
  const BrandKit& brand;
  const DataTable& table;
  const DataRow& row;
  const ColumnMapping& mapping;
};

// Expands every "{{...}}" in TEXT for one row. Text values are inserted as
// they are and never read as markup. Returns invalidArgument whose message
// starts with the place: "row 7, column date: ..." for a bad data value, or
// "brand: ..." for a name the brand kit lacks.
Result<ExpandedText> expandFields(std::string_view text, const BindInputs& inputs);

// Binds TMPL to ROW: expands fields in every string property, checks each
// field's type (date, time, number, colour, image), normalises colours to
// "#RRGGBBAA" and resolves image, video and audio sources to absolute paths
// of existing files of at most kMaxAssetBytes. Literal relative paths are
// relative to TEMPLATE_DIR. Every problem goes to PROBLEMS (may be null),
// placed at "row N, column C" or the layer's JSON pointer. When there is any,
// the result is invalidArgument summarising them.
Result<Template> bindTemplate(const Template& tmpl, const BrandKit& brand, const DataTable& table,
                              const DataRow& row, const ColumnMapping& mapping,
                              const std::filesystem::path& template_dir, Diagnostics* problems);

// Reports to PROBLEMS, once each and placed at the string's JSON pointer,
// every "{{brand.NAME}}" that BRAND lacks and every "asset:LIBRARY" filter
// naming a library BRAND lacks. Needs no data row.
void checkBrandReferences(const Template& tmpl, const BrandKit& brand, Diagnostics* problems);

// Returns the data fields (not "brand.") that TMPL's strings refer to, each
// once, in the order they first appear.
std::vector<std::string> referencedFields(const Template& tmpl);

// A data cell that contains an http or https URL which an image, video or
// audio source reads.
struct RemoteSource {
  std::string column;
  std::string url;      // the cell's value without surrounding spaces
  std::string pointer;  // JSON pointer of the first source that reads it
};

// Returns the cells of ROW whose value is an http or https URL and that an
// image, video or audio "src" reads as its whole value ("{{crest}}", also
// with "| trim"), each column once. The worker downloads them and replaces
// each cell with the local file's path before binding. A URL inside a
// longer string or behind another filter is not returned, and
// bindTemplate() rejects it as a URL.
std::vector<RemoteSource> remoteSources(const Template& tmpl, const DataTable& table,
                                        const DataRow& row, const ColumnMapping& mapping);

}  // namespace smmhub::templates
