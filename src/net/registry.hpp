// Per-loop bookkeeping of module net: what must be aborted when the loop shuts down with
// connections still open (their operations would otherwise pin them, and their memory,
// past the loop's end).
#pragma once
#include "aio/core/event_loop.hpp"

namespace aio::detail {

/// Something the loop's shutdown aborts (a transport, a listening server, a socket).
class Closable {
 public:
  virtual void shutdown_abort() noexcept = 0;
  /// In its loop's registry (so the loop is alive).
  bool linked() const noexcept { return linked_; }

 protected:
  ~Closable() = default;

 private:
  friend class NetRegistry;
  Closable* prev_ = nullptr;
  Closable* next_ = nullptr;
  bool linked_ = false;
};

class NetRegistry {
 public:
  /// The registry of `loop` (created with a shutdown hook on first use).
  static NetRegistry& of(EventLoop& loop);
  void add(Closable* c) noexcept;
  void remove(Closable* c) noexcept;

 private:
  explicit NetRegistry(EventLoop& loop) : loop_(&loop) {}
  void shutdown() noexcept;
  EventLoop* loop_;
  Closable* head_ = nullptr;
};

}  // namespace aio::detail
