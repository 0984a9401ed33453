#include "content/template_store.h"

#include <soci/soci.h>

#include "common/files.h"
#include "common/ids.h"
#include "common/log.h"
#include "content/internal.h"
#include "store/statement.h"
#include "template/parser.h"

namespace smmhub::content {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

constexpr std::string_view kTemplateColumns =
    "SELECT id, tenant, name, latest_version, created_at_ms, updated_at_ms FROM templates ";

std::vector<TemplateRecord> selectTemplates(soci::session& sql, const std::string& clause,
                                            const std::string& tenant, const std::string* id) {
  TemplateRecord row;
  soci::statement statement(sql);
  statement.exchange(soci::into(row.id));
  statement.exchange(soci::into(row.tenant));
  statement.exchange(soci::into(row.name));
  statement.exchange(soci::into(row.latest_version));
  statement.exchange(soci::into(row.created_at_ms));
  statement.exchange(soci::into(row.updated_at_ms));
  statement.exchange(soci::use(tenant));
  if (id != nullptr) {
    statement.exchange(soci::use(*id));
  }
  statement.alloc();
  statement.prepare(std::string(kTemplateColumns) + clause, soci::details::st_one_time_query);
  statement.define_and_bind();
  statement.execute();

  std::vector<TemplateRecord> templates;
  while (statement.fetch()) {
    templates.push_back(row);
  }
  return templates;
}

Result<TemplateRecord> selectTemplate(soci::session& sql, const std::string& tenant,
                                      const std::string& id) {
  std::vector<TemplateRecord> found =
      selectTemplates(sql, "WHERE tenant = :tenant AND id = :id", tenant, &id);
  if (found.empty()) {
    return Status::notFound("template '" + id + "' not found");
  }
  return found.front();
}

Status checkNameFree(soci::session& sql, const std::string& tenant, const std::string& name,
                     const std::string& id) {
  int taken = 0;
  sql << "SELECT COUNT(*) FROM templates WHERE tenant = :tenant AND name = :name AND id <> :id",
      soci::into(taken), soci::use(tenant), soci::use(name), soci::use(id);
  if (taken > 0) {
    return Status(StatusCode::kAlreadyExists,
                  "a template named '" + name + "' exists already; choose another name");
  }
  return okStatus();
}

std::string bodyText(const ordered_json& body) {
  return body.dump(2, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace

Status checkTemplateName(std::string_view name) {
  return internal::checkDisplayName("template name", name);
}

Status validateTemplateBody(const ordered_json& body, Diagnostics* problems) {
  if (!body.is_object()) {
    std::string message = "expected the template as a JSON object";
    if (problems != nullptr) {
      problems->error("", message);
    }
    return Status::invalidArgument("invalid template: " + message);
  }
  std::string text = bodyText(body);
  if (text.size() > templates::kMaxTemplateBytes) {
    std::string message = "the template has " + std::to_string(text.size()) +
                          " bytes as stored, indented by 2 spaces; the limit is " +
                          std::to_string(templates::kMaxTemplateBytes);
    if (problems != nullptr) {
      problems->error("", message);
    }
    return Status::invalidArgument("invalid template: " + message);
  }
  Result<templates::Template> parsed = templates::parseTemplate(text, "template", problems);
  return parsed.ok() ? okStatus() : parsed.status();
}

TemplateStore::TemplateStore(store::Database& db, fs::path storage)
    : db_(db), storage_(fs::absolute(storage)) {}

Result<TemplateVersion> TemplateStore::insertVersion(soci::session& sql,
                                                     const TemplateRecord& record,
                                                     const std::string& body,
                                                     const std::string& actor) {
  // The UPDATE locks the row first, so that two saves at once get different
  // version numbers.
  std::int64_t now = internal::nowMillis();
  sql << "UPDATE templates SET latest_version = latest_version + 1, updated_at_ms = :now "
         "WHERE tenant = :tenant AND id = :id",
      soci::use(now), soci::use(record.tenant), soci::use(record.id);
  TemplateVersion version{
      .template_id = record.id, .body = body, .created_by = actor, .created_at_ms = now};
  sql << "SELECT latest_version FROM templates WHERE tenant = :tenant AND id = :id",
      soci::into(version.version), soci::use(record.tenant), soci::use(record.id);
  version.path = (storage_ / record.tenant / "templates" / record.id /
                  ("v" + std::to_string(version.version) + ".json"))
                     .string();

  // The file is written before the row commits, so that a committed version
  // always has its file. A rolled-back attempt leaves a file that the next
  // save of the same number replaces.
  SMMHUB_RETURN_IF_ERROR(writeFileAtomically(filePath(version), body));
  sql << "INSERT INTO template_versions (template_id, version, tenant, body, path, created_by, "
         "created_at_ms) VALUES (:template_id, :version, :tenant, :body, :path, :created_by, "
         ":created_at_ms)",
      soci::use(version.template_id), soci::use(version.version), soci::use(record.tenant),
      soci::use(version.body), soci::use(version.path), soci::use(version.created_by),
      soci::use(version.created_at_ms);
  return version;
}

Result<TemplateRecord> TemplateStore::create(const std::string& tenant, const std::string& name,
                                             const ordered_json& body, const std::string& actor,
                                             Diagnostics* problems) {
  SMMHUB_RETURN_IF_ERROR(internal::checkTenant(tenant));
  SMMHUB_RETURN_IF_ERROR(checkTemplateName(name));
  SMMHUB_RETURN_IF_ERROR(validateTemplateBody(body, problems));

  TemplateRecord record{.id = randomId("tpl_"),
                        .tenant = tenant,
                        .name = name,
                        .created_at_ms = internal::nowMillis()};
  record.updated_at_ms = record.created_at_ms;
  std::string text = bodyText(body);
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    SMMHUB_RETURN_IF_ERROR(checkNameFree(sql, tenant, name, record.id));
    std::int64_t none = 0;
    sql << "INSERT INTO templates (id, tenant, name, latest_version, created_at_ms, "
           "updated_at_ms) VALUES (:id, :tenant, :name, :latest_version, :created_at_ms, "
           ":updated_at_ms)",
        soci::use(record.id), soci::use(record.tenant), soci::use(record.name), soci::use(none),
        soci::use(record.created_at_ms), soci::use(record.updated_at_ms);
    SMMHUB_ASSIGN_OR_RETURN(TemplateVersion version, insertVersion(sql, record, text, actor));
    record.latest_version = version.version;
    record.updated_at_ms = version.created_at_ms;
    return okStatus();
  }));
  logger("content")->info("template created tenant={} id={} version={}", tenant, record.id,
                          record.latest_version);
  return record;
}

