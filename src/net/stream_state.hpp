// The state behind a StreamReader/StreamWriter pair: asyncio's StreamReaderProtocol, the
// StreamReader's buffer and the writer's flow control in one object, fed by a Transport.
#pragma once
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "aio/core/event_loop.hpp"
#include "aio/core/future.hpp"
#include "aio/net/streams.hpp"
#include "aio/net/transport.hpp"

namespace aio::detail {

/// A byte buffer read from the front and written at the back, growing without zero-filling.
class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ~ByteBuffer() { delete[] data_; }

  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return end_ == begin_; }
  const char* data() const noexcept { return data_ + begin_; }
  std::string_view view() const noexcept { return {data_ + begin_, end_ - begin_}; }

  /// Room for at least `min` more bytes (the whole free tail is offered).
  std::span<char> prepare(std::size_t min) {
    if (min < kMinRoom) min = kMinRoom;
    if (cap_ - end_ < min) {
      const std::size_t used = size();
      if (begin_ > 0 && cap_ - used >= min && used <= cap_ / 2) {  // compacting makes the room
        std::memmove(data_, data_ + begin_, used);
      } else {
        std::size_t cap = cap_ ? cap_ : kInitial;
        while (cap - used < min) cap *= 2;
        char* grown = new char[cap];
        if (used) std::memcpy(grown, data_ + begin_, used);
        delete[] data_;
        data_ = grown;
        cap_ = cap;
      }
      begin_ = 0;
      end_ = used;
    }
    return {data_ + end_, cap_ - end_};
  }
  void commit(std::size_t n) noexcept { end_ += n; }
  void append(std::string_view bytes) {
    std::memcpy(prepare(bytes.size()).data(), bytes.data(), bytes.size());
    commit(bytes.size());
  }
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  std::string take(std::size_t n) {
    std::string out(data_ + begin_, n);
    consume(n);
    return out;
  }
  void clear() noexcept { begin_ = end_ = 0; }

 private:
  static constexpr std::size_t kMinRoom = 2048;
  static constexpr std::size_t kInitial = 8192;
  char* data_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

class StreamState final : public Protocol {
 public:
  StreamState(EventLoop* loop, std::size_t limit) : loop_(loop), limit_(limit) {}
  StreamState(const StreamState&) = delete;
  ~StreamState() override;

  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) delete this;
  }

  /// The transport under the writer (and the reader's flow control): TLS swaps it.
  void set_transport(Ref<Transport> transport) { transport_ = std::move(transport); }
  Transport* transport() const noexcept { return transport_.get(); }
  EventLoop* loop() const noexcept { return loop_; }

  // Protocol
  std::span<char> get_buffer(std::size_t size_hint) override;
  void buffer_updated(std::size_t nbytes) override;
  void data_received(std::string_view data) override;
  bool eof_received() override;
  void connection_lost(std::exception_ptr error) override;
  void pause_writing() override { write_paused_ = true; }
  void resume_writing() override;

  // StreamReader
  void feed_data(std::string_view data);
  void feed_eof();
  void set_exception(std::exception_ptr error);
  bool at_eof() const noexcept { return eof_ && buffer_.empty() && chunk_.empty(); }
  std::exception_ptr exception() const noexcept { return error_; }
  std::size_t limit() const noexcept { return limit_; }
  std::size_t buffered() const noexcept { return buffer_.size() + chunk_.size(); }

  /// Whether `a` can finish now (never consumes anything).
  bool ready_for(StreamReadAwaiter& a);
  /// Its result: takes the bytes, or throws (IncompleteReadError, LimitOverrunError, the error).
  std::string take_for(StreamReadAwaiter& a);
  /// Registers the (only) waiting reader; a paused transport resumes.
  void wait_reader(StreamReadAwaiter* a);
  void forget_reader(StreamReadAwaiter* a) noexcept {
    if (reader_ == a) reader_ = nullptr;
  }

  // StreamWriter
  bool write_paused() const noexcept { return write_paused_; }
  /// Storage a write no longer needs: the next chunk a waiting read() takes whole is received
  /// there, so an echo-like connection neither allocates nor copies a string per message.
  void reuse_for_chunks(std::string&& spare) noexcept;
  bool lost() const noexcept { return lost_; }
  void add_drainer(DrainAwaiter* d) noexcept;
  void remove_drainer(DrainAwaiter* d) noexcept;
  /// A future for wait_closed(): done once the connection is lost.
  Future<> closed_waiter();

 private:
  friend class aio::detail::DrainAwaiter;
  void wake_reader() noexcept;
  void wake_drainers() noexcept;
  void maybe_resume_transport();
  /// Whether a chunk of `n` bytes can go to the waiting reader as it is (see chunk_).
  bool reader_takes_whole(std::size_t n) const noexcept;
  /// spare_, made ready to receive into, when a waiting read() would take all it can hold.
  std::span<char> spare_room(std::size_t size_hint);
  /// Moves a chunk handed over whole into the buffer, behind nothing: every path but
  /// read()'s fast one sees all the bytes in buffer_.
  void spill_chunk() {
    if (chunk_.empty()) return;
    buffer_.append(chunk_);
    chunk_.clear();
  }
  /// readuntil: where the separator starts (npos: not yet; the scan goes on from a.scan_).
  std::size_t find_separator(StreamReadAwaiter& a) const;

  EventLoop* loop_;
  std::uint32_t refs_ = 0;
  std::size_t limit_;
  ByteBuffer buffer_;
  // Bytes that came whole while a read() waited on an empty buffer — received straight into
  // spare_'s storage, or copied once from the transport's memory (io_uring's provided
  // buffers): read() takes the string as it is (buffer_ is then empty).
  std::string chunk_;
  // Storage for the next chunk: what a write() of a moved string gave back. Its size says how
  // many of its bytes were ever written, which resize() need not zero-fill again.
  std::string spare_;
  bool filling_spare_ = false;  // the last get_buffer() offered spare_
  std::exception_ptr error_;
  Ref<Transport> transport_;
  StreamReadAwaiter* reader_ = nullptr;
  DrainAwaiter* drainers_ = nullptr;
  std::vector<Future<>> closed_waiters_;
  std::exception_ptr lost_error_;
  bool eof_ = false;
  bool read_paused_ = false;
  bool write_paused_ = false;
  bool lost_ = false;
};

class ConnectionTracker;
/// The streams of a connected fd on `loop`; `tracker` (a server) hears when it closes.
std::pair<StreamReader, StreamWriter> make_streams_on(EventLoop& loop, int fd, std::size_t limit, bool is_socket,
                                                      ConnectionTracker* tracker);

}  // namespace aio::detail
