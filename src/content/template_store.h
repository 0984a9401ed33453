// A tenant's templates with their versions. Each save of a new body is
// version N+1: a row of template_versions and the file
// STORAGE/TENANT/templates/ID/vN.json, which batches render from. Versions
// never change, so a batch renders the version it was made with even after
// the template is saved again.
//
//   TemplateStore templates(*db, "/srv/smmhub/storage");
//   Diagnostics problems;
//   Result<TemplateRecord> saved =
//       templates.create("acme", "Match Day", body, "user:u_1", &problems);
//   // on invalidArgument, problems contains each error with its JSON pointer
//
// Every body is checked by the template parser (template/parser.h), whose
// problems carry JSON pointers into the body, such as /scenes/0/layers/2/kind.
// Bodies keep the order of their keys as the client sent them, because an
// editor shows a template's fields and layout in that order.
// Every method takes the tenant and looks rows up by (tenant, id), so an id
// of another tenant is notFound.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/diagnostics.h"
#include "common/status.h"
#include "store/database.h"

namespace smmhub::content {

struct TemplateRecord {
  std::string id;  // "tpl_" and 16 hexadecimal digits
  std::string tenant;
  std::string name;
  std::int64_t latest_version = 0;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

struct TemplateVersion {
  std::string template_id;
  std::int64_t version = 0;  // from 1
  std::string body;          // the template's JSON text, keys in the order saved
  std::string path;          // absolute: STORAGE/TENANT/templates/ID/vN.json
  std::string created_by;    // who saved it, such as "user:u_1"
  std::int64_t created_at_ms = 0;
};

// Checks a template's NAME: 1 to 100 bytes, no control characters.
// Errors: invalidArgument saying which rule NAME breaks.
Status checkTemplateName(std::string_view name);

// Checks BODY with the template parser. Every problem goes to PROBLEMS (may
// be null) with its JSON pointer. Errors: invalidArgument summarising them,
// also when BODY is not an object or its text exceeds
// templates::kMaxTemplateBytes.
Status validateTemplateBody(const nlohmann::ordered_json& body, Diagnostics* problems);

class TemplateStore {
 public:
  // REQUIRES: DB outlives the store; STORAGE is the folder the workers read.
  TemplateStore(store::Database& db, std::filesystem::path storage);

  // Adds template NAME with BODY as version 1, saved by ACTOR. Errors:
  // invalidArgument for an invalid name (checkTemplateName()) or body
  // (validateTemplateBody(), which fills PROBLEMS); alreadyExists when the
  // tenant has a template of that name; unavailable for file or database
  // errors.
  Result<TemplateRecord> create(const std::string& tenant, const std::string& name,
                                const nlohmann::ordered_json& body, const std::string& actor,
                                Diagnostics* problems);

  // Renames template ID when NAME is set, and saves BODY as the next
  // version when it is set and differs from the latest one, key order
  // included. Errors: as create(), and notFound.
  Result<TemplateRecord> update(const std::string& tenant, const std::string& id,
                                const std::optional<std::string>& name,
                                const std::optional<nlohmann::ordered_json>& body,
                                const std::string& actor, Diagnostics* problems);

  // The tenant's templates, by name.
  Result<std::vector<TemplateRecord>> list(const std::string& tenant);

  // Errors: notFound when the tenant has no template ID.
  Result<TemplateRecord> get(const std::string& tenant, const std::string& id);

  // Returns VERSION of template ID, or its latest version when VERSION is 0.
  // Errors: notFound for an unknown template or version.
  Result<TemplateVersion> version(const std::string& tenant, const std::string& id,
                                  std::int64_t version);

  // The versions of template ID, oldest first, with empty bodies.
  // Errors: notFound for an unknown template.
  Result<std::vector<TemplateVersion>> versions(const std::string& tenant, const std::string& id);

  // Deletes the template, its versions and their files. Errors: notFound;
  // failedPrecondition while a campaign uses the template, naming it.
  Status remove(const std::string& tenant, const std::string& id);

  // The absolute path of VERSION's file.
  std::filesystem::path filePath(const TemplateVersion& version) const { return version.path; }

 private:
  // Writes BODY as the next version of TEMPLATE inside the caller's
  // transaction on SQL. Returns the version, whose file is still to be
  // written.
  Result<TemplateVersion> insertVersion(soci::session& sql, const TemplateRecord& record,
                                        const std::string& body, const std::string& actor);

  store::Database& db_;
  std::filesystem::path storage_;
};

}  // namespace smmhub::content
