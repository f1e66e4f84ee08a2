#include "aio/core/errors.hpp"

#include <cxxabi.h>

#include <memory>
#include <sstream>
#include <typeinfo>

#include "aio/core/detail/repr.hpp"

namespace aio {

ExceptionGroup::ExceptionGroup(const std::string& message, std::vector<std::exception_ptr> exceptions)
    : std::runtime_error(message + " (" + std::to_string(exceptions.size()) + " sub-exception" +
                         (exceptions.size() == 1 ? "" : "s") + ")"),
      exceptions_(std::move(exceptions)) {}

namespace {
std::string with_message(const std::type_info* type, const char* what) {
  std::string out = type ? detail::type_name(*type) : std::string("<unknown exception>");
  out += '(';
  if (what && *what) {
    out += '\'';
    out += what;
    out += '\'';
  }
  out += ')';
  return out;
}
}  // namespace

std::string describe(const std::exception_ptr& error) {
  if (!error) return "None";
  try {
    std::rethrow_exception(error);
  } catch (const CancelledError& e) {
    return with_message(&typeid(CancelledError), e.what());
  } catch (const KeyboardInterrupt&) {
    return "aio::KeyboardInterrupt()";
  } catch (const std::exception& e) {
    return with_message(&typeid(e), e.what());
  } catch (...) {
    return with_message(abi::__cxa_current_exception_type(), nullptr);
  }
}

bool is_cancelled_error(const std::exception_ptr& error) noexcept { return detail::holds<CancelledError>(error); }

namespace detail {
std::string type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}
}  // namespace detail

}  // namespace aio
