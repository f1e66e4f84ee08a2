// The three orders of aio's queues: FIFO ring buffer, LIFO stack, priority heap.
#pragma once
#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace aio::detail {

/// FIFO: a growable power-of-two ring; steady-state put/get never allocate.
template <class T>
class FifoStorage {
 public:
  static constexpr const char* name = "Queue";
  FifoStorage() = default;
  FifoStorage(const FifoStorage&) = delete;
  ~FifoStorage() {
    clear();
    if (data_) std::allocator<T>().deallocate(data_, cap_);
  }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  void push(T&& v) {
    if (size_ == cap_) grow();
    std::construct_at(data_ + ((head_ + size_) & (cap_ - 1)), std::move(v));
    ++size_;
  }
  T pop() {
    T* slot = data_ + head_;
    T v(std::move(*slot));
    std::destroy_at(slot);
    head_ = (head_ + 1) & (cap_ - 1);
    --size_;
    return v;
  }
  void clear() noexcept {
    for (; size_ > 0; --size_) {
      std::destroy_at(data_ + head_);
      head_ = (head_ + 1) & (cap_ - 1);
    }
    head_ = 0;
  }
  template <class F>
  void for_each(F f) const {
    for (std::size_t i = 0; i < size_; ++i) f(data_[(head_ + i) & (cap_ - 1)]);
  }

 private:
  void grow() {
    std::size_t cap = cap_ ? cap_ * 2 : 4;
    T* data = std::allocator<T>().allocate(cap);
    for (std::size_t i = 0; i < size_; ++i) {
      T* from = data_ + ((head_ + i) & (cap_ - 1));
      std::construct_at(data + i, std::move(*from));
      std::destroy_at(from);
    }
    if (data_) std::allocator<T>().deallocate(data_, cap_);
    data_ = data;
    cap_ = cap;
    head_ = 0;
  }
  T* data_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

/// What the LIFO and priority orders share: a vector whose back is the next item out.
template <class T>
class VectorStorage {
 public:
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  void clear() noexcept { items_.clear(); }
  template <class F>
  void for_each(F f) const {
    for (const T& v : items_) f(v);
  }

 protected:
  T pop_back() {
    T v(std::move(items_.back()));
    items_.pop_back();
    return v;
  }
  std::vector<T> items_;
};

/// LIFO: the most recently put item comes out first.
template <class T>
class LifoStorage : public VectorStorage<T> {
 public:
  static constexpr const char* name = "LifoQueue";
  void push(T&& v) { this->items_.push_back(std::move(v)); }
  T pop() { return this->pop_back(); }
};

/// Priority: the smallest item by Compare comes out first (Python's heapq order).
template <class T, class Compare>
class PriorityStorage : public VectorStorage<T> {
 public:
  static constexpr const char* name = "PriorityQueue";
  PriorityStorage() = default;
  explicit PriorityStorage(Compare c) : less_(std::move(c)) {}
  void push(T&& v) {
    this->items_.push_back(std::move(v));
    std::push_heap(this->items_.begin(), this->items_.end(), greater());
  }
  T pop() {
    std::pop_heap(this->items_.begin(), this->items_.end(), greater());
    return this->pop_back();
  }

 private:
  auto greater() const {
    return [this](const T& a, const T& b) { return less_(b, a); };
  }
  [[no_unique_address]] Compare less_{};
};

}  // namespace aio::detail
