#include "aio/exec/process_pool.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <cstdio>
#include <mutex>
#include <system_error>
#include <thread>

namespace aio {
namespace {

constexpr const char* kBroken =
    "A process in the process pool was terminated abruptly while the future was running or pending.";

bool write_all(int fd, const char* p, std::size_t n) noexcept {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool read_all(int fd, char* p, std::size_t n) noexcept {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

/// A frame: 8-byte length (host order: both ends are the same program), then the bytes.
bool send_frame(int fd, std::string_view head, std::string_view body) noexcept {
  std::uint64_t len = head.size() + body.size();
  return write_all(fd, reinterpret_cast<const char*>(&len), sizeof len) && write_all(fd, head.data(), head.size()) &&
         write_all(fd, body.data(), body.size());
}

bool recv_frame(int fd, std::string& out) {
  std::uint64_t len;
  if (!read_all(fd, reinterpret_cast<char*>(&len), sizeof len)) return false;
  out.resize(len);
  return read_all(fd, out.data(), len);
}

/// The worker: answer jobs until the parent says stop (an empty frame) or goes away.
[[noreturn]] void worker_main(int fd) noexcept {
  std::string request;
  std::string out;
  for (;;) {
    try {
      if (!recv_frame(fd, request) || request.empty()) break;
      std::uintptr_t invoker_address;
      std::memcpy(&invoker_address, request.data(), sizeof invoker_address);
      auto invoker = reinterpret_cast<detail::ProcessInvoker>(invoker_address);
      out.clear();
      bool ok = invoker(std::string_view(request).substr(sizeof invoker_address), out);
      std::fflush(stdout);
      std::fflush(stderr);
      char status = ok ? 1 : 0;
      if (!send_frame(fd, std::string_view(&status, 1), out)) break;
    } catch (...) {
      break;  // out of memory: the parent sees the worker die
    }
  }
  ::_exit(0);
}

}  // namespace

struct ProcessPoolExecutor::State {
  explicit State(std::size_t max) : max_workers(max) {}

  struct Worker {
    pid_t pid = -1;
    int fd = -1;
    int pidfd = -1;
    detail::ProcessWork* job = nullptr;
    bool dead = false;
  };

  const std::size_t max_workers;
  mutable std::mutex mutex;
  detail::ProcessWork* head = nullptr;  // guarded by mutex
  detail::ProcessWork* tail = nullptr;
  bool stopping = false;
  std::vector<pid_t> pids;
  int wake_fd = -1;
  std::thread manager;  // started by the first enqueue(), under mutex
  std::mutex join_mutex;

  std::vector<Worker> workers;  // manager thread only

  void wake() noexcept {
    std::uint64_t one = 1;
    [[maybe_unused]] auto w = ::write(wake_fd, &one, sizeof one);
  }
  detail::ProcessWork* pop() {
    std::lock_guard lock(mutex);
    detail::ProcessWork* job = head;
    if (job) {
      head = job->next;
      if (!head) tail = nullptr;
    }
    return job;
  }
  void push_front(detail::ProcessWork* job) {
    std::lock_guard lock(mutex);
    job->next = head;
    head = job;
    if (!tail) tail = job;
  }
  std::size_t live_workers() const {
    std::size_t n = 0;
    for (auto& w : workers) n += !w.dead;
    return n;
  }
  void publish_pids() {
    std::lock_guard lock(mutex);
    pids.clear();
    for (auto& w : workers)
      if (!w.dead) pids.push_back(w.pid);
  }

  bool spawn();
  void dispatch();
  void on_readable(Worker& w);
  void bury(Worker& w);
  void run() noexcept;
  void stop_workers() noexcept;
};

bool ProcessPoolExecutor::State::spawn() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return false;
  // Hold stdio's locks across fork() so the child's copies are consistent, and flush
  // first so the child does not inherit (and print again) buffered output.
  std::fflush(stdout);
  ::flockfile(stdout);
  ::flockfile(stderr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::funlockfile(stderr);
    ::funlockfile(stdout);
    ::signal(SIGINT, SIG_IGN);
    int fd = sv[1];
    if (fd != 3) {
      ::dup2(fd, 3);
      fd = 3;
    }
    ::syscall(SYS_close_range, 4u, ~0u, 0u);
    worker_main(fd);
  }
  ::funlockfile(stderr);
  ::funlockfile(stdout);
  ::close(sv[1]);
  if (pid < 0) {
    ::close(sv[0]);
    return false;
  }
  Worker w;
  w.pid = pid;
  w.fd = sv[0];
  w.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // -1 on old kernels: EOF alone tells
  workers.push_back(w);
  publish_pids();
  return true;
}

void ProcessPoolExecutor::State::dispatch() {
  for (;;) {
    Worker* idle = nullptr;
    for (auto& w : workers) {
      if (!w.dead && !w.job) {
        idle = &w;
        break;
      }
    }
    if (idle && idle->pidfd >= 0) {  // killed while idle? then not this one
      pollfd check{idle->pidfd, POLLIN, 0};
      if (::poll(&check, 1, 0) > 0) {
        bury(*idle);
        continue;
      }
    }
    if (!idle && live_workers() >= max_workers) return;
    detail::ProcessWork* job = pop();
    if (!job) return;
    if (job->skip()) {  // cancelled while queued
      job->done();
      continue;
    }
    if (!idle) {
      if (!spawn()) {
        int err = errno;
        job->fail(std::make_exception_ptr(
            BrokenProcessPool("cannot start a worker process: " + std::system_category().message(err))));
        job->done();
        continue;
      }
      idle = &workers.back();
    }
    if (!send_frame(idle->fd, {}, job->request)) {  // died before it got the job: another one will
      bury(*idle);
      push_front(job);
      continue;
    }
    idle->job = job;
  }
}

void ProcessPoolExecutor::State::bury(Worker& w) {
  if (w.dead) return;
  w.dead = true;
  ::close(w.fd);
  if (w.pidfd >= 0) ::close(w.pidfd);
  // Its socket is closed (EOF) or its pidfd said it exited: this does not wait long.
  ::kill(w.pid, SIGKILL);
  int status;
  while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (w.job) {  // reaped first: whoever sees the failure sees no zombie
    w.job->fail(std::make_exception_ptr(BrokenProcessPool(kBroken)));
    std::exchange(w.job, nullptr)->done();
  }
}

void ProcessPoolExecutor::State::on_readable(Worker& w) {
  std::string frame;
  if (!recv_frame(w.fd, frame) || frame.empty() || !w.job) {
    bury(w);
    return;
  }
  w.job->accept(frame[0] != 0, std::string_view(frame).substr(1));
  std::exchange(w.job, nullptr)->done();
}

void ProcessPoolExecutor::State::run() noexcept {
  std::vector<pollfd> fds;
  for (;;) {
    dispatch();
    bool busy = false;
    for (auto& w : workers) busy = busy || w.job;
    {
      std::lock_guard lock(mutex);
      if (stopping && !head && !busy) break;
    }
    fds.clear();
    fds.push_back({wake_fd, POLLIN, 0});
    for (auto& w : workers) {
      fds.push_back({w.fd, POLLIN, 0});
      fds.push_back({w.pidfd, POLLIN, 0});  // a negative fd is ignored by poll()
    }
    int n = ::poll(fds.data(), fds.size(), -1);
    if (n < 0) continue;  // EINTR
    if (fds[0].revents) {
      std::uint64_t count;
      [[maybe_unused]] auto r = ::read(wake_fd, &count, sizeof count);
    }
    for (std::size_t i = 0; i < workers.size(); ++i) {
      Worker& w = workers[i];
      const pollfd& sock = fds[1 + 2 * i];
      const pollfd& pid = fds[2 + 2 * i];
      if (sock.revents) on_readable(w);
      if (!w.dead && pid.revents) {
        // Exited: an answer it wrote just before is still readable.
        pollfd check{w.fd, POLLIN, 0};
        if (::poll(&check, 1, 0) > 0) on_readable(w);
        bury(w);
      }
    }
    std::size_t before = workers.size();
    std::erase_if(workers, [](const Worker& w) { return w.dead; });
    if (workers.size() != before) publish_pids();
  }
  stop_workers();
}

void ProcessPoolExecutor::State::stop_workers() noexcept {
  for (auto& w : workers) {
    if (w.dead) continue;
    send_frame(w.fd, {}, {});  // an empty frame: exit
    ::shutdown(w.fd, SHUT_WR);
  }
  for (auto& w : workers) {
    if (w.dead) continue;
    w.dead = true;
    int status;
    while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
    ::close(w.fd);
    if (w.pidfd >= 0) ::close(w.pidfd);
  }
  workers.clear();
  publish_pids();
}

ProcessPoolExecutor::ProcessPoolExecutor(std::size_t max_workers)
    : max_workers_(max_workers ? max_workers : std::max(1u, std::thread::hardware_concurrency())),
      state_(std::make_unique<State>(max_workers_)) {}

ProcessPoolExecutor::~ProcessPoolExecutor() {
  shutdown(true);
  if (state_->wake_fd >= 0) ::close(state_->wake_fd);
}

void ProcessPoolExecutor::enqueue(detail::ProcessWork* job) {
  std::lock_guard lock(state_->mutex);
  if (state_->stopping) throw std::runtime_error("cannot schedule new futures after shutdown");
  if (!state_->manager.joinable()) {
    state_->wake_fd = ::eventfd(0, EFD_CLOEXEC);
    if (state_->wake_fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    state_->manager = std::thread([s = state_.get()] { s->run(); });
  }
  job->next = nullptr;
  if (state_->tail) state_->tail->next = job;
  else state_->head = job;
  state_->tail = job;
  state_->wake();
}

void ProcessPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  detail::ProcessWork* dropped = nullptr;
  bool started;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    if (cancel_futures) {
      dropped = state_->head;
      state_->head = state_->tail = nullptr;
    }
    started = state_->manager.joinable();
  }
  while (dropped) {
    detail::ProcessWork* next = dropped->next;
    dropped->done();  // no outcome: its Future is cancelled on its loop
    dropped = next;
  }
  if (!started) return;
  state_->wake();
  if (wait) {
    std::lock_guard lock(state_->join_mutex);  // one joiner at a time
    if (state_->manager.joinable() && state_->manager.get_id() != std::this_thread::get_id()) state_->manager.join();
  }
}

std::vector<pid_t> ProcessPoolExecutor::worker_pids() const {
  std::lock_guard lock(state_->mutex);
  return state_->pids;
}

}  // namespace aio
