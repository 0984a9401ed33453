// Fuzzes parseBrandKit() with any text as the brand.json of the test brand
// kit (tests/testdata/brand), whose logo, music and crest library it may
// name, and looks names up in the libraries it loads.
//
// Invariants: a rejected kit is invalidArgument naming its brand.json, with
// at least one error in the diagnostics; an accepted one has none, its
// colours are "#RRGGBBAA", its font weights 100 to 900, its files absolute,
// and each library finds every one of its own entry names.
#include "template/brand_kit.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/diagnostics.h"
#include "fuzz_check.h"

namespace {

using namespace smmhub;
using namespace smmhub::templates;

void checkAccepted(const BrandKit& kit, const Diagnostics& problems) {
  SMMHUB_FUZZ_CHECK(!problems.hasErrors(), "accepted with errors");
  SMMHUB_FUZZ_CHECK(kit.logo.empty() || kit.logo.is_absolute(), kit.logo.string());
  for (const auto& [name, color] : kit.colors) {
    SMMHUB_FUZZ_CHECK(color.size() == 9 && color[0] == '#', name + ": " + color);
  }
  for (const auto& [name, font] : kit.fonts) {
    SMMHUB_FUZZ_CHECK(font.weight >= 100 && font.weight <= 900, name);
    SMMHUB_FUZZ_CHECK(font.file.empty() || font.file.is_absolute(), font.file.string());
  }
  for (const auto& [name, path] : kit.assets) {
    SMMHUB_FUZZ_CHECK(path.is_absolute(), name + ": " + path.string());
  }
  for (const auto& [name, library] : kit.libraries) {
    for (const auto& [entry, path] : library.entries) {
      SMMHUB_FUZZ_CHECK(path.is_absolute(), entry + ": " + path.string());
      std::optional<std::filesystem::path> found = library.find(entry);
      SMMHUB_FUZZ_CHECK(found && *found == path, name + ": entry '" + entry + "' not found");
      SMMHUB_FUZZ_CHECK(!library.closestName(entry).empty(), entry);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::filesystem::path dir = SMMHUB_FUZZ_BRAND_DIR;
  Diagnostics problems;
  Result<BrandKit> kit = parseBrandKit(text, dir, &problems);
  if (!kit.ok()) {
    SMMHUB_FUZZ_CHECK_REJECTED(kit.status());
    SMMHUB_FUZZ_CHECK(kit.status().message().starts_with((dir / "brand.json").string()),
                      kit.status().message());
    SMMHUB_FUZZ_CHECK(problems.hasErrors(), "rejected without a diagnostic");
    return 0;
  }
  checkAccepted(*kit, problems);
  return 0;
}
