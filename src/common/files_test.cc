#include "common/files.h"

#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace smmhub {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  testing::TempDir temp_;
  const fs::path& dir_ = temp_.path();
};

TEST_F(FilesTest, RegularFileHasNoProblem) {
  std::ofstream(dir_ / "a.png") << "x";
  EXPECT_EQ(regularFileProblem(dir_ / "a.png"), std::nullopt);
}

TEST_F(FilesTest, NamesMissingFile) {
  EXPECT_EQ(regularFileProblem(dir_ / "b.png"), "file not found: " + (dir_ / "b.png").string());
}

TEST_F(FilesTest, NamesFolder) {
  fs::create_directories(dir_ / "crest.png");
  EXPECT_EQ(regularFileProblem(dir_ / "crest.png"),
            (dir_ / "crest.png").string() + " is a folder, not a file");
}

TEST_F(FilesTest, NamesPipe) {
  ASSERT_EQ(::mkfifo((dir_ / "pipe.png").c_str(), 0600), 0);
  EXPECT_EQ(regularFileProblem(dir_ / "pipe.png"),
            (dir_ / "pipe.png").string() + " is not a regular file (a device, pipe or socket)");
}

}  // namespace
}  // namespace smmhub
