// The content routes over HTTP: assets, brand kits and templates, on the
// whole API stack with SQLite and PostgreSQL.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_stack.h"
#include "content/asset_store.h"
#include "content/brand_kit_store.h"
#include "content/template_store.h"
#include "template/brand_kit.h"

namespace smmhub::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string fixture(const std::string& path) {
  std::ifstream file("tests/testdata/" + path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "missing fixture tests/testdata/" << path;
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

json minimalTemplate(const std::string& text = "Hello") {
  return {{"version", 1},
          {"scenes", {{{"duration", 2}, {"layers", {{{"kind", "text"}, {"content", text}}}}}}}};
}

class ContentRoutesTest : public ApiStackTest {
 protected:
  // Serves the stack's routes again with the content stores, which the
  // stack itself does not make.
  void SetUp() override {
    ApiStackTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    server_->stop();
    server_.reset();
    assets_ = std::make_unique<content::AssetStore>(*db_, storage_);
    brand_kits_ = std::make_unique<content::BrandKitStore>(*db_, storage_);
    templates_ = std::make_unique<content::TemplateStore>(*db_, storage_);
    router_ = api::Router();
    api::addRoutes(router_, {.db = db_.get(),
                             .redis = pool_.get(),
                             .registry = &registry_,
                             .auth = auth_.get(),
                             .accounts = accounts_.get(),
                             .jobs = jobs_.get(),
                             .broker = broker_.get(),
                             .credits = credits_.get(),
                             .campaigns = campaigns_.get(),
                             .assets = assets_.get(),
                             .brand_kits = brand_kits_.get(),
                             .templates = templates_.get(),
                             .events = events_.get(),
                             .storage = storage_});
    Result<std::unique_ptr<api::Server>> server = api::Server::start(
        {.listen = "127.0.0.1:0", .router = &router_, .registry = &registry_, .threads = 4});
    ASSERT_TRUE(server.ok()) << server.status().toString();
    server_ = std::move(*server);
  }

  // Uploads the fixture at PATH as NAME (already percent-encoded) and
  // returns the reply.
  static HttpReply upload(HttpClient& client, const std::string& name, const std::string& path,
                          const std::string& content_type = "application/octet-stream") {
    return client.post("/api/v1/assets?name=" + name, fixture(path), content_type);
  }

  // Uploads the fixture and returns the new asset's id.
  static std::string uploadId(HttpClient& client, const std::string& name,
                              const std::string& path) {
    HttpReply reply = upload(client, name, path);
    EXPECT_EQ(reply.status, 201) << reply.body;
    return reply.json().value("id", "");
  }

  // Sends a POST to TARGET whose header announces CONTENT_LENGTH bytes,
  // without the body, and returns what the server sends until it closes.
  std::string headerOnlyPost(const std::string& target, std::uint64_t content_length) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect(
        {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server_->port())});
    std::string request = "POST " + target +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                          "Content-Length: " +
                          std::to_string(content_length) + "\r\n\r\n";
    boost::asio::write(socket, boost::asio::buffer(request));
    std::string response;
    boost::system::error_code error;
    char chunk[4096];
    while (!error) {
      size_t read = socket.read_some(boost::asio::buffer(chunk), error);
      response.append(chunk, read);
    }
    return response;
  }

  std::unique_ptr<content::AssetStore> assets_;
  std::unique_ptr<content::BrandKitStore> brand_kits_;
  std::unique_ptr<content::TemplateStore> templates_;
};

TEST_P(ContentRoutesTest, AssetLifecycle) {
  HttpClient editor = signedIn("acme", "editor");
  std::string bytes = fixture("images/crest-rgba16.png");

  HttpReply created = upload(editor, "Arsenal%20FC.png", "images/crest-rgba16.png", "image/png");
  std::string id = created.json().value("id", "");
  bool stored = fs::exists(storage_ / "acme" / "assets" / (id + ".png"));
  HttpReply listed = editor.get("/api/v1/assets");
  HttpReply got = editor.get("/api/v1/assets/" + id);
  HttpReply content = editor.get("/api/v1/assets/" + id + "/content");
  HttpReply removed = editor.del("/api/v1/assets/" + id);
  HttpReply after_delete = editor.get("/api/v1/assets/" + id);

  ASSERT_EQ(created.status, 201) << created.body;
  json expected = {{"id", id},
                   {"name", "Arsenal FC.png"},
                   {"media_type", "image/png"},
                   {"bytes", 28048},
                   {"width", 240},
                   {"height", 280},
                   {"sha256", "307b61652f9cc05cf5e541ef43270d0502c4fddebca35d23020a193b33ba3c03"},
                   {"content_url", "/api/v1/assets/" + id + "/content"},
                   {"created_at_ms", created.json().at("created_at_ms")}};
  EXPECT_EQ(created.json(), expected);
  EXPECT_TRUE(stored);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.json(), json({{"assets", {expected}}}));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json(), expected);
  ASSERT_EQ(content.status, 200) << content.body;
  EXPECT_EQ(content.body, bytes);
  EXPECT_EQ(content.header("content-type"), "image/png");
  EXPECT_EQ(content.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(content.header("content-security-policy"), "");
  EXPECT_EQ(removed.status, 204) << removed.body;
  EXPECT_EQ(after_delete.status, 404);
  EXPECT_EQ(after_delete.errorCode(), "not_found");
  EXPECT_FALSE(fs::exists(storage_ / "acme" / "assets" / (id + ".png")));
}

