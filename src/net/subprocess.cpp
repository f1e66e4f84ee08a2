// Subprocesses: posix_spawn with O_CLOEXEC pipes, the parent's ends wrapped in pipe
// SocketTransports and streams; the exit comes through a pidfd watched by the loop's poller
// and is reaped with waitid(P_PIDFD, WNOHANG).
#include "aio/net/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "aio/core/future.hpp"
#include "aio/core/gather.hpp"
#include "aio/core/log.hpp"
#include "registry.hpp"
#include "socket_transport.hpp"
#include "stream_state.hpp"

extern char** environ;

namespace aio {
namespace detail {

namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int pidfd_send_signal(int pidfd, int sig) { return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0)); }

[[noreturn]] void throw_errno(int error, const std::string& what) { throw_os_error(error, std::string(std::strerror(error)) + " (" + what + ")"); }

/// Closes the fds it holds unless released.
struct FdSet {
  std::vector<int> fds;
  ~FdSet() {
    for (int fd : fds) ::close(fd);
  }
  int add(int fd) {
    fds.push_back(fd);
    return fd;
  }
  int release(int fd) {
    std::erase(fds, fd);
    return fd;
  }
};

/// A pipe: {read end, write end}, both close-on-exec; the parent's end non-blocking.
std::pair<int, int> make_pipe(FdSet& fds, bool parent_reads) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
  fds.add(p[0]);
  fds.add(p[1]);
  int parent = parent_reads ? p[0] : p[1];
  int flags = ::fcntl(parent, F_GETFL);
  if (flags < 0 || ::fcntl(parent, F_SETFL, flags | O_NONBLOCK) != 0) throw_errno(errno, "fcntl");
  return {p[0], p[1]};
}

/// A writer on a pipe's write end: no read operation is ever started on it.
StreamWriter make_pipe_writer(EventLoop& loop, int fd, std::size_t limit) {
  Ref<SocketTransport> transport;
  try {
    transport = new SocketTransport(loop, fd, false);
  } catch (...) {
    ::close(fd);
    throw;
  }
  auto* state = new StreamState(&loop, limit);
  StreamWriter writer(state);
  state->set_transport(transport);
  transport->set_protocol(state);
  state->connection_made(*transport);
  return writer;
}

void ignore_sigpipe_once() {
  // Writing to a pipe whose reader exited must be EPIPE (BrokenPipeError), not a fatal
  // SIGPIPE: as Python, the parent ignores SIGPIPE (children get the default back).
  static const bool done = [] {
    struct sigaction old {};
    if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

}  // namespace

class ProcessState final : public IoWatcher, public Closable {
 public:
  ProcessState(EventLoop& loop, pid_t pid, int pidfd)
      : IoWatcher(&ProcessState::on_exit), loop_(&loop), registry_(&NetRegistry::of(loop)), pid_(pid), pidfd_(pidfd) {
    registry_->add(this);
    try {
      loop.poller().watch(pidfd_, io_events::readable, this);
    } catch (...) {
      registry_->remove(this);
      throw;
    }
  }
  ProcessState(const ProcessState&) = delete;
  ProcessState& operator=(const ProcessState&) = delete;
  ~ProcessState() {
    stop_watching(linked());
    if (linked()) registry_->remove(this);
  }

  /// The Process handle is gone.
  void orphan() {
    if (returncode || !linked()) {
      delete this;
      return;
    }
    orphaned_ = true;
    stdin_.reset();
    stdout_.reset();
    stderr_.reset();
    log(LogLevel::warning, "aio: the Process of pid " + std::to_string(pid_) +
                               " is destroyed while the child is still running; it is reaped when it exits");
  }

  void send_signal(int sig) {
    if (returncode) throw_os_error(ESRCH);  // [Errno 3] No such process
    int r = pidfd_ >= 0 ? pidfd_send_signal(pidfd_, sig) : ::kill(pid_, sig);
    if (r != 0 && errno != ESRCH) throw_errno(errno, "send_signal");  // ESRCH: exited, not reaped yet
  }

  Future<int> add_waiter() {
    std::erase_if(waiters_, [](const Future<int>& f) { return f.done(); });
    auto f = Future<int>::create(*loop_);
    waiters_.push_back(f);
    return f;
  }

  pid_t pid() const noexcept { return pid_; }

  std::optional<int> returncode;
  std::optional<StreamWriter> stdin_;
  std::optional<StreamReader> stdout_;
  std::optional<StreamReader> stderr_;

 private:
  static void on_exit(IoWatcher* w, std::uint32_t) {
    auto* self = static_cast<ProcessState*>(w);
    if (!self->reap()) return;  // not yet
    std::vector<Future<int>> waiters = std::move(self->waiters_);
    for (auto& f : waiters)
      if (!f.done()) f.set_result(*self->returncode);
    if (self->orphaned_) delete self;
  }

  /// Reaps the child if it has exited; true once returncode is set.
  bool reap() noexcept {
    if (returncode) return true;
    if (pidfd_ < 0) return false;
    siginfo_t info{};
    if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_), &info, WEXITED | WNOHANG) != 0) {
      if (errno == EINTR) return false;
      returncode = 255;  // ECHILD: someone else reaped it (waitpid(-1)); the status is lost
    } else if (info.si_pid == 0) {
      return false;
    } else {
      returncode = info.si_code == CLD_EXITED ? info.si_status : -info.si_status;
    }
    stop_watching(true);  // (reap() runs on the loop, or in its shutdown)
    return true;
  }

  /// Stops the watch (when the loop is still there) and closes the pidfd.
  void stop_watching(bool loop_alive) noexcept {
    if (pidfd_ < 0) return;
    if (loop_alive) {
      try {
        loop_->poller().watch(pidfd_, 0, this);
      } catch (...) {
      }
    }
    ::close(pidfd_);
    pidfd_ = -1;
  }

  void shutdown_abort() noexcept override {
    // The loop ends: reap the child if it is done, else leave it (see subprocess.hpp).
    reap();
    stop_watching(true);  // the registry unlinked us, but the loop is still there
    if (orphaned_) delete this;
  }

  EventLoop* loop_;
  NetRegistry* registry_;
  pid_t pid_;
  int pidfd_;
  bool orphaned_ = false;
  std::vector<Future<int>> waiters_;
};

