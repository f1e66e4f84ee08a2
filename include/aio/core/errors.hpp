// The exception types of aio, mirroring asyncio's.
#pragma once
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace aio {

/// Delivered at a task's await point when the task is cancelled. Like Python's
/// BaseException subclass it does not derive from std::exception, so a broad
/// `catch (const std::exception&)` in user code does not swallow cancellation.
class CancelledError {
 public:
  CancelledError() = default;
  explicit CancelledError(std::string message) : message_(std::move(message)) {}
  /// The cancel message; "" when none was given.
  const char* what() const noexcept { return message_.c_str(); }

 private:
  std::string message_;
};

/// Raised by `run()` when SIGINT interrupts it; not a std::exception either.
class KeyboardInterrupt {
 public:
  const char* what() const noexcept { return "KeyboardInterrupt"; }
};

/// A deadline passed (`wait_for`, `timeout`).
class TimeoutError : public std::runtime_error {
 public:
  TimeoutError() : std::runtime_error("") {}
  using std::runtime_error::runtime_error;
};

/// An operation is not allowed in the current state (e.g. result() of a pending task).
class InvalidStateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Several exceptions at once, as TaskGroup raises them. It stands for Python's
/// BaseExceptionGroup as well, so it may hold any exception, CancelledError included.
class ExceptionGroup : public std::runtime_error {
 public:
  ExceptionGroup(const std::string& message, std::vector<std::exception_ptr> exceptions);
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 private:
  std::vector<std::exception_ptr> exceptions_;
};

/// "TypeName('what')": how aio prints an exception, as Python's repr() does.
std::string describe(const std::exception_ptr& error);

/// True when `error` holds an aio::CancelledError.
bool is_cancelled_error(const std::exception_ptr& error) noexcept;

namespace detail {

/// True when `error` holds an E (or a type derived from it).
template <class E>
bool holds(const std::exception_ptr& error) noexcept {
  if (!error) return false;
  try {
    std::rethrow_exception(error);
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace detail

}  // namespace aio
