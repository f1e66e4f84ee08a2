// The io_uring backend (our uvloop): every operation is an SQE, submitted in one batch per
// loop iteration together with the wait for completions (io_uring_submit_and_wait_timeout).
//   - recv_stream is a multishot recv on a provided-buffer ring (registered with
//     io_uring_register_buf_ring; liburing 2.3 has no io_uring_setup_buf_ring, so the ring is
//     mmap()ed here): the kernel picks a buffer, the bytes are handed to the consumer (deliver,
//     else copied into its buffer()), the buffer goes straight back to the ring;
//   - accept_stream is a multishot accept;
//   - large sends go out as SEND_ZC, until the kernel reports that it copied anyway (loopback);
//   - watch() is a one-shot POLL_ADD re-armed after each report, which keeps epoll's
//     level-triggered meaning for the modules that watch descriptors themselves (c-ares);
//   - an fd given to start() goes into the ring's table of registered files (slot = fd, by a
//     FILES_UPDATE SQE queued before the operation's) and its SQEs name it as a fixed file,
//     which spares the kernel a file lookup and reference per operation; close() empties it;
//   - the ring is created single-issuer with deferred task work and enabled by the thread
//     that first polls it (the loop's thread).
// user_data: an IoOp* (8-byte aligned), a WatchRec* | 1, kWakeData, or 0 (ignored).
#include <liburing.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/eventfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "pollers.hpp"

#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

