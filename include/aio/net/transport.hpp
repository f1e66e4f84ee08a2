// asyncio's transports and protocols, the layer under the streams: a Transport moves bytes
// (a socket, a pipe — and TLS, which is a Protocol for the transport below it and a
// Transport for the protocol above it), a Protocol receives them. Receiving follows
// asyncio's BufferedProtocol: the transport asks the protocol for room (get_buffer) and
// says how much it wrote there (buffer_updated), so bytes land where the reader wants them.
#pragma once
#include <any>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aio {

class Transport;

/// What a transport feeds (asyncio.BufferedProtocol with Protocol's callbacks).
class Protocol {
 public:
  virtual ~Protocol() = default;
  virtual void connection_made(Transport& transport) { (void)transport; }
  /// Room for the next received bytes: at least `size_hint` bytes (more is welcome).
  virtual std::span<char> get_buffer(std::size_t size_hint) = 0;
  /// `nbytes` were written at the start of the span the last get_buffer() returned.
  virtual void buffer_updated(std::size_t nbytes) = 0;
  /// Bytes that arrived in the transport's own memory (io_uring's provided buffers), valid
  /// during the call. The default copies them into get_buffer(); a protocol that can keep
  /// them with one copy fewer overrides it.
  virtual void data_received(std::string_view data) {
    std::span<char> room = get_buffer(data.size());
    std::memcpy(room.data(), data.data(), data.size());
    buffer_updated(data.size());
  }
  /// The peer sent EOF. True keeps the transport open for writing (a half-close).
  virtual bool eof_received() { return false; }
  /// The transport closed: `error` is null after close() or EOF, else what broke it.
  virtual void connection_lost(std::exception_ptr error) = 0;
  /// The transport's write buffer went over its high-water mark / back to its low-water mark.
  virtual void pause_writing() {}
  virtual void resume_writing() {}
};

/// A byte stream (asyncio.Transport). Intrusively reference-counted: whoever keeps a pointer
/// holds a reference (detail::Ref); operations in flight hold theirs, so a transport outlives
/// what the kernel still does with its buffers.
class Transport {
 public:
  Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) destroy();
  }

  /// The protocol fed from now on (null: none; what arrives is dropped).
  virtual void set_protocol(Protocol* protocol) = 0;
  virtual Protocol* get_protocol() const noexcept = 0;

  virtual bool is_reading() const noexcept = 0;
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;

  /// Queues bytes; never blocks (flow control is pause_writing() and drain()).
  virtual void write(std::string_view data) = 0;
  /// The same, taking the bytes over when that saves a copy; `data` may then be left holding
  /// storage the transport is done with (empty), for the caller to reuse.
  virtual void write(std::string&& data) { write(std::string_view(data)); }
  virtual void writelines(const std::vector<std::string>& chunks) {
    for (const auto& c : chunks) write(std::string_view(c));
  }
  virtual bool can_write_eof() const noexcept = 0;
  /// Closes the write side once the buffer is flushed: shutdown(SHUT_WR) on a socket; a pipe
  /// closes (the reader sees EOF) and is_closing() turns true. write() then throws.
  virtual void write_eof() = 0;
  virtual std::size_t get_write_buffer_size() const noexcept = 0;
  /// asyncio's limits: high defaults to 64 KiB, low to high / 4.
  virtual void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                       std::optional<std::size_t> low = std::nullopt) = 0;
  /// (low, high), as asyncio returns them.
  virtual std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept = 0;

  virtual bool is_closing() const noexcept = 0;
  /// Flushes what is buffered, then closes; connection_lost(nullptr) follows.
  virtual void close() = 0;
  /// Closes now, dropping what is buffered; connection_lost(nullptr) follows.
  virtual void abort() = 0;
  /// "peername", "sockname" (aio::SockAddr, or a path string for Unix sockets), "socket" (the
  /// fd, an int); an empty std::any for what the transport does not know.
  virtual std::any get_extra_info(std::string_view name) const = 0;

 protected:
  virtual ~Transport() = default;
  virtual void destroy() noexcept { delete this; }

 private:
  std::uint32_t refs_ = 0;
};

namespace detail {

/// How a Ref counts unless told otherwise: the object's own add_ref() and release().
struct IntrusiveCount {
  template <class T>
  static void add_ref(T& object) noexcept {
    object.add_ref();
  }
  template <class T>
  static void release(T& object) noexcept {
    object.release();
  }
};

/// An intrusive counted reference: Count::add_ref / Count::release on the object. They are
/// only instantiated with Ref's special members, so T may stay incomplete where those are
/// declared but not defined (a public handle over a state defined in a .cpp).
template <class T, class Count = IntrusiveCount>
class Ref {
 public:
  Ref() noexcept = default;
  Ref(T* p) noexcept : p_(p) {  // NOLINT: implicit from a raw pointer, as a smart pointer's make
    if (p_) Count::add_ref(*p_);
  }
  Ref(const Ref& o) noexcept : Ref(o.p_) {}
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <class U>
  Ref(Ref<U, Count> o) noexcept : p_(o.detach()) {}
  Ref& operator=(Ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~Ref() {
    if (p_) Count::release(*p_);
  }
  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  /// Gives up the reference without releasing it.
  T* detach() noexcept { return std::exchange(p_, nullptr); }
  friend bool operator==(const Ref& a, const Ref& b) noexcept { return a.p_ == b.p_; }

 private:
  T* p_ = nullptr;
};

}  // namespace detail
}  // namespace aio
