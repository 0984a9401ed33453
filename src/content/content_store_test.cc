#include <soci/soci.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "content/asset_store.h"
#include "content/brand_kit_store.h"
#include "content/template_store.h"
#include "template/brand_kit.h"
#include "testing/backend_test.h"
#include "testing/temp_dir.h"

namespace smmhub::content {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string readFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot read " << path;
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

std::string fixture(const std::string& path) {
  return readFile("tests/testdata/" + path);
}

std::vector<std::string> places(const Diagnostics& problems) {
  std::vector<std::string> found;
  for (const Diagnostic& problem : problems.items()) {
    found.push_back(problem.place + ": " + problem.message);
  }
  return found;
}

// Names of the entries of DIR, sorted.
std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(dir, ignored)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ContentStoreTest : public testing::BackendTest {
 protected:
  void SetUp() override {
    db_ = openTestDatabase();
    ASSERT_NE(db_, nullptr);
    assets_ = std::make_unique<AssetStore>(*db_, storage_.path());
    kits_ = std::make_unique<BrandKitStore>(*db_, storage_.path());
    templates_ = std::make_unique<TemplateStore>(*db_, storage_.path());
  }

  Asset upload(const std::string& tenant, const std::string& name, const std::string& path) {
    std::string bytes = fixture(path);
    Result<Asset> asset = assets_->create(tenant, {.name = name, .bytes = bytes}, nullptr);
    EXPECT_TRUE(asset.ok()) << asset.status().toString();
    return asset.ok() ? *asset : Asset{};
  }

  void addCampaign(const std::string& tenant, const std::string& template_id,
                   const std::string& brand_kit_id) {
    ASSERT_TRUE(db_->write([&](soci::session& sql) {
                     sql << "INSERT INTO campaigns (id, tenant, name, template_id, brand_kit_id, "
                            "created_at_ms, updated_at_ms) VALUES ('cmp_1', :tenant, 'Derby "
                            "Day', :template_id, :brand_kit_id, 1, 1)",
                         soci::use(tenant), soci::use(template_id), soci::use(brand_kit_id);
                     return okStatus();
                   })
                    .ok());
  }

  static json minimalTemplate(const std::string& text = "Hello") {
    return {{"version", 1},
            {"scenes", {{{"duration", 2}, {"layers", {{{"kind", "text"}, {"content", text}}}}}}}};
  }

  testing::TempDir storage_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<AssetStore> assets_;
  std::unique_ptr<BrandKitStore> kits_;
  std::unique_ptr<TemplateStore> templates_;
};

TEST_P(ContentStoreTest, AssetCreateWritesFileAndRow) {
  std::string bytes = fixture("images/crest-rgba16.png");

  Result<Asset> asset = assets_->create(
      "acme", {.name = "Arsenal FC", .declared_type = "image/png", .bytes = bytes}, nullptr);

  ASSERT_TRUE(asset.ok()) << asset.status().toString();
  EXPECT_TRUE(asset->id.starts_with("ast_"));
  EXPECT_EQ(asset->path, (storage_.path() / "acme" / "assets" / (asset->id + ".png")).string());
  EXPECT_EQ(readFile(asset->path), bytes);
  Result<Asset> stored = assets_->get("acme", asset->id);
  ASSERT_TRUE(stored.ok()) << stored.status().toString();
  EXPECT_EQ(stored->name, "Arsenal FC");
  EXPECT_EQ(stored->media_type, "image/png");
  EXPECT_EQ(stored->bytes, 28048);
  EXPECT_EQ(stored->width, 240);
  EXPECT_EQ(stored->height, 280);
  EXPECT_EQ(stored->sha256, "307b61652f9cc05cf5e541ef43270d0502c4fddebca35d23020a193b33ba3c03");
  EXPECT_EQ(stored->created_at_ms, asset->created_at_ms);
}

TEST_P(ContentStoreTest, AssetNameIsUniquePerTenant) {
  upload("acme", "crest", "images/crest-rgba16.png");
  std::string bytes = fixture("images/crest-good.svg");

  Result<Asset> again = assets_->create("acme", {.name = "crest", .bytes = bytes}, nullptr);
  Result<Asset> other = assets_->create("globex", {.name = "crest", .bytes = bytes}, nullptr);

  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(),
            "an asset named 'crest' exists already; delete it or choose another name");
  EXPECT_EQ(entries(storage_.path() / "acme" / "assets").size(), 1u);
  EXPECT_TRUE(other.ok()) << other.status().toString();
}

