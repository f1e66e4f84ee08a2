// loop.add_signal_handler / remove_signal_handler, as asyncio's unix event loop does them:
// a C handler (sigaction) writes the signal number into the loop's self-pipe, the pipe is
// watched by the loop's poller, and the reader schedules the user's handler with call_soon.
// A self-pipe rather than a signalfd: a signalfd only sees signals blocked in every thread,
// and threads the program (or an executor) started earlier would still take the default action.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>

#include "aio/core/event_loop.hpp"

namespace aio {
namespace {

/// Per signal: the write end of the owning loop's pipe, plus one (0: no loop handles it).
/// Read by the C handler, hence lock-free atomics.
std::atomic<int> signal_pipe[NSIG];

void on_signal(int signum) {
  const int saved = errno;
  if (signum > 0 && signum < NSIG) {
    const int fd = signal_pipe[signum].load(std::memory_order_acquire) - 1;
    if (fd >= 0) {
      const unsigned char byte = static_cast<unsigned char>(signum);
      [[maybe_unused]] auto written = ::write(fd, &byte, 1);  // full pipe: the reader is awake anyway
    }
  }
  errno = saved;
}

/// One loop's signal handlers and its self-pipe.
struct SignalState : IoWatcher {
  explicit SignalState(EventLoop& l) : IoWatcher(&SignalState::on_readable), loop(&l) {}
  EventLoop* loop;
  int read_fd = -1;
  int write_fd = -1;
  bool watching = false;
  std::map<int, std::function<void()>> handlers;
  std::map<int, struct sigaction> previous;  // the disposition before this loop took the signal

  static void on_readable(IoWatcher* w, std::uint32_t);
};

std::mutex states_mutex;
std::unordered_map<const EventLoop*, std::unique_ptr<SignalState>> states;
SignalState* owner[NSIG];  // which loop's state holds each signal (under states_mutex)

/// asyncio's _check_signal: signal.valid_signals() (glibc leaves out its internal 32 and 33).
void check_signal(int signum) {
  sigset_t valid;
  sigfillset(&valid);
  if (signum < 1 || signum >= NSIG || sigismember(&valid, signum) != 1)
    throw std::invalid_argument("invalid signal number " + std::to_string(signum));
}

void SignalState::on_readable(IoWatcher* w, std::uint32_t) {
  auto* state = static_cast<SignalState*>(w);
  unsigned char bytes[256];
  for (;;) {
    const ssize_t n = ::read(state->read_fd, bytes, sizeof bytes);
    if (n <= 0) break;  // EAGAIN: drained
    for (ssize_t i = 0; i < n; ++i) {
      std::function<void()> fn;
      {
        std::lock_guard lock(states_mutex);
        auto it = state->handlers.find(bytes[i]);
        if (it == state->handlers.end()) continue;  // removed since the signal came
        fn = it->second;
      }
      state->loop->call_soon(std::move(fn));
    }
    if (n < static_cast<ssize_t>(sizeof bytes)) break;
  }
}

/// Gives `signum` back the disposition it should have once `state` stops handling it, unless
/// someone else (run()'s teardown) changed it since. Under states_mutex.
void release_signal(SignalState& state, int signum) noexcept {
  struct sigaction current {};
  if (::sigaction(signum, nullptr, &current) == 0 && !(current.sa_flags & SA_SIGINFO) &&
      current.sa_handler == &on_signal) {
    struct sigaction restore {};
    restore.sa_handler = SIG_DFL;
    sigemptyset(&restore.sa_mask);
    // SIGINT goes back to what it had (run()'s KeyboardInterrupt handler, as asyncio
    // restores default_int_handler); every other signal to SIG_DFL.
    if (auto it = state.previous.find(signum); signum == SIGINT && it != state.previous.end()) restore = it->second;
    ::sigaction(signum, &restore, nullptr);
  }
  signal_pipe[signum].store(0, std::memory_order_release);
  state.handlers.erase(signum);
  state.previous.erase(signum);
  if (owner[signum] == &state) owner[signum] = nullptr;
}

void unwatch(SignalState& state) noexcept {
  if (!state.watching) return;
  state.watching = false;
  try {
    state.loop->poller().watch(state.read_fd, 0, &state);
  } catch (...) {
  }
}

/// close(): every handler goes, then the pipe.
void close_signals(EventLoop* loop) noexcept {
  std::unique_ptr<SignalState> state;
  {
    std::lock_guard lock(states_mutex);
    auto it = states.find(loop);
    if (it == states.end()) return;
    while (!it->second->handlers.empty()) release_signal(*it->second, it->second->handlers.begin()->first);
    state = std::move(it->second);
    states.erase(it);
  }
  unwatch(*state);
  ::close(state->read_fd);
  ::close(state->write_fd);
}

}  // namespace

void EventLoop::add_signal_handler(int signum, std::function<void()> fn) {
  check_signal(signum);
  check_open();
  if (!fn) throw std::invalid_argument("add_signal_handler(): the callback is empty");
  std::lock_guard lock(states_mutex);
  auto& slot = states[this];
  if (!slot) {
    auto state = std::make_unique<SignalState>(*this);
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
      states.erase(this);
      throw std::system_error(errno, std::generic_category(), "pipe2");
    }
    state->read_fd = fds[0];
    state->write_fd = fds[1];
    slot = std::move(state);
    add_shutdown_hook([this] { close_signals(this); });
  }
  SignalState& state = *slot;
  if (!state.watching) {
    poller().watch(state.read_fd, io_events::readable, &state);
    state.watching = true;
  }

  struct sigaction action {};
  action.sa_handler = &on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // as asyncio's signal.siginterrupt(sig, False)
  const int previous_pipe = signal_pipe[signum].exchange(state.write_fd + 1, std::memory_order_acq_rel);
  struct sigaction old {};
  if (::sigaction(signum, &action, &old) < 0) {
    const int error = errno;
    signal_pipe[signum].store(previous_pipe, std::memory_order_release);
    if (state.handlers.empty()) unwatch(state);
    if (error == EINVAL) throw std::runtime_error("sig " + std::to_string(signum) + " cannot be caught");
    throw std::system_error(error, std::generic_category(), "sigaction");
  }
  if (SignalState* other = owner[signum]; other && other != &state) {
    // Another loop had it (the last loop to add a handler gets the signal, as with
    // Python's set_wakeup_fd): take its handler's place and its saved disposition.
    if (auto it = other->previous.find(signum); it != other->previous.end()) state.previous[signum] = it->second;
    other->handlers.erase(signum);
    other->previous.erase(signum);
  } else if (!owner[signum]) {
    state.previous[signum] = old;
  }
  owner[signum] = &state;
  state.handlers[signum] = std::move(fn);
}

bool EventLoop::remove_signal_handler(int signum) {
  check_signal(signum);
  std::lock_guard lock(states_mutex);
  auto it = states.find(this);
  if (it == states.end() || !it->second->handlers.contains(signum)) return false;
  SignalState& state = *it->second;
  release_signal(state, signum);
  if (state.handlers.empty()) unwatch(state);  // the pipe stays open until close()
  return true;
}

}  // namespace aio
