// aio::as_completed: asyncio.as_completed — results in the order they finish.
#pragma once
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "detail/distinct_handles.hpp"
#include "event_loop.hpp"
#include "timeout.hpp"

namespace aio {

struct AsCompletedOptions {
  std::optional<double> timeout = std::nullopt;  ///< seconds for the whole iteration; then TimeoutError
};

namespace detail {

template <class H>
class CompletionOrder {
 public:
  CompletionOrder(std::vector<H> fs, std::optional<std::int64_t> deadline_ns)
      : handles_(std::move(fs)), nodes_(handles_.size()), deadline_ns_(deadline_ns) {
    for (std::size_t i = 0; i < handles_.size(); ++i) {
      nodes_[i].owner = this;
      nodes_[i].index = i;
      if (handles_[i].done()) finished_.push_back(i);
      else handles_[i].state()->add_waiter(&nodes_[i]), nodes_[i].registered = true;
    }
  }
  ~CompletionOrder() {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].registered) handles_[i].state()->remove_waiter(&nodes_[i]);
  }
  std::size_t size() const noexcept { return handles_.size(); }

  /// The next one to finish: its result, or its exception rethrown.
  static Task<typename H::value_type> next(std::shared_ptr<CompletionOrder> self) {
    while (self->finished_.empty()) {
      if (self->timed_out_) throw TimeoutError();
      self->arrival_ = Future<>::create();
      try {
        if (self->deadline_ns_) {
          co_await timeout_at(static_cast<double>(*self->deadline_ns_) / 1e9, self->arrival_);
        } else {
          co_await self->arrival_;
        }
      } catch (const TimeoutError&) {
        self->timed_out_ = true;
      }
    }
    std::size_t i = self->finished_.front();
    self->finished_.pop_front();
    co_return self->handles_[i].result();
  }

 private:
  struct Node : Completion {
    Node() noexcept : Completion(&Node::on_done) {}
    CompletionOrder* owner = nullptr;
    std::size_t index = 0;
    bool registered = false;
    static void on_done(Completion* c, FutureState&) {
      auto* n = static_cast<Node*>(c);
      n->registered = false;
      n->owner->finished_.push_back(n->index);
      if (n->owner->arrival_ && !n->owner->arrival_.done()) n->owner->arrival_.set_result();
    }
  };
  std::vector<H> handles_;
  std::vector<Node> nodes_;
  std::deque<std::size_t> finished_;
  Future<> arrival_;
  std::optional<std::int64_t> deadline_ns_;
  bool timed_out_ = false;
};

/// The range as_completed() returns: each element is a Task giving the next result.
template <class H>
class AsCompletedRange {
 public:
  using Order = CompletionOrder<H>;
  explicit AsCompletedRange(std::shared_ptr<Order> order) : order_(std::move(order)) {}

  class iterator {
   public:
    using value_type = Task<typename H::value_type>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(std::shared_ptr<Order> order, std::size_t left) : order_(std::move(order)), left_(left) {}
    value_type operator*() const { return Order::next(order_); }
    iterator& operator++() {
      --left_;
      return *this;
    }
    void operator++(int) { --left_; }
    bool operator==(const iterator& o) const noexcept { return left_ == o.left_; }

   private:
    std::shared_ptr<Order> order_;
    std::size_t left_ = 0;
  };
  iterator begin() const { return iterator(order_, order_->size()); }
  iterator end() const { return iterator(order_, 0); }

 private:
  std::shared_ptr<Order> order_;
};

}  // namespace detail

/// `for (auto next : aio::as_completed(tasks)) { T v = co_await next; }` — lazy Tasks are
/// scheduled at once; a handle given twice is awaited once (asyncio builds a set); with a
/// timeout, awaiting past the deadline raises TimeoutError.
template <std::ranges::range R>
[[nodiscard]] auto as_completed(R&& range, AsCompletedOptions options = {}) {
  using Elem = std::ranges::range_value_t<std::remove_cvref_t<R>>;
  using H = decltype(ensure_future(std::declval<Elem>()));
  std::vector<H> fs;
  for (auto&& aw : range) {
    if constexpr (std::is_copy_constructible_v<Elem>) fs.push_back(ensure_future(aw));
    else fs.push_back(ensure_future(std::move(aw)));
  }
  detail::keep_distinct(fs);
  std::optional<std::int64_t> deadline;
  if (options.timeout) deadline = detail::thread_loop().now_ns() + detail::to_ns(*options.timeout);
  return detail::AsCompletedRange<H>(std::make_shared<detail::CompletionOrder<H>>(std::move(fs), deadline));
}

}  // namespace aio