namespace aio::detail {
namespace {

constexpr std::uint32_t kRunning = 1;  // started, not finished
constexpr std::uint32_t kArmed = 2;    // an SQE of it is in the kernel (or queued for it)
constexpr std::uint32_t kCancel = 4;   // cancel() asked for an early end
constexpr std::uint32_t kZc = 8;       // went out as SEND_ZC: a notification CQE follows the result

constexpr std::uint64_t kTagMask = 7;
constexpr std::uint64_t kWatchTag = 1;
constexpr std::uint64_t kWakeData = 2;

constexpr unsigned kSqEntries = 1024;
constexpr unsigned kCqEntries = 16384;
constexpr unsigned kBufGroup = 0;
constexpr unsigned kBufCount = 256;          // power of two
constexpr unsigned kBufSize = 16 * 1024;
constexpr std::size_t kZcThreshold = 64 * 1024;
constexpr rlim_t kMaxFixedFiles = 65536;

struct WatchRec {
  int fd = -1;
  IoWatcher* watcher = nullptr;
  std::uint32_t events = 0;  // what the owner wants (0: nothing)
  bool armed = false;        // a POLL_ADD is in the kernel
  bool removing = false;     // and a POLL_REMOVE for it was sent
  std::uint32_t armed_events = 0;
};

bool kernel_at_least(int major, int minor) {
  utsname u{};
  if (::uname(&u) != 0) return false;
  int ma = 0, mi = 0;
  if (std::sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

class UringPoller final : public Poller {
 public:
  /// Builds the ring; false (and the reason) when this kernel cannot run the backend.
  bool init(std::string& why) {
    if (!kernel_at_least(6, 0)) {
      why = "kernel older than 6.0 (multishot recv)";
      return false;
    }
    const unsigned base = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
    const unsigned variants[] = {
        base | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED,
        base | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
        base,
    };
    int ret = -EINVAL;
    for (unsigned flags : variants) {
      io_uring_params p{};
      p.flags = flags;
      p.cq_entries = kCqEntries;
      ret = io_uring_queue_init_params(kSqEntries, &ring_, &p);
      if (ret == 0) {
        disabled_ = flags & IORING_SETUP_R_DISABLED;
        features_ = p.features;
        break;
      }
      if (ret != -EINVAL) break;
    }
    if (ret != 0) {
      why = std::string("io_uring_setup: ") + std::strerror(-ret);
      return false;
    }
    have_ring_ = true;
    if (!(features_ & IORING_FEAT_EXT_ARG) || !(features_ & IORING_FEAT_NODROP)) {
      why = "io_uring lacks EXT_ARG/NODROP";
      return false;
    }
    if (io_uring_probe* probe = io_uring_get_probe_ring(&ring_)) {
      for (int op : {IORING_OP_SEND, IORING_OP_RECV, IORING_OP_ACCEPT, IORING_OP_CONNECT, IORING_OP_ASYNC_CANCEL,
                     IORING_OP_POLL_ADD, IORING_OP_POLL_REMOVE, IORING_OP_SENDMSG, IORING_OP_RECVMSG,
                     IORING_OP_READ, IORING_OP_WRITE})
        if (!io_uring_opcode_supported(probe, op)) why = "io_uring opcode " + std::to_string(op) + " unsupported";
      zc_ = io_uring_opcode_supported(probe, IORING_OP_SEND_ZC) && kernel_at_least(6, 2);
      io_uring_free_probe(probe);
      if (!why.empty()) return false;
    }
    if (!setup_buffers(why)) return false;
    setup_fixed_files();
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
      why = std::string("eventfd: ") + std::strerror(errno);
      return false;
    }
    arm_wake();
    if (const char* zc = std::getenv("AIO_URING_SEND_ZC"); zc && *zc == '0') zc_ = false;
    return true;
  }

  ~UringPoller() override {
    if (have_ring_) io_uring_queue_exit(&ring_);  // the kernel lets go of the buffers first
    if (buf_ring_) ::munmap(buf_ring_, kBufCount * sizeof(io_uring_buf));
    if (bufs_) ::munmap(bufs_, static_cast<std::size_t>(kBufCount) * kBufSize);
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  int poll(std::int64_t timeout_ns) override {
    enable();
    publish_buffers();
    int r;
    if (timeout_ns == 0 || io_uring_cq_ready(&ring_) > 0) {
      r = io_uring_submit_and_get_events(&ring_);
    } else if (timeout_ns < 0) {
      r = io_uring_submit_and_wait(&ring_, 1);
    } else {
      __kernel_timespec ts{timeout_ns / 1000000000, timeout_ns % 1000000000};
      io_uring_cqe* cqe = nullptr;
      r = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    }
    if (r < 0 && r != -EINTR && r != -ETIME && r != -EBUSY && r != -EAGAIN)
      throw std::system_error(-r, std::generic_category(), "io_uring_enter");
    return reap();
  }

  void wakeup() noexcept override {
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
  }

  void watch(int fd, std::uint32_t events, IoWatcher* watcher) override {
    if (fd < 0) throw std::invalid_argument("watch(): negative file descriptor");
    if (static_cast<std::size_t>(fd) >= watches_.size()) watches_.resize(static_cast<std::size_t>(fd) + 1);
    auto& slot = watches_[fd];
    if (!slot) {
      slot = std::make_unique<WatchRec>();
      slot->fd = fd;
    }
    WatchRec* w = slot.get();
    if (events && !w->events) ++watch_count_;
    if (!events && w->events) --watch_count_;
    w->watcher = watcher;
    w->events = events;
    if (!w->armed) {
      if (events) arm_watch(w);
    } else if (!w->removing && (events == 0 || events != w->armed_events)) {
      io_uring_sqe* sqe = get_sqe();  // re-armed with the new mask when the removal completes
      io_uring_prep_poll_remove(sqe, reinterpret_cast<std::uint64_t>(w) | kWatchTag);
      io_uring_sqe_set_data64(sqe, 0);
      w->removing = true;
    }
  }

  std::size_t watched() const noexcept override { return running_ + watch_count_; }
  Backend backend() const noexcept override { return Backend::io_uring; }

  int try_io(IoOp*) noexcept override { return -EAGAIN; }

  void start(IoOp* op) override {
    if (op->fd < 0) throw std::invalid_argument("start(): negative file descriptor");
    register_file(op->fd);
    op->poller_flags = kRunning;
    op->poller_result = 0;
    ++running_;
    arm(op);
  }

  bool cancel(IoOp* op) noexcept override {
    if (!(op->poller_flags & kRunning)) return true;
    if (!(op->poller_flags & kArmed)) {  // a stream between two SQEs
      op->poller_flags = 0;
      --running_;
      return true;
    }
    if (op->poller_flags & kCancel) return false;
    op->poller_flags |= kCancel;
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (!sqe) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    if (sqe) {
      io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(op), 0);
      io_uring_sqe_set_data64(sqe, 0);
    }
    return false;
  }

  void close(int fd) noexcept override {
    if (fd < 0) return;
    if (static_cast<std::size_t>(fd) < fixed_.size() && fixed_[fd]) {
      // The table holds a reference of its own: the socket only closes once its slot is empty.
      static int no_file = -1;
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      if (!sqe && !disabled_) {
        io_uring_submit(&ring_);
        sqe = io_uring_get_sqe(&ring_);
      }
      if (sqe) {
        io_uring_prep_files_update(sqe, &no_file, 1, fd);
        io_uring_sqe_set_data64(sqe, 0);
        sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
      } else {
        io_uring_register_files_update(&ring_, static_cast<unsigned>(fd), &no_file, 1);
      }
      fixed_[fd] = false;
    }
    ::close(fd);
  }

 private:
  bool setup_buffers(std::string& why) {
    const std::size_t ring_bytes = kBufCount * sizeof(io_uring_buf);
    void* ring = ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (ring == MAP_FAILED) {
      why = "mmap of the buffer ring failed";
      return false;
    }
    buf_ring_ = static_cast<io_uring_buf_ring*>(ring);
    void* bufs = ::mmap(nullptr, static_cast<std::size_t>(kBufCount) * kBufSize, PROT_READ | PROT_WRITE,
                        MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, -1, 0);
    if (bufs == MAP_FAILED) {
      why = "mmap of the receive buffers failed";
      return false;
    }
    bufs_ = static_cast<char*>(bufs);
    io_uring_buf_ring_init(buf_ring_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(buf_ring_);
    reg.ring_entries = kBufCount;
    reg.bgid = kBufGroup;
    int ret = io_uring_register_buf_ring(&ring_, &reg, 0);
    if (ret != 0) {
      why = std::string("io_uring_register_buf_ring: ") + std::strerror(-ret);
      return false;
    }
    for (unsigned i = 0; i < kBufCount; ++i)
      io_uring_buf_ring_add(buf_ring_, bufs_ + static_cast<std::size_t>(i) * kBufSize, kBufSize,
                            static_cast<unsigned short>(i), io_uring_buf_ring_mask(kBufCount), static_cast<int>(i));
    io_uring_buf_ring_advance(buf_ring_, kBufCount);
    return true;
  }

  /// A sparse table of registered files, one slot per possible fd (up to the fd limit): fds
  /// beyond it, or all of them when the kernel refuses the table, go by their number.
  void setup_fixed_files() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const auto slots = static_cast<unsigned>(std::min<rlim_t>(limit.rlim_cur, kMaxFixedFiles));
    if (io_uring_register_files_sparse(&ring_, slots) != 0) return;
    fixed_.assign(slots, false);
    fixed_fds_ = std::make_unique<int[]>(slots);
  }

  /// Puts fd in its slot, by an SQE that runs before the ones queued after it.
  void register_file(int fd) {
    if (static_cast<std::size_t>(fd) >= fixed_.size() || fixed_[fd]) return;
    fixed_fds_[fd] = fd;  // read by the kernel when it runs the SQE
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_files_update(sqe, &fixed_fds_[fd], 1, fd);
    io_uring_sqe_set_data64(sqe, 0);
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    fixed_[fd] = true;
  }

  /// The thread that polls first owns a single-issuer ring.
  void enable() {
    if (!disabled_) return;
    // io_uring_enable_rings() is declared by liburing 2.3 but missing from its library.
    if (::syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) < 0)
      throw std::system_error(errno, std::generic_category(), "IORING_REGISTER_ENABLE_RINGS");
    disabled_ = false;
    io_uring_register_ring_fd(&ring_);  // saves an fd lookup per io_uring_enter; optional
  }

  io_uring_sqe* get_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (!sqe) {  // the submission queue is full: hand it to the kernel now
      enable();
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
      if (!sqe) throw std::system_error(EBUSY, std::generic_category(), "io_uring submission queue full");
    }
    return sqe;
  }

