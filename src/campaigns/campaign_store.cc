#include "campaigns/campaign_store.h"

#include <soci/soci.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/diagnostics.h"
#include "common/files.h"
#include "common/ids.h"
#include "store/prepared.h"
#include "store/statement.h"
#include "template/parser.h"

namespace smmhub::campaigns {
namespace {

namespace fs = std::filesystem;

constexpr int kPreviewRows = 5;
constexpr size_t kMaxNameBytes = 200;

std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr std::string_view kColumns =
    "SELECT id, tenant, name, template_id, template_version, brand_kit_id, data_path, "
    "columns_json, row_count, mapping_json, created_at_ms, updated_at_ms FROM campaigns ";

// A campaigns row bound to a statement, with its JSON columns as text.
struct CampaignRow {
  Campaign campaign;
  std::string columns_json;
  std::string mapping_json;
  std::int64_t row_count = 0;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(campaign.id));
    statement.exchange(soci::into(campaign.tenant));
    statement.exchange(soci::into(campaign.name));
    statement.exchange(soci::into(campaign.template_id));
    statement.exchange(soci::into(campaign.template_version));
    statement.exchange(soci::into(campaign.brand_kit_id));
    statement.exchange(soci::into(campaign.data_path));
    statement.exchange(soci::into(columns_json));
    statement.exchange(soci::into(row_count));
    statement.exchange(soci::into(mapping_json));
    statement.exchange(soci::into(campaign.created_at_ms));
    statement.exchange(soci::into(campaign.updated_at_ms));
  }

  Campaign take() const {
    Campaign copy = campaign;
    copy.row_count = static_cast<int>(row_count);
    copy.columns = nlohmann::json::parse(columns_json).get<std::vector<std::string>>();
    copy.mapping = nlohmann::json::parse(mapping_json).get<std::map<std::string, std::string>>();
    return copy;
  }
};

// Returns the campaigns that kColumns + CLAUSE selects, with PARAMETERS
// bound in order. Throws soci::soci_error.
std::vector<Campaign> selectCampaigns(soci::session& sql, const std::string& clause,
                                      const std::vector<const std::string*>& parameters) {
  CampaignRow row;
  soci::statement statement(sql);
  row.bind(statement);
  for (const std::string* parameter : parameters) {
    statement.exchange(soci::use(*parameter));
  }
  statement.alloc();
  statement.prepare(std::string(kColumns) + clause, soci::details::st_one_time_query);
  statement.define_and_bind();
  statement.execute();
  std::vector<Campaign> campaigns;
  while (statement.fetch()) {
    campaigns.push_back(row.take());
  }
  return campaigns;
}

// The campaign page reads one campaign, and most campaign routes start with it.
struct CampaignById {
  static std::string query() {
    return std::string(kColumns) + "WHERE id = :id AND tenant = :tenant";
  }

  std::string id;
  std::string tenant;
  CampaignRow row;

  void bind(soci::statement& statement) {
    row.bind(statement);
    statement.exchange(soci::use(id));
    statement.exchange(soci::use(tenant));
  }
};

struct CampaignsOfTenant {
  static std::string query() {
    return std::string(kColumns) + "WHERE tenant = :tenant ORDER BY created_at_ms DESC, id";
  }

  std::string tenant;
  CampaignRow row;

  void bind(soci::statement& statement) {
    row.bind(statement);
    statement.exchange(soci::use(tenant));
  }
};

// The dashboard's list of batches, newest first. The limit is a parameter,
// so that one statement serves every limit.
struct BatchIdsOfTenant {
  static std::string query() {
    return "SELECT id FROM batches WHERE tenant = :tenant ORDER BY created_at_ms DESC, id LIMIT "
           ":limit";
  }

  std::string tenant;
  std::int64_t limit = 0;
  std::string id;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(id));
    statement.exchange(soci::use(tenant));
    statement.exchange(soci::use(limit));
  }
};

struct BatchIdsOfCampaign {
  static std::string query() {
    return "SELECT id FROM batches WHERE tenant = :tenant AND campaign_id = :campaign ORDER BY "
           "created_at_ms DESC, id LIMIT :limit";
  }

  std::string tenant;
  std::string campaign_id;
  std::int64_t limit = 0;
  std::string id;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(id));
    statement.exchange(soci::use(tenant));
    statement.exchange(soci::use(campaign_id));
    statement.exchange(soci::use(limit));
  }
};