Result<TemplateRecord> TemplateStore::update(const std::string& tenant, const std::string& id,
                                             const std::optional<std::string>& name,
                                             const std::optional<ordered_json>& body,
                                             const std::string& actor, Diagnostics* problems) {
  SMMHUB_RETURN_IF_ERROR(internal::checkTenant(tenant));
  if (name) {
    SMMHUB_RETURN_IF_ERROR(checkTemplateName(*name));
  }
  if (body) {
    SMMHUB_RETURN_IF_ERROR(validateTemplateBody(*body, problems));
  }

  TemplateRecord record;
  std::string text = body ? bodyText(*body) : "";
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    SMMHUB_ASSIGN_OR_RETURN(record, selectTemplate(sql, tenant, id));
    if (name && *name != record.name) {
      SMMHUB_RETURN_IF_ERROR(checkNameFree(sql, tenant, *name, id));
      record.name = *name;
      record.updated_at_ms = internal::nowMillis();
      sql << "UPDATE templates SET name = :name, updated_at_ms = :now WHERE tenant = :tenant "
             "AND id = :id",
          soci::use(record.name), soci::use(record.updated_at_ms), soci::use(tenant), soci::use(id);
    }
    if (!body) {
      return okStatus();
    }

    // Saving the latest body again makes no new version, but the same keys in
    // another order do, because clients show the keys in their order.
    std::string latest;
    sql << "SELECT body FROM template_versions WHERE template_id = :id AND version = :version",
        soci::into(latest), soci::use(id), soci::use(record.latest_version);
    if (ordered_json::parse(latest, nullptr, false) == *body) {
      return okStatus();
    }
    SMMHUB_ASSIGN_OR_RETURN(TemplateVersion version, insertVersion(sql, record, text, actor));
    record.latest_version = version.version;
    record.updated_at_ms = version.created_at_ms;
    return okStatus();
  }));
  logger("content")->info("template saved tenant={} id={} version={}", tenant, id,
                          record.latest_version);
  return record;
}

