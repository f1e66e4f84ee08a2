// Timers: a 4-ary min-heap of intrusive entries that know their own index, so a
// timer is armed and disarmed without allocation and removed in O(log n) — the
// set-and-cancel around every I/O that timeouts cost.
#pragma once
#include <cstdint>
#include <vector>

namespace aio::detail {

struct TimerEntry {
  static constexpr std::uint32_t kNotArmed = ~std::uint32_t{0};
  using FireFn = void (*)(TimerEntry*);
  explicit TimerEntry(FireFn fn) noexcept : fire(fn) {}
  TimerEntry(const TimerEntry&) = delete;
  TimerEntry& operator=(const TimerEntry&) = delete;

  std::int64_t deadline_ns = 0;  // before arming, owners may park a delay here
  std::uint32_t sequence = 0;    // ties fire in arming order, as asyncio's heap does (wraps)
  std::uint32_t heap_index = kNotArmed;
  FireFn fire;
  bool armed() const noexcept { return heap_index != kNotArmed; }
};

class TimerHeap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  TimerEntry* top() const noexcept { return heap_.front(); }

  void arm(TimerEntry* e, std::int64_t deadline_ns) {
    e->deadline_ns = deadline_ns;
    e->sequence = next_sequence_++;
    e->heap_index = static_cast<std::uint32_t>(heap_.size());
    heap_.push_back(e);
    sift_up(e->heap_index);
  }

  void disarm(TimerEntry* e) noexcept {
    std::uint32_t i = e->heap_index;
    e->heap_index = TimerEntry::kNotArmed;
    TimerEntry* last = heap_.back();
    heap_.pop_back();
    if (last == e) return;
    heap_[i] = last;
    last->heap_index = i;
    if (i > 0 && less(last, heap_[(i - 1) / 4])) sift_up(i); else sift_down(i);
  }

  /// Empties the heap (loop close), handing each entry, already disarmed, to fn.
  template <class F>
  void drain(F fn) noexcept {
    std::vector<TimerEntry*> entries;
    entries.swap(heap_);
    for (TimerEntry* e : entries) e->heap_index = TimerEntry::kNotArmed;
    for (TimerEntry* e : entries) fn(e);
  }

 private:
  static bool less(const TimerEntry* a, const TimerEntry* b) noexcept {
    return a->deadline_ns < b->deadline_ns ||
           (a->deadline_ns == b->deadline_ns && static_cast<std::int32_t>(a->sequence - b->sequence) < 0);
  }
  void place(TimerEntry* e, std::uint32_t i) noexcept {
    heap_[i] = e;
    e->heap_index = i;
  }
  void sift_up(std::uint32_t i) noexcept {
    TimerEntry* e = heap_[i];
    while (i > 0) {
      std::uint32_t parent = (i - 1) / 4;
      if (!less(e, heap_[parent])) break;
      place(heap_[parent], i);
      i = parent;
    }
    place(e, i);
  }
  void sift_down(std::uint32_t i) noexcept {
    TimerEntry* e = heap_[i];
    const auto n = static_cast<std::uint32_t>(heap_.size());
    for (;;) {
      std::uint32_t first = 4 * i + 1;
      if (first >= n) break;
      std::uint32_t best = first;
      std::uint32_t end = first + 4 < n ? first + 4 : n;
      for (std::uint32_t c = first + 1; c < end; ++c)
        if (less(heap_[c], heap_[best])) best = c;
      if (!less(heap_[best], e)) break;
      place(heap_[best], i);
      i = best;
    }
    place(e, i);
  }

  std::vector<TimerEntry*> heap_;
  std::uint32_t next_sequence_ = 0;
};

}  // namespace aio::detail