// Every batch in the dashboard's list shows its campaign.
struct CampaignOfBatch {
  static std::string query() {
    return "SELECT campaign_id FROM batches WHERE id = :id AND tenant = :tenant";
  }

  std::string batch_id;
  std::string tenant;
  std::string campaign_id;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(campaign_id));
    statement.exchange(soci::use(batch_id));
    statement.exchange(soci::use(tenant));
  }
};

// Executes SELECT, whose parameters are set, and returns the ids it reads.
template <typename Values>
std::vector<std::string> selectIds(store::Prepared<Values>& select) {
  std::vector<std::string> ids;
  select.execute(false);
  while (select.fetch()) {
    ids.push_back(select->id);
  }
  return ids;
}

Status checkName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return Status::invalidArgument(
        fmt::format("name: must be 1 to {} characters, got {}", kMaxNameBytes, name.size()));
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return Status::invalidArgument("name: must not contain control characters");
    }
  }
  return okStatus();
}

// Whether TABLE (templates or brand_kits) has ID for TENANT. Throws
// soci::soci_error.
bool owns(soci::session& sql, std::string_view table, const std::string& tenant,
          const std::string& id) {
  std::int64_t count = 0;
  sql << "SELECT COUNT(*) FROM " + std::string(table) + " WHERE id = :id AND tenant = :tenant",
      soci::into(count), soci::use(id), soci::use(tenant);
  return count > 0;
}

Status checkReferences(soci::session& sql, const std::string& tenant, const Campaign& campaign) {
  if (!campaign.template_id.empty() && !owns(sql, "templates", tenant, campaign.template_id)) {
    return Status::notFound("template_id: template " + campaign.template_id + " not found");
  }
  if (!campaign.brand_kit_id.empty() && !owns(sql, "brand_kits", tenant, campaign.brand_kit_id)) {
    return Status::notFound("brand_kit_id: brand kit " + campaign.brand_kit_id + " not found");
  }
  if (campaign.template_version < 0) {
    return Status::invalidArgument("template_version: must be 0 (the latest) or a version");
  }
  return okStatus();
}

void apply(const CampaignChange& change, Campaign& campaign) {
  if (change.name) {
    campaign.name = *change.name;
  }
  if (change.template_id) {
    campaign.template_id = *change.template_id;
  }
  if (change.template_version) {
    campaign.template_version = *change.template_version;
  }
  if (change.brand_kit_id) {
    campaign.brand_kit_id = *change.brand_kit_id;
  }
}

Status notFound(const std::string& id) {
  return Status::notFound("campaign " + id + " not found");
}

// Returns the column of TABLE that feeds each field of TMPL: the mapped
// one, else its namesake. Errors: failedPrecondition naming the required
// fields without a column.
Result<std::map<std::string, int>> fieldSources(const templates::Template& tmpl,
                                                const templates::DataTable& table,
                                                const std::map<std::string, std::string>& mapping) {
  std::map<std::string, int> sources;
  std::vector<std::string> missing;
  for (const templates::Field& field : tmpl.fields) {
    auto mapped = mapping.find(field.name);
    int column = table.columnIndex(mapped == mapping.end() ? field.name : mapped->second);
    if (column >= 0) {
      sources[field.name] = column;
    } else if (field.required && !field.default_value) {
      missing.push_back(field.name);
    }
  }
  if (!missing.empty()) {
    return Status::failedPrecondition(
        fmt::format("no column provides the required fields {}: map them to columns",
                    fmt::join(missing, ", ")));
  }
  return sources;
}

// Returns ROW as a job carries it: a JSON object with every column by its
// own name, and each field by its source column, so that templates that
// name columns directly keep working.
std::string rowJson(const templates::DataTable& table, const std::map<std::string, int>& sources,
                    const templates::DataRow& row) {
  nlohmann::json fields = nlohmann::json::object();
  for (size_t column = 0; column < table.columns.size() && column < row.values.size(); ++column) {
    fields[table.columns[column]] = row.values[column];
  }
  for (const auto& [field, column] : sources) {
    if (static_cast<size_t>(column) < row.values.size()) {
      fields[field] = row.values[static_cast<size_t>(column)];
    }
  }
  return fields.dump();
}

}  // namespace

CampaignStore::CampaignStore(store::Database& db, fs::path storage)
    : db_(db), storage_(std::move(storage)) {}

