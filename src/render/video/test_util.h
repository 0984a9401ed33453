// Helpers shared by the tests of src/render/video.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace smmhub::render::testing {

// Test inputs copied from the bug reports, relative to the repository root.
inline std::filesystem::path testdata(const std::string& name) {
  return std::filesystem::path("tests/testdata/video") / name;
}

// A directory that exists for the lifetime of one test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("smmhub-video-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" +
             info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  std::filesystem::path file(const std::string& name) const { return path_ / name; }

  // Writes CONTENT to NAME in this directory and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& content) const {
    std::ofstream(file(name), std::ios::binary) << content;
    return file(name);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace smmhub::render::testing
