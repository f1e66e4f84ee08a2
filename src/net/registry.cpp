#include "registry.hpp"

#include <memory>
#include <utility>
#include <vector>

namespace aio::detail {

namespace {
thread_local std::vector<std::pair<EventLoop*, std::unique_ptr<NetRegistry>>>* registries = nullptr;
}

NetRegistry& NetRegistry::of(EventLoop& loop) {
  thread_local std::vector<std::pair<EventLoop*, std::unique_ptr<NetRegistry>>> all;
  registries = &all;
  for (auto& [l, r] : all)
    if (l == &loop) return *r;
  auto* r = new NetRegistry(loop);
  all.emplace_back(&loop, std::unique_ptr<NetRegistry>(r));
  loop.add_shutdown_hook([r] { r->shutdown(); });
  return *r;
}

void NetRegistry::add(Closable* c) noexcept {
  if (c->linked_) return;
  c->prev_ = nullptr;
  c->next_ = head_;
  if (head_) head_->prev_ = c;
  head_ = c;
  c->linked_ = true;
}

void NetRegistry::remove(Closable* c) noexcept {
  if (!c->linked_) return;
  if (c->prev_) c->prev_->next_ = c->next_;
  else head_ = c->next_;
  if (c->next_) c->next_->prev_ = c->prev_;
  c->prev_ = c->next_ = nullptr;
  c->linked_ = false;
}

void NetRegistry::shutdown() noexcept {
  // Aborting unlinks each one; io_uring then reports the cancelled operations in a poll or two.
  while (Closable* c = head_) {
    remove(c);
    c->shutdown_abort();
  }
  for (int i = 0; i < 8 && loop_->poller().watched() > 0; ++i) {
    try {
      loop_->poller().poll(0);
    } catch (...) {
      break;
    }
  }
  if (registries) {
    auto& all = *registries;
    for (auto it = all.begin(); it != all.end(); ++it)
      if (it->second.get() == this) {
        all.erase(it);  // destroys this
        return;
      }
  }
}

}  // namespace aio::detail