Result<Campaign> CampaignStore::create(const std::string& tenant, const CampaignChange& change) {
  Campaign campaign{.id = randomId("c-"), .tenant = tenant};
  apply(change, campaign);
  SMMHUB_RETURN_IF_ERROR(checkName(campaign.name));
  campaign.created_at_ms = campaign.updated_at_ms = nowMillis();
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) -> Status {
    SMMHUB_RETURN_IF_ERROR(checkReferences(sql, tenant, campaign));
    sql << "INSERT INTO campaigns (id, tenant, name, template_id, template_version, "
           "brand_kit_id, created_at_ms, updated_at_ms) VALUES (:id, :tenant, :name, "
           ":template_id, :template_version, :brand_kit_id, :created, :updated)",
        soci::use(campaign.id), soci::use(tenant), soci::use(campaign.name),
        soci::use(campaign.template_id), soci::use(campaign.template_version),
        soci::use(campaign.brand_kit_id), soci::use(campaign.created_at_ms),
        soci::use(campaign.updated_at_ms);
    return okStatus();
  }));
  return campaign;
}

Result<Campaign> CampaignStore::get(const std::string& tenant, const std::string& id) {
  std::optional<Campaign> found;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    store::Prepared<CampaignById> select(sql);
    select->id = id;
    select->tenant = tenant;
    if (select.execute(true)) {
      found = select->row.take();
    }
    return okStatus();
  }));
  if (!found) {
    return notFound(id);
  }
  return *std::move(found);
}

Result<std::vector<Campaign>> CampaignStore::list(const std::string& tenant) {
  std::vector<Campaign> found;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    store::Prepared<CampaignsOfTenant> select(sql);
    select->tenant = tenant;
    select.execute(false);
    while (select.fetch()) {
      found.push_back(select->row.take());
    }
    return okStatus();
  }));
  return found;
}

Result<Campaign> CampaignStore::update(const std::string& tenant, const std::string& id,
                                       const CampaignChange& change) {
  Campaign updated;
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) -> Status {
    std::vector<Campaign> found =
        selectCampaigns(sql, "WHERE id = :id AND tenant = :tenant", {&id, &tenant});
    if (found.empty()) {
      return notFound(id);
    }
    updated = found.front();
    apply(change, updated);
    SMMHUB_RETURN_IF_ERROR(checkName(updated.name));
    SMMHUB_RETURN_IF_ERROR(checkReferences(sql, tenant, updated));
    updated.updated_at_ms = nowMillis();
    sql << "UPDATE campaigns SET name = :name, template_id = :template_id, template_version = "
           ":template_version, brand_kit_id = :brand_kit_id, updated_at_ms = :updated "
           "WHERE id = :id AND tenant = :tenant",
        soci::use(updated.name), soci::use(updated.template_id),
        soci::use(updated.template_version), soci::use(updated.brand_kit_id),
        soci::use(updated.updated_at_ms), soci::use(id), soci::use(tenant);
    return okStatus();
  }));
  return updated;
}

Status CampaignStore::remove(const std::string& tenant, const std::string& id) {
  return db_.write([&](soci::session& sql) -> Status {
    soci::statement erase = store::runOnce(sql,
                                           "DELETE FROM campaigns WHERE id = :id AND tenant = "
                                           ":tenant",
                                           soci::use(id), soci::use(tenant));
    erase.execute(true);
    return erase.get_affected_rows() > 0 ? okStatus() : notFound(id);
  });
}

