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
#include <optional>
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
  mutable std::mutex mutex;  // guards everything down to `manager`
  detail::ProcessWork* head = nullptr;
  detail::ProcessWork* tail = nullptr;
  std::size_t queued = 0;
  bool stopping = false;
  std::vector<Worker> adopt;  // forked by submitters, not yet taken over by the manager
  std::size_t live = 0;       // workers not yet buried (adopt included)
  std::size_t idle = 0;       // of which without a job
  std::vector<pid_t> pids;
  int wake_fd = -1;
  std::thread manager;  // started by the first enqueue()
  std::mutex join_mutex;

  std::vector<Worker> workers;  // manager thread only

  static std::optional<Worker> fork_worker();

  void wake() noexcept {
    std::uint64_t one = 1;
    [[maybe_unused]] auto w = ::write(wake_fd, &one, sizeof one);
  }
  detail::ProcessWork* pop_locked() {
    detail::ProcessWork* job = head;
    if (job) {
      head = job->next;
      if (!head) tail = nullptr;
      --queued;
    }
    return job;
  }
  void push_front(detail::ProcessWork* job) {
    std::lock_guard lock(mutex);
    job->next = head;
    head = job;
    if (!tail) tail = job;
    ++queued;
  }
  /// Manager: takes over the workers that submitters forked.
  void adopt_locked() {
    for (auto& w : adopt) workers.push_back(w);
    adopt.clear();
  }
  /// Manager: recounts what submitters look at.
  void publish() {
    std::lock_guard lock(mutex);
    live = idle = adopt.size();
    pids.clear();
    for (auto& w : adopt) pids.push_back(w.pid);
    for (auto& w : workers) {
      if (w.dead) continue;
      ++live;
      idle += w.job == nullptr;
      pids.push_back(w.pid);
    }
  }

  void dispatch();
  void on_readable(Worker& w);
  void bury(Worker& w);
  void run() noexcept;
  void stop_workers() noexcept;
};

std::optional<ProcessPoolExecutor::State::Worker> ProcessPoolExecutor::State::fork_worker() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return std::nullopt;
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
  int err = errno;
  ::funlockfile(stderr);
  ::funlockfile(stdout);
  ::close(sv[1]);
  if (pid < 0) {
    ::close(sv[0]);
    errno = err;
    return std::nullopt;
  }
  Worker w;
  w.pid = pid;
  w.fd = sv[0];
  w.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // -1 on old kernels: EOF alone tells
  return w;
}

void ProcessPoolExecutor::State::dispatch() {
  constexpr std::size_t none = ~std::size_t{0};
  for (;;) {
    detail::ProcessWork* job = nullptr;
    std::size_t pick = none;
    bool fork_here = false;
    {
      std::lock_guard lock(mutex);
      adopt_locked();
      if (!head) return;
      for (std::size_t i = 0; i < workers.size(); ++i) {
        if (!workers[i].dead && !workers[i].job) {
          pick = i;
          break;
        }
      }
      if (pick != none) {
        job = pop_locked();
        --idle;  // at once, so that a submitter forks the next worker itself (publish() recounts)
      } else if (live < max_workers) {
        fork_here = true;
        ++live;  // reserved: a submitter must not fork one more meanwhile (publish() recounts)
      } else {
        return;  // every worker is busy
      }
    }
    if (fork_here) {
      // Submitters fork the workers (as Python does, from the submitting thread); the
      // manager only replaces one that died while work is waiting.
      if (auto w = fork_worker()) {
        workers.push_back(*w);
      } else {
        int err = errno;
        bool none_left = true;
        for (auto& w2 : workers) none_left = none_left && w2.dead;
        if (!none_left) return;  // the live ones will take the work
        detail::ProcessWork* lost;
        {
          std::lock_guard lock(mutex);
          lost = pop_locked();
        }
        lost->fail(std::make_exception_ptr(
            BrokenProcessPool("cannot start a worker process: " + std::system_category().message(err))));
        lost->done();
      }
      publish();
      continue;
    }
    Worker& w = workers[pick];
    if (job->skip()) {  // cancelled while queued
      {
        std::lock_guard lock(mutex);
        ++idle;
      }
      job->done();
      continue;
    }
    pollfd check{w.pidfd, POLLIN, 0};
    if ((w.pidfd >= 0 && ::poll(&check, 1, 0) > 0) || !send_frame(w.fd, {}, job->request)) {
      push_front(job);  // it died before it got the job: another one will run it
      bury(w);
      continue;
    }
    w.job = job;
    publish();
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
  publish();
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
  detail::ProcessWork* job = std::exchange(w.job, nullptr);
  publish();  // idle again before the result goes back: the next submit needs no new worker
  job->done();
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
    std::erase_if(workers, [](const Worker& w) { return w.dead; });
  }
  stop_workers();
}

void ProcessPoolExecutor::State::stop_workers() noexcept {
  {
    std::lock_guard lock(mutex);
    adopt_locked();
  }
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
  publish();
}

ProcessPoolExecutor::ProcessPoolExecutor(std::size_t max_workers)
    : max_workers_(max_workers ? max_workers : std::max(1u, std::thread::hardware_concurrency())),
      state_(std::make_unique<State>(max_workers_)) {}

ProcessPoolExecutor::~ProcessPoolExecutor() {
  shutdown(true);
  if (state_->wake_fd >= 0) ::close(state_->wake_fd);
}

void ProcessPoolExecutor::enqueue(detail::ProcessWork* job) {
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (s.stopping) throw std::runtime_error("cannot schedule new futures after shutdown");
  if (!s.manager.joinable()) {
    s.wake_fd = ::eventfd(0, EFD_CLOEXEC);
    if (s.wake_fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    s.manager = std::thread([&s] { s.run(); });
  }
  job->next = nullptr;
  if (s.tail) s.tail->next = job;
  else s.head = job;
  s.tail = job;
  ++s.queued;
  // No idle worker for it: fork one here, in the submitting thread, as Python does. (Not in
  // the manager: a fork copies whatever locks other threads hold at that instant, and the
  // submitting thread is the one that is certainly not inside malloc.)
  if (s.queued > s.idle && s.live < s.max_workers) {
    if (auto w = State::fork_worker()) {
      s.adopt.push_back(*w);
      ++s.live;
      ++s.idle;
      s.pids.push_back(w->pid);
    }  // else the manager tries again, and fails the job if no worker is left at all
  }
  s.wake();
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

std::size_t ProcessPoolExecutor::queued() const {
  std::lock_guard lock(state_->mutex);
  return state_->queued;
}

}  // namespace aio
