// The admin UI's files: the static build of web/admin that smmhub-api serves
// beside the API, so that one process and one address give both.
//
//   SMMHUB_ASSIGN_OR_RETURN(api::Handler files, api::webFiles("web/admin/dist"));
//   router.setFallback(files);
//
// A GET of a file under the root returns it with its media type. A path of
// the single-page app, such as /campaigns/c-1, returns index.html, so that a
// reload or a shared link opens that page. Paths under /api/ stay 404 JSON.
// Files under /assets/ carry hashes in their names and are cached for a
// year; index.html is revalidated on every load. A request that accepts
// gzip gets FILE.gz when the build made one.
#pragma once

#include <filesystem>

#include "api/router.h"
#include "common/status.h"

namespace smmhub::api {

// Returns the handler that serves the files under ROOT. Errors:
// invalidArgument when ROOT has no index.html, naming the folder.
Result<Handler> webFiles(const std::filesystem::path& root);

}  // namespace smmhub::api
