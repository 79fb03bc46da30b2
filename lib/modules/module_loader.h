#pragma once
// mtool's modules: the parts built as shared objects on Debian's shared libraries (prometheus-cpp
// for --metrics, simdjson for `mtool report`), which are built on the shared libstdc++. mtool
// links its own libstdc++ statically and loads a module with dlopen() only in the command that
// needs it, so no other command maps those libraries, and talks to it through a C interface
// (exporter_abi.h, report_abi.h): two C++ runtimes in one process never hand each other a C++
// object or an exception.
//
// A module's one place is fixed by the executable's own path (/proc/self/exe): lib/mtool/ in the
// parent of the directory holding it (build/lib/mtool/ for build/tools/mtool and build/tests/*,
// /usr/lib/mtool/ for /usr/bin/mtool). No environment variable can point elsewhere.
#include <cstdint>
#include <string>
#include <string_view>

namespace mtool::modules {

// Where module `file` must be. Empty, with the reason in `why`, when the executable's own path
// cannot be read.
std::string module_path(std::string_view file, std::string& why);

// Loads the module at `path` (RTLD_LOCAL: its symbols stay its own; never unloaded) and returns
// its entry point `entry`. nullptr, with one line in `why` (without the path), when it is
// missing, cannot be loaded, or lacks `entry` (a module of another mtool version).
void* module_entry(const std::string& path, const char* entry, std::string& why);

// The table of functions the entry point `entry` of the module at `path` returns, when it is of
// this build's version and size (every module's table starts with uint32_t abi_version and
// api_size); nullptr, with one line in `why`, when it is not or the module cannot be loaded.
template <class Api>
const Api* module_api(const std::string& path, const char* entry, std::uint32_t version,
                      std::string& why) {
  using Entry = const Api* (*)();
  const auto entry_point = reinterpret_cast<Entry>(module_entry(path, entry, why));
  if (entry_point == nullptr) return nullptr;
  const Api* api = entry_point();
  if (api != nullptr && api->abi_version == version && api->api_size == sizeof(Api)) return api;
  why = "its interface is version " +
        (api == nullptr ? std::string("none") : std::to_string(api->abi_version)) +
        ", this mtool needs " + std::to_string(version);
  return nullptr;
}

}  // namespace mtool::modules