Result<std::vector<TemplateRecord>> TemplateStore::list(const std::string& tenant) {
  SMMHUB_RETURN_IF_ERROR(internal::checkTenant(tenant));
  std::vector<TemplateRecord> templates;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    templates = selectTemplates(sql, "WHERE tenant = :tenant ORDER BY name", tenant, nullptr);
    return okStatus();
  }));
  return templates;
}

Result<TemplateRecord> TemplateStore::get(const std::string& tenant, const std::string& id) {
  SMMHUB_RETURN_IF_ERROR(internal::checkTenant(tenant));
  Result<TemplateRecord> record = Status::internal("not read");
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    record = selectTemplate(sql, tenant, id);
    return okStatus();
  }));
  return record;
}

Result<TemplateVersion> TemplateStore::version(const std::string& tenant, const std::string& id,
                                               std::int64_t version) {
  SMMHUB_ASSIGN_OR_RETURN(TemplateRecord record, get(tenant, id));
  std::int64_t requested = version == 0 ? record.latest_version : version;
  TemplateVersion found{.template_id = id, .version = requested};
  bool exists = false;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    sql << "SELECT body, path, created_by, created_at_ms FROM template_versions "
           "WHERE tenant = :tenant AND template_id = :id AND version = :version",
        soci::into(found.body), soci::into(found.path), soci::into(found.created_by),
        soci::into(found.created_at_ms), soci::use(tenant), soci::use(id), soci::use(requested);
    exists = sql.got_data();
    return okStatus();
  }));
  if (!exists) {
    return Status::notFound("template '" + id + "' has no version " + std::to_string(requested) +
                            "; its versions are 1 to " + std::to_string(record.latest_version));
  }
  return found;
}

Result<std::vector<TemplateVersion>> TemplateStore::versions(const std::string& tenant,
                                                             const std::string& id) {
  SMMHUB_RETURN_IF_ERROR(get(tenant, id));
  std::vector<TemplateVersion> versions;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    TemplateVersion row{.template_id = id};
    soci::statement statement =
        store::runOnce(sql,
                       "SELECT version, path, created_by, created_at_ms FROM template_versions "
                       "WHERE tenant = :tenant AND template_id = :id ORDER BY version",
                       soci::into(row.version), soci::into(row.path), soci::into(row.created_by),
                       soci::into(row.created_at_ms), soci::use(tenant), soci::use(id));
    statement.execute();
    while (statement.fetch()) {
      versions.push_back(row);
    }
    return okStatus();
  }));
  return versions;
}

Status TemplateStore::remove(const std::string& tenant, const std::string& id) {
  SMMHUB_ASSIGN_OR_RETURN(TemplateRecord record, get(tenant, id));
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    std::string campaign_id;
    std::string campaign_name;
    sql << "SELECT id, name FROM campaigns WHERE tenant = :tenant AND template_id = :id "
           "ORDER BY name LIMIT 1",
        soci::into(campaign_id), soci::into(campaign_name), soci::use(tenant), soci::use(id);
    if (sql.got_data()) {
      return Status::failedPrecondition("template '" + record.name + "' (" + id +
                                        ") is used by campaign '" + campaign_name + "' (" +
                                        campaign_id + "); change the campaign's template first");
    }
    sql << "DELETE FROM template_versions WHERE tenant = :tenant AND template_id = :id",
        soci::use(tenant), soci::use(id);
    soci::statement statement =
        store::runOnce(sql, "DELETE FROM templates WHERE tenant = :tenant AND id = :id",
                       soci::use(tenant), soci::use(id));
    statement.execute(true);
    if (statement.get_affected_rows() == 0) {
      return Status::notFound("template '" + id + "' not found");
    }
    return okStatus();
  }));

  std::error_code ignored;
  fs::remove_all(storage_ / tenant / "templates" / id, ignored);
  logger("content")->info("template deleted tenant={} id={}", tenant, id);
  return okStatus();
}

}  // namespace smmhub::content