TEST_P(ContentRoutesTest, SvgContentGetsPolicy) {
  HttpClient editor = signedIn("acme", "editor");
  std::string id = uploadId(editor, "crest", "images/crest-good.svg");

  HttpReply content = editor.get("/api/v1/assets/" + id + "/content");

  ASSERT_EQ(content.status, 200) << content.body;
  EXPECT_EQ(content.body, fixture("images/crest-good.svg"));
  EXPECT_EQ(content.header("content-type"), "image/svg+xml");
  EXPECT_EQ(content.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(content.header("content-security-policy"),
            "default-src 'none'; style-src 'unsafe-inline'");
}

TEST_P(ContentRoutesTest, UploadTypeErrorsAre415) {
  HttpClient editor = signedIn("acme", "editor");

  HttpReply named = upload(editor, "crest.png", "images/crest-jpeg-named-png.png");
  HttpReply declared = upload(editor, "crest", "images/crest-rgba16.png", "image/gif");
  HttpReply html = upload(editor, "crest", "images/crest-html-error-page.png");

  EXPECT_EQ(named.status, 415);
  EXPECT_EQ(named.errorCode(), "unsupported_media_type");
  EXPECT_EQ(named.json()["error"]["message"],
            "asset 'crest.png' is named as image/png by its extension but its content is "
            "image/jpeg");
  EXPECT_EQ(declared.status, 415);
  EXPECT_EQ(declared.json()["error"]["message"],
            "asset 'crest' is declared as image/gif by its Content-Type but its content is "
            "image/png");
  EXPECT_EQ(html.status, 415);
  EXPECT_EQ(html.json()["error"]["message"],
            "asset 'crest': the content is an HTML document, not an image, font or audio file");
  EXPECT_EQ(editor.get("/api/v1/assets").json(), json({{"assets", json::array()}}));
}

TEST_P(ContentRoutesTest, UnsafeUploadsAre422) {
  HttpClient editor = signedIn("acme", "editor");

  HttpReply bomb = upload(editor, "bomb", "images/crest-bomb-30000x30000.png");
  HttpReply svg = upload(editor, "logo.svg", "content/onload.svg");
  HttpReply traversal = upload(editor, "..%2F..%2Fetc%2Fpasswd", "images/crest-rgba16.png");
  HttpReply unnamed =
      editor.post("/api/v1/assets", fixture("images/crest-rgba16.png"), "application/octet-stream");

  EXPECT_EQ(bomb.status, 422);
  EXPECT_EQ(bomb.errorCode(), "invalid_asset");
  EXPECT_EQ(bomb.json()["error"]["message"],
            "asset 'bomb' declares a canvas of 30000x30000 pixels; each side may be at most "
            "16384");
  EXPECT_EQ(svg.status, 422);
  EXPECT_EQ(svg.errorCode(), "invalid_asset");
  EXPECT_EQ(svg.json()["error"]["details"], json::parse(R"([
              {"line": 1, "message": "<svg> attribute onload is an event handler, which is not allowed"},
              {"line": 2, "message": "<rect> attribute onclick is an event handler, which is not allowed"}
            ])"));
  EXPECT_EQ(traversal.status, 422);
  EXPECT_EQ(traversal.errorCode(), "invalid_field");
  EXPECT_EQ(traversal.json()["error"]["message"],
            "asset name '../../etc/passwd' contains a path ('../'); give a plain name without "
            "'/' or '\\'");
  EXPECT_EQ(traversal.json()["error"]["details"][0]["parameter"], "name");
  EXPECT_EQ(unnamed.status, 422);
  EXPECT_EQ(unnamed.json()["error"]["message"],
            "query parameter 'name' is missing; upload to /api/v1/assets?name=NAME");
  EXPECT_TRUE(fs::is_empty(storage_) || !fs::exists(storage_ / "acme" / "assets") ||
              fs::is_empty(storage_ / "acme" / "assets"));
}

TEST_P(ContentRoutesTest, UploadLimitIs50MiB) {
  HttpClient editor = signedIn("acme", "editor");
  std::string bytes = fixture("images/crest-rgba16.png");
  bytes.resize(2 * 1024 * 1024, '\0');

  // Above the server's default of 1 MiB, within the route's 50 MiB, the
  // limit of audio (images and fonts have 20 MiB, once sniffed).
  HttpReply accepted = editor.post("/api/v1/assets?name=big.png", bytes, "image/png");
  // The server responds from the header alone, before the body is sent.
  std::string response = headerOnlyPost("/api/v1/assets?name=huge.png", 50 * 1024 * 1024 + 1);

  EXPECT_EQ(accepted.status, 201) << accepted.body;
  EXPECT_EQ(accepted.json()["bytes"], 2 * 1024 * 1024);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 413 ")) << response;
  EXPECT_NE(response.find("\"payload_too_large\""), std::string::npos) << response;
}

TEST_P(ContentRoutesTest, DuplicateAssetNameIs409) {
  HttpClient editor = signedIn("acme", "editor");
  uploadId(editor, "crest", "images/crest-rgba16.png");

  HttpReply again = upload(editor, "crest", "images/crest-good.svg");

  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.errorCode(), "conflict");
}

