// The seam between the loop and the kernel: a Poller waits for I/O and timers'
// timeouts. The epoll backend ships with the core; io_uring plugs in behind the
// same interface, so protocols never see which one runs.
#pragma once
#include <cstdint>

namespace aio {

/// Which kernel interface the loop uses (uvloop's switch): also AIO_BACKEND=epoll|io_uring.
enum class Backend { automatic, epoll, io_uring };

/// Something told when a watched file descriptor is ready. Intrusive: the watcher
/// owns it; the poller keeps only its address.
struct IoWatcher {
  using ReadyFn = void (*)(IoWatcher*, std::uint32_t events);
  explicit IoWatcher(ReadyFn fn) noexcept : on_ready(fn) {}
  ReadyFn on_ready;
};

/// Readiness bits, the same values as EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP.
namespace io_events {
inline constexpr std::uint32_t readable = 0x001;
inline constexpr std::uint32_t writable = 0x004;
inline constexpr std::uint32_t error = 0x008;
inline constexpr std::uint32_t hangup = 0x010;
}  // namespace io_events

class Poller {
 public:
  virtual ~Poller() = default;
  /// Waits at most timeout_ns (-1: no limit, 0: just look) for I/O, runs the ready
  /// watchers and returns how many ran. A wakeup() ends the wait early.
  virtual int poll(std::int64_t timeout_ns) = 0;
  /// Ends a poll() blocked in another thread; async-signal-safe.
  virtual void wakeup() noexcept = 0;
  /// Starts, changes or (events == 0) stops watching fd.
  virtual void watch(int fd, std::uint32_t events, IoWatcher* watcher) = 0;
  /// How many descriptors are watched: the loop skips I/O polls while there are none.
  virtual std::size_t watched() const noexcept = 0;
  virtual Backend backend() const noexcept = 0;
};

}  // namespace aio
