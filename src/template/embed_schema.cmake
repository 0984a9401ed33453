# Writes OUTPUT, a C++ file that holds INPUT (docs/template.schema.json) as a
# raw string literal, so that the library validates against the documented
# schema and nothing else. Run with cmake -DINPUT=... -DOUTPUT=... -P.
file(READ "${INPUT}" schema_text)
string(FIND "${schema_text}" ")schema\"" delimiter_at)
if(NOT delimiter_at EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter )schema\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from docs/template.schema.json by embed_schema.cmake. Do not edit.\n"
  "#include <string_view>\n\n"
  "namespace smmhub::templates {\n\n"
  "std::string_view templateSchemaText() {\n"
  "  static constexpr std::string_view kText = R\"schema(${schema_text})schema\";\n"
  "  return kText;\n"
  "}\n\n"
  "}  // namespace smmhub::templates\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
