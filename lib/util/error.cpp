#include "util/error.h"

#include <cstring>

namespace mtool {

void print_diagnostic(std::FILE* out, std::FILE* err, const std::string& program,
                      const std::string& text) {
  std::fflush(out);
  std::fprintf(err, "%s: %s\n", program.c_str(), text.c_str());
}

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r returns a pointer that may or may not be buf.
  return ::strerror_r(err, buf, sizeof buf);
}

std::string with_errno(const std::string& what, int err) {
  if (err == 0) return what;
  return what + ": " + errno_text(err);
}

}  // namespace mtool