namespace {

Task<std::string> feed_stdin(StreamWriter writer, std::optional<std::string> input) {
  try {
    if (input && !input->empty()) {
      writer.write(std::move(*input));
      co_await writer.drain();
    }
  } catch (const BrokenPipeError&) {
    // the child exited or closed its stdin first: as asyncio, not an error
  } catch (const ConnectionResetError&) {
  }
  writer.close();
  co_return std::string();
}

Task<std::string> read_all(StreamReader reader) { co_return co_await reader.read(-1); }

Task<std::string> nothing() { co_return std::string(); }

Process spawn(const std::string& program, const std::vector<std::string>& args, const SubprocessOptions& options) {
  EventLoop& loop = get_running_loop();
  ignore_sigpipe_once();
  FdSet fds;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  if (int e = ::posix_spawn_file_actions_init(&actions)) throw_errno(e, "posix_spawn_file_actions_init");
  struct ActionsGuard {
    posix_spawn_file_actions_t* a;
    ~ActionsGuard() { ::posix_spawn_file_actions_destroy(a); }
  } actions_guard{&actions};
  if (int e = ::posix_spawnattr_init(&attr)) throw_errno(e, "posix_spawnattr_init");
  struct AttrGuard {
    posix_spawnattr_t* a;
    ~AttrGuard() { ::posix_spawnattr_destroy(a); }
  } attr_guard{&attr};

  // The child starts with no blocked signals and SIGPIPE/SIGXFSZ at their defaults (Python's
  // restore_signals).
  sigset_t mask, defaults;
  sigemptyset(&mask);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGXFSZ);
  ::posix_spawnattr_setsigmask(&attr, &mask);
  ::posix_spawnattr_setsigdefault(&attr, &defaults);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  int parent_in = -1, parent_out = -1, parent_err = -1;
  auto redirect = [&](const std::optional<int>& spec, int target, int& parent_end) {
    if (!spec) return;
    int child = -1;
    if (*spec == PIPE) {
      auto [r, w] = make_pipe(fds, target != 0);
      parent_end = target == 0 ? w : r;
      child = target == 0 ? r : w;
    } else if (*spec == DEVNULL) {
      if (int e = ::posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0))
        throw_errno(e, "posix_spawn_file_actions_addopen");
      return;
    } else if (*spec == STDOUT) {
      if (target != 2) throw std::invalid_argument("STDOUT is only valid for stderr_");
      child = 1;
    } else if (*spec >= 0) {
      child = *spec;
    } else {
      throw std::invalid_argument("invalid redirection: " + std::to_string(*spec));
    }
    if (int e = ::posix_spawn_file_actions_adddup2(&actions, child, target)) throw_errno(e, "posix_spawn_file_actions_adddup2");
  };
  redirect(options.stdin_, 0, parent_in);
  redirect(options.stdout_, 1, parent_out);
  redirect(options.stderr_, 2, parent_err);
  if (options.cwd)
    if (int e = ::posix_spawn_file_actions_addchdir_np(&actions, options.cwd->c_str())) throw_errno(e, "posix_spawn_file_actions_addchdir_np");

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (options.env) {
    for (const auto& e : *options.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
  pid_t pid = -1;
  // posix_spawnp looks the program up in PATH (unless it has a '/'); glibc reports the exec's
  // failure (ENOENT, EACCES...) as the result.
  int e = ::posix_spawnp(&pid, program.c_str(), &actions, &attr, argv.data(), options.env ? envp.data() : environ);
  if (e != 0) throw_os_error(e, std::string(std::strerror(e)) + ": '" + program + "'");  // Python's wording

  int pidfd = pidfd_open(pid);
  if (pidfd < 0) {
    int err = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw_errno(err, "pidfd_open");
  }
  ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  auto* state = new ProcessState(loop, pid, pidfd);
  Process proc(state);
  // The parent keeps its ends only; the child's ends close here (FdSet).
  if (parent_in >= 0) state->stdin_.emplace(make_pipe_writer(loop, fds.release(parent_in), options.limit));
  if (parent_out >= 0) state->stdout_.emplace(make_streams_on(loop, fds.release(parent_out), options.limit, false, nullptr).first);
  if (parent_err >= 0) state->stderr_.emplace(make_streams_on(loop, fds.release(parent_err), options.limit, false, nullptr).first);
  return proc;
}

}  // namespace
}  // namespace detail

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (state_) state_->orphan();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

