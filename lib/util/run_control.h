#pragma once
// How the outside world steers a running probe loop: the exit signals end it (with a summary;
// ping: SIGINT/SIGALRM, mtool run: SIGINT/SIGTERM), SIGQUIT asks for a status line. In util/
// because both engines' commands use it and neither may include the other. Signals stay blocked
// except while the loop waits in ppoll(), so a signal can never slip in between the check and the
// wait.
#include <signal.h>

#include <initializer_list>

namespace mtool {

class RunControl {
 public:
  virtual ~RunControl() = default;
  [[nodiscard]] virtual bool exit_requested() const = 0;
  // True once per SIGQUIT.
  virtual bool take_status_request() = 0;
};

class SignalRunControl final : public RunControl {
 public:
  // Installs the handlers and blocks the signals; `wait_mask()` unblocks them for ppoll().
  // `exit_signals` end the loop (ping: SIGINT and SIGALRM, as iputils).
  explicit SignalRunControl(std::initializer_list<int> exit_signals = {SIGINT, SIGALRM});
  ~SignalRunControl() override;
  SignalRunControl(const SignalRunControl&) = delete;
  SignalRunControl& operator=(const SignalRunControl&) = delete;

  [[nodiscard]] bool exit_requested() const override;
  // The signal that asked to exit (0: none).
  [[nodiscard]] int exit_signal() const;
  bool take_status_request() override;
  [[nodiscard]] const sigset_t* wait_mask() const { return &wait_mask_; }

 private:
  sigset_t saved_mask_{};
  sigset_t wait_mask_{};
};

}  // namespace mtool