Result<RowsUpload> CampaignStore::uploadRows(const std::string& tenant, const std::string& id,
                                             std::string_view bytes, RowsFormat format) {
  SMMHUB_ASSIGN_OR_RETURN(Campaign campaign, get(tenant, id));
  std::string source = format == RowsFormat::kCsv ? "rows.csv" : "rows.json";
  SMMHUB_ASSIGN_OR_RETURN(templates::DataTable table, format == RowsFormat::kCsv
                                                          ? templates::readCsv(bytes, source)
                                                          : templates::readJsonRows(bytes, source));
  if (table.rows.empty()) {
    return Status::invalidArgument(source + ": the table has a header but no rows");
  }

  fs::path path =
      storage_ / tenant / "campaigns" / id /
      fmt::format("rows-{}{}", randomId(""), format == RowsFormat::kCsv ? ".csv" : ".json");
  SMMHUB_RETURN_IF_ERROR(writeFileAtomically(path, bytes));
  campaign.data_path = path.string();
  campaign.columns = table.columns;
  campaign.row_count = static_cast<int>(table.rows.size());
  campaign.updated_at_ms = nowMillis();
  std::string columns_json = nlohmann::json(campaign.columns).dump();
  std::int64_t row_count = campaign.row_count;
  Status stored = db_.write([&](soci::session& sql) -> Status {
    soci::statement change =
        store::runOnce(sql,
                       "UPDATE campaigns SET data_path = :path, columns_json = :columns, "
                       "row_count = :rows, updated_at_ms = :updated WHERE id = :id AND tenant "
                       "= :tenant",
                       soci::use(campaign.data_path), soci::use(columns_json), soci::use(row_count),
                       soci::use(campaign.updated_at_ms), soci::use(id), soci::use(tenant));
    change.execute(true);
    return change.get_affected_rows() > 0 ? okStatus() : notFound(id);
  });
  if (!stored.ok()) {
    std::error_code ignored;
    fs::remove(path, ignored);
    return stored;
  }

  RowsUpload upload{.campaign = campaign};
  for (size_t i = 0; i < table.rows.size() && i < static_cast<size_t>(kPreviewRows); ++i) {
    upload.preview.push_back(table.rows[i].values);
  }
  return upload;
}

Result<templates::DataTable> CampaignStore::rows(const std::string& tenant, const std::string& id) {
  SMMHUB_ASSIGN_OR_RETURN(Campaign campaign, get(tenant, id));
  if (campaign.data_path.empty()) {
    return Status::failedPrecondition("campaign " + id +
                                      " has no rows: upload a CSV or JSON first");
  }
  return templates::readRows(campaign.data_path);
}

Result<fs::path> CampaignStore::templatePath(const std::string& tenant, const Campaign& campaign) {
  if (campaign.template_id.empty()) {
    return Status::failedPrecondition("campaign " + campaign.id +
                                      " has no template: choose one first");
  }
  std::string path;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) -> Status {
    std::int64_t version = campaign.template_version;
    if (version == 0) {
      soci::indicator latest_indicator = soci::i_ok;
      sql << "SELECT latest_version FROM templates WHERE id = :id AND tenant = :tenant",
          soci::into(version, latest_indicator), soci::use(campaign.template_id), soci::use(tenant);
      if (!sql.got_data()) {
        return Status::failedPrecondition("template " + campaign.template_id + " no longer exists");
      }
    }
    sql << "SELECT path FROM template_versions WHERE template_id = :id AND tenant = :tenant AND "
           "version = :version",
        soci::into(path), soci::use(campaign.template_id), soci::use(tenant), soci::use(version);
    if (!sql.got_data()) {
      return Status::failedPrecondition(
          fmt::format("template {} has no version {}", campaign.template_id, version));
    }
    return okStatus();
  }));
  return fs::path(path);
}

Result<Campaign> CampaignStore::setMapping(const std::string& tenant, const std::string& id,
                                           const std::map<std::string, std::string>& mapping) {
  SMMHUB_ASSIGN_OR_RETURN(Campaign campaign, get(tenant, id));
  std::vector<std::string> problems;
  if (campaign.data_path.empty() && !mapping.empty()) {
    return Status::failedPrecondition("campaign " + id +
                                      " has no rows: upload them before mapping columns");
  }
  std::set<std::string> columns(campaign.columns.begin(), campaign.columns.end());
  for (const auto& [field, column] : mapping) {
    if (!columns.contains(column)) {
      problems.push_back(fmt::format("/{}: column '{}' is not in the rows", field, column));
    }
  }
  if (!campaign.template_id.empty()) {
    SMMHUB_ASSIGN_OR_RETURN(fs::path path, templatePath(tenant, campaign));
    SMMHUB_ASSIGN_OR_RETURN(templates::Template parsed, templates::loadTemplate(path, nullptr));
    for (const auto& [field, column] : mapping) {
      if (parsed.findField(field) == nullptr) {
        problems.push_back(fmt::format("/{}: the template has no field '{}'", field, field));
      }
    }
  }
  if (!problems.empty()) {
    return Status::invalidArgument(fmt::format("mapping: {}", fmt::join(problems, "; ")));
  }

  campaign.mapping = mapping;
  campaign.updated_at_ms = nowMillis();
  std::string mapping_json = nlohmann::json(mapping).dump();
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) -> Status {
    sql << "UPDATE campaigns SET mapping_json = :mapping, updated_at_ms = :updated WHERE id = "
           ":id AND tenant = :tenant",
        soci::use(mapping_json), soci::use(campaign.updated_at_ms), soci::use(id),
        soci::use(tenant);
    return okStatus();
  }));
  return campaign;
}