TEST_P(ContentRoutesTest, RolesAndApiKeys) {
  HttpClient viewer = signedIn("acme", "viewer");
  HttpClient key = withApiKey("acme", "editor");

  HttpReply by_viewer = upload(viewer, "crest", "images/crest-rgba16.png");
  HttpReply by_key = upload(key, "crest", "images/crest-rgba16.png");
  HttpReply listed = viewer.get("/api/v1/assets");
  HttpReply anonymous_list = anonymous().get("/api/v1/assets");

  EXPECT_EQ(by_viewer.status, 403);
  EXPECT_EQ(by_viewer.errorCode(), "forbidden");
  EXPECT_EQ(by_key.status, 201) << by_key.body;
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.json()["assets"].size(), 1u);
  EXPECT_EQ(anonymous_list.status, 401);
}

TEST_P(ContentRoutesTest, OtherTenantsContentIs404) {
  HttpClient acme = signedIn("acme", "editor");
  HttpClient globex = signedIn("globex", "owner");
  std::string asset = uploadId(acme, "logo", "images/crest-good.svg");
  std::string kit =
      acme.post("/api/v1/brand-kits", json{{"name", "Acme"}}.dump()).json().value("id", "");
  std::string tpl =
      acme.post("/api/v1/templates", json{{"name", "T"}, {"body", minimalTemplate()}}.dump())
          .json()
          .value("id", "");
  ASSERT_FALSE(kit.empty());
  ASSERT_FALSE(tpl.empty());

  const std::string targets[] = {"/api/v1/assets/" + asset,
                                 "/api/v1/assets/" + asset + "/content",
                                 "/api/v1/brand-kits/" + kit,
                                 "/api/v1/templates/" + tpl,
                                 "/api/v1/templates/" + tpl + "/versions",
                                 "/api/v1/templates/" + tpl + "/versions/1"};
  for (const std::string& target : targets) {
    SCOPED_TRACE(target);
    HttpReply reply = globex.get(target);
    EXPECT_EQ(reply.status, 404);
    EXPECT_EQ(reply.errorCode(), "not_found");
  }
  EXPECT_EQ(globex.del("/api/v1/assets/" + asset).status, 404);
  EXPECT_EQ(globex.del("/api/v1/brand-kits/" + kit).status, 404);
  EXPECT_EQ(globex.del("/api/v1/templates/" + tpl).status, 404);
  EXPECT_EQ(globex.request("PUT", "/api/v1/brand-kits/" + kit, json{{"name", "X"}}.dump()).status,
            404);
  EXPECT_EQ(globex.put("/api/v1/templates/" + tpl, json{{"name", "X"}}.dump()).status, 404);
  EXPECT_EQ(acme.get("/api/v1/assets/" + asset).status, 200);
}

