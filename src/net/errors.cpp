#include "aio/net/errors.hpp"

#include <cstring>

#include "aio/core/errors.hpp"

namespace aio {

namespace {
std::string errno_text(int error, const std::string& message) {
  return "[Errno " + std::to_string(error) + "] " + (message.empty() ? std::string(std::strerror(error)) : message);
}
std::string incomplete_text(std::size_t got, const std::optional<std::size_t>& expected) {
  return std::to_string(got) + " bytes read on a total of " + (expected ? std::to_string(*expected) : "undefined") +
         " expected bytes";
}
}  // namespace

OSError::OSError(int error, const std::string& message)
    : std::system_error(error, std::generic_category()), text_(errno_text(error, message)) {}

IncompleteReadError::IncompleteReadError(std::string partial_, std::optional<std::size_t> expected_)
    : std::runtime_error(incomplete_text(partial_.size(), expected_)), partial(std::move(partial_)), expected(expected_) {}

std::exception_ptr make_os_error(int error, const std::string& message) {
  switch (error) {
    case ECONNREFUSED:
      return std::make_exception_ptr(ConnectionRefusedError(error, message));
    case ECONNRESET:
      return std::make_exception_ptr(ConnectionResetError(error, message));
    case ECONNABORTED:
      return std::make_exception_ptr(ConnectionAbortedError(error, message));
    case EPIPE:
    case ESHUTDOWN:
      return std::make_exception_ptr(BrokenPipeError(error, message));
    case ETIMEDOUT:
      return std::make_exception_ptr(TimeoutError(errno_text(error, message)));
    default:
      return std::make_exception_ptr(OSError(error, message));
  }
}

void throw_os_error(int error, const std::string& message) { std::rethrow_exception(make_os_error(error, message)); }

}  // namespace aio
