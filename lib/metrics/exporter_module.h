#pragma once
// The exporter module (MTOOL_EXPORTER_FILE), loaded with dlopen() the first time --metrics
// needs it, never otherwise: commands that serve no metrics map none of prometheus-cpp,
// civetweb or the shared libstdc++. Where it is found: modules/module_loader.h.
#include <string>

#include "modules/exporter_abi.h"

namespace mtool::metrics {

// Exit code when the module is missing or not the one this mtool was built with (before
// anything was measured, as with a bad option).
inline constexpr int kExitNoExporter = 2;

// Where the module must be, from the running executable's path.
std::string exporter_module_path();

// The module's functions, loaded once per process (later calls return the same table). Throws
// FatalError (one line: the path and what is wrong; kExitNoExporter) when it cannot be loaded,
// lacks the entry point of this ABI version, or says another version.
const mtool_exporter_api& exporter_module();

}  // namespace mtool::metrics
