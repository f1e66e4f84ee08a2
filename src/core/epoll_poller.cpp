// The epoll backend: level-triggered watches, edge-triggered operations (IoOp), nanosecond
// timeouts through epoll_pwait2, and an eventfd for wake-ups from other threads and signal
// handlers.
//
// Operations: an fd first given to start() is registered once, edge-triggered for input and
// output, and stays registered until Poller::close(). Each fd remembers whether it is known
// readable / writable; an operation is attempted when its side is ready and the flag is
// cleared by EAGAIN (or, for a stream socket, by a short read or write: the socket's buffer
// was emptied or filled, so the next edge will come). Work that a budget cut short is put on
// a retry list that the next poll() runs first.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
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

constexpr std::uint32_t kRunning = 1;
constexpr int kBudget = 32;  // syscalls for one fd per dispatch before it yields to the others

bool is_input(IoOp::Kind k) noexcept {
  switch (k) {
    case IoOp::Kind::send:
    case IoOp::Kind::write:
    case IoOp::Kind::sendmsg:
    case IoOp::Kind::connect:
      return false;
    default:
      return true;
  }
}

int syscall_result(long r) noexcept { return r < 0 ? -errno : static_cast<int>(r); }

/// The one-shot syscalls (and the accept of accept_stream); -errno on failure.
int perform(IoOp* op) noexcept {
  switch (op->kind) {
    case IoOp::Kind::recv:
      return syscall_result(::recv(op->fd, op->buf, op->len, op->flags));
    case IoOp::Kind::send:
      return syscall_result(::send(op->fd, op->buf, op->len, op->flags | MSG_NOSIGNAL));
    case IoOp::Kind::read:
      return syscall_result(::read(op->fd, op->buf, op->len));
    case IoOp::Kind::write:
      return syscall_result(::write(op->fd, op->buf, op->len));
    case IoOp::Kind::recvmsg:
      return syscall_result(::recvmsg(op->fd, op->msg, op->flags));
    case IoOp::Kind::sendmsg:
      return syscall_result(::sendmsg(op->fd, op->msg, op->flags | MSG_NOSIGNAL));
    case IoOp::Kind::accept:
    case IoOp::Kind::accept_stream: {
      socklen_t* len = op->addr ? &op->addrlen : nullptr;
      return syscall_result(::accept4(op->fd, op->addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC));
    }
    case IoOp::Kind::connect: {
      int r = ::connect(op->fd, op->addr, op->addrlen);
      if (r == 0) return 0;
      int err = errno;
      return err == EINPROGRESS ? -EAGAIN : -err;
    }
    case IoOp::Kind::recv_stream:
      break;
  }
  return -EINVAL;
}