Process::~Process() {
  if (state_) state_->orphan();
}

detail::ProcessState& Process::state() const {
  if (!state_) throw std::logic_error("empty aio::Process");
  return *state_;
}

int Process::pid() const noexcept { return state_ ? state_->pid() : -1; }

std::optional<int> Process::returncode() const noexcept { return state_ ? state_->returncode : std::nullopt; }

Task<int> Process::wait() {
  detail::ProcessState& s = state();
  if (s.returncode) co_return *s.returncode;
  Future<int> exited = s.add_waiter();
  co_return co_await exited;
}

Task<std::pair<std::string, std::string>> Process::communicate(std::optional<std::string> input) {
  detail::ProcessState& s = state();
  Task<std::string> in = s.stdin_ ? detail::feed_stdin(*s.stdin_, std::move(input)) : detail::nothing();
  Task<std::string> out = s.stdout_ ? detail::read_all(*s.stdout_) : detail::nothing();
  Task<std::string> err = s.stderr_ ? detail::read_all(*s.stderr_) : detail::nothing();
  auto results = co_await gather(std::move(in), std::move(out), std::move(err));
  co_await wait();
  co_return std::pair<std::string, std::string>(std::move(std::get<1>(results)), std::move(std::get<2>(results)));
}

StreamWriter& Process::stdin_stream() {
  auto& s = state();
  if (!s.stdin_) throw std::logic_error("the process' stdin is not a PIPE");
  return *s.stdin_;
}

StreamReader& Process::stdout_stream() {
  auto& s = state();
  if (!s.stdout_) throw std::logic_error("the process' stdout is not a PIPE");
  return *s.stdout_;
}

StreamReader& Process::stderr_stream() {
  auto& s = state();
  if (!s.stderr_) throw std::logic_error("the process' stderr is not a PIPE");
  return *s.stderr_;
}

void Process::send_signal(int sig) { state().send_signal(sig); }

Task<Process> create_subprocess_exec(std::string program, std::vector<std::string> args, SubprocessOptions options) {
  co_return detail::spawn(program, args, options);
}

Task<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options) {
  co_return detail::spawn("/bin/sh", {"-c", cmd}, options);
}

}  // namespace aio
