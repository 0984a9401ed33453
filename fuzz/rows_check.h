// The shared entry of the fuzz targets of a campaign's rows file.
#pragma once

#include <string_view>

#include "common/status.h"
#include "fuzz_check.h"
#include "template/data_table.h"

namespace smmhub::fuzz {

// Checks what a rows reader made of one input. A rejected file must be
// invalidArgument with a message that starts with SOURCE, the file's name.
// An accepted table must pass each of CHECKS.
template <typename... Checks>
int checkRowsRead(const Result<templates::DataTable>& table, std::string_view source,
                  Checks... checks) {
  if (!table.ok()) {
    SMMHUB_FUZZ_CHECK_REJECTED(table.status());
    SMMHUB_FUZZ_CHECK(table.status().message().starts_with(source), table.status().message());
    return 0;
  }
  (checks(*table), ...);
  return 0;
}

}  // namespace smmhub::fuzz