TEST_P(ContentStoreTest, RejectedUploadStoresNothing) {
  std::string svg = fixture("content/script.svg");
  AssetRejection rejection;

  Result<Asset> asset = assets_->create("acme", {.name = "logo.svg", .bytes = svg}, &rejection);

  ASSERT_FALSE(asset.ok());
  EXPECT_EQ(rejection.reason, AssetRejection::kInvalidContent);
  EXPECT_FALSE(fs::exists(storage_.path() / "acme"));
  Result<std::vector<Asset>> listed = assets_->list("acme");
  ASSERT_TRUE(listed.ok()) << listed.status().toString();
  EXPECT_TRUE(listed->empty());
}

TEST_P(ContentStoreTest, InvalidTenantIsRejected) {
  std::string bytes = fixture("images/crest-rgba16.png");

  Result<Asset> asset = assets_->create("../acme", {.name = "crest", .bytes = bytes}, nullptr);

  ASSERT_FALSE(asset.ok());
  EXPECT_EQ(asset.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(entries(storage_.path()).empty());
}

TEST_P(ContentStoreTest, OtherTenantsAssetIsNotFound) {
  Asset asset = upload("acme", "crest", "images/crest-rgba16.png");

  Result<Asset> got = assets_->get("globex", asset.id);
  Status removed = assets_->remove("globex", asset.id);

  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(got.status().message(), "asset '" + asset.id + "' not found");
  EXPECT_EQ(removed.code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs::exists(asset.path));
}

TEST_P(ContentStoreTest, AssetListIsByName) {
  upload("acme", "b-crest", "images/crest-rgba16.png");
  upload("acme", "a-logo", "images/crest-good.svg");
  upload("globex", "c-other", "images/crest-good.svg");

  Result<std::vector<Asset>> listed = assets_->list("acme");

  ASSERT_TRUE(listed.ok()) << listed.status().toString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "a-logo");
  EXPECT_EQ((*listed)[0].media_type, "image/svg+xml");
  EXPECT_EQ((*listed)[1].name, "b-crest");
}

TEST_P(ContentStoreTest, AssetDeleteRemovesFile) {
  Asset asset = upload("acme", "crest", "images/crest-rgba16.png");

  Status removed = assets_->remove("acme", asset.id);

  ASSERT_TRUE(removed.ok()) << removed.toString();
  EXPECT_FALSE(fs::exists(asset.path));
  EXPECT_EQ(assets_->get("acme", asset.id).status().code(), StatusCode::kNotFound);
}