TEST_P(ContentRoutesTest, BrandKitLifecycle) {
  HttpClient editor = signedIn("acme", "editor");
  std::string logo = uploadId(editor, "logo", "images/crest-good.svg");
  std::string font = uploadId(editor, "display", "content/tiny-truetype.ttf");
  json spec = {{"name", "Demo Sports"},
               {"handle", "@demosports"},
               {"colors", {{"primary", "#0B1D51"}}},
               {"fonts", {{"display", {{"family", "Bebas Neue"}, {"asset_id", font}}}}},
               {"logo_asset_id", logo}};

  HttpReply created = editor.post("/api/v1/brand-kits", spec.dump());
  std::string id = created.json().value("id", "");
  HttpReply listed = editor.get("/api/v1/brand-kits");
  json changed = spec;
  changed["colors"]["primary"] = "#C8102E";
  HttpReply replaced = editor.put("/api/v1/brand-kits/" + id, changed.dump());
  HttpReply got = editor.get("/api/v1/brand-kits/" + id);
  std::ifstream brand_file(storage_ / "acme" / "brand-kits" / id / "brand.json");
  json brand = json::parse(brand_file, nullptr, false);
  HttpReply asset_in_use = editor.del("/api/v1/assets/" + logo);
  HttpReply removed = editor.del("/api/v1/brand-kits/" + id);

  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json()["name"], "Demo Sports");
  EXPECT_EQ(created.json()["logo_asset_id"], logo);
  EXPECT_EQ(created.json()["fonts"], spec["fonts"]);
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.json()["brand_kits"].size(), 1u);
  EXPECT_EQ(listed.json()["brand_kits"][0]["id"], id);
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.json()["colors"]["primary"], "#C8102E");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json()["colors"]["primary"], "#C8102E");
  ASSERT_TRUE(brand.is_object());
  EXPECT_EQ(brand["colors"]["primary"], "#C8102E");
  EXPECT_EQ(brand["logo"], "files/" + logo + ".svg");
  EXPECT_EQ(brand["fonts"]["display"]["file"], "files/" + font + ".ttf");
  EXPECT_EQ(asset_in_use.status, 409);
  EXPECT_EQ(asset_in_use.errorCode(), "failed_precondition");
  EXPECT_EQ(asset_in_use.json()["error"]["message"], "asset 'logo' (" + logo +
                                                         ") is used by brand kit 'Demo Sports' (" +
                                                         id + "); remove it from the kit first");
  EXPECT_EQ(removed.status, 204);
  EXPECT_FALSE(fs::exists(storage_ / "acme" / "brand-kits" / id));
  EXPECT_EQ(editor.del("/api/v1/assets/" + logo).status, 204);
}

TEST_P(ContentRoutesTest, BrandKitErrorsHavePointers) {
  HttpClient editor = signedIn("acme", "editor");
  std::string logo = uploadId(editor, "logo", "images/crest-good.svg");

  HttpReply invalid =
      editor.post("/api/v1/brand-kits",
                  json{{"name", "Demo"},
                       {"fonts", {{"display", {{"family", "Inter"}, {"asset_id", logo}}}}},
                       {"assets", {{"music", "ast_missing"}}}}
                      .dump());
  HttpReply not_json = editor.post("/api/v1/brand-kits", "{\"name\": ");
  ASSERT_EQ(editor.post("/api/v1/brand-kits", json{{"name", "Demo"}}.dump()).status, 201);
  HttpReply duplicate = editor.post("/api/v1/brand-kits", json{{"name", "Demo"}}.dump());

  EXPECT_EQ(invalid.status, 422);
  EXPECT_EQ(invalid.errorCode(), "invalid_field");
  EXPECT_EQ(invalid.json()["error"]["details"], json::parse(R"([
              {"pointer": "/fonts/display/asset_id", "message": "asset ')" +
                                                            logo +
                                                            R"(' is image/svg+xml, not a font"},
              {"pointer": "/assets/music", "message": "asset 'ast_missing' not found"}
            ])"));
  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(not_json.errorCode(), "invalid_json");
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(duplicate.errorCode(), "conflict");
}

