// connect_any: one awaiter runs the whole staggered race — a non-blocking socket per
// attempt, its writability watched by the loop's poller, and one loop timer for the delay.
#include "aio/net/happy_eyeballs.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "aio/core/event_loop.hpp"
#include "aio/core/poller.hpp"

namespace aio::detail {

std::vector<AddrInfo> interleave_addrinfos(std::vector<AddrInfo> addrinfos, int first_address_family_count) {
  std::vector<std::vector<AddrInfo>> by_family;
  for (auto& info : addrinfos) {
    auto it = by_family.begin();
    while (it != by_family.end() && it->front().family != info.family) ++it;
    if (it == by_family.end()) by_family.emplace_back().push_back(std::move(info));
    else it->push_back(std::move(info));
  }
  std::vector<AddrInfo> reordered;
  reordered.reserve(addrinfos.size());
  std::vector<std::size_t> taken(by_family.size(), 0);
  if (first_address_family_count > 1 && !by_family.empty()) {
    auto& first = by_family.front();
    std::size_t n = std::min(first.size(), static_cast<std::size_t>(first_address_family_count - 1));
    for (; taken[0] < n; ++taken[0]) reordered.push_back(std::move(first[taken[0]]));
  }
  for (bool more = true; more;) {
    more = false;
    for (std::size_t f = 0; f < by_family.size(); ++f) {
      if (taken[f] < by_family[f].size()) {
        reordered.push_back(std::move(by_family[f][taken[f]++]));
        more = true;
      }
    }
  }
  return reordered;
}

namespace {

std::string describe_address(const SocketAddress& address) {
  std::ostringstream text;
  text << address;
  return text.str();
}

struct Failure {
  int error;
  std::string message;  // "Connect call failed ('127.0.0.1', 1)"
};

class ConnectRace final : TimerEntry, CancelHook {
 public:
  ConnectRace(std::vector<AddrInfo> addrs, ConnectOptions options)
      : TimerEntry(&ConnectRace::on_timer),
        CancelHook(&ConnectRace::on_cancel),
        addrs_(std::move(addrs)),
        local_addrs_(std::move(options.local_addrs)),
        make_error_(options.make_error) {
    if (options.happy_eyeballs_delay) delay_ns_ = to_ns(*options.happy_eyeballs_delay);
  }
  ConnectRace(const ConnectRace&) = delete;
  ConnectRace& operator=(const ConnectRace&) = delete;
  ~ConnectRace() {
    close_attempts();
    if (winner_fd_ >= 0) ::close(winner_fd_);
  }

  bool await_ready() {
    task_ = &current_task_state();
    loop_ = &get_running_loop();
    start_next();
    return done_;
  }
  void await_suspend(std::coroutine_handle<> h) {
    suspended_ = true;
    task_->suspend(h, this);
  }
  int await_resume() {
    task_->throw_if_cancel_pending();  // the destructor closes a winner nobody takes
    if (winner_fd_ >= 0) return std::exchange(winner_fd_, -1);
    std::rethrow_exception(error());
  }

 private:
  struct Attempt : IoWatcher {
    Attempt(ConnectRace* r, std::size_t i) noexcept : IoWatcher(&ConnectRace::on_ready), race(r), index(i) {}
    ConnectRace* race;
    std::size_t index;  // into addrs_
    int fd = -1;
    bool watching = false;
  };