/// An fd that operations run on: its registration, readiness and queued operations.
struct FdState : IoWatcher {
  FdState() noexcept : IoWatcher(nullptr) {}
  struct Queue {
    IoOp* head = nullptr;
    IoOp* tail = nullptr;
    void push(IoOp* op) noexcept {
      op->poller_next = nullptr;
      op->poller_prev = tail;
      if (tail) tail->poller_next = op;
      else head = op;
      tail = op;
    }
    void erase(IoOp* op) noexcept {
      if (op->poller_prev) op->poller_prev->poller_next = op->poller_next;
      else head = op->poller_next;
      if (op->poller_next) op->poller_next->poller_prev = op->poller_prev;
      else tail = op->poller_prev;
      op->poller_next = op->poller_prev = nullptr;
    }
  };
  int fd = -1;
  std::uint32_t generation = 0;
  bool registered = false;
  bool readable = false;
  bool writable = false;
  bool rdhup = false;  // the peer's FIN (or an error) was seen: short reads no longer prove "drained"
  bool retry_queued = false;
  Queue input;
  Queue output;
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
    if (!retry_.empty()) timeout_ns = 0;
    epoll_event events[256];
    int n;
    if (timeout_ns < 0) {
      n = ::epoll_wait(epoll_fd_, events, 256, -1);
    } else if (timeout_ns == 0) {
      n = ::epoll_wait(epoll_fd_, events, 256, 0);
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
      if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "epoll_wait");
      n = 0;
    }
    for (int i = 0; i < n; ++i) {
      auto* w = static_cast<IoWatcher*>(events[i].data.ptr);
      if (w->on_ready) w->on_ready(w, events[i].events);
      else on_fd_ready(static_cast<FdState*>(w), events[i].events);
    }
    int ran = n;
    if (!retry_.empty()) {
      std::vector<std::pair<FdState*, std::uint32_t>> batch;
      batch.swap(retry_);
      for (auto [s, generation] : batch) {
        if (s->generation != generation || !s->retry_queued) continue;
        s->retry_queued = false;
        dispatch(s);
        ++ran;
      }
    }
    return ran;
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

  std::size_t watched() const noexcept override { return watched_ + op_fds_ + retry_.size(); }
  Backend backend() const noexcept override { return Backend::epoll; }

  int try_io(IoOp* op) noexcept override {
    int r = perform(op);
    if (r == -EAGAIN && static_cast<std::size_t>(op->fd) < fds_.size() && fds_[op->fd]) {
      FdState* s = fds_[op->fd].get();
      (is_input(op->kind) ? s->readable : s->writable) = false;
    }
    return r;
  }

  void start(IoOp* op) override {
    if (op->fd < 0) throw std::invalid_argument("start(): negative file descriptor");
    FdState* s = state(op->fd);
    if (!s->registered) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      ev.data.ptr = s;
      if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, op->fd, &ev) < 0)
        throw std::system_error(errno, std::generic_category(), "epoll_ctl");
      s->registered = true;
      ++op_fds_;
    }
    op->poller_flags = kRunning;
    op->poller_result = 0;
    const bool input = is_input(op->kind);
    (input ? s->input : s->output).push(op);
    if (input ? s->readable : s->writable) queue_retry(s);
  }

  bool cancel(IoOp* op) noexcept override {
    if (!op->running()) return true;
    FdState* s = fds_[op->fd].get();
    (is_input(op->kind) ? s->input : s->output).erase(op);
    op->poller_flags = 0;
    return true;
  }

  void close(int fd) noexcept override {
    if (fd < 0) return;
    if (static_cast<std::size_t>(fd) < fds_.size() && fds_[fd]) {
      FdState* s = fds_[fd].get();
      if (s->registered) {
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        --op_fds_;
      }
      for (auto* q : {&s->input, &s->output})  // the owner should have cancelled them
        while (IoOp* op = q->head) {
          q->erase(op);
          op->poller_flags = 0;
        }
      ++s->generation;
      s->registered = s->readable = s->writable = s->rdhup = s->retry_queued = false;
    }
    ::close(fd);
  }

 private:
  FdState* state(int fd) {
    if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(static_cast<std::size_t>(fd) + 1);
    auto& slot = fds_[fd];
    if (!slot) {
      slot = std::make_unique<FdState>();
      slot->fd = fd;
    }
    return slot.get();
  }

  void queue_retry(FdState* s) {
    if (s->retry_queued) return;
    s->retry_queued = true;
    retry_.emplace_back(s, s->generation);
  }

  void on_fd_ready(FdState* s, std::uint32_t events) {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s->readable = true;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s->rdhup = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) s->writable = true;
    dispatch(s);
  }

  static void finish(FdState::Queue& q, IoOp* op, int result) {
    q.erase(op);
    op->poller_flags = 0;
    op->done(op, result, false);
  }

  /// Runs what the fd's readiness allows; stops when the fd was closed by a callback.
  void dispatch(FdState* s) {
    const std::uint32_t generation = s->generation;
    int budget = kBudget;
    while (s->readable && s->input.head) {
      if (budget-- == 0) return queue_retry(s);
      IoOp* op = s->input.head;
      if (op->kind == IoOp::Kind::recv_stream) {
        std::span<char> into = op->buffer(op, 1);
        long r = ::recv(op->fd, into.data(), into.size(), 0);
        if (r < 0) {
          int err = errno;
          if (err == EAGAIN || err == EWOULDBLOCK) {
            s->readable = false;
            break;
          }
          if (err == EINTR) continue;
          finish(s->input, op, -err);
        } else if (r == 0) {
          finish(s->input, op, 0);
        } else {
          if (static_cast<std::size_t>(r) < into.size() && !s->rdhup) s->readable = false;
          op->done(op, static_cast<int>(r), true);
        }
      } else {
        int r = perform(op);
        if (r == -EAGAIN || r == -EWOULDBLOCK) {
          s->readable = false;
          break;
        }
        if (r == -EINTR) continue;
        if (op->kind == IoOp::Kind::accept_stream) {
          if (r >= 0) op->done(op, r, true);
          else if (r != -ECONNABORTED && r != -EPROTO) finish(s->input, op, r);
        } else {
          finish(s->input, op, r);
        }
      }
      if (s->generation != generation) return;
    }
    while (s->writable && s->output.head) {
      if (budget-- == 0) return queue_retry(s);
      IoOp* op = s->output.head;
      int r;
      if (op->kind == IoOp::Kind::connect) {
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(op->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
        if (err == EINPROGRESS || err == EALREADY) {
          s->writable = false;
          break;
        }
        r = -err;
      } else {
        r = perform(op);
        if (r == -EAGAIN || r == -EWOULDBLOCK) {
          s->writable = false;
          break;
        }
        if (r == -EINTR) continue;
        if (op->kind == IoOp::Kind::send && r >= 0 && static_cast<std::size_t>(r) < op->len) s->writable = false;
      }
      finish(s->output, op, r);
      if (s->generation != generation) return;
    }
  }

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  WakeWatcher wake_watcher_;
  std::vector<bool> watching_;
  std::size_t watched_ = 0;
  std::size_t op_fds_ = 0;
  std::vector<std::unique_ptr<FdState>> fds_;
  std::vector<std::pair<FdState*, std::uint32_t>> retry_;
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
  if (requested == Backend::epoll) return make_epoll_poller();
  std::string why;
  if (auto uring = make_uring_poller(why)) return uring;
  log(LogLevel::debug, "io_uring backend unavailable (" + why + "); using epoll");
  return make_epoll_poller();
}

}  // namespace aio::detail
