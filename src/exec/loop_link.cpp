#include <pthread.h>

#include <unordered_map>
#include <utility>

#include "aio/exec/detail/job.hpp"
#include "aio/exec/thread_pool.hpp"

namespace aio::detail {
namespace {

/// Every open loop's link. Looked up on the loop's thread, through a one-entry cache.
struct Registry {
  std::mutex mutex;
  std::unordered_map<EventLoop*, std::shared_ptr<LoopLink>> links;
};
Registry*& registry_slot() {
  static Registry* r = new Registry;  // never destroyed: loops may close during static destruction
  return r;
}
Registry& registry() { return *registry_slot(); }
thread_local std::shared_ptr<LoopLink> tls_last_link;

/// In a child of fork(), the parent's loops are copies nobody runs, and the registry's mutex
/// may have been held by a thread that does not exist there: start afresh, leaking the
/// copies (dropping a link would shut down an executor whose threads are not there).
[[maybe_unused]] const int forget_links_after_fork = ::pthread_atfork(nullptr, nullptr, [] {
  registry_slot() = new Registry;
  new std::shared_ptr<LoopLink>(std::move(tls_last_link));
});

}  // namespace

std::shared_ptr<LoopLink> LoopLink::of(EventLoop& loop) {
  if (tls_last_link && tls_last_link->loop() == &loop) return tls_last_link;
  if (loop.is_closed()) throw std::runtime_error("Event loop is closed");
  Registry& r = registry();
  std::shared_ptr<LoopLink> link;
  {
    std::lock_guard lock(r.mutex);
    auto& slot = r.links[&loop];
    if (!slot || slot->loop() != &loop) {
      slot = std::make_shared<LoopLink>(loop);
      loop.add_shutdown_hook([weak = std::weak_ptr<LoopLink>(slot)] {
        if (auto l = weak.lock()) l->on_close();
      });
    }
    link = slot;
  }
  tls_last_link = link;
  return link;
}

LoopLink::LoopLink(EventLoop& loop) noexcept : key_(&loop), loop_(&loop) {}

LoopLink::~LoopLink() = default;

void LoopLink::track(ExecJob* job, bool busy_wait) {
  job->link_ = shared_from_this();
  if (busy_wait) {
    job->busy_wait_ = true;
    key_->hold_busy_wait();
  }
  std::lock_guard lock(mutex_);
  job->prev_ = nullptr;
  job->next_ = inflight_;
  if (inflight_) inflight_->prev_ = job;
  inflight_ = job;
}

void LoopLink::untrack(ExecJob* job) noexcept {
  if (std::exchange(job->busy_wait_, false)) key_->release_busy_wait();
  std::lock_guard lock(mutex_);
  if (job->prev_) job->prev_->next_ = job->next_;
  else inflight_ = job->next_;
  if (job->next_) job->next_->prev_ = job->prev_;
  job->prev_ = job->next_ = nullptr;
}

void LoopLink::finish(ExecJob* job) noexcept {
  std::unique_lock lock(mutex_);
  if (job->orphaned_) {
    lock.unlock();
    delete job;
    return;
  }
  if (job->prev_) job->prev_->next_ = job->next_;
  else inflight_ = job->next_;
  if (job->next_) job->next_->prev_ = job->prev_;
  job->prev_ = job->next_ = nullptr;
  if (done_tail_) done_tail_->next_ = job;
  else done_head_ = job;
  done_tail_ = job;
  if (!drain_scheduled_) {
    drain_scheduled_ = true;
    // Under the mutex: on_close() clears loop_ under it before the loop can close.
    loop_.load(std::memory_order_relaxed)->call_soon_threadsafe([self = shared_from_this()] { self->drain(); });
  }
}

void LoopLink::drain() noexcept {
  ExecJob* job;
  {
    std::lock_guard lock(mutex_);
    job = done_head_;
    done_head_ = done_tail_ = nullptr;
    drain_scheduled_ = false;
  }
  while (job) {
    ExecJob* next = job->next_;
    if (job->busy_wait_) key_->release_busy_wait();
    job->complete();
    delete job;
    job = next;
  }
}

ThreadPoolExecutor& LoopLink::default_executor() {
  if (!default_executor_) default_executor_ = std::make_unique<ThreadPoolExecutor>();
  return *default_executor_;
}

void LoopLink::on_close() noexcept {
  // asyncio.run() shuts the default executor down (waiting for it) before closing the loop.
  if (default_executor_) default_executor_->shutdown(true);
  ExecJob* done;
  {
    std::lock_guard lock(mutex_);
    loop_.store(nullptr, std::memory_order_release);
    for (ExecJob* job = inflight_; job; job = job->next_) {
      if (std::exchange(job->busy_wait_, false)) key_->release_busy_wait();
      job->orphaned_ = true;
      job->detach();
    }
    inflight_ = nullptr;
    done = done_head_;
    done_head_ = done_tail_ = nullptr;
  }
  while (done) {
    ExecJob* next = done->next_;
    if (std::exchange(done->busy_wait_, false)) key_->release_busy_wait();
    done->detach();
    delete done;
    done = next;
  }
  default_executor_.reset();
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.links.find(key_);
  if (it != r.links.end() && it->second.get() == this) r.links.erase(it);
}

}  // namespace aio::detail
