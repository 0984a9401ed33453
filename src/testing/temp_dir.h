// A temporary folder for one test, shared by every test target.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace smmhub::testing {

// A folder named after the process, a sequence number and the running test,
// that exists for the lifetime of the object, so that no two folders, and no
// two tests running at the same time, share files.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string test = info == nullptr ? "outside-test"
                                       : std::string(info->test_suite_name()) + "-" + info->name();
    static std::atomic<int> made{0};
    path_ = std::filesystem::temp_directory_path() / ("smmhub-test-" + std::to_string(::getpid()) +
                                                      "-" + std::to_string(made++) + "-" + test);
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

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }

  // Writes TEXT to NAME inside the folder, creating subfolders, and returns
  // its path.
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::filesystem::path target = path_ / name;
    std::filesystem::create_directories(target.parent_path());
    std::ofstream(target, std::ios::binary) << text;
    return target;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace smmhub::testing
