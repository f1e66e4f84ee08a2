// The epoll backend: level-triggered readiness, nanosecond timeouts through
// epoll_pwait2, and an eventfd for wake-ups from other threads and signal handlers.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "aio/core/log.hpp"
#include "pollers.hpp"

namespace aio::detail {
namespace {

/// Empties the eventfd that wakeup() writes, so level-triggered epoll stops reporting it.
struct WakeWatcher : IoWatcher {
  WakeWatcher() noexcept : IoWatcher(&WakeWatcher::drain) {}
  int fd = -1;
  static void drain(IoWatcher* w, std::uint32_t) {
    std::uint64_t count;
    [[maybe_unused]] auto got = ::read(static_cast<WakeWatcher*>(w)->fd, &count, sizeof count);
  }
};

class EpollPoller final : public Poller {
 public:
  EpollPoller() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    wake_watcher_.fd = wake_fd_;
    if (wake_fd_ < 0) {
      int err = errno;
      ::close(epoll_fd_);
      throw std::system_error(err, std::generic_category(), "eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &wake_watcher_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  }
  ~EpollPoller() override {
    ::close(wake_fd_);
    ::close(epoll_fd_);
  }

  int poll(std::int64_t timeout_ns) override {
    epoll_event events[256];
    int n;
    if (timeout_ns < 0) {
      n = ::epoll_wait(epoll_fd_, events, 256, -1);
    } else if (have_pwait2_) {
      timespec ts{static_cast<time_t>(timeout_ns / 1000000000), static_cast<long>(timeout_ns % 1000000000)};
      n = ::epoll_pwait2(epoll_fd_, events, 256, &ts, nullptr);
      if (n < 0 && errno == ENOSYS) {
        have_pwait2_ = false;
        return poll(timeout_ns);
      }
    } else {
      n = ::epoll_wait(epoll_fd_, events, 256, static_cast<int>((timeout_ns + 999999) / 1000000));
    }
    if (n < 0) {
      if (errno == EINTR) return 0;
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      auto* w = static_cast<IoWatcher*>(events[i].data.ptr);
      w->on_ready(w, events[i].events);
    }
    return n;
  }

  void wakeup() noexcept override {
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
  }

  void watch(int fd, std::uint32_t events, IoWatcher* watcher) override {
    if (fd < 0) throw std::invalid_argument("watch(): negative file descriptor");
    if (static_cast<std::size_t>(fd) >= watching_.size()) watching_.resize(fd + 1, false);
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = watcher;
    int op = events == 0 ? EPOLL_CTL_DEL : watching_[fd] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (op == EPOLL_CTL_DEL && !watching_[fd]) return;
    if (::epoll_ctl(epoll_fd_, op, fd, &ev) < 0) throw std::system_error(errno, std::generic_category(), "epoll_ctl");
    if (op == EPOLL_CTL_ADD) ++watched_;
    if (op == EPOLL_CTL_DEL) --watched_;
    watching_[fd] = events != 0;
  }

  std::size_t watched() const noexcept override { return watched_; }
  Backend backend() const noexcept override { return Backend::epoll; }

 private:
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  WakeWatcher wake_watcher_;
  std::vector<bool> watching_;
  std::size_t watched_ = 0;
  bool have_pwait2_ = true;
};

}  // namespace

std::unique_ptr<Poller> make_epoll_poller() { return std::make_unique<EpollPoller>(); }

std::unique_ptr<Poller> make_poller(Backend requested) {
  if (requested == Backend::automatic) {
    const char* env = std::getenv("AIO_BACKEND");
    if (env && std::strcmp(env, "io_uring") == 0) requested = Backend::io_uring;
    else if (env && std::strcmp(env, "epoll") == 0) requested = Backend::epoll;
  }
  if (requested == Backend::io_uring) log(LogLevel::debug, "io_uring backend is not available; using epoll");
  return make_epoll_poller();
}

}  // namespace aio::detail
