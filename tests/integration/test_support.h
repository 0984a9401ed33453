// Helpers shared by the integration tests: temporary folders and the paths
// of the example and the test data, relative to the repository root (the
// tests' working directory).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "common/status.h"
#include "testing/temp_dir.h"

namespace smmhub::testing {

inline const std::filesystem::path kMatchDay = "examples/matchday";
inline const std::filesystem::path kTestData = "tests/testdata";

// Returns the files in DIR whose names end with SUFFIX.
inline int countFiles(const std::filesystem::path& dir, const std::string& suffix) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().string().ends_with(suffix)) {
      count++;
    }
  }
  return count;
}

// Returns the value in READ. When READ contains an error, fails the current
// test without stopping it and returns an empty value, so that the test
// goes on to report what else it finds.
template <typename T>
T valueOrEmpty(Result<T> read) {
  EXPECT_TRUE(read.ok()) << read.status().toString();
  return read.ok() ? std::move(*read) : T{};
}

}  // namespace smmhub::testing
