// aio::Generator<T>: Python's generator function — `for (auto& x : gen())`, and
// `co_yield aio::yield_from(other)` for `yield from other`.
#pragma once
#include <iterator>

#include "detail/sync_generator.hpp"

namespace aio {

template <class T>
class Generator;

namespace detail {
template <class T, class R>
Generator<T> generate_from(R& range) {
  for (auto&& x : range) co_yield x;
}
}  // namespace detail

/// A lazy sequence: the body runs up to each co_yield as the loop asks for the next
/// value. Values are not copied (operator* is a reference to what the body yielded,
/// valid until the next step). An exception in the body comes out of the loop's
/// increment. Destroying the generator destroys its frame (destructors run).
template <class T>
class Generator {
  static_assert(!std::is_reference_v<T>, "Generator<T> yields values; T is not a reference");

 public:
  class promise_type : public detail::GenPromiseBase<T, void> {
   public:
    using Base = detail::GenPromiseBase<T, void>;
    Generator get_return_object() noexcept {
      auto h = std::coroutine_handle<promise_type>::from_promise(*this);
      this->bind(h);
      return Generator(h);
    }
    using Base::yield_value;
    template <class R>
    auto yield_value(YieldFrom<R>&& from) {
      if constexpr (std::is_same_v<std::remove_cvref_t<R>, Generator>) {
        return typename Base::template DelegateAwaiter<R>{std::forward<R>(from.source), this};
      } else {
        static_assert(std::ranges::input_range<std::remove_reference_t<R>>,
                      "yield_from() takes a Generator of the same type or a range");
        return typename Base::template DelegateAwaiter<Generator>{detail::generate_from<T>(from.source), this};
      }
    }
  };

  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator() noexcept = default;
    T& operator*() const noexcept { return *p_->value(); }
    T* operator->() const noexcept { return p_->value(); }
    iterator& operator++() {
      p_->resume();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.p_->finished(); }

   private:
    friend class Generator;
    explicit iterator(promise_type* p) noexcept : p_(p) {}
    promise_type* p_ = nullptr;
  };

  Generator() noexcept = default;
  Generator(Generator&&) noexcept = default;
  Generator& operator=(Generator&&) noexcept = default;

  /// Runs the body to its first co_yield.
  iterator begin() {
    promise_type* p = h_.get();
    if (!p->started()) p->resume();
    return iterator(p);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

  // For yield_from().
  detail::GenPromiseBase<T, void>* frame_promise() const noexcept { return h_.get(); }
  bool frame_done() const noexcept { return h_.done(); }

 private:
  explicit Generator(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  detail::GenHandle<promise_type> h_;
};

}  // namespace aio