TEST_P(ContentRoutesTest, BrandKitLibrariesBecomeIndexes) {
  HttpClient editor = signedIn("acme", "editor");
  std::string crest = uploadId(editor, "crest.svg", "images/crest-good.svg");
  std::string other = uploadId(editor, "other.png", "images/crest-gray-alpha16.png");
  json libraries = {{"crests", {{"Arsenal FC", crest}, {"Brighton & Hove/Albion~", other}}},
                    {"empty", json::object()}};

  HttpReply created = editor.post("/api/v1/brand-kits",
                                  json{{"name", "Demo Sports"}, {"libraries", libraries}}.dump());
  std::string id = created.json().value("id", "");
  HttpReply got = editor.get("/api/v1/brand-kits/" + id);
  fs::path dir = storage_ / "acme" / "brand-kits" / id;
  json brand = json::parse(readText(dir / "brand.json"), nullptr, false);
  json index = json::parse(readText(dir / "libraries" / "crests.json"), nullptr, false);
  Result<templates::BrandKit> loaded = templates::loadBrandKit(dir, nullptr);
  HttpReply crest_in_use = editor.del("/api/v1/assets/" + crest);

  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json()["libraries"], libraries);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json()["libraries"], libraries);
  EXPECT_EQ(brand["libraries"],
            json({{"crests", "libraries/crests.json"}, {"empty", "libraries/empty.json"}}));
  EXPECT_EQ(index, json({{"Arsenal FC", "../files/" + crest + ".svg"},
                         {"Brighton & Hove/Albion~", "../files/" + other + ".png"}}));
  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  const templates::AssetLibrary& crests = loaded->libraries.at("crests");
  EXPECT_EQ(crests.find("arsenal  fc"), dir / "files" / (crest + ".svg"));
  EXPECT_EQ(crests.find("Brighton & Hove/Albion~"), dir / "files" / (other + ".png"));
  EXPECT_TRUE(loaded->libraries.at("empty").entries.empty());
  EXPECT_EQ(crest_in_use.status, 409);
  EXPECT_EQ(crest_in_use.json()["error"]["message"], "asset 'crest.svg' (" + crest +
                                                         ") is used by brand kit 'Demo Sports' (" +
                                                         id + "); remove it from the kit first");
}

TEST_P(ContentRoutesTest, BrandKitLibraryErrorsHavePointers) {
  HttpClient editor = signedIn("acme", "editor");
  std::string crest = uploadId(editor, "crest.svg", "images/crest-good.svg");
  std::string font = uploadId(editor, "display.ttf", "content/tiny-truetype.ttf");
  std::string long_name(201, 'x');
  json crests = {{"", crest}, {"Arsenal FC", font}, {"Tab\tName", crest}, {"a/b~c", "ast_missing"},
                 {"ok", 5},   {long_name, crest}};

  HttpReply invalid = editor.post(
      "/api/v1/brand-kits",
      json{{"name", "Demo"},
           {"libraries", {{"bad name!", json::object()}, {"crests", crests}, {"sponsors", "x"}}}}
          .dump());

  EXPECT_EQ(invalid.status, 422);
  EXPECT_EQ(invalid.errorCode(), "invalid_field");
  json expected = json::array(
      {{{"pointer", "/libraries/bad name!"},
        {"message", "invalid name 'bad name!'; use 1 to 64 letters, digits, '_' or '-'"}},
       {{"pointer", "/libraries/crests/"}, {"message", "entry name has 0 bytes; give 1 to 200"}},
       {{"pointer", "/libraries/crests/Arsenal FC"},
        {"message", "asset '" + font + "' is font/ttf, not an image"}},
       {{"pointer", "/libraries/crests/Tab\tName"},
        {"message", "entry name contains a control character at byte 3"}},
       {{"pointer", "/libraries/crests/a~1b~0c"}, {"message", "asset 'ast_missing' not found"}},
       {{"pointer", "/libraries/crests/ok"}, {"message", "expected an asset id"}},
       {{"pointer", "/libraries/crests/" + long_name},
        {"message", "entry name has 201 bytes; give 1 to 200"}},
       {{"pointer", "/libraries/sponsors"},
        {"message", "expected an object of entry name: asset id"}}});
  EXPECT_EQ(invalid.json()["error"]["details"], expected);
  EXPECT_FALSE(fs::exists(storage_ / "acme" / "brand-kits") &&
               !fs::is_empty(storage_ / "acme" / "brand-kits"));
}

