#include "aio/exec/parallel.hpp"

#include "aio/core/errors.hpp"

namespace aio {
namespace detail {

thread_local ShardContext tls_shard;

ParallelGroup::ParallelGroup(int n) : slots_(static_cast<std::size_t>(n)), started_(n), remaining_(n) {}

void ParallelGroup::arrive(int shard, EventLoop& loop) {
  slots_[shard].loop = &loop;
  started_.arrive_and_wait();
}

EventLoop& ParallelGroup::loop(int shard) const {
  if (shard < 0 || shard >= size()) throw std::out_of_range("shard_loop(): no such shard");
  return *slots_[shard].loop;
}

void ParallelGroup::body_done(int shard, std::exception_ptr error) {
  // Posted in this order, the cancellations reach every loop before the final release.
  if (error) {
    for (int k = 0; k < size(); ++k) {
      if (k == shard) continue;
      Slot* slot = &slots_[k];
      slot->loop->call_soon_threadsafe([slot] {
        if (slot->body && !slot->body.done()) slot->body.cancel();
      });
    }
  }
  bool last;
  {
    std::lock_guard lock(mutex_);
    last = --remaining_ == 0;
  }
  if (!last) return;
  for (auto& s : slots_) {
    Slot* slot = &s;
    slot->loop->call_soon_threadsafe([slot] {
      if (!slot->all_done.done()) slot->all_done.set_result();
    });
  }
}

void check_no_running_loop() {
  bool running = true;
  try {
    get_running_loop();
  } catch (const std::runtime_error&) {
    running = false;
  }
  if (running) throw std::runtime_error("aio::run_parallel() cannot be called from a running event loop");
}

std::exception_ptr combine_shard_errors(const std::vector<std::exception_ptr>& errors) {
  std::vector<std::exception_ptr> primary;
  std::exception_ptr interrupt, cancelled;
  for (const auto& e : errors) {
    if (!e) continue;
    try {
      std::rethrow_exception(e);
    } catch (const KeyboardInterrupt&) {
      if (!interrupt) interrupt = e;
    } catch (const CancelledError&) {
      if (!cancelled) cancelled = e;
    } catch (...) {
      primary.push_back(e);
    }
  }
  if (interrupt) return interrupt;
  if (primary.size() == 1) return primary.front();
  if (primary.size() > 1)
    return std::make_exception_ptr(ExceptionGroup("run_parallel(): several shards failed", std::move(primary)));
  return cancelled;
}

}  // namespace detail

EventLoop& shard_loop(int shard) {
  if (!detail::tls_shard.group) throw std::runtime_error("shard_loop(): not inside aio::run_parallel()");
  return detail::tls_shard.group->loop(shard);
}

int current_shard() noexcept { return detail::tls_shard.shard; }

int shard_count() noexcept { return detail::tls_shard.group ? detail::tls_shard.group->size() : 0; }

}  // namespace aio
