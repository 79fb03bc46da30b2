#include "metrics/exporter_module.h"

#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <mutex>

#include "util/error.h"

namespace mtool::metrics {
namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw FatalError("--metrics needs the exporter module " + path + ": " + why, kExitNoExporter);
}

const mtool_exporter_api& load() {
  const std::string path = exporter_module_path();
  // RTLD_LOCAL: the module's symbols stay its own; only its entry point is looked up.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = ::dlerror();
    std::string why = error != nullptr ? error : "cannot be loaded";
    // dlerror() names the file first when it is the module itself that is missing or bad.
    if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);
    refuse(path, why);
  }
  // Never closed: its server threads and libraries stay until the process ends.
  auto entry = reinterpret_cast<mtool_exporter_entry>(::dlsym(handle, MTOOL_EXPORTER_ENTRY));
  if (entry == nullptr)
    refuse(path, "it has no " MTOOL_EXPORTER_ENTRY " (a module of another mtool version)");
  const mtool_exporter_api* api = entry();
  if (api == nullptr || api->abi_version != MTOOL_EXPORTER_ABI_VERSION ||
      api->api_size != sizeof(mtool_exporter_api)) {
    refuse(path, "its interface is version " +
                     (api == nullptr ? std::string("none") : std::to_string(api->abi_version)) +
                     ", this mtool needs " + std::to_string(MTOOL_EXPORTER_ABI_VERSION));
  }
  return *api;
}

}  // namespace

std::string exporter_module_path() {
  std::array<char, 4096> exe{};
  const ssize_t n = ::readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  if (n <= 0)
    throw FatalError(
        "--metrics: cannot find this executable (/proc/self/exe): " + errno_text(errno),
        kExitNoExporter);
  // The executable's directory's parent: /usr/bin/mtool -> /usr.
  std::string prefix(exe.data(), static_cast<std::size_t>(n));
  for (int up = 0; up < 2; ++up) {
    const std::size_t slash = prefix.rfind('/');
    prefix.resize(slash == std::string::npos ? 0 : slash);
  }
  return prefix + "/lib/mtool/" MTOOL_EXPORTER_FILE;
}

const mtool_exporter_api& exporter_module() {
  // Loaded under a lock; a failure is not kept (each caller gets the error).
  static std::mutex mutex;
  static const mtool_exporter_api* loaded = nullptr;
  const std::lock_guard<std::mutex> lock(mutex);
  if (loaded == nullptr) loaded = &load();
  return *loaded;
}

}  // namespace mtool::metrics
