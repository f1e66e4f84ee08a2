// aio::Future<T>: asyncio.Future — a result that someone sets later, awaitable.
#pragma once
#include <ostream>
#include <string_view>

#include "detail/repr.hpp"
#include "detail/state_ref.hpp"

namespace aio {

namespace detail {

template <class T>
class FutureImpl final : public FutureState, public ValueSlot<T> {
 public:
  explicit FutureImpl(LoopCore& loop) noexcept { loop_ = &loop; }
  ~FutureImpl() {
    if (has_value_) this->destroy_value();
  }

  bool cancel(std::string_view message) override {
    if (done()) return false;
    set_error(std::make_exception_ptr(CancelledError(std::string(message))));
    finish(Status::cancelled);
    return true;
  }
  template <class... U>
  void set_result(U&&... v) {
    check_pending();
    if constexpr (!std::is_void_v<T>) {
      this->construct_value(std::forward<U>(v)...);
      has_value_ = true;
    }
    finish(Status::finished);
  }
  void set_exception(std::exception_ptr e) {
    check_pending();
    if (!e) throw std::invalid_argument("set_exception() needs an exception");
    if (is_cancelled_error(e)) throw std::invalid_argument("CancelledError cannot be set: use cancel()");
    set_error(std::move(e));
    finish(Status::finished);
  }
  void write_repr(std::ostream& os) const override {
    os << "<Future " << state_word();
    write_details(os);
    os << '>';
  }

 protected:
  void destroy() noexcept override { delete this; }
  void write_result(std::ostream& os) const override {
    os << " result=";
    if constexpr (std::is_void_v<T>) os << "None";
    else write_value(os, this->get());
  }

 private:
  void check_pending() const {
    if (done()) throw InvalidStateError("invalid state: the future is already done");
  }
};

}  // namespace detail

/// A value that is not there yet. Copies share one future; Future<> carries no value.
template <class T = void>
class Future {
 public:
  using value_type = T;

  /// Empty handle; see create() and EventLoop::create_future().
  Future() noexcept = default;
  /// A new pending future of the thread's event loop.
  static Future create() { return Future(new detail::FutureImpl<T>(detail::thread_loop())); }
  static Future create(detail::LoopCore& loop) { return Future(new detail::FutureImpl<T>(loop)); }

  explicit operator bool() const noexcept { return static_cast<bool>(ref_); }
  friend bool operator==(const Future& a, const Future& b) noexcept { return a.ref_ == b.ref_; }

  template <class... U>
    requires(std::is_void_v<T> ? sizeof...(U) == 0 : sizeof...(U) == 1)
  void set_result(U&&... v) const {
    ref_->set_result(std::forward<U>(v)...);
  }
  void set_exception(std::exception_ptr e) const { ref_->set_exception(std::move(e)); }
  template <class E>
    requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>)
  void set_exception(E&& e) const {
    ref_->set_exception(std::make_exception_ptr(std::forward<E>(e)));
  }
  bool cancel(std::string_view message = {}) const { return ref_->cancel(message); }
  bool done() const noexcept { return ref_->done(); }
  bool cancelled() const noexcept { return ref_->cancelled(); }
  T result() const { return detail::read_result<T, detail::FutureImpl<T>>(*ref_); }
  std::exception_ptr exception() const {
    if (!done()) throw InvalidStateError("Exception is not set.");
    if (cancelled()) std::rethrow_exception(ref_->take_error());
    return ref_->take_error();
  }

  template <class F>
    requires std::invocable<F&, Future&>
  std::uint64_t add_done_callback(F fn) const {
    return detail::DoneCallback::add(*ref_, [fn = std::move(fn)](detail::FutureState& s) mutable {
      Future self(static_cast<detail::FutureImpl<T>*>(&s));
      fn(self);
    });
  }
  std::size_t remove_done_callback(std::uint64_t id) const { return detail::DoneCallback::remove(*ref_, id); }

  auto operator co_await() const noexcept { return detail::WaitAwaiter<T, detail::FutureImpl<T>>(ref_.get()); }
  detail::FutureState* state() const noexcept { return ref_.get(); }

  friend std::ostream& operator<<(std::ostream& os, const Future& f) {
    if (!f) return os << "<Future empty>";
    f.ref_->write_repr(os);
    return os;
  }

 private:
  explicit Future(detail::FutureImpl<T>* s) noexcept : ref_(s) {}
  detail::StateRef<detail::FutureImpl<T>> ref_;
};

}  // namespace aio