  void arm(IoOp* op) {
    io_uring_sqe* sqe = get_sqe();
    switch (op->kind) {
      case IoOp::Kind::recv:
        io_uring_prep_recv(sqe, op->fd, op->buf, op->len, op->flags);
        break;
      case IoOp::Kind::send:
        if (zc_ && op->len >= kZcThreshold) {
          io_uring_prep_send_zc(sqe, op->fd, op->buf, op->len, op->flags | MSG_NOSIGNAL, 0);
          sqe->ioprio |= IORING_SEND_ZC_REPORT_USAGE;
          op->poller_flags |= kZc;
        } else {
          io_uring_prep_send(sqe, op->fd, op->buf, op->len, op->flags | MSG_NOSIGNAL);
        }
        break;
      case IoOp::Kind::read:
        io_uring_prep_read(sqe, op->fd, op->buf, static_cast<unsigned>(op->len), static_cast<__u64>(-1));
        break;
      case IoOp::Kind::write:
        io_uring_prep_write(sqe, op->fd, op->buf, static_cast<unsigned>(op->len), static_cast<__u64>(-1));
        break;
      case IoOp::Kind::recvmsg:
        io_uring_prep_recvmsg(sqe, op->fd, op->msg, static_cast<unsigned>(op->flags));
        break;
      case IoOp::Kind::sendmsg:
        io_uring_prep_sendmsg(sqe, op->fd, op->msg, static_cast<unsigned>(op->flags | MSG_NOSIGNAL));
        break;
      case IoOp::Kind::accept:
        io_uring_prep_accept(sqe, op->fd, op->addr, op->addr ? &op->addrlen : nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        break;
      case IoOp::Kind::connect:
        io_uring_prep_connect(sqe, op->fd, op->addr, op->addrlen);
        break;
      case IoOp::Kind::recv_stream:
        io_uring_prep_recv_multishot(sqe, op->fd, nullptr, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = kBufGroup;
        break;
      case IoOp::Kind::accept_stream:
        io_uring_prep_multishot_accept(sqe, op->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        break;
    }
    if (static_cast<std::size_t>(op->fd) < fixed_.size() && fixed_[op->fd]) sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(op));
    op->poller_flags |= kArmed;
  }

  void arm_wake() {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_poll_multishot(sqe, wake_fd_, POLLIN);
    io_uring_sqe_set_data64(sqe, kWakeData);
  }

  void arm_watch(WatchRec* w) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_poll_add(sqe, w->fd, w->events);
    io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(w) | kWatchTag);
    w->armed = true;
    w->removing = false;
    w->armed_events = w->events;
  }

