// Campaigns: a template, a brand kit and a table of rows that an agency
// turns into one video per row with "Generate all".
//
//   CampaignStore campaigns(db, storage);
//   SMMHUB_ASSIGN_OR_RETURN(Campaign campaign,
//                           campaigns.create("acme", {.name = "Match Day", .template_id = t}));
//   SMMHUB_ASSIGN_OR_RETURN(RowsUpload upload, campaigns.uploadRows("acme", campaign.id, csv,
//                                                                   RowsFormat::kCsv));
//   SMMHUB_ASSIGN_OR_RETURN(Campaign mapped, campaigns.setMapping("acme", campaign.id,
//                                                                 {{"home", "Home team"}}));
//   SMMHUB_ASSIGN_OR_RETURN(Plan plan, campaigns.plan("acme", campaign.id, "key-1"));
//
// Every method takes the tenant and finds rows by (tenant, id), so that an
// id of another tenant's campaign is notFound, as an unknown one is.
//
// Files: the uploaded rows are kept as STORAGE/TENANT/campaigns/ID/rows.csv
// or rows.json, written to a temporary name and renamed, so that a batch
// made from an earlier upload keeps reading a whole file. Each upload gets
// a new file name (rows-N.csv) and batches store the path they used.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "jobs/job_store.h"
#include "store/database.h"
#include "template/data_table.h"

namespace smmhub::campaigns {

struct Campaign {
  std::string id;
  std::string tenant;
  std::string name;
  std::string template_id;            // "" until one is chosen
  std::int64_t template_version = 0;  // 0: the template's latest version at generation
  std::string brand_kit_id;           // "" for none
  std::vector<std::string> columns;   // of the uploaded rows
  int row_count = 0;
  // Template field -> column of the rows. A field without an entry takes
  // the column of its own name.
  std::map<std::string, std::string> mapping;
  std::string data_path;  // "" until rows are uploaded
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

// The fields of a create() or update(); an update changes only those set.
struct CampaignChange {
  std::optional<std::string> name;
  std::optional<std::string> template_id;
  std::optional<std::int64_t> template_version;
  std::optional<std::string> brand_kit_id;
};

enum class RowsFormat {
  kCsv,
  kJson
};

struct RowsUpload {
  Campaign campaign;
  std::vector<std::vector<std::string>> preview;  // the first rows, values in column order
};

// One row of a campaign as plan() puts it in its job.
struct PlannedRow {
  std::string row_json;   // a JSON object: every column, and each field by its source column
  std::string data_path;  // the rows file, whose folder relative paths are relative to
};

// The batch and jobs that "Generate all" submits.
struct Plan {
  jobs::BatchSpec spec;
  std::vector<jobs::JobSpec> jobs;
};

class CampaignStore {
 public:
  CampaignStore(store::Database& db, std::filesystem::path storage);

  // Errors: invalidArgument naming the field (a name of 1 to 200
  // characters is required); notFound for a template or brand kit id the
  // tenant lacks.
  Result<Campaign> create(const std::string& tenant, const CampaignChange& change);
  Result<Campaign> update(const std::string& tenant, const std::string& id,
                          const CampaignChange& change);
  Result<Campaign> get(const std::string& tenant, const std::string& id);
  // The tenant's campaigns, newest first.
  Result<std::vector<Campaign>> list(const std::string& tenant);
  // Removes the campaign; its batches and videos stay.
  Status remove(const std::string& tenant, const std::string& id);

  // Replaces the campaign's rows with BYTES, read as FORMAT. Errors:
  // invalidArgument naming the row and column for invalid UTF-8, a ragged
  // row, an unclosed quote or a duplicate column, and for an empty table or
  // one above the data limits (templates::kMaxDataRows, kMaxDataBytes).
  // Nothing changes on an error.
  Result<RowsUpload> uploadRows(const std::string& tenant, const std::string& id,
                                std::string_view bytes, RowsFormat format);

  // The campaign's rows. Errors: failedPrecondition when none are uploaded.
  Result<templates::DataTable> rows(const std::string& tenant, const std::string& id);

  // Sets the field -> column mapping. Errors: invalidArgument naming each
  // column the rows lack and each field the template lacks.
  Result<Campaign> setMapping(const std::string& tenant, const std::string& id,
                              const std::map<std::string, std::string>& mapping);

  // Returns the batch and jobs for the campaign's rows, one job per row with
  // the mapped fields, under IDEMPOTENCY_KEY. The spec's video_price and
  // storage_dir are left for the caller. Errors: failedPrecondition naming
  // what is missing (a template, rows), or the required template fields
  // that no column provides.
  Result<Plan> plan(const std::string& tenant, const std::string& id,
                    const std::string& idempotency_key);

  // Returns row ROW (from 1) of the campaign as plan() puts it in its job,
  // with the fields of the template at TEMPLATE_PATH. Errors: as plan(), and
  // invalidArgument naming the row range.
  Result<PlannedRow> planRow(const std::string& tenant, const std::string& id, int row,
                             const std::filesystem::path& template_path);

  // The ids of the tenant's batches, newest first: all of them, or those of
  // CAMPAIGN_ID when it is not empty. At most LIMIT.
  Result<std::vector<std::string>> batchIds(const std::string& tenant,
                                            const std::string& campaign_id, int limit);

  // The campaign a batch was made from, or "" when none.
  Result<std::string> campaignOf(const std::string& tenant, const std::string& batch_id);

 private:
  Result<std::filesystem::path> templatePath(const std::string& tenant, const Campaign& campaign);

  store::Database& db_;
  std::filesystem::path storage_;
};

}  // namespace smmhub::campaigns