TEST_P(ContentRoutesTest, BrandKitLibraryLimits) {
  HttpClient editor = signedIn("acme", "editor");
  std::string crest = uploadId(editor, "crest.svg", "images/crest-good.svg");
  json many_libraries = json::object();
  for (int i = 0; i < 101; ++i) {
    many_libraries["lib" + std::to_string(i)] = json::object();
  }
  json many_entries = {{"first", json::object()}, {"second", json::object()}};
  for (int i = 0; i < 5'001; ++i) {
    many_entries[i % 2 == 0 ? "first" : "second"]["club " + std::to_string(i)] = crest;
  }

  HttpReply libraries = editor.post("/api/v1/brand-kits",
                                    json{{"name", "Demo"}, {"libraries", many_libraries}}.dump());
  HttpReply entries =
      editor.post("/api/v1/brand-kits", json{{"name", "Demo"}, {"libraries", many_entries}}.dump());
  many_entries["second"].erase("club 1");
  HttpReply at_limit =
      editor.post("/api/v1/brand-kits", json{{"name", "Demo"}, {"libraries", many_entries}}.dump());

  EXPECT_EQ(libraries.status, 422);
  EXPECT_EQ(libraries.json()["error"]["details"], json::parse(R"([{"pointer": "/libraries",
                             "message": "101 libraries; a kit has at most 100"}])"));
  EXPECT_EQ(entries.status, 422);
  EXPECT_EQ(entries.json()["error"]["details"], json::parse(R"([{"pointer": "/libraries",
                             "message": "5001 entries in all libraries; a kit has at most 5000"}])"));
  EXPECT_EQ(at_limit.status, 201) << at_limit.body.substr(0, 500);
}

TEST_P(ContentRoutesTest, TemplateVersions) {
  HttpClient editor = signedIn("acme", "editor");

  HttpReply created = editor.post(
      "/api/v1/templates", json{{"name", "Match Day"}, {"body", minimalTemplate("one")}}.dump());
  std::string id = created.json().value("id", "");
  HttpReply saved =
      editor.put("/api/v1/templates/" + id, json{{"body", minimalTemplate("two")}}.dump());
  HttpReply same = editor.put("/api/v1/templates/" + id,
                              json{{"name", "Derby"}, {"body", minimalTemplate("two")}}.dump());
  HttpReply got = editor.get("/api/v1/templates/" + id);
  HttpReply listed = editor.get("/api/v1/templates");
  HttpReply versions = editor.get("/api/v1/templates/" + id + "/versions");
  HttpReply first = editor.get("/api/v1/templates/" + id + "/versions/1");
  HttpReply missing = editor.get("/api/v1/templates/" + id + "/versions/9");
  HttpReply malformed = editor.get("/api/v1/templates/" + id + "/versions/one");

  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json()["latest_version"], 1);
  EXPECT_EQ(created.json()["body"], minimalTemplate("one"));
  ASSERT_EQ(saved.status, 200) << saved.body;
  EXPECT_EQ(saved.json()["latest_version"], 2);
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(same.json()["latest_version"], 2);
  EXPECT_EQ(same.json()["name"], "Derby");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json()["body"], minimalTemplate("two"));
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.json()["templates"].size(), 1u);
  EXPECT_FALSE(listed.json()["templates"][0].contains("body"));
  ASSERT_EQ(versions.status, 200);
  ASSERT_EQ(versions.json()["versions"].size(), 2u);
  EXPECT_EQ(versions.json()["versions"][0]["version"], 1);
  EXPECT_EQ(versions.json()["versions"][1]["version"], 2);
  EXPECT_TRUE(versions.json()["versions"][1]["created_by"].get<std::string>().starts_with("user:"));
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.json()["body"], minimalTemplate("one"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json()["error"]["message"],
            "template '" + id + "' has no version 9; its versions are 1 to 2");
  EXPECT_EQ(malformed.status, 404);
  EXPECT_TRUE(fs::exists(storage_ / "acme" / "templates" / id / "v2.json"));
}

TEST_P(ContentRoutesTest, TemplateBodyKeepsKeyOrder) {
  HttpClient editor = signedIn("acme", "editor");
  // Keys out of alphabetical order at every level, and fields in the order
  // an editor lists them.
  const std::string body =
      R"({"version":1,"name":"Card","fields":{"zeta":{"type":"text","required":true},)"
      R"("alpha":{"type":"text"}},"scenes":[{"layers":[{"kind":"text",)"
      R"("content":"{{zeta}} {{alpha}}"}],"duration":2}],)"
      R"("canvas":{"width":1080,"height":1920,"fps":30}})";
  const std::string echoed = R"("body":)" + body + "}";

  HttpReply created = editor.post("/api/v1/templates", R"({"name":"Ordered","body":)" + body + "}");
  std::string id = created.json().value("id", "");
  HttpReply got = editor.get("/api/v1/templates/" + id);
  HttpReply first = editor.get("/api/v1/templates/" + id + "/versions/1");
  HttpReply same = editor.put("/api/v1/templates/" + id, R"({"body":)" + body + "}");
  HttpReply sorted = editor.put("/api/v1/templates/" + id, json{{"body", json::parse(body)}}.dump());
  HttpReply second = editor.get("/api/v1/templates/" + id + "/versions/2");

  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_NE(created.body.find(echoed), std::string::npos) << created.body;
  ASSERT_EQ(got.status, 200);
  EXPECT_NE(got.body.find(echoed), std::string::npos) << got.body;
  ASSERT_EQ(first.status, 200);
  EXPECT_NE(first.body.find(echoed), std::string::npos) << first.body;
  std::string file = readText(storage_ / "acme" / "templates" / id / "v1.json");
  EXPECT_EQ(nlohmann::ordered_json::parse(file).dump(), body);
  // The same keys in another order are a new version.
  EXPECT_EQ(same.json()["latest_version"], 1);
  EXPECT_EQ(sorted.json()["latest_version"], 2);
  ASSERT_EQ(second.status, 200);
  EXPECT_NE(second.body.find(R"("body":)" + json::parse(body).dump() + "}"), std::string::npos)
      << second.body;
}

