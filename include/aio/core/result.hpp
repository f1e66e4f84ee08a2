// aio::Result<T>: a value or an exception, what gather(return_exceptions, ...) gives per child.
#pragma once
#include <exception>
#include <optional>
#include <ostream>
#include <variant>

#include "detail/repr.hpp"
#include "errors.hpp"

namespace aio {

template <class T>
class Result {
 public:
  using value_type = T;
  using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

  Result(Stored value) : v_(std::move(value)) {}
  Result(std::exception_ptr error) : v_(std::move(error)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  /// The value; rethrows the error.
  Stored& value() & {
    if (!ok()) std::rethrow_exception(std::get<1>(v_));
    return std::get<0>(v_);
  }
  const Stored& value() const& {
    if (!ok()) std::rethrow_exception(std::get<1>(v_));
    return std::get<0>(v_);
  }
  Stored&& value() && {
    if (!ok()) std::rethrow_exception(std::get<1>(v_));
    return std::get<0>(std::move(v_));
  }
  std::exception_ptr error() const noexcept { return ok() ? nullptr : std::get<1>(v_); }
  bool cancelled() const noexcept { return !ok() && is_cancelled_error(std::get<1>(v_)); }

  /// Python's repr of a gather(return_exceptions=True) item: 1, 'A', ValueError('x').
  friend std::ostream& operator<<(std::ostream& os, const Result& r) {
    if (!r.ok()) return os << describe(std::get<1>(r.v_));
    if constexpr (std::is_void_v<T>) return os << "None";
    else {
      detail::write_value(os, std::get<0>(r.v_));
      return os;
    }
  }

 private:
  std::variant<Stored, std::exception_ptr> v_;
};

}  // namespace aio
