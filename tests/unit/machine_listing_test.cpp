#include "unpriv/machine_listing.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

struct stat make_stat(mode_t mode, uid_t uid, gid_t gid, off_t size) {
  struct stat st{};
  st.st_mode = mode;
  st.st_uid = uid;
  st.st_gid = gid;
  st.st_size = size;
  st.st_mtime = 1700000000;  // 2023-11-14 22:13:20 UTC
  st.st_dev = 0x801;
  st.st_ino = 0x1234;
  return st;
}

TEST(MachineListing, FileFactsForItsOwner) {
  const auto st = make_stat(S_IFREG | 0644, 1000, 1000, 42);
  EXPECT_EQ(format_facts("a.txt", st, FactSet{}, FactViewer{1000, 1000}, true),
            "type=file;size=42;modify=20231114221320;perm=rwadf;unique=801g1234;UNIX.mode=0644; "
            "a.txt");
}

TEST(MachineListing, DirectoryPermsFollowTheViewersBits) {
  const auto st = make_stat(S_IFDIR | 0755, 0, 0, 4096);
  // Not the owner: r-x for others -> enter and list only; no size fact for directories.
  EXPECT_EQ(format_facts("pub", st, FactSet{}, FactViewer{1000, 1000}, false),
            "type=dir;modify=20231114221320;perm=el;unique=801g1234;UNIX.mode=0755; pub");
}

TEST(MachineListing, ReadOnlyFileInReadOnlyDirectory) {
  const auto st = make_stat(S_IFREG | 0640, 0, 1000, 1);
  FactSet only_perm{false, false, false, true, false, false};
  EXPECT_EQ(format_facts("f", st, only_perm, FactViewer{1000, 1000}, false), "perm=r; f");
}

TEST(MachineListing, OptsSelectsFactsAndIgnoresUnknownOnes) {
  const FactSet facts = parse_mlst_options("Type;SIZE;bogus;unix.mode;");
  EXPECT_EQ(selected_facts(facts), "type;size;UNIX.mode;");
  EXPECT_EQ(describe_facts(facts), "type*;size*;modify;perm;unique;UNIX.mode*;");
  EXPECT_EQ(selected_facts(parse_mlst_options("")), "");
}

TEST(MachineListing, SymlinkAndSpecialFilesAreTyped) {
  FactSet only_type{true, false, false, false, false, false};
  EXPECT_EQ(format_facts("l", make_stat(S_IFLNK | 0777, 0, 0, 3), only_type, {}, false),
            "type=OS.unix=symlink; l");
  EXPECT_EQ(format_facts("p", make_stat(S_IFIFO | 0600, 0, 0, 0), only_type, {}, false),
            "type=OS.unix=special; p");
}

}  // namespace
}  // namespace wftpd
