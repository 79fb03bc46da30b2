#include "metrics/exporter_module.h"

#include <mutex>

#include "modules/module_loader.h"
#include "util/error.h"

namespace mtool::metrics {
namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw FatalError("--metrics needs the exporter module " + path + ": " + why, kExitNoExporter);
}

const mtool_exporter_api& load() {
  const std::string path = exporter_module_path();
  std::string why;
  // Never closed: its server threads and libraries stay until the process ends.
  const auto* api = modules::module_api<mtool_exporter_api>(path, MTOOL_EXPORTER_ENTRY,
                                                            MTOOL_EXPORTER_ABI_VERSION, why);
  if (api == nullptr) refuse(path, why);
  return *api;
}

}  // namespace

std::string exporter_module_path() {
  std::string why;
  std::string path = modules::module_path(MTOOL_EXPORTER_FILE, why);
  if (path.empty()) throw FatalError("--metrics: " + why, kExitNoExporter);
  return path;
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
