// JSON Schema validation of templates against docs/template.schema.json,
// which the build embeds into the library.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace smmhub::templates {

// Returns the text of docs/template.schema.json (JSON Schema draft-07) as it
// was when the library was built.
std::string_view templateSchemaText();

struct SchemaError {
  std::string pointer;  // JSON pointer of the offending value, "" for the root
  std::string message;
};

// Validates DOCUMENT against the template schema and returns one error per
// failing value, deepest first as valijson reports them. Wrapper errors
// ("failed to validate item #2") are dropped because the deeper error
// already names the place.
std::vector<SchemaError> validateTemplateSchema(const nlohmann::json& document);

}  // namespace smmhub::templates
