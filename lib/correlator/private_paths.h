#pragma once
// The places the correlator writes on the host (its pin directory on bpffs, its socket), made
// or checked so that nobody else controls them: what is pinned there is trusted by every tool
// on the host, and the socket answers every container.
#include <string>

namespace mtool::correlator {

// Makes `dir` (mode 0700) or checks the existing one: a real directory (not a link), owned by
// the correlator's user, not open to others (narrowed to 0700 if it is ours), and holding no
// foreign object under a map's name. Throws FatalError naming what is wrong.
void prepare_pin_dir(const std::string& dir);

// Makes the socket's directory (0755) or checks it (ours or root's, not writable by others
// unless sticky), and removes a stale socket at `path`; anything else there is refused, never
// replaced. Throws FatalError.
void prepare_socket_path(const std::string& path);

// Removes the socket at `path` if a socket is what is there.
void remove_socket_file(const std::string& path);

}  // namespace mtool::correlator