  void recycle(unsigned bid) {
    io_uring_buf_ring_add(buf_ring_, bufs_ + static_cast<std::size_t>(bid) * kBufSize, kBufSize,
                          static_cast<unsigned short>(bid), io_uring_buf_ring_mask(kBufCount), recycled_++);
  }
  void publish_buffers() {
    if (recycled_) {
      io_uring_buf_ring_advance(buf_ring_, recycled_);
      recycled_ = 0;
    }
  }

  int reap() {
    struct Item {
      std::uint64_t data;
      int res;
      std::uint32_t flags;
    };
    int total = 0;
    for (int round = 0; round < 8; ++round) {
      io_uring_cqe* cqes[256];
      unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, 256);
      if (n == 0) break;
      Item items[256];
      for (unsigned i = 0; i < n; ++i) items[i] = {cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
      io_uring_cq_advance(&ring_, n);
      for (unsigned i = 0; i < n; ++i) dispatch(items[i].data, items[i].res, items[i].flags);
      total += static_cast<int>(n);
      publish_buffers();
      if (n < 256) break;
    }
    return total;
  }

  void dispatch(std::uint64_t data, int res, std::uint32_t flags) {
    if (data == 0) return;
    if (data == kWakeData) {
      std::uint64_t count;
      [[maybe_unused]] auto got = ::read(wake_fd_, &count, sizeof count);
      if (!(flags & IORING_CQE_F_MORE)) arm_wake();
      return;
    }
    if ((data & kTagMask) == kWatchTag) return on_watch(reinterpret_cast<WatchRec*>(data & ~kTagMask), res);
    auto* op = reinterpret_cast<IoOp*>(data);
    switch (op->kind) {
      case IoOp::Kind::recv_stream:
        return on_recv_stream(op, res, flags);
      case IoOp::Kind::accept_stream:
        return on_accept_stream(op, res, flags);
      default:
        break;
    }
    if (op->poller_flags & kZc) {
      if (flags & IORING_CQE_F_NOTIF) {
        if (static_cast<std::uint32_t>(res) & IORING_NOTIF_USAGE_ZC_COPIED) zc_ = false;  // copied anyway: not worth it
        return finish(op, op->poller_result);
      }
      if (flags & IORING_CQE_F_MORE) {  // the result; the buffer is ours again after the notification
        op->poller_result = res;
        return;
      }
    }
    finish(op, res);
  }