TEST_P(ContentRoutesTest, VersionListNamesAuthors) {
  HttpClient editor = signedIn("acme", "editor");
  HttpClient script = withApiKey("acme", "editor");
  std::string email = editor.get("/api/v1/me").json()["user"]["email"];
  std::string id = editor
                       .post("/api/v1/templates",
                             json{{"name", "T"}, {"body", minimalTemplate("one")}}.dump())
                       .json()
                       .value("id", "");
  HttpReply saved =
      script.put("/api/v1/templates/" + id, json{{"body", minimalTemplate("two")}}.dump());
  ASSERT_EQ(saved.status, 200) << saved.body;

  HttpReply versions = editor.get("/api/v1/templates/" + id + "/versions");

  ASSERT_EQ(versions.status, 200) << versions.body;
  json listed = versions.json()["versions"];
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(listed[0]["created_by"].get<std::string>().starts_with("user:"));
  EXPECT_EQ(listed[0]["created_by_email"], email);
  EXPECT_EQ(listed[0]["created_by_name"], "editor");
  EXPECT_TRUE(listed[1]["created_by"].get<std::string>().starts_with("key:"));
  EXPECT_EQ(listed[1]["created_by_email"], nullptr);
  EXPECT_EQ(listed[1]["created_by_name"], "test key");
}

TEST_P(ContentRoutesTest, TemplateProblemsHavePointers) {
  HttpClient editor = signedIn("acme", "editor");
  json broken = minimalTemplate();
  broken["scenes"][0]["layers"][0]["kind"] = "sprite";

  HttpReply saved =
      editor.post("/api/v1/templates", json{{"name", "Bad"}, {"body", broken}}.dump());
  HttpReply validated = editor.post("/api/v1/templates/validate", broken.dump());
  HttpReply valid = editor.post("/api/v1/templates/validate", minimalTemplate().dump());
  HttpReply unnamed =
      editor.post("/api/v1/templates", json{{"name", ""}, {"body", minimalTemplate()}}.dump());
  HttpReply no_body = editor.post("/api/v1/templates", json{{"name", "T"}}.dump());
  std::string id =
      editor.post("/api/v1/templates", json{{"name", "T"}, {"body", minimalTemplate()}}.dump())
          .json()
          .value("id", "");
  HttpReply replaced = editor.put("/api/v1/templates/" + id, json{{"body", broken}}.dump());

  EXPECT_EQ(saved.status, 422);
  EXPECT_EQ(saved.errorCode(), "invalid_template");
  ASSERT_FALSE(saved.json()["error"]["details"].empty()) << saved.body;
  EXPECT_EQ(saved.json()["error"]["details"][0]["pointer"], "/body/scenes/0/layers/0/kind");
  EXPECT_EQ(validated.status, 422);
  ASSERT_FALSE(validated.json()["error"]["details"].empty()) << validated.body;
  EXPECT_EQ(validated.json()["error"]["details"][0]["pointer"], "/scenes/0/layers/0/kind");
  EXPECT_EQ(validated.json()["error"]["details"][0]["message"],
            saved.json()["error"]["details"][0]["message"]);
  EXPECT_EQ(valid.status, 200);
  EXPECT_EQ(valid.json(), json({{"valid", true}}));
  EXPECT_EQ(unnamed.status, 422);
  EXPECT_EQ(
      unnamed.json()["error"]["details"],
      json::parse(
          R"([{"pointer": "/name", "message": "template name has 0 bytes; give 1 to 100"}])"));
  EXPECT_EQ(no_body.status, 422);
  EXPECT_EQ(no_body.json()["error"]["message"],
            "field 'body' is missing; give the template as an object");
  EXPECT_EQ(replaced.status, 422);
  ASSERT_FALSE(replaced.json()["error"]["details"].empty()) << replaced.body;
  EXPECT_EQ(replaced.json()["error"]["details"][0]["pointer"], "/body/scenes/0/layers/0/kind");
  EXPECT_EQ(editor.get("/api/v1/templates/" + id).json()["latest_version"], 1);
  EXPECT_EQ(editor.get("/api/v1/templates").json()["templates"].size(), 1u);
}

