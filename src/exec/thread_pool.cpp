#include "aio/exec/thread_pool.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstdlib>

namespace aio {
namespace {

std::size_t default_workers() {
  std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min<std::size_t>(32, cores + 4);
}

}  // namespace

ThreadPoolExecutor::ThreadPoolExecutor(std::size_t max_workers, ThreadPoolOptions options)
    : max_workers_(max_workers ? max_workers : default_workers()),
      max_queue_(options.max_queue),
      spin_(options.spin) {
  if (const char* env = std::getenv("AIO_EXECUTOR_SPIN_US"))
    spin_ = std::chrono::microseconds(std::max(0, std::atoi(env)));
}

ThreadPoolExecutor::~ThreadPoolExecutor() { shutdown(true); }

std::size_t ThreadPoolExecutor::threads() const {
  std::lock_guard lock(mutex_);
  return thread_ids_.size();
}

bool ThreadPoolExecutor::on_worker_thread() const {
  auto self = std::this_thread::get_id();
  return std::find(thread_ids_.begin(), thread_ids_.end(), self) != thread_ids_.end();
}

void ThreadPoolExecutor::enqueue(detail::ExecJob* job) {
  std::unique_lock lock(mutex_);
  if (stopping_.load(std::memory_order_relaxed))
    throw std::runtime_error("cannot schedule new futures after shutdown");
  if (max_queue_ && queued_.load(std::memory_order_relaxed) >= max_queue_ && !on_worker_thread()) {
    space_ready_.wait(lock, [&] {
      return queued_.load(std::memory_order_relaxed) < max_queue_ || stopping_.load(std::memory_order_relaxed);
    });
    if (stopping_.load(std::memory_order_relaxed))
      throw std::runtime_error("cannot schedule new futures after shutdown");
  }
  job->queue_next_ = nullptr;
  if (tail_) tail_->queue_next_ = job;
  else head_ = job;
  tail_ = job;
  std::size_t queued = queued_.fetch_add(1, std::memory_order_release) + 1;
  std::size_t spinning = spinning_.load(std::memory_order_acquire);
  // Python starts a thread when no idle one can take the job; spinning threads count as idle.
  bool wake = sleeping_ > 0 && queued > spinning;
  if (queued > sleeping_ + spinning && thread_ids_.size() < max_workers_) {
    threads_.emplace_back([this] { worker_main(); });
    thread_ids_.push_back(threads_.back().get_id());
  }
  lock.unlock();
  if (wake) work_ready_.notify_one();
}

detail::ExecJob* ThreadPoolExecutor::next_job(bool counted_idle) {
  if (spin_.count() > 0 && queued_.load(std::memory_order_relaxed) == 0) {
    // Look for the next job for a while before sleeping: a loop awaiting calls one after
    // the other submits the next one a few microseconds after the last result went back.
    if (!counted_idle) spinning_.fetch_add(1, std::memory_order_acq_rel);
    counted_idle = true;
    auto deadline = std::chrono::steady_clock::now() + spin_;
    for (unsigned i = 1;; ++i) {
      if (queued_.load(std::memory_order_acquire) > 0 || stopping_.load(std::memory_order_relaxed)) break;
      // Yield rather than pause: on a busy machine the thread that will submit the next job
      // (the loop) may be waiting for this very core.
      std::this_thread::yield();
      if (i % 16 == 0 && std::chrono::steady_clock::now() >= deadline) break;
    }
  }
  if (counted_idle) spinning_.fetch_sub(1, std::memory_order_acq_rel);
  std::unique_lock lock(mutex_);
  while (!head_ && !stopping_.load(std::memory_order_relaxed)) {
    ++sleeping_;
    work_ready_.wait(lock);
    --sleeping_;
  }
  detail::ExecJob* job = head_;
  if (!job) return nullptr;  // shut down and nothing left
  head_ = job->queue_next_;
  if (!head_) tail_ = nullptr;
  queued_.fetch_sub(1, std::memory_order_relaxed);
  bool space = max_queue_ != 0;
  lock.unlock();
  if (space) space_ready_.notify_one();
  return job;
}

void ThreadPoolExecutor::worker_main() {
  detail::ExecJob* job = next_job(false);
  while (job) {
    job->run();
    // Idle from here on (counted with the spinning threads), before the result goes back:
    // the next submit() of a caller awaiting this result then needs no new thread.
    spinning_.fetch_add(1, std::memory_order_acq_rel);
    job->finish();  // the job may be gone after this
    job = next_job(true);
  }
}

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  std::vector<std::thread> threads;
  detail::ExecJob* dropped = nullptr;
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true, std::memory_order_relaxed);
    if (cancel_futures) {
      dropped = head_;
      head_ = tail_ = nullptr;
      queued_.store(0, std::memory_order_relaxed);
    }
    if (wait) threads.swap(threads_);
  }
  work_ready_.notify_all();
  space_ready_.notify_all();
  while (dropped) {
    detail::ExecJob* next = dropped->queue_next_;
    dropped->cancelled_.store(true, std::memory_order_release);
    dropped->finish();  // never ran: its Future is cancelled on its loop
    dropped = next;
  }
  auto self = std::this_thread::get_id();
  for (auto& t : threads) {
    if (t.get_id() == self) t.detach();  // shutdown() called by a job of this pool
    else t.join();
  }
}

}  // namespace aio

namespace aio::detail {

namespace {
std::atomic<ThreadPoolExecutor*> waiters{nullptr};
// In a child of fork() the pool's threads do not exist: make a new pool when one is needed.
[[maybe_unused]] const int forget_waiters_after_fork =
    ::pthread_atfork(nullptr, nullptr, [] { waiters.store(nullptr); });
}  // namespace

ThreadPoolExecutor& future_waiters() {
  if (ThreadPoolExecutor* pool = waiters.load(std::memory_order_acquire)) return *pool;
  // Never destroyed: a thread may wait at exit for a std::future that never becomes ready.
  auto* made = new ThreadPoolExecutor(256, {.spin = std::chrono::microseconds(0)});
  ThreadPoolExecutor* expected = nullptr;
  if (waiters.compare_exchange_strong(expected, made, std::memory_order_acq_rel)) return *made;
  delete made;  // another thread made it first (no thread was started in ours)
  return *expected;
}

void enqueue_future_waiter(ExecJob* job) { future_waiters().enqueue(job); }

}  // namespace aio::detail
