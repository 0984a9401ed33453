// Helpers shared by the integration tests: temporary folders and the paths
// of the example and the test data, relative to the repository root (the
// tests' working directory).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace smmhub::testing {

inline const std::filesystem::path kMatchDay = "examples/matchday";
inline const std::filesystem::path kTestData = "tests/testdata";

// A folder that exists for the lifetime of one test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ =
        std::filesystem::temp_directory_path() / ("smmhub-it-" + std::to_string(::getpid()) + "-" +
                                                  info->test_suite_name() + "-" + info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }

  // Writes TEXT to NAME inside the folder and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::filesystem::path target = path_ / name;
    std::filesystem::create_directories(target.parent_path());
    std::ofstream(target, std::ios::binary) << text;
    return target;
  }

 private:
  std::filesystem::path path_;
};

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

}  // namespace smmhub::testing
