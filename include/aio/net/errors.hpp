// The errors of aio's networking, mirroring Python's: OSError is std::system_error (errno in
// code()), with asyncio's and the builtins' subclasses for the errors a connection meets.
#pragma once
#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

namespace aio {

/// Python's OSError: a std::system_error (errno in code()) whose what() reads as Python's
/// str(): "[Errno 111] Connect call failed ('127.0.0.1', 1)", or "[Errno 111] Connection
/// refused" when no message is given.
class OSError : public std::system_error {
 public:
  OSError(int error, const std::string& message);
  const char* what() const noexcept override { return text_.c_str(); }

 protected:
  /// An error without an errno line, as asyncio raises ConnectionResetError('Connection lost').
  struct Bare {};
  OSError(Bare, int error, const std::string& message)
      : std::system_error(error, std::generic_category()), text_(message) {}

 private:
  std::string text_;
};

/// Python's ConnectionError: the base of the connection errors below.
class ConnectionError : public OSError {
 public:
  using OSError::OSError;
};
/// ECONNREFUSED: nothing listens there.
class ConnectionRefusedError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
/// ECONNRESET: the peer reset the connection (also asyncio's "Connection lost").
class ConnectionResetError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
  /// what() is just `message` (asyncio's ConnectionResetError('Connection lost')); errno ECONNRESET.
  explicit ConnectionResetError(const std::string& message) : ConnectionError(Bare{}, ECONNRESET, message) {}
};
/// ECONNABORTED.
class ConnectionAbortedError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
  /// what() is just `message` (asyncio's "SSL handshake is taking longer than 60.0 seconds:
  /// aborting the connection"); errno ECONNABORTED.
  explicit ConnectionAbortedError(const std::string& message) : ConnectionError(Bare{}, ECONNABORTED, message) {}
};
/// EPIPE / ESHUTDOWN: writing to a connection the peer closed.
class BrokenPipeError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};

/// asyncio.IncompleteReadError: EOF came before readexactly(n) / readuntil() were satisfied.
/// what(): "18 bytes read on a total of 36 expected bytes" ("undefined" expected for readuntil).
class IncompleteReadError : public std::runtime_error {
 public:
  IncompleteReadError(std::string partial, std::optional<std::size_t> expected);
  std::string partial;                  ///< what was read before EOF
  std::optional<std::size_t> expected;  ///< nullopt for readuntil()
};

/// asyncio.LimitOverrunError: readuntil() met the buffer limit before the separator. The data
/// stays in the buffer; `consumed` is how many bytes to consume to get past it.
class LimitOverrunError : public std::runtime_error {
 public:
  LimitOverrunError(const std::string& message, std::size_t consumed) : std::runtime_error(message), consumed(consumed) {}
  std::size_t consumed;
};

/// The typed exception for errno `error`, as Python raises OSError subclasses: ECONNREFUSED ->
/// ConnectionRefusedError, ECONNRESET -> ConnectionResetError, EPIPE/ESHUTDOWN ->
/// BrokenPipeError, ECONNABORTED -> ConnectionAbortedError, ETIMEDOUT -> aio::TimeoutError,
/// anything else std::system_error. what(): "[Errno 111] Connect call failed ('127.0.0.1', 1)"
/// when `message` is given, else "[Errno 111] Connection refused".
std::exception_ptr make_os_error(int error, const std::string& message = {});
[[noreturn]] void throw_os_error(int error, const std::string& message = {});

}  // namespace aio
