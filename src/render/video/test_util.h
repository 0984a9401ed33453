// Helpers shared by the tests of src/render/video.
#pragma once

#include <filesystem>
#include <string>

#include "testing/temp_dir.h"

namespace smmhub::render::testing {

// Video test inputs, relative to the repository root.
inline std::filesystem::path testdata(const std::string& name) {
  return std::filesystem::path("tests/testdata/video") / name;
}

using smmhub::testing::TempDir;

}  // namespace smmhub::render::testing
