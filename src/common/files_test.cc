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

std::string readAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_F(FilesTest, WritesFileAtomicallyWithItsFolders) {
  fs::path target = dir_ / "tenant" / "rows" / "rows.csv";
  ASSERT_TRUE(writeFileAtomically(target, "a,b\n1,2\n").ok());
  EXPECT_EQ(readAll(target), "a,b\n1,2\n");

  ASSERT_TRUE(writeFileAtomically(target, "c\n").ok());
  EXPECT_EQ(readAll(target), "c\n");
  // No temporary file stays behind.
  int files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(target.parent_path())) {
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(FilesTest, AtomicWriteNamesFolderItCannotCreate) {
  std::ofstream(dir_ / "plain") << "x";
  Status written = writeFileAtomically(dir_ / "plain" / "rows.csv", "x");
  EXPECT_EQ(written.code(), StatusCode::kUnavailable);
  EXPECT_NE(written.message().find("cannot create folder " + (dir_ / "plain").string()),
            std::string::npos)
      << written.message();
}

}  // namespace
}  // namespace smmhub
