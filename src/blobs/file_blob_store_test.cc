#include "blobs/file_blob_store.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace sluice {
namespace {

class FileBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice-blobs-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(FileBlobStoreTest, ContentAddressedAndIdempotent) {
  FileBlobStore blobs(dir_.string());
  ASSERT_TRUE(blobs.Init().ok());
  auto first = blobs.put("hello");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->id, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_EQ(first->bytes, 5);
  EXPECT_TRUE(first->created);
  auto again = blobs.put("hello");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(*blobs.get(first->id), "hello");
  EXPECT_TRUE(*blobs.exists(first->id));
}

TEST_F(FileBlobStoreTest, RejectsBadIdsAndUnknownBlobs) {
  FileBlobStore blobs(dir_.string());
  ASSERT_TRUE(blobs.Init().ok());
  EXPECT_EQ(blobs.get("sha256:../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(blobs.get("sha256:" + std::string(64, 'a')).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(BlobStore::IsValidId("sha256:ABC"));
}

}  // namespace
}  // namespace sluice
