#include "aio/core/run.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

namespace aio::detail {
namespace {

std::atomic<EventLoop*> sigint_loop{nullptr};
std::atomic<int> sigint_count{0};
struct sigaction previous_sigint;

void on_sigint(int) {
  sigint_count.fetch_add(1, std::memory_order_relaxed);
  if (EventLoop* loop = sigint_loop.load(std::memory_order_acquire)) loop->request_interrupt();
}

bool on_main_thread() { return ::getpid() == static_cast<pid_t>(::syscall(SYS_gettid)); }

/// Checked before the loop exists, so a nested run() leaves the running loop untouched.
RunOptions checked(RunOptions options) {
  bool running = true;
  try {
    get_running_loop();
  } catch (const std::runtime_error&) {
    running = false;
  }
  if (running) throw std::runtime_error("aio::run() cannot be called from a running event loop");
  return options;
}

}  // namespace

Runner::Runner(RunOptions options) : loop_(checked(options)) {
  set_event_loop(loop_);
  // Only where the user left SIGINT alone, as asyncio.Runner does.
  struct sigaction current {};
  if (on_main_thread() && ::sigaction(SIGINT, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    struct sigaction action {};
    action.sa_handler = &on_sigint;
    sigemptyset(&action.sa_mask);
    sigint_count.store(0);
    sigint_loop.store(&loop_, std::memory_order_release);
    sigint_installed_ = ::sigaction(SIGINT, &action, &previous_sigint) == 0;
  }
}

Runner::~Runner() {
  cancel_leftovers();
  if (sigint_installed_) {
    ::sigaction(SIGINT, &previous_sigint, nullptr);
    sigint_loop.store(nullptr, std::memory_order_release);
  }
  loop_.close();
  // asyncio.Runner.close() calls set_event_loop(None): neither this closed loop nor the
  // one set before run() stays the thread's loop.
  detail::tls_loop = nullptr;
}

void Runner::run_main(TaskHandle<> main) {
  loop_.interrupt_on_signal(main);
  try {
    loop_.run_until_complete(main);
  } catch (...) {
    // run() reads main's outcome through its handle
  }
  loop_.interrupt_on_signal({});
  if (main.cancelled() && sigint_installed_ && sigint_count.load() > 0 && main.uncancel() == 0)
    throw KeyboardInterrupt();
}

void Runner::cancel_leftovers() noexcept {
  if (loop_.is_closed()) return;
  std::vector<TaskHandle<>> leftovers;
  for (auto* t = loop_.tasks_head; t; t = t->next_unfinished()) leftovers.emplace_back(t);
  std::reverse(leftovers.begin(), leftovers.end());  // cancelled and awaited in creation order
  for (auto& t : leftovers) t.cancel();
  for (auto& t : leftovers) {
    try {
      loop_.run_until_complete(t);
    } catch (const CancelledError&) {
    } catch (...) {
      loop_.call_exception_handler(
          {"unhandled exception during aio.run() shutdown", std::current_exception(), t});
    }
  }
}

}  // namespace aio::detail
