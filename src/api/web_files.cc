#include "api/web_files.h"

#include <array>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace smmhub::api {

namespace {

namespace fs = std::filesystem;

// The types of the files a Vite build makes, by extension.
std::string_view mediaType(const fs::path& path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},
  }};
  std::string extension = path.extension().string();
  for (const auto& [known, type] : kTypes) {
    if (extension == known) {
      return type;
    }
  }
  return "application/octet-stream";
}

// Returns the file under ROOT that the URL path PATH names, or an empty path
// when it names none. A segment that is empty, "." or "..", or contains a
// backslash or NUL, gives an empty path, so no path leaves ROOT.
fs::path fileFor(const fs::path& root, std::string_view path) {
  std::string decoded = percentDecode(path, false);
  fs::path file = root;
  for (std::string_view segment : splitPath(decoded)) {
    if (segment.empty() || segment == "." || segment == ".." ||
        segment.find_first_of(std::string_view("\\\0", 2)) != std::string_view::npos) {
      return {};
    }
    file /= segment;
  }
  std::error_code error;
  return fs::is_regular_file(file, error) ? file : fs::path();
}

bool acceptsGzip(const Request& request) {
  return header(request, "accept-encoding").find("gzip") != std::string_view::npos;
}

// The response for FILE, with its caching rule and, when the client takes
// it and the build made it, the gzip copy.
Response fileResponse(const Request& request, const fs::path& file, bool immutable) {
  Response response{.content_type = std::string(mediaType(file)), .file = file};
  response.headers.emplace_back("Cache-Control",
                                immutable ? "public, max-age=31536000, immutable" : "no-cache");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Vary", "Accept-Encoding");
  fs::path compressed = file;
  compressed += ".gz";
  std::error_code error;
  if (acceptsGzip(request) && fs::is_regular_file(compressed, error)) {
    response.file = compressed;
    response.headers.emplace_back("Content-Encoding", "gzip");
  }
  return response;
}

// The page of the single-page app, with the policy that keeps scripts and
// connections to this origin. Mantine sets inline styles, hence
// style-src 'unsafe-inline'; posters and previews are same-origin or blob.
Response appPage(const Request& request, const fs::path& index) {
  Response response = fileResponse(request, index, false);
  response.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
      "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
      "object-src 'none'; base-uri 'self'; frame-ancestors 'none'");
  response.headers.emplace_back("Referrer-Policy", "same-origin");
  return response;
}

}  // namespace

Result<Handler> webFiles(const fs::path& root) {
  std::error_code error;
  fs::path index = root / "index.html";
  if (!fs::is_regular_file(index, error)) {
    return Status::invalidArgument("web root " + root.string() +
                                   " has no index.html; build the admin UI with scripts/setup");
  }
  fs::path absolute = fs::absolute(root, error);
  if (error) {
    return Status::invalidArgument("web root " + root.string() + ": " + error.message());
  }

  return Handler([absolute, index = absolute / "index.html"](const Request& request) {
    if (request.path.starts_with("/api/")) {
      return errorResponse(404, "not_found", "no route for path " + request.path,
                           request.request_id);
    }
    fs::path file = fileFor(absolute, request.path);
    if (!file.empty() && file != index) {
      return fileResponse(request, file, request.path.starts_with("/assets/"));
    }
    // A missing file with an extension is a broken link, not a page.
    if (file.empty() &&
        (request.path.starts_with("/assets/") || fs::path(request.path).has_extension())) {
      return errorResponse(404, "not_found", "no file " + request.path, request.request_id);
    }
    return appPage(request, index);
  });
}

}  // namespace smmhub::api
