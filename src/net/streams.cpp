#include "aio/net/streams.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <stdexcept>

#include "aio/net/happy_eyeballs.hpp"
#include "aio/net/socket_ops.hpp"
#include "socket_transport.hpp"
#include "stream_state.hpp"
#include "tls_internal.hpp"

namespace aio {
namespace detail {

// ---------------------------------------------------------------------------------------------
// StreamState

StreamState::~StreamState() {
  if (transport_) {
    transport_->set_protocol(nullptr);
    transport_->close();  // flushes what is buffered first
  }
}

namespace {
/// Room a chunk string keeps past its bytes, so that a receive into it ends short of the end
/// (a receive that fills its buffer makes the poller ask again, to learn there is no more).
constexpr std::size_t kChunkSlack = 512;
/// Larger storage is not kept for chunks (a read(65536) chunk with its slack fits): an idle
/// connection holds at most this much beside its buffer.
constexpr std::size_t kMaxSpare = std::size_t{128} << 10;
}  // namespace

bool StreamState::reader_takes_whole(std::size_t n) const noexcept {
  return reader_ && reader_->mode_ == StreamReadAwaiter::Mode::some && !error_ && buffer_.empty() && chunk_.empty() &&
         (reader_->n_ < 0 || static_cast<std::size_t>(reader_->n_) >= n);
}

std::span<char> StreamState::spare_room(std::size_t size_hint) {
  const std::size_t last = spare_.size();  // what the storage held last: a guess at what comes next
  const std::size_t room = std::max(spare_.capacity(), last + kChunkSlack);
  if (spare_.capacity() <= kChunkSlack || room < size_hint || !reader_takes_whole(room)) return {};
  if (room > spare_.capacity()) {
    // Fresh storage with the slack: the old bytes are not worth copying.
    std::string roomier;
    roomier.reserve(room);
    spare_.swap(roomier);
  } else if (room - last > last + kChunkSlack) {
    return {};  // zero-filling the never-written part would cost more than copying a message
  }
  spare_.resize(room);
  filling_spare_ = true;
  return {spare_.data(), room};
}

std::span<char> StreamState::get_buffer(std::size_t size_hint) {
  filling_spare_ = false;
  if (std::span<char> room = spare_room(size_hint); !room.empty()) return room;
  spill_chunk();
  return buffer_.prepare(size_hint);
}

void StreamState::buffer_updated(std::size_t nbytes) {
  if (std::exchange(filling_spare_, false) && nbytes > 0) {
    spare_.resize(nbytes);
    chunk_.swap(spare_);  // chunk_ was empty: spare_ gets its (empty) storage
    wake_reader();
    return;
  }
  buffer_.commit(nbytes);
  wake_reader();
  // asyncio pauses the transport above twice the limit, unless a reader waits for more.
  if (!read_paused_ && !reader_ && transport_ && buffer_.size() > 2 * limit_) {
    read_paused_ = true;
    transport_->pause_reading();
  }
}

void StreamState::data_received(std::string_view data) {
  if (data.empty()) return;
  if (!reader_takes_whole(data.size())) return Protocol::data_received(data);
  chunk_.swap(spare_);
  chunk_.assign(data);
  wake_reader();
}

void StreamState::reuse_for_chunks(std::string&& spare) noexcept {
  // The storage whose bytes were all written once is the cheapest to receive into.
  if (spare.capacity() > kMaxSpare || spare.size() < spare_.size()) return;
  spare_ = std::move(spare);
}

bool StreamState::eof_received() {
  feed_eof();
  return true;  // half-close: the writer may go on (asyncio's StreamReaderProtocol without TLS)
}

void StreamState::connection_lost(std::exception_ptr error) {
  lost_ = true;
  lost_error_ = error;
  if (error) error_ = error;
  else eof_ = true;
  wake_reader();
  wake_drainers();
  for (auto& f : closed_waiters_) {
    if (f.done()) continue;
    if (error) f.set_exception(error);
    else f.set_result();
  }
  closed_waiters_.clear();
}

void StreamState::resume_writing() {
  write_paused_ = false;
  wake_drainers();
}

void StreamState::feed_data(std::string_view data) {
  if (data.empty()) return;
  spill_chunk();
  buffer_.append(data);
  buffer_updated(0);
}

void StreamState::feed_eof() {
  eof_ = true;
  wake_reader();
}

void StreamState::set_exception(std::exception_ptr error) {
  error_ = std::move(error);
  wake_reader();
}

void StreamState::wake_reader() noexcept {
  if (!reader_) return;
  bool ready = true;
  try {
    ready = ready_for(*reader_);
  } catch (...) {
  }
  if (!ready) return;
  StreamReadAwaiter* r = std::exchange(reader_, nullptr);
  r->waiting_ = false;
  r->task_->wake();
}

void StreamState::wake_drainers() noexcept {
  while (DrainAwaiter* d = drainers_) {
    d->unlink();
    d->task_->wake();
  }
}

void StreamState::add_drainer(DrainAwaiter* d) noexcept {
  d->prev_ = nullptr;
  d->next_ = drainers_;
  if (drainers_) drainers_->prev_ = d;
  drainers_ = d;
  d->waiting_ = true;
}

void StreamState::remove_drainer(DrainAwaiter* d) noexcept { d->unlink(); }

Future<> StreamState::closed_waiter() {
  auto f = Future<>::create(*loop_);
  if (lost_) {
    if (lost_error_) f.set_exception(lost_error_);
    else f.set_result();
  } else {
    closed_waiters_.push_back(f);
  }
  return f;
}

void StreamState::maybe_resume_transport() {
  if (read_paused_ && buffer_.size() <= limit_ && transport_) {
    read_paused_ = false;
    transport_->resume_reading();
  }
}

void StreamState::wait_reader(StreamReadAwaiter* a) {
  if (reader_) {
    const char* what = a->mode_ == StreamReadAwaiter::Mode::some || a->mode_ == StreamReadAwaiter::Mode::all ? "read"
                       : a->mode_ == StreamReadAwaiter::Mode::exactly                                      ? "readexactly"
                                                                                                           : "readuntil";
    throw std::runtime_error(std::string(what) +
                             "() called while another coroutine is already waiting for incoming data");
  }
  reader_ = a;
  // Waiting for data while paused would deadlock: resume (asyncio's _wait_for_data).
  if (read_paused_ && transport_) {
    read_paused_ = false;
    transport_->resume_reading();
  }
}

std::size_t StreamState::find_separator(StreamReadAwaiter& a) const {
  const std::string& sep = a.separator_;
  const std::size_t len = buffer_.size();
  if (len >= a.scan_ + sep.size()) {
    std::string_view view = buffer_.view();
    std::size_t at = view.find(sep, a.scan_);
    if (at != std::string_view::npos) return at;
    a.scan_ = len + 1 - sep.size();
  }
  return std::string_view::npos;
}

bool StreamState::ready_for(StreamReadAwaiter& a) {
  using Mode = StreamReadAwaiter::Mode;
  if (error_) return true;
  if (a.mode_ == Mode::some && !chunk_.empty()) return true;
  spill_chunk();
  switch (a.mode_) {
    case Mode::some:
      return a.n_ == 0 || !buffer_.empty() || eof_;
    case Mode::all:
      return eof_;
    case Mode::exactly:
      return a.n_ <= 0 || buffer_.size() >= static_cast<std::size_t>(a.n_) || eof_;
    case Mode::until:
    case Mode::line:
      if (a.separator_.empty()) return true;
      if (find_separator(a) != std::string_view::npos) return true;
      return a.scan_ > limit_ || eof_;
  }
  return true;
}

std::string StreamState::take_for(StreamReadAwaiter& a) {
  using Mode = StreamReadAwaiter::Mode;
  if (a.mode_ == Mode::exactly && a.n_ < 0) throw std::invalid_argument("readexactly size can not be less than zero");
  if ((a.mode_ == Mode::until || a.mode_ == Mode::line) && a.separator_.empty())
    throw std::invalid_argument("Separator should be at least one-byte string");
  if (error_) std::rethrow_exception(error_);
  if (a.mode_ == Mode::some && !chunk_.empty() && (a.n_ < 0 || static_cast<std::size_t>(a.n_) >= chunk_.size())) {
    std::string out = std::move(chunk_);
    chunk_.clear();
    return out;
  }
  spill_chunk();
  switch (a.mode_) {
    case Mode::some: {
      if (a.n_ == 0) return {};
      std::size_t n = a.n_ < 0 ? buffer_.size() : std::min(buffer_.size(), static_cast<std::size_t>(a.n_));
      std::string out = buffer_.take(n);
      maybe_resume_transport();
      return out;
    }
    case Mode::all: {
      std::string out = buffer_.take(buffer_.size());
      maybe_resume_transport();
      return out;
    }
    case Mode::exactly: {
      const auto n = static_cast<std::size_t>(a.n_);
      if (n == 0) return {};
      if (buffer_.size() < n) {  // EOF came first
        std::string partial = buffer_.take(buffer_.size());
        throw IncompleteReadError(std::move(partial), n);
      }
      std::string out = buffer_.take(n);
      maybe_resume_transport();
      return out;
    }
    case Mode::until:
    case Mode::line: {
      const std::size_t seplen = a.separator_.size();
      std::size_t at = find_separator(a);
      std::string overrun;
      std::size_t consumed = 0;
      if (at == std::string_view::npos) {
        if (a.scan_ > limit_) {
          overrun = "Separator is not found, and chunk exceed the limit";
          consumed = a.scan_;
        } else {  // EOF
          std::string partial = buffer_.take(buffer_.size());
          if (a.mode_ == Mode::line) return partial;
          throw IncompleteReadError(std::move(partial), std::nullopt);
        }
      } else if (at > limit_) {
        overrun = "Separator is found, but chunk is longer than limit";
        consumed = at;
      }
      if (!overrun.empty()) {
        if (a.mode_ == Mode::until) throw LimitOverrunError(overrun, consumed);
        // readline: drop the line (or the whole buffer) and raise ValueError, as asyncio.
        std::string_view view = buffer_.view();
        if (view.substr(std::min(consumed, view.size())).starts_with(a.separator_)) buffer_.consume(consumed + seplen);
        else buffer_.clear();
        maybe_resume_transport();
        throw std::invalid_argument(overrun);
      }
      std::string out = buffer_.take(at + seplen);
      maybe_resume_transport();
      return out;
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Awaiters

StreamReadAwaiter::StreamReadAwaiter(StreamState* state, Mode mode, std::ptrdiff_t n, std::string_view separator)
    : CancelHook(&StreamReadAwaiter::on_cancel), state_(state), separator_(separator), n_(n), mode_(mode) {
  state_->add_ref();
}

StreamReadAwaiter::StreamReadAwaiter(StreamReadAwaiter&& other) noexcept
    : CancelHook(&StreamReadAwaiter::on_cancel),
      state_(std::exchange(other.state_, nullptr)),
      separator_(std::move(other.separator_)),
      n_(other.n_),
      scan_(other.scan_),
      mode_(other.mode_) {}

StreamReadAwaiter::~StreamReadAwaiter() {
  if (!state_) return;
  if (waiting_) state_->forget_reader(this);  // the awaiting frame was destroyed while suspended
  state_->release();
}

bool StreamReadAwaiter::await_ready() { return state_->ready_for(*this); }

void StreamReadAwaiter::await_suspend(std::coroutine_handle<> h) {
  TaskState& task = current_task_state();
  state_->wait_reader(this);
  task_ = &task;
  waiting_ = true;
  task.suspend(h, this);
}

std::string StreamReadAwaiter::await_resume() {
  if (task_) task_->throw_if_cancel_pending();  // before taking anything: the bytes stay for the next read
  return state_->take_for(*this);
}

bool StreamReadAwaiter::on_cancel(CancelHook* hook, std::string_view) {
  auto* self = static_cast<StreamReadAwaiter*>(hook);
  if (self->waiting_) {
    self->waiting_ = false;
    self->state_->forget_reader(self);
    self->task_->wake();
  }
  return false;  // the resume raises CancelledError
}

DrainAwaiter::DrainAwaiter(StreamState* state) : CancelHook(&DrainAwaiter::on_cancel), state_(state) {
  state_->add_ref();
}

DrainAwaiter::DrainAwaiter(DrainAwaiter&& other) noexcept
    : CancelHook(&DrainAwaiter::on_cancel), state_(std::exchange(other.state_, nullptr)) {}

DrainAwaiter::~DrainAwaiter() {
  if (!state_) return;
  if (waiting_) unlink();
  state_->release();
}

void DrainAwaiter::unlink() noexcept {
  if (!waiting_) return;
  if (prev_) prev_->next_ = next_;
  else state_->drainers_ = next_;
  if (next_) next_->prev_ = prev_;
  prev_ = next_ = nullptr;
  waiting_ = false;
}

bool DrainAwaiter::await_ready() const noexcept {
  if (state_->error_ || state_->lost_) return true;
  Transport* t = state_->transport();
  if (!t) return true;
  if (t->is_closing()) return false;  // one trip through the loop lets connection_lost() come (asyncio)
  return !state_->write_paused_;
}

void DrainAwaiter::await_suspend(std::coroutine_handle<> h) {
  task_ = &current_task_state();
  task_->suspend(h, this);
  if (state_->write_paused_) state_->add_drainer(this);
  else task_->wake();
}

void DrainAwaiter::await_resume() {
  if (task_) task_->throw_if_cancel_pending();
  if (state_->error_) std::rethrow_exception(state_->error_);
  if (state_->lost_) throw ConnectionResetError("Connection lost");
}

bool DrainAwaiter::on_cancel(CancelHook* hook, std::string_view) {
  auto* self = static_cast<DrainAwaiter*>(hook);
  if (self->waiting_) {
    self->unlink();
    self->task_->wake();
  }
  return false;
}

// ---------------------------------------------------------------------------------------------

std::pair<StreamReader, StreamWriter> make_streams(int fd, std::size_t limit, bool is_socket) {
  return make_streams_on(get_running_loop(), fd, limit, is_socket, nullptr);
}

std::pair<StreamReader, StreamWriter> make_streams_on(EventLoop& loop, int fd, std::size_t limit, bool is_socket,
                                                      ConnectionTracker* tracker) {
  Ref<SocketTransport> transport;
  try {
    transport = new SocketTransport(loop, fd, is_socket);
  } catch (...) {
    ::close(fd);
    throw;
  }
  auto* state = new StreamState(&loop, limit);
  std::pair<StreamReader, StreamWriter> streams{StreamReader(state), StreamWriter(state)};
  state->set_transport(transport);
  if (tracker) transport->set_tracker(tracker);
  transport->start(state);
  return streams;
}

namespace {
std::exception_ptr connect_error(int error, const std::string& message) { return make_os_error(error, message); }
}  // namespace

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// StreamReader

StreamReader::StreamReader(std::size_t limit) : state_(new detail::StreamState(&get_event_loop(), limit)) {}
StreamReader::StreamReader(detail::StreamState* state) noexcept : state_(state) {}
StreamReader::StreamReader(const StreamReader& other) noexcept = default;
StreamReader::StreamReader(StreamReader&& other) noexcept = default;
StreamReader& StreamReader::operator=(StreamReader other) noexcept {
  std::swap(state_, other.state_);
  return *this;
}
StreamReader::~StreamReader() = default;

namespace {
detail::StreamState* checked(const detail::Ref<detail::StreamState>& s) {
  if (!s) throw std::runtime_error("use of a moved-from stream handle");
  return s.get();
}
}  // namespace

detail::StreamReadAwaiter StreamReader::read(std::ptrdiff_t n) {
  return {checked(state_), n < 0 ? detail::StreamReadAwaiter::Mode::all : detail::StreamReadAwaiter::Mode::some, n, {}};
}
detail::StreamReadAwaiter StreamReader::readline() {
  return {checked(state_), detail::StreamReadAwaiter::Mode::line, 0, "\n"};
}
detail::StreamReadAwaiter StreamReader::readexactly(std::ptrdiff_t n) {
  return {checked(state_), detail::StreamReadAwaiter::Mode::exactly, n, {}};
}
detail::StreamReadAwaiter StreamReader::readuntil(std::string_view separator) {
  return {checked(state_), detail::StreamReadAwaiter::Mode::until, 0, separator};
}
bool StreamReader::at_eof() const noexcept { return state_ && state_->at_eof(); }
std::exception_ptr StreamReader::exception() const noexcept { return state_ ? state_->exception() : nullptr; }
void StreamReader::set_exception(std::exception_ptr error) { checked(state_)->set_exception(std::move(error)); }
void StreamReader::feed_data(std::string_view data) { checked(state_)->feed_data(data); }
void StreamReader::feed_eof() { checked(state_)->feed_eof(); }
std::size_t StreamReader::limit() const noexcept { return state_ ? state_->limit() : 0; }
std::size_t StreamReader::buffered() const noexcept { return state_ ? state_->buffered() : 0; }

// ---------------------------------------------------------------------------------------------
// StreamWriter

StreamWriter::StreamWriter(detail::StreamState* state) noexcept : state_(state) {}
StreamWriter::StreamWriter(const StreamWriter& other) noexcept = default;
StreamWriter::StreamWriter(StreamWriter&& other) noexcept = default;
StreamWriter& StreamWriter::operator=(StreamWriter other) noexcept {
  std::swap(state_, other.state_);
  return *this;
}
StreamWriter::~StreamWriter() = default;

Transport& StreamWriter::transport() const noexcept { return *state_->transport(); }

void StreamWriter::write(std::string_view data) { checked(state_)->transport()->write(data); }
void StreamWriter::write(std::string&& data) {
  checked(state_)->transport()->write(std::move(data));
  state_->reuse_for_chunks(std::move(data));
}
void StreamWriter::writelines(const std::vector<std::string>& lines) { checked(state_)->transport()->writelines(lines); }
detail::DrainAwaiter StreamWriter::drain() { return detail::DrainAwaiter(checked(state_)); }
bool StreamWriter::can_write_eof() const noexcept { return state_ && state_->transport()->can_write_eof(); }
void StreamWriter::write_eof() { checked(state_)->transport()->write_eof(); }
void StreamWriter::close() { checked(state_)->transport()->close(); }
bool StreamWriter::is_closing() const noexcept { return !state_ || state_->transport()->is_closing(); }
std::any StreamWriter::get_extra_info(std::string_view name) const { return checked(state_)->transport()->get_extra_info(name); }

Task<> StreamWriter::wait_closed() {
  detail::Ref<detail::StreamState> state(checked(state_));  // this handle may go while we wait
  auto closed = state->closed_waiter();
  co_await closed;
}

// ---------------------------------------------------------------------------------------------
// open_connection

Task<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port, OpenConnectionOptions options) {
  if (port < 0 || port > 65535) throw std::invalid_argument("port must be 0-65535");
  detail::check_tls_timeouts(options.ssl_handshake_timeout, options.ssl_shutdown_timeout, bool(options.ssl));
  GetAddrInfoOptions hints;
  hints.family = options.family;
  hints.type = SOCK_STREAM;
  hints.proto = IPPROTO_TCP;
  std::vector<AddrInfo> addrs = co_await aio::getaddrinfo(host, port, hints);
  detail::ConnectOptions connect;
  if (options.local_addr) {  // asyncio resolves it like the remote address; each attempt binds first
    std::vector<AddrInfo> local = co_await aio::getaddrinfo(options.local_addr->host, options.local_addr->port, hints);
    if (local.empty()) throw OSError(EADDRNOTAVAIL, "getaddrinfo() returned empty list");
    connect.local_addrs = std::move(local);
  }
  connect.happy_eyeballs_delay = options.happy_eyeballs_delay;
  connect.interleave = options.interleave;
  connect.make_error = &detail::connect_error;
  int fd = co_await detail::connect_any(std::move(addrs), connect);
  auto streams = detail::make_streams(fd, options.limit);
  if (options.ssl) {  // TLS (tls.cpp) over the connection
    StartTlsOptions tls;
    tls.server_hostname = options.server_hostname.empty() ? host : options.server_hostname;
    tls.ssl_handshake_timeout = options.ssl_handshake_timeout;
    tls.ssl_shutdown_timeout = options.ssl_shutdown_timeout;
    tls.server_side = false;
    co_await streams.second.start_tls(options.ssl, tls);
  }
  co_return streams;
}

Task<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path, OpenConnectionOptions options) {
  detail::check_tls_timeouts(options.ssl_handshake_timeout, options.ssl_shutdown_timeout, bool(options.ssl));
  Socket sock(AF_UNIX, SOCK_STREAM);
  co_await sock_connect(sock, std::filesystem::path(path));
  auto streams = detail::make_streams(sock.detach(), options.limit);
  if (options.ssl) {
    StartTlsOptions tls;
    tls.server_hostname = options.server_hostname;
    tls.ssl_handshake_timeout = options.ssl_handshake_timeout;
    tls.ssl_shutdown_timeout = options.ssl_shutdown_timeout;
    tls.server_side = false;
    co_await streams.second.start_tls(options.ssl, tls);
  }
  co_return streams;
}

}  // namespace aio