Result<Plan> CampaignStore::plan(const std::string& tenant, const std::string& id,
                                 const std::string& idempotency_key) {
  SMMHUB_ASSIGN_OR_RETURN(Campaign campaign, get(tenant, id));
  SMMHUB_ASSIGN_OR_RETURN(fs::path template_path, templatePath(tenant, campaign));
  if (campaign.data_path.empty()) {
    return Status::failedPrecondition("campaign " + id +
                                      " has no rows: upload a CSV or JSON first");
  }
  SMMHUB_ASSIGN_OR_RETURN(templates::Template parsed,
                          templates::loadTemplate(template_path, nullptr));
  SMMHUB_ASSIGN_OR_RETURN(templates::DataTable table, templates::readRows(campaign.data_path));
  SMMHUB_ASSIGN_OR_RETURN(auto sources, fieldSources(parsed, table, campaign.mapping));

  std::string brand_dir;
  if (!campaign.brand_kit_id.empty()) {
    SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) -> Status {
      sql << "SELECT dir FROM brand_kits WHERE id = :id AND tenant = :tenant",
          soci::into(brand_dir), soci::use(campaign.brand_kit_id), soci::use(tenant);
      return sql.got_data() ? okStatus()
                            : Status::failedPrecondition("brand kit " + campaign.brand_kit_id +
                                                         " no longer exists");
    }));
  }

  Plan plan{.spec = {.tenant = tenant,
                     .idempotency_key = idempotency_key,
                     .template_path = template_path.string(),
                     .data_path = campaign.data_path,
                     .brand_dir = brand_dir,
                     .campaign_id = id}};
  for (const templates::DataRow& row : table.rows) {
    plan.jobs.push_back({.row = row.number,
                         .row_json = rowJson(table, sources, row),
                         .output_name = fmt::format("{:03}.mp4", row.number)});
  }
  return plan;
}

Result<PlannedRow> CampaignStore::planRow(const std::string& tenant, const std::string& id, int row,
                                          const fs::path& template_path) {
  SMMHUB_ASSIGN_OR_RETURN(Campaign campaign, get(tenant, id));
  if (campaign.data_path.empty()) {
    return Status::failedPrecondition("campaign " + id +
                                      " has no rows: upload a CSV or JSON first");
  }
  SMMHUB_ASSIGN_OR_RETURN(templates::Template parsed,
                          templates::loadTemplate(template_path, nullptr));
  SMMHUB_ASSIGN_OR_RETURN(templates::DataTable table, templates::readRows(campaign.data_path));
  if (row < 1 || static_cast<size_t>(row) > table.rows.size()) {
    return Status::invalidArgument(
        fmt::format("row: campaign {} has rows 1 to {}, not {}", id, table.rows.size(), row));
  }
  SMMHUB_ASSIGN_OR_RETURN(auto sources, fieldSources(parsed, table, campaign.mapping));
  return PlannedRow{.row_json = rowJson(table, sources, table.rows[static_cast<size_t>(row - 1)]),
                    .data_path = campaign.data_path};
}

Result<std::vector<std::string>> CampaignStore::batchIds(const std::string& tenant,
                                                         const std::string& campaign_id,
                                                         int limit) {
  std::vector<std::string> ids;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) -> Status {
    if (campaign_id.empty()) {
      store::Prepared<BatchIdsOfTenant> select(sql);
      select->tenant = tenant;
      select->limit = limit;
      ids = selectIds(select);
      return okStatus();
    }
    store::Prepared<BatchIdsOfCampaign> select(sql);
    select->tenant = tenant;
    select->campaign_id = campaign_id;
    select->limit = limit;
    ids = selectIds(select);
    return okStatus();
  }));
  return ids;
}

Result<std::string> CampaignStore::campaignOf(const std::string& tenant,
                                              const std::string& batch_id) {
  std::string campaign;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) -> Status {
    store::Prepared<CampaignOfBatch> select(sql);
    select->batch_id = batch_id;
    select->tenant = tenant;
    select.execute(true);
    campaign = select->campaign_id;
    return okStatus();
  }));
  return campaign;
}

}  // namespace smmhub::campaigns
