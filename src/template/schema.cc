#include "template/schema.h"

#include <cctype>
#include <exception>
#include <memory>

#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace smmhub::templates {
namespace {

std::string escapePointerToken(std::string_view token) {
  std::string escaped;
  for (char c : token) {
    if (c == '~') {
      escaped += "~0";
    } else if (c == '/') {
      escaped += "~1";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// valijson names a place as {"<root>", "[scenes]", "[0]", ...}.
std::string contextToPointer(const std::vector<std::string>& context) {
  std::string pointer;
  for (const std::string& part : context) {
    if (part.size() >= 2 && part.front() == '[' && part.back() == ']') {
      pointer += "/" + escapePointerToken(std::string_view(part).substr(1, part.size() - 2));
    }
  }
  return pointer;
}

// Rewrites valijson's descriptions into the project's message style.
SchemaError readableError(std::string pointer, const std::string& description) {
  constexpr std::string_view kUnknownProperty =
      "Object contains a property that could not be validated using 'properties' or "
      "'additionalProperties' constraints: '";
  if (description.starts_with(kUnknownProperty)) {
    std::string name = description.substr(kUnknownProperty.size());
    name = name.substr(0, name.rfind('\''));
    return {pointer + "/" + escapePointerToken(name), "unknown property '" + name + "'"};
  }
  if (description.starts_with("Value type not permitted")) {
    return {pointer, "value has the wrong type"};
  }
  if (description.starts_with("Failed to match against any enum values")) {
    return {pointer, "value is not one of the allowed values"};
  }
  std::string message = description;
  if (!message.empty()) {
    message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
  }
  if (message.ends_with(".")) {
    message.pop_back();
  }
  return {pointer, message};
}

// Returns the parsed schema, or null when the embedded text does not parse,
// which a unit test rules out.
const valijson::Schema* compiledSchema() {
  static const std::unique_ptr<valijson::Schema> kSchema = []() {
    auto schema = std::make_unique<valijson::Schema>();
    try {
      nlohmann::json document = nlohmann::json::parse(templateSchemaText());
      valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
      valijson::adapters::NlohmannJsonAdapter adapter(document);
      parser.populateSchema(adapter, *schema);
    } catch (const std::exception&) {
      schema.reset();
    }
    return schema;
  }();
  return kSchema.get();
}

}  // namespace

std::vector<SchemaError> validateTemplateSchema(const nlohmann::json& document) {
  std::vector<SchemaError> errors;
  const valijson::Schema* schema = compiledSchema();
  if (schema == nullptr) {
    errors.push_back({"", "internal error: the embedded template schema does not parse"});
    return errors;
  }

  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(document);
  try {
    validator.validate(*schema, target, &results);
  } catch (const std::exception& error) {
    errors.push_back(
        {"", std::string("internal error: schema validation failed: ") + error.what()});
    return errors;
  }

  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    if (error.description.starts_with("Failed to validate") ||
        error.description.starts_with("Cannot validate")) {
      continue;
    }
    errors.push_back(readableError(contextToPointer(error.context), error.description));
  }
  return errors;
}

}  // namespace smmhub::templates