TEST_P(ContentStoreTest, BrandKitFolderLoads) {
  Asset logo = upload("acme", "logo", "images/crest-good.svg");
  Asset font = upload("acme", "display font", "content/tiny-truetype.ttf");
  Asset crest = upload("acme", "crest", "images/crest-rgba16.png");
  json spec = {{"name", "Demo Sports"},
               {"handle", "@demosports"},
               {"colors", {{"primary", "#0B1D51"}, {"secondary", "#C8102E"}}},
               {"fonts",
                {{"display", {{"family", "Bebas Neue"}, {"weight", 700}, {"asset_id", font.id}}},
                 {"body", {{"family", "Inter"}}}}},
               {"logo_asset_id", logo.id},
               {"assets", {{"crest", crest.id}}}};

  Result<BrandKitRecord> kit = kits_->create("acme", spec, nullptr);

  ASSERT_TRUE(kit.ok()) << kit.status().toString();
  EXPECT_EQ(kit->dir, (storage_.path() / "acme" / "brand-kits" / kit->id).string());
  fs::path dir = kits_->directory(*kit);
  Result<templates::BrandKit> loaded = templates::loadBrandKit(dir, nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  EXPECT_EQ(loaded->name, "Demo Sports");
  EXPECT_EQ(loaded->handle, "@demosports");
  EXPECT_EQ(loaded->logo, dir / "files" / (logo.id + ".svg"));
  EXPECT_EQ(loaded->colors.at("primary"), "#0B1D51FF");
  EXPECT_EQ(loaded->fonts.at("display").family, "Bebas Neue");
  EXPECT_EQ(loaded->fonts.at("display").weight, 700);
  EXPECT_EQ(loaded->fonts.at("display").file, dir / "files" / (font.id + ".ttf"));
  EXPECT_EQ(loaded->fonts.at("body").file, fs::path());
  EXPECT_EQ(loaded->assets.at("crest"), dir / "files" / (crest.id + ".png"));
  EXPECT_EQ(readFile(loaded->assets.at("crest")), fixture("images/crest-rgba16.png"));
  EXPECT_EQ(fs::hard_link_count(loaded->assets.at("crest")), 2u);
  EXPECT_EQ(entries(storage_.path() / "acme" / "brand-kits"), std::vector<std::string>{kit->id});
  Result<BrandKitRecord> stored = kits_->get("acme", kit->id);
  ASSERT_TRUE(stored.ok()) << stored.status().toString();
  EXPECT_EQ(stored->spec, spec);
}

TEST_P(ContentStoreTest, BrandKitErrorsPointAtFields) {
  Asset crest = upload("acme", "crest", "images/crest-rgba16.png");
  Asset font = upload("acme", "font", "content/tiny-truetype.ttf");
  Asset other = upload("globex", "logo", "images/crest-good.svg");
  json spec = {{"colour", "red"},
               {"colors", {{"primary", "#0B1D5"}, {"bad key", "#000000"}}},
               {"fonts", {{"display", {{"weight", 1000}, {"asset_id", crest.id}}}}},
               {"logo_asset_id", font.id},
               {"assets", {{"crest", other.id}}}};
  Diagnostics problems;

  Result<BrandKitRecord> kit = kits_->create("acme", spec, &problems);

  ASSERT_FALSE(kit.ok());
  EXPECT_EQ(kit.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(places(problems),
            (std::vector<std::string>{
                "/colour: unknown member; known are name, handle, colors, fonts, logo_asset_id, "
                "assets, libraries",
                "/name: missing; give the kit's name",
                "/logo_asset_id: asset '" + font.id + "' is font/ttf, not an image",
                "/colors/bad key: invalid name 'bad key'; use 1 to 64 letters, digits, '_' or "
                "'-'",
                "/colors/primary: invalid colour '#0B1D5'; use #RRGGBB, #RRGGBBAA, #RGB, rgb(r, "
                "g, b), rgba(r, g, b, a) or a colour name such as 'white'",
                "/fonts/display/family: missing font family",
                "/fonts/display/weight: expected a weight from 100 to 900",
                "/fonts/display/asset_id: asset '" + crest.id + "' is image/png, not a font",
                "/assets/crest: asset '" + other.id + "' not found",
            }));
  EXPECT_TRUE(entries(storage_.path() / "acme" / "brand-kits").empty());
}

TEST_P(ContentStoreTest, BrandKitUpdateSwapsFolder) {
  Asset logo = upload("acme", "logo", "images/crest-good.svg");
  Asset crest = upload("acme", "crest", "images/crest-rgba16.png");
  Result<BrandKitRecord> kit = kits_->create(
      "acme", {{"name", "Demo"}, {"logo_asset_id", logo.id}, {"colors", {{"primary", "red"}}}},
      nullptr);
  ASSERT_TRUE(kit.ok()) << kit.status().toString();
  json changed = {{"name", "Demo 2"}, {"logo_asset_id", crest.id}};

  Result<BrandKitRecord> updated = kits_->update("acme", kit->id, changed, nullptr);

  ASSERT_TRUE(updated.ok()) << updated.status().toString();
  EXPECT_EQ(updated->name, "Demo 2");
  EXPECT_GE(updated->updated_at_ms, kit->updated_at_ms);
  fs::path dir = kits_->directory(*updated);
  EXPECT_EQ(entries(dir / "files"), std::vector<std::string>{crest.id + ".png"});
  Result<templates::BrandKit> loaded = templates::loadBrandKit(dir, nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  EXPECT_EQ(loaded->name, "Demo 2");
  EXPECT_TRUE(loaded->colors.empty());
  EXPECT_EQ(entries(storage_.path() / "acme" / "brand-kits"), std::vector<std::string>{kit->id});
  EXPECT_EQ(kits_->get("acme", kit->id)->spec, changed);
}

TEST_P(ContentStoreTest, BrandKitUpdateKeepsOldFolderOnError) {
  Result<BrandKitRecord> kit = kits_->create("acme", {{"name", "Demo"}}, nullptr);
  ASSERT_TRUE(kit.ok()) << kit.status().toString();
  ASSERT_TRUE(kits_->create("acme", {{"name", "Taken"}}, nullptr).ok());

  Result<BrandKitRecord> renamed = kits_->update("acme", kit->id, {{"name", "Taken"}}, nullptr);
  Result<BrandKitRecord> missing = kits_->update("globex", kit->id, {{"name", "X"}}, nullptr);

  ASSERT_FALSE(renamed.ok());
  EXPECT_EQ(renamed.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(renamed.status().message(),
            "a brand kit named 'Taken' exists already; choose another name");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(json::parse(readFile(kits_->directory(*kit) / "brand.json")).at("name"), "Demo");
  EXPECT_EQ(entries(storage_.path() / "acme" / "brand-kits").size(), 2u);
}

TEST_P(ContentStoreTest, AssetInKitCannotBeDeleted) {
  Asset logo = upload("acme", "logo", "images/crest-good.svg");
  Result<BrandKitRecord> kit =
      kits_->create("acme", {{"name", "Demo"}, {"logo_asset_id", logo.id}}, nullptr);
  ASSERT_TRUE(kit.ok()) << kit.status().toString();

  Status in_use = assets_->remove("acme", logo.id);
  ASSERT_TRUE(kits_->remove("acme", kit->id).ok());
  Status after_kit = assets_->remove("acme", logo.id);

  EXPECT_EQ(in_use.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(in_use.message(), "asset 'logo' (" + logo.id + ") is used by brand kit 'Demo' (" +
                                  kit->id + "); remove it from the kit first");
  EXPECT_TRUE(after_kit.ok()) << after_kit.toString();
  EXPECT_FALSE(fs::exists(storage_.path() / "acme" / "brand-kits" / kit->id));
}

TEST_P(ContentStoreTest, BrandKitInCampaignCannotBeDeleted) {
  Result<BrandKitRecord> kit = kits_->create("acme", {{"name", "Demo"}}, nullptr);
  ASSERT_TRUE(kit.ok()) << kit.status().toString();
  addCampaign("acme", "", kit->id);

  Status removed = kits_->remove("acme", kit->id);
  Status other_tenant = kits_->remove("globex", kit->id);

  EXPECT_EQ(removed.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(removed.message(), "brand kit 'Demo' (" + kit->id +
                                   ") is used by campaign 'Derby Day' (cmp_1); change the "
                                   "campaign's brand kit first");
  EXPECT_EQ(other_tenant.code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs::exists(kits_->directory(*kit) / "brand.json"));
}

TEST_P(ContentStoreTest, TemplateCreateSavesVersionOne) {
  json body = minimalTemplate();

  Result<TemplateRecord> created =
      templates_->create("acme", "Match Day", body, "user:u_1", nullptr);

  ASSERT_TRUE(created.ok()) << created.status().toString();
  EXPECT_TRUE(created->id.starts_with("tpl_"));
  EXPECT_EQ(created->latest_version, 1);
  Result<TemplateVersion> version = templates_->version("acme", created->id, 0);
  ASSERT_TRUE(version.ok()) << version.status().toString();
  EXPECT_EQ(version->version, 1);
  EXPECT_EQ(version->created_by, "user:u_1");
  EXPECT_EQ(version->path,
            (storage_.path() / "acme" / "templates" / created->id / "v1.json").string());
  EXPECT_EQ(json::parse(version->body), body);
  EXPECT_EQ(json::parse(readFile(templates_->filePath(*version))), body);
}

TEST_P(ContentStoreTest, TemplateSaveMakesNextVersion) {
  Result<TemplateRecord> created =
      templates_->create("acme", "Match Day", minimalTemplate("one"), "user:u_1", nullptr);
  ASSERT_TRUE(created.ok()) << created.status().toString();

  Result<TemplateRecord> second = templates_->update("acme", created->id, std::nullopt,
                                                     minimalTemplate("two"), "key:k_1", nullptr);
  Result<TemplateRecord> same =
      templates_->update("acme", created->id, "Derby", minimalTemplate("two"), "key:k_1", nullptr);

  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_EQ(second->latest_version, 2);
  ASSERT_TRUE(same.ok()) << same.status().toString();
  EXPECT_EQ(same->latest_version, 2);
  EXPECT_EQ(same->name, "Derby");
  Result<std::vector<TemplateVersion>> versions = templates_->versions("acme", created->id);
  ASSERT_TRUE(versions.ok()) << versions.status().toString();
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].version, 1);
  EXPECT_EQ((*versions)[0].created_by, "user:u_1");
  EXPECT_EQ((*versions)[1].version, 2);
  EXPECT_EQ((*versions)[1].created_by, "key:k_1");
  Result<TemplateVersion> first = templates_->version("acme", created->id, 1);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_EQ(json::parse(first->body), minimalTemplate("one"));
  EXPECT_EQ(json::parse(readFile(storage_.path() / "acme" / "templates" / created->id / "v2.json")),
            minimalTemplate("two"));
}

TEST_P(ContentStoreTest, TemplateErrorsHavePointers) {
  json body = minimalTemplate();
  body["scenes"][0]["layers"][0]["kind"] = "sprite";
  body["scenes"][0]["duration"] = -1;
  Diagnostics problems;

  Result<TemplateRecord> created =
      templates_->create("acme", "Match Day", body, "user:u_1", &problems);
  Result<TemplateRecord> unnamed =
      templates_->create("acme", "", minimalTemplate(), "user:u_1", nullptr);

  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.status().message(), "template name has 0 bytes; give 1 to 100");
  std::vector<std::string> pointers;
  for (const Diagnostic& problem : problems.items()) {
    pointers.push_back(problem.place);
  }
  EXPECT_NE(std::find(pointers.begin(), pointers.end(), "/scenes/0/duration"), pointers.end());
  EXPECT_NE(std::find(pointers.begin(), pointers.end(), "/scenes/0/layers/0/kind"), pointers.end());
  EXPECT_TRUE(entries(storage_.path()).empty());
}

TEST_P(ContentStoreTest, TemplateLookupsAreByTenant) {
  Result<TemplateRecord> created =
      templates_->create("acme", "Match Day", minimalTemplate(), "user:u_1", nullptr);
  ASSERT_TRUE(created.ok()) << created.status().toString();

  Result<TemplateRecord> duplicate =
      templates_->create("acme", "Match Day", minimalTemplate(), "user:u_1", nullptr);
  Result<TemplateRecord> other = templates_->get("globex", created->id);
  Result<TemplateVersion> no_version = templates_->version("acme", created->id, 7);

  EXPECT_EQ(duplicate.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(duplicate.status().message(),
            "a template named 'Match Day' exists already; choose another name");
  EXPECT_EQ(other.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(no_version.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(no_version.status().message(),
            "template '" + created->id + "' has no version 7; its versions are 1 to 1");
}

TEST_P(ContentStoreTest, TemplateDeleteChecksCampaigns) {
  Result<TemplateRecord> used =
      templates_->create("acme", "Match Day", minimalTemplate(), "user:u_1", nullptr);
  Result<TemplateRecord> unused =
      templates_->create("acme", "Spare", minimalTemplate(), "user:u_1", nullptr);
  ASSERT_TRUE(used.ok()) << used.status().toString();
  ASSERT_TRUE(unused.ok()) << unused.status().toString();
  addCampaign("acme", used->id, "");

  Status rejected = templates_->remove("acme", used->id);
  Status removed = templates_->remove("acme", unused->id);

  EXPECT_EQ(rejected.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(rejected.message(), "template 'Match Day' (" + used->id +
                                    ") is used by campaign 'Derby Day' (cmp_1); change the "
                                    "campaign's template first");
  ASSERT_TRUE(removed.ok()) << removed.toString();
  EXPECT_FALSE(fs::exists(storage_.path() / "acme" / "templates" / unused->id));
  EXPECT_EQ(templates_->get("acme", unused->id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs::exists(storage_.path() / "acme" / "templates" / used->id / "v1.json"));
}

INSTANTIATE_TEST_SUITE_P(Backends, ContentStoreTest, testing::kBackends, testing::backendName);

}  // namespace
}  // namespace smmhub::content