TEST_P(ContentRoutesTest, LargeTemplateReachesLimitCheck) {
  HttpClient viewer = signedIn("acme", "viewer");
  std::string text(1536 * 1024, 'x');

  HttpReply reply = viewer.post("/api/v1/templates/validate", minimalTemplate(text).dump());

  EXPECT_EQ(reply.status, 422) << reply.body.substr(0, 200);
  EXPECT_EQ(reply.errorCode(), "invalid_template");
  EXPECT_EQ(
      reply.json()["error"]["details"],
      json::parse(
          R"([{"pointer": "", "message": "the template has 1573030 bytes as stored, indented by 2 spaces; the limit is 1048576"}])"));
}

TEST_P(ContentRoutesTest, TemplateDelete) {
  HttpClient editor = signedIn("acme", "editor");
  std::string id =
      editor.post("/api/v1/templates", json{{"name", "T"}, {"body", minimalTemplate()}}.dump())
          .json()
          .value("id", "");
  ASSERT_FALSE(id.empty());

  HttpReply removed = editor.del("/api/v1/templates/" + id);
  HttpReply again = editor.del("/api/v1/templates/" + id);

  EXPECT_EQ(removed.status, 204);
  EXPECT_EQ(again.status, 404);
  EXPECT_FALSE(fs::exists(storage_ / "acme" / "templates" / id));
}

TEST_P(ContentRoutesTest, AudioUploadsAndLimits) {
  HttpClient editor = signedIn("acme", "editor");
  // A 16-bit 48 kHz stereo WAV header and 21 MiB of silence: above the
  // limit of images, below that of audio.
  std::string large_wav =
      fixture("golden/brand/music.wav").substr(0, 44) + std::string(21 * 1024 * 1024, '\0');
  std::string large_png = fixture("images/crest-rgba16.png") + std::string(21 * 1024 * 1024, '\0');

  HttpReply flac = upload(editor, "music.flac", "content/tone.flac", "audio/flac");
  HttpReply opus = upload(editor, "voice.opus", "content/tone-opus.ogg");
  HttpReply wav = editor.post("/api/v1/assets?name=long.wav", large_wav, "audio/wav");
  HttpReply png = editor.post("/api/v1/assets?name=large.png", large_png, "image/png");
  HttpReply declared = upload(editor, "song", "content/tone.m4a", "audio/mpeg");
  HttpReply adts = upload(editor, "song", "content/tone.aac");
  HttpReply content = editor.get("/api/v1/assets/" + flac.json().value("id", "") + "/content");

  ASSERT_EQ(flac.status, 201) << flac.body;
  EXPECT_EQ(flac.json()["media_type"], "audio/flac");
  EXPECT_EQ(flac.json()["width"], 0);
  EXPECT_EQ(flac.json()["height"], 0);
  EXPECT_EQ(content.status, 200);
  EXPECT_EQ(content.header("content-type"), "audio/flac");
  EXPECT_EQ(content.body, fixture("content/tone.flac"));
  ASSERT_EQ(opus.status, 201) << opus.body;
  EXPECT_EQ(opus.json()["media_type"], "audio/ogg");
  ASSERT_EQ(wav.status, 201) << wav.body;
  EXPECT_EQ(wav.json()["bytes"], large_wav.size());
  EXPECT_EQ(png.status, 413) << png.body;
  EXPECT_EQ(png.errorCode(), "payload_too_large");
  EXPECT_EQ(png.json()["error"]["message"],
            "asset 'large.png' has " + std::to_string(large_png.size()) +
                " bytes; the limit for images and fonts is 20971520");
  EXPECT_EQ(declared.status, 415);
  EXPECT_EQ(declared.json()["error"]["message"],
            "asset 'song' is declared as audio/mpeg by its Content-Type but its content is "
            "audio/mp4");
  EXPECT_EQ(adts.status, 415);
  EXPECT_EQ(adts.json()["error"]["message"],
            "asset 'song': the content is raw AAC (ADTS); upload AAC audio inside an M4A file");
}

INSTANTIATE_TEST_SUITE_P(Backends, ContentRoutesTest, kBackends, backendName);

}  // namespace
}  // namespace smmhub::testing
