// asyncio.subprocess: create_subprocess_exec/shell start a child process whose standard
// streams are inherited, redirected (DEVNULL, STDOUT, an fd) or pipes wrapped in aio's
// StreamReader/StreamWriter. The child's exit is watched through a pidfd on the loop's poller
// (no SIGCHLD handler) and reaped with waitid(P_PIDFD): no zombies.
//
// Destroying a Process whose child still runs: as asyncio (whose child watcher keeps the
// transport alive), the child is left running; a warning is logged, and the loop reaps it in
// the background when it exits. If the loop shuts down (or is gone) first, the child is left
// to itself: it is reaped if it has already exited, else it stays a zombie until this process
// ends (nothing else may wait for it).
#pragma once
#include <sys/types.h>

#include <csignal>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../core/task.hpp"
#include "streams.hpp"

namespace aio {

/// asyncio.subprocess.PIPE / STDOUT / DEVNULL (Python's values). A value >= 0 is a file
/// descriptor the child gets; an empty std::optional inherits the parent's stream.
inline constexpr int PIPE = -1;
inline constexpr int STDOUT = -2;  ///< stderr_ only: into the same place as stdout
inline constexpr int DEVNULL = -3;

/// create_subprocess_exec/shell's keyword arguments. (g++ 12: name the options first, or write
/// SubprocessOptions(), rather than a braced temporary inside a co_await expression.)
struct SubprocessOptions {
  std::optional<int> stdin_{};
  std::optional<int> stdout_{};
  std::optional<int> stderr_{};
  std::size_t limit = kDefaultStreamLimit;       ///< the StreamReaders' buffer limit
  std::optional<std::string> cwd{};              ///< the child's working directory
  std::optional<std::vector<std::string>> env{};  ///< "NAME=value" entries; nullopt: inherit
};

namespace detail {
class ProcessState;
}

/// asyncio.subprocess.Process: a movable handle.
class Process {
 public:
  Process() noexcept = default;
  explicit Process(detail::ProcessState* state) noexcept : state_(state) {}
  Process(Process&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  int pid() const noexcept;
  /// The exit status once the child is reaped: its exit code, or -SIGNUM when a signal killed it.
  std::optional<int> returncode() const noexcept;
  /// Waits for the child to exit; its returncode. Cancelling it leaves the Process usable.
  Task<int> wait();
  /// Writes `input` to stdin (then closes it) while reading stdout and stderr to EOF, then
  /// waits for the exit: {stdout, stderr} ("" for a stream that is not a PIPE).
  Task<std::pair<std::string, std::string>> communicate(std::optional<std::string> input = std::nullopt);

  /// The pipes' streams; std::logic_error when that stream is not a PIPE.
  StreamWriter& stdin_stream();
  StreamReader& stdout_stream();
  StreamReader& stderr_stream();

  /// Sends `sig`. Once the child has been reaped (returncode() is set): std::system_error
  /// ESRCH, asyncio's ProcessLookupError; an exited child not reaped yet: nothing.
  void send_signal(int sig);
  void terminate() { send_signal(SIGTERM); }
  void kill() { send_signal(SIGKILL); }

  explicit operator bool() const noexcept { return state_ != nullptr; }

 private:
  detail::ProcessState& state() const;
  detail::ProcessState* state_ = nullptr;
};

/// asyncio.create_subprocess_exec: runs `program` (looked up in PATH when it has no '/') with
/// `args`. std::system_error with errno (ENOENT for a missing program, EACCES...).
Task<Process> create_subprocess_exec(std::string program, std::vector<std::string> args = std::vector<std::string>(),
                                     SubprocessOptions options = SubprocessOptions());
/// asyncio.create_subprocess_shell: `/bin/sh -c cmd`.
Task<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options = SubprocessOptions());

}  // namespace aio