  /// Starts addresses until one is in progress (or connected); failures move straight on.
  void start_next() {
    loop_->disarm_timer(this);
    while (!done_ && next_ < addrs_.size()) {
      const std::size_t index = next_++;
      const AddrInfo& info = addrs_[index];
      auto& attempt = *attempts_.emplace_back(std::make_unique<Attempt>(this, index));
      attempt.fd = ::socket(info.sockaddr.family(), (info.type ? info.type : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
                            info.proto);
      if (attempt.fd < 0) {
        failures_.push_back({errno, "socket() failed for " + describe_address(info.sockaddr)});
        continue;
      }
      if (local_addrs_ && !bind_local(attempt)) continue;
      if (::connect(attempt.fd, info.sockaddr.data(), info.sockaddr.size()) == 0) {
        win(attempt);
        return;
      }
      // EINTR: a non-blocking connect goes on in the background, as with EINPROGRESS.
      if (errno == EINPROGRESS || errno == EINTR || errno == EAGAIN) {
        try {
          loop_->poller().watch(attempt.fd, io_events::writable, &attempt);
          attempt.watching = true;
        } catch (const std::system_error& e) {
          fail(attempt, e.code().value());
          continue;
        }
        ++running_;
        if (delay_ns_ && next_ < addrs_.size()) loop_->arm_timer(this, loop_->now_ns() + *delay_ns_);
        return;
      }
      fail(attempt, errno);
    }
    if (!done_ && running_ == 0) finish();
  }

  /// asyncio's _connect_sock: the first local address of the family that binds.
  bool bind_local(Attempt& attempt) {
    const int family = addrs_[attempt.index].sockaddr.family();
    std::optional<Failure> last;
    for (const AddrInfo& local : *local_addrs_) {
      if (local.sockaddr.family() != family) continue;
      if (::bind(attempt.fd, local.sockaddr.data(), local.sockaddr.size()) == 0) return true;
      std::string reason = std::strerror(errno);
      for (char& c : reason) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      last = Failure{errno, "error while attempting to bind on address " + describe_address(local.sockaddr) + ": " + reason};
    }
    failures_.push_back(last ? *last
                             : Failure{EADDRNOTAVAIL, "no matching local address with family=" +
                                                          std::string(family == AF_INET6 ? "AF_INET6" : "AF_INET") +
                                                          " found"});
    close_attempt(attempt);
    return false;
  }

  void fail(Attempt& attempt, int error) {
    failures_.push_back({error, "Connect call failed " + describe_address(addrs_[attempt.index].sockaddr)});
    close_attempt(attempt);
  }

  static void on_ready(IoWatcher* watcher, std::uint32_t) {
    auto& attempt = *static_cast<Attempt*>(watcher);
    ConnectRace& race = *attempt.race;
    if (!attempt.watching || race.done_) return;  // a stale report for a socket already closed
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(attempt.fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0) error = errno;
    --race.running_;
    if (error == 0) {
      race.win(attempt);
      return;
    }
    if (error == EINPROGRESS) {  // spurious wake-up: keep waiting
      ++race.running_;
      return;
    }
    race.fail(attempt, error);
    // As in asyncio's staggered_race, the failure of the latest attempt starts the next now.
    if (attempt.index + 1 == race.next_) race.start_next();
    else if (race.running_ == 0 && race.next_ >= race.addrs_.size()) race.finish();
  }

  static void on_timer(TimerEntry* e) {
    auto* race = static_cast<ConnectRace*>(e);
    if (!race->done_) race->start_next();
  }

  static bool on_cancel(CancelHook* h, std::string_view) {
    auto* race = static_cast<ConnectRace*>(h);
    if (race->done_) return false;  // already woken; the resume delivers CancelledError
    race->close_attempts();
    race->finish();
    return false;
  }

  void win(Attempt& attempt) {
    if (attempt.watching) {
      attempt.watching = false;
      try {
        loop_->poller().watch(attempt.fd, 0, &attempt);
      } catch (...) {
      }
    }
    winner_fd_ = std::exchange(attempt.fd, -1);
    close_attempts();
    finish();
  }

  void finish() noexcept {
    done_ = true;
    loop_->disarm_timer(this);
    if (suspended_ && !woken_) {
      woken_ = true;
      task_->wake();
    }
  }

  void close_attempt(Attempt& attempt) noexcept {
    if (attempt.watching) {
      attempt.watching = false;
      try {
        loop_->poller().watch(attempt.fd, 0, &attempt);
      } catch (...) {
      }
    }
    if (attempt.fd >= 0) ::close(std::exchange(attempt.fd, -1));
  }

  void close_attempts() noexcept {
    if (loop_) loop_->disarm_timer(this);
    for (auto& attempt : attempts_) close_attempt(*attempt);
    running_ = 0;
  }

  /// asyncio's create_connection: one error as it is; several with the same text as the
  /// first; else "Multiple exceptions: ...".
  std::exception_ptr error() const {
    auto make = [this](int error, const std::string& message) {
      if (make_error_)
        if (auto e = make_error_(error, message)) return e;
      return std::make_exception_ptr(std::system_error(error, std::system_category(), message));
    };
    if (failures_.empty()) return make(EINVAL, "connect_any(): no address to connect to");
    bool same = true;
    for (const auto& f : failures_) same = same && f.error == failures_[0].error && f.message == failures_[0].message;
    if (same) return make(failures_[0].error, failures_[0].message);
    std::string message = "Multiple exceptions: ";
    for (std::size_t i = 0; i < failures_.size(); ++i) {
      if (i) message += ", ";
      message += "[Errno " + std::to_string(failures_[i].error) + "] " + failures_[i].message;
    }
    return make(failures_[0].error, message);
  }

  std::vector<AddrInfo> addrs_;
  std::optional<std::vector<AddrInfo>> local_addrs_;
  std::optional<std::int64_t> delay_ns_;
  ConnectErrorFactory make_error_;
  std::vector<std::unique_ptr<Attempt>> attempts_;  // kept until the end: a poll may still name them
  std::vector<Failure> failures_;
  std::size_t next_ = 0;
  std::size_t running_ = 0;
  int winner_fd_ = -1;
  EventLoop* loop_ = nullptr;
  TaskState* task_ = nullptr;
  bool done_ = false;
  bool suspended_ = false;
  bool woken_ = false;
};

}  // namespace

Task<int> connect_any(std::vector<AddrInfo> addrs, ConnectOptions options) {
  if (addrs.empty()) throw std::system_error(EINVAL, std::system_category(), "connect_any(): getaddrinfo() returned empty list");
  if (options.happy_eyeballs_delay && !(*options.happy_eyeballs_delay >= 0))
    throw std::invalid_argument("happy_eyeballs_delay must be a non-negative number of seconds");
  std::optional<int> interleave = options.interleave;
  if (options.happy_eyeballs_delay && !interleave) interleave = 1;
  if (interleave && *interleave > 0) addrs = interleave_addrinfos(std::move(addrs), *interleave);
  if (options.local_addrs && options.local_addrs->empty())
    throw std::system_error(EINVAL, std::system_category(), "connect_any(): no local address to bind to");
  ConnectRace race(std::move(addrs), std::move(options));
  co_return co_await race;
}

Task<int> connect_any(std::vector<AddrInfo> addrs, std::optional<double> happy_eyeballs_delay) {
  return connect_any(std::move(addrs), ConnectOptions{.happy_eyeballs_delay = happy_eyeballs_delay});
}

}  // namespace aio::detail
