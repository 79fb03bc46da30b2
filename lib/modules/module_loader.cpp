#include "modules/module_loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "util/error.h"

namespace mtool::modules {

std::string module_path(std::string_view file, std::string& why) {
  std::array<char, 4096> exe{};
  const ssize_t n = ::readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  if (n <= 0) {
    why = "cannot find this executable (/proc/self/exe): " + errno_text(errno);
    return {};
  }
  // The executable's directory's parent: /usr/bin/mtool -> /usr.
  std::string prefix(exe.data(), static_cast<std::size_t>(n));
  for (int up = 0; up < 2; ++up) {
    const std::size_t slash = prefix.rfind('/');
    prefix.resize(slash == std::string::npos ? 0 : slash);
  }
  return prefix + "/lib/mtool/" + std::string(file);
}

void* module_entry(const std::string& path, const char* entry, std::string& why) {
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = ::dlerror();
    why = error != nullptr ? error : "cannot be loaded";
    // dlerror() names the file first when it is the module itself that is missing or bad.
    if (why.starts_with(path + ": ")) why.erase(0, path.size() + 2);
    return nullptr;
  }
  void* found = ::dlsym(handle, entry);
  if (found == nullptr)
    why = "it has no " + std::string(entry) + " (a module of another mtool version)";
  return found;
}

}  // namespace mtool::modules
