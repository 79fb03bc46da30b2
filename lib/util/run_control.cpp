#include "util/run_control.h"

#include <csignal>

namespace mtool {
namespace {

volatile std::sig_atomic_t g_exit_requested = 0;
volatile std::sig_atomic_t g_status_requested = 0;

extern "C" void on_exit_signal(int signo) { g_exit_requested = signo; }
extern "C" void on_status_signal(int /*signo*/) { g_status_requested = 1; }

void install(int signo, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the wait must return
  sigaction(signo, &sa, nullptr);
}

}  // namespace

SignalRunControl::SignalRunControl(std::initializer_list<int> exit_signals) {
  g_exit_requested = 0;
  g_status_requested = 0;
  sigset_t block;
  sigemptyset(&block);
  for (const int signo : exit_signals) {
    install(signo, on_exit_signal);
    sigaddset(&block, signo);
  }
  install(SIGQUIT, on_status_signal);
  sigaddset(&block, SIGQUIT);
  sigprocmask(SIG_BLOCK, &block, &saved_mask_);
  wait_mask_ = saved_mask_;
  for (const int signo : exit_signals) sigdelset(&wait_mask_, signo);
  sigdelset(&wait_mask_, SIGQUIT);
}

int SignalRunControl::exit_signal() const { return g_exit_requested; }

SignalRunControl::~SignalRunControl() { sigprocmask(SIG_SETMASK, &saved_mask_, nullptr); }

bool SignalRunControl::exit_requested() const { return g_exit_requested != 0; }

bool SignalRunControl::take_status_request() {
  if (g_status_requested == 0) return false;
  g_status_requested = 0;
  return true;
}

}  // namespace mtool
