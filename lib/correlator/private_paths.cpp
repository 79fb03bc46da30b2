#include "correlator/private_paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "correlator_abi.h"
#include "util/error.h"
#include "util/fd.h"

namespace mtool::correlator {
namespace {

constexpr int kExitFailure = 1;

[[noreturn]] void refuse(const std::string& what) { throw FatalError(what, kExitFailure); }

// Makes the missing directories of `dir`, the last one with `mode`.
void make_directories(const std::string& dir, mode_t mode) {
  const std::filesystem::path path(dir);
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
    refuse(with_errno("cannot create " + dir, errno));
}

bool owned_by_us_or_root(const struct stat& st) {
  return st.st_uid == 0 || st.st_uid == ::geteuid();
}

std::string owner_text(const struct stat& st) { return "uid " + std::to_string(st.st_uid); }

}  // namespace

void prepare_pin_dir(const std::string& dir) {
  make_directories(dir, 0700);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) refuse(with_errno("cannot use " + dir, errno));
  if (!S_ISDIR(st.st_mode)) refuse(dir + " is not a directory: not pinning there");
  if (st.st_uid != ::geteuid()) {
    refuse("pin directory " + dir + " belongs to " + owner_text(st) +
           ", who could replace what is pinned there: remove it, and the correlator makes its own");
  }
  if ((st.st_mode & 077) != 0) {
    const UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd || ::fchmod(fd.get(), 0700) != 0) refuse(with_errno("cannot restrict " + dir, errno));
  }
  for (const char* name : {MTOOL_MAP_RECORDS, MTOOL_MAP_DEVICES, MTOOL_MAP_COUNTERS, MTOOL_MAP_INFO,
                           MTOOL_MAP_SUBSCRIBERS}) {
    const std::string pin = dir + "/" + name;
    struct stat pst {};
    if (::lstat(pin.c_str(), &pst) != 0) continue;  // not pinned yet
    // A pinned map is a regular file on bpffs; a directory or a link there is someone's trap.
    if (!S_ISREG(pst.st_mode) || !owned_by_us_or_root(pst))
      refuse(pin + " is not a map the correlator pinned: remove it");
  }
}

void prepare_socket_path(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (!dir.empty()) {
    make_directories(dir, 0755);
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) refuse(with_errno("cannot use " + dir, errno));
    if (!S_ISDIR(st.st_mode)) refuse(dir + " is not a directory: no socket there");
    const bool others_write = (st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0;
    if (!owned_by_us_or_root(st) || others_write) {
      refuse("socket directory " + dir + " (" + owner_text(st) +
             ") can be changed by others: use a directory of root's");
    }
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    refuse(with_errno("cannot use " + path, errno));
  }
  if (!S_ISSOCK(st.st_mode)) refuse(path + " exists and is not a socket: not replacing it");
  ::unlink(path.c_str());  // a previous run's; a live correlator was ruled out by the caller
}

void remove_socket_file(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
}

}  // namespace mtool::correlator
