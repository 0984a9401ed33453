// Parsing and validation of templates, format v1 (docs/templates.md).
//
//   Diagnostics problems;
//   Result<Template> parsed = loadTemplate("matchday/template.json", &problems);
//   if (!parsed.ok()) {
//     for (const Diagnostic& problem : problems.items()) {
//       std::cerr << problem.toString() << "\n";  // "error: /scenes/0/...: ..."
//     }
//   }
//
// The parser checks the text against docs/template.schema.json and then
// checks what a schema cannot: fields referenced in "{{...}}", keyframe and
// animation times against their scene, transitions against the scene, and
// the limits in template.h. It collects every problem before it returns.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/diagnostics.h"
#include "common/status.h"
#include "template/template.h"

namespace smmhub::templates {

// Templates larger than this are rejected before parsing.
inline constexpr size_t kMaxTemplateBytes = 1 << 20;

// Parses and validates JSON_TEXT. SOURCE_NAME ("template.json") prefixes the
// returned status. Text that nests arrays and objects deeper than
// kMaxJsonDepth (common/json_depth.h) is rejected before parsing. Every
// problem goes to PROBLEMS (may be null) with a JSON pointer as its place,
// or "SOURCE:LINE:COLUMN" for a syntax error. Returns
// invalidArgument summarising the errors, as in "template.json: 3 errors;
// first: /scenes/0/layers/2/kind: unknown layer kind 'sprite'; ...".
// Literal colours come back normalised to "#RRGGBBAA", animation presets
// expanded into tracks, and Layer::pointer and Scene::pointer set.
Result<Template> parseTemplate(std::string_view json_text, const std::string& source_name,
                               Diagnostics* problems);

// Reads PATH and parses it with parseTemplate(), naming the file by its path.
Result<Template> loadTemplate(const std::filesystem::path& path, Diagnostics* problems);

}  // namespace smmhub::templates
