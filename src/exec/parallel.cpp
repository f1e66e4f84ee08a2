#include "aio/exec/parallel.hpp"

#include "aio/core/errors.hpp"

#include <pthread.h>

#include <condition_variable>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

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

namespace {

/// A thread kept for shards: it waits for a job, runs it, and offers itself again.
struct ShardThread {
  std::mutex mutex;
  std::condition_variable ready;
  std::function<void()> job;
  std::latch* done = nullptr;
};

struct ShardThreads {
  std::mutex mutex;
  std::vector<ShardThread*> idle;
};
ShardThreads*& shard_threads_slot() {
  static ShardThreads* threads = new ShardThreads;  // never destroyed: its threads wait until exit
  return threads;
}
ShardThreads& shard_threads() { return *shard_threads_slot(); }

// In a child of fork() the shard threads do not exist, nor does the run_parallel() that
// the forking thread may belong to.
[[maybe_unused]] const int forget_shards_after_fork = ::pthread_atfork(nullptr, nullptr, [] {
  shard_threads_slot() = new ShardThreads;
  tls_shard = {};
});

void shard_thread_main(ShardThread* self) {
  for (;;) {
    std::function<void()> job;
    std::latch* done;
    {
      std::unique_lock lock(self->mutex);
      self->ready.wait(lock, [self] { return static_cast<bool>(self->job); });
      job = std::move(self->job);
      self->job = nullptr;
      done = self->done;
    }
    job();
    job = nullptr;  // the job's captures go before run_parallel() may return
    {
      std::lock_guard lock(shard_threads().mutex);
      shard_threads().idle.push_back(self);
    }
    done->count_down();
  }
}

}  // namespace

void run_on_shard_thread(std::function<void()> job, std::latch& done) {
  ShardThread* t = nullptr;
  {
    auto& pool = shard_threads();
    std::lock_guard lock(pool.mutex);
    if (!pool.idle.empty()) {
      t = pool.idle.back();
      pool.idle.pop_back();
    }
  }
  if (!t) {
    t = new ShardThread;
    std::thread(shard_thread_main, t).detach();
  }
  {
    std::lock_guard lock(t->mutex);
    t->job = std::move(job);
    t->done = &done;
  }
  t->ready.notify_one();
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
