#pragma once
// Errors that end a command. A FatalError carries the exact one-line message the user sees
// (without the "prog: " prefix) and the exit code the drop-in tool must return.
#include <cstdio>
#include <stdexcept>
#include <string>

namespace mtool {

class FatalError : public std::runtime_error {
 public:
  FatalError(std::string message, int exit_code, bool show_usage = false)
      : std::runtime_error(std::move(message)), exit_code_(exit_code), show_usage_(show_usage) {}
  [[nodiscard]] int exit_code() const { return exit_code_; }
  [[nodiscard]] bool show_usage() const { return show_usage_; }

 private:
  int exit_code_;
  bool show_usage_;
};

// One diagnostic line as glibc's error() writes it: "program: text" on `err`, after flushing
// `out` so the two streams stay in order.
void print_diagnostic(std::FILE* out, std::FILE* err, const std::string& program,
                      const std::string& text);

// strerror(err) as glibc's error() prints it.
std::string errno_text(int err);

// "what: strerror(err)", the shape of glibc's error(status, err, "%s", what).
std::string with_errno(const std::string& what, int err);

}  // namespace mtool