  void finish(IoOp* op, int res) {
    op->poller_flags = 0;
    --running_;
    op->done(op, res, false);
  }

  /// After a chunk or a connection was handed over: re-arm an ended multishot, or end it.
  void continue_stream(IoOp* op) {
    if (!(op->poller_flags & kRunning) || (op->poller_flags & kArmed)) return;
    if (op->poller_flags & kCancel) finish(op, -ECANCELED);
    else arm(op);
  }

  void on_recv_stream(IoOp* op, int res, std::uint32_t flags) {
    if (!(flags & IORING_CQE_F_MORE)) op->poller_flags &= ~kArmed;
    if (res > 0) {
      if (flags & IORING_CQE_F_BUFFER) {
        unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
        const char* bytes = bufs_ + static_cast<std::size_t>(bid) * kBufSize;
        const auto n = static_cast<std::size_t>(res);
        if (op->deliver) {
          op->deliver(op, {bytes, n});
        } else {
          std::memcpy(op->buffer(op, n).data(), bytes, n);
          op->done(op, res, true);
        }
        recycle(bid);
      } else {
        op->done(op, res, true);
      }
      return continue_stream(op);
    }
    if (flags & IORING_CQE_F_BUFFER) recycle(flags >> IORING_CQE_BUFFER_SHIFT);
    if (op->poller_flags & kArmed) return;
    if (res == -ENOBUFS && !(op->poller_flags & kCancel)) {  // out of provided buffers: go on once they are back
      publish_buffers();
      return arm(op);
    }
    finish(op, (op->poller_flags & kCancel) && res == -ECANCELED ? -ECANCELED : res);
  }

  void on_accept_stream(IoOp* op, int res, std::uint32_t flags) {
    if (!(flags & IORING_CQE_F_MORE)) op->poller_flags &= ~kArmed;
    if (res >= 0) {
      op->done(op, res, true);
      return continue_stream(op);
    }
    if (op->poller_flags & kArmed) return;
    const bool transient = res == -ECONNABORTED || res == -EINTR || res == -EAGAIN || res == -EPROTO;
    if (transient && !(op->poller_flags & kCancel)) return arm(op);
    finish(op, res);
  }

  void on_watch(WatchRec* w, int res) {
    w->armed = false;
    w->removing = false;
    if (res < 0 && res != -ECANCELED) {  // e.g. EBADF: report it once; the owner watches again if it wants
      if (w->events && w->watcher) w->watcher->on_ready(w->watcher, io_events::error);
      return;
    }
    if (res > 0 && w->events && w->watcher) w->watcher->on_ready(w->watcher, static_cast<std::uint32_t>(res));
    if (w->events && !w->armed) arm_watch(w);
  }

  io_uring ring_{};
  bool have_ring_ = false;
  bool disabled_ = false;
  unsigned features_ = 0;
  bool zc_ = false;
  int wake_fd_ = -1;
  io_uring_buf_ring* buf_ring_ = nullptr;
  char* bufs_ = nullptr;
  int recycled_ = 0;
  std::size_t running_ = 0;
  std::size_t watch_count_ = 0;
  std::vector<std::unique_ptr<WatchRec>> watches_;
  std::vector<bool> fixed_;           // fd -> in its slot of the registered-file table
  std::unique_ptr<int[]> fixed_fds_;  // what the queued FILES_UPDATE SQEs read
};

}  // namespace

std::unique_ptr<Poller> make_uring_poller(std::string& why) {
  auto poller = std::make_unique<UringPoller>();
  try {
    if (poller->init(why)) return poller;
  } catch (const std::exception& e) {
    why = e.what();
  }
  return nullptr;
}

}  // namespace aio::detail
