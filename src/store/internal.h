// Helpers shared by the files of src/store, not for use outside it.
#pragma once

#include <string>
#include <string_view>

namespace soci {
class session;
}  // namespace soci

namespace smmhub::store::internal {

// Returns MESSAGE with each run of whitespace (newlines and tabs in libpq's
// and SOCI's messages) replaced by one space and the ends trimmed.
std::string oneLine(std::string_view message);

// Ends any open transaction on SQL, ignoring the error when there is none or
// when the connection that held it is gone.
void rollbackQuietly(soci::session& sql);

}  // namespace smmhub::store::internal
