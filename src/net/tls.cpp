#include "aio/net/tls.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <stdexcept>

#include "aio/core/errors.hpp"
#include "aio/core/log.hpp"
#include "aio/net/sockaddr.hpp"
#include "stream_state.hpp"
#include "tls_internal.hpp"

namespace aio {

// ---------------------------------------------------------------------------------------------
// Errors in OpenSSL's words

namespace {

std::string upper_reason(std::string reason) {
  for (char& c : reason) c = c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return reason;
}

/// The first error on OpenSSL's queue as Python words it ("[SSL: WRONG_VERSION_NUMBER] wrong
/// version number"); the queue is cleared.
SSLError ssl_error_from_queue(const std::string& fallback) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return SSLError(fallback, "SSL", "");
  const char* reason = ERR_reason_error_string(e);
  std::string why = reason ? reason : "unknown error";
  std::string lib = ERR_GET_LIB(e) == ERR_LIB_SSL ? "SSL" : (ERR_lib_error_string(e) ? ERR_lib_error_string(e) : "SSL");
  if (lib != "SSL") {
    for (char& c : lib) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::string code = upper_reason(why);
  return SSLError("[" + lib + ": " + code + "] " + why, lib, code);
}

std::exception_ptr handshake_error(SSL* ssl, const std::string& hostname) {
  unsigned long e = ERR_peek_error();
  if (e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    ERR_clear_error();
    long vr = SSL_get_verify_result(ssl);
    std::string what;
    if (vr == X509_V_ERR_HOSTNAME_MISMATCH) what = "Hostname mismatch, certificate is not valid for '" + hostname + "'.";
    else if (vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
      what = "IP address mismatch, certificate is not valid for '" + hostname + "'.";
    else what = X509_verify_cert_error_string(vr);
    return std::make_exception_ptr(SSLCertVerificationError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: " + what, vr, what));
  }
  return std::make_exception_ptr(ssl_error_from_queue("[SSL] handshake failed"));
}

/// A number of seconds as Python's str(float) writes it ("60.0", "0.25"), for asyncio's messages.
std::string python_float(double seconds) {
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, seconds);
  std::string out(text, ec == std::errc() ? end : text);
  if (out.find_first_of(".en") == std::string::npos) out += ".0";
  return out;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string name_oneline(X509_NAME* name) {
  if (!name) return {};
  char* s = X509_NAME_oneline(name, nullptr, 0);
  std::string out = s ? s : "";
  OPENSSL_free(s);
  return out;
}

std::string asn1_time(const ASN1_TIME* t) {
  if (!t) return {};
  BIO* b = BIO_new(BIO_s_mem());
  ASN1_TIME_print(b, t);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return out;
}

PeerCert peer_cert(X509* cert) {
  PeerCert pc;
  pc.subject = name_oneline(X509_get_subject_name(cert));
  pc.issuer = name_oneline(X509_get_issuer_name(cert));
  pc.not_before = asn1_time(X509_get0_notBefore(cert));
  pc.not_after = asn1_time(X509_get0_notAfter(cert));
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      const unsigned char* s = ASN1_STRING_get0_data(n->d.dNSName);
      pc.subject_alt_name.emplace_back("DNS", std::string(reinterpret_cast<const char*>(s),
                                                           static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName))));
    } else if (n->type == GEN_IPADD) {
      const int len = ASN1_STRING_length(n->d.iPAddress);
      const unsigned char* s = ASN1_STRING_get0_data(n->d.iPAddress);
      char text[INET6_ADDRSTRLEN] = {};
      ::inet_ntop(len == 4 ? AF_INET : AF_INET6, s, text, sizeof text);
      pc.subject_alt_name.emplace_back("IP Address", text);
    }
  }
  GENERAL_NAMES_free(names);
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  pc.pem.assign(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return pc;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SSLContext

struct SSLContext::Impl {
  SSL_CTX* ctx = nullptr;
  bool server = false;
  std::string alpn;  // wire format: length-prefixed names
  ~Impl() { SSL_CTX_free(ctx); }
};

namespace {
int alpn_select(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                void* arg) {
  auto* impl = static_cast<SSLContext::Impl*>(arg);
  unsigned char* selected = nullptr;
  // The server's preference order wins, as Python's.
  if (SSL_select_next_proto(&selected, outlen, reinterpret_cast<const unsigned char*>(impl->alpn.data()),
                            static_cast<unsigned>(impl->alpn.size()), in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}
}  // namespace

SSLContext::SSLContext(Purpose purpose) : impl_(std::make_shared<Impl>()) {
  impl_->server = purpose == Purpose::CLIENT_AUTH;
  impl_->ctx = SSL_CTX_new(impl_->server ? TLS_server_method() : TLS_client_method());
  if (!impl_->ctx) throw ssl_error_from_queue("[SSL] cannot create a context");
  SSL_CTX_set_min_proto_version(impl_->ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(impl_->ctx, SSL_MODE_RELEASE_BUFFERS);
  if (impl_->server) {
    check_hostname = false;
    verify_mode = CERT_NONE;
  }
}

SSLContext SSLContext::create_default_context(Purpose purpose) {
  SSLContext ctx(purpose);
  ctx.load_default_certs();
  return ctx;
}

void SSLContext::load_cert_chain(const std::string& certfile, const std::string& keyfile) {
  ERR_clear_error();
  const std::string& key = keyfile.empty() ? certfile : keyfile;
  if (SSL_CTX_use_certificate_chain_file(impl_->ctx, certfile.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(impl_->ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(impl_->ctx) != 1)
    throw ssl_error_from_queue("[SSL] cannot load the certificate chain");
}

void SSLContext::load_verify_locations(const std::string& cafile, const std::string& capath) {
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(impl_->ctx, cafile.empty() ? nullptr : cafile.c_str(),
                                    capath.empty() ? nullptr : capath.c_str()) != 1)
    throw ssl_error_from_queue("[SSL] cannot load the verify locations");
}

void SSLContext::load_default_certs() {
  ERR_clear_error();
  if (SSL_CTX_set_default_verify_paths(impl_->ctx) != 1) throw ssl_error_from_queue("[SSL] cannot load the default certificates");
}

void SSLContext::set_alpn_protocols(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) throw std::invalid_argument("ALPN protocols must be 1 to 255 bytes long");
    wire += static_cast<char>(p.size());
    wire += p;
  }
  impl_->alpn = wire;
  if (impl_->server) {
    SSL_CTX_set_alpn_select_cb(impl_->ctx, &alpn_select, impl_.get());
  } else if (SSL_CTX_set_alpn_protos(impl_->ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                     static_cast<unsigned>(wire.size())) != 0) {
    throw ssl_error_from_queue("[SSL] cannot set the ALPN protocols");
  }
}

void SSLContext::set_ciphers(const std::string& ciphers) {
  ERR_clear_error();
  if (SSL_CTX_set_cipher_list(impl_->ctx, ciphers.c_str()) != 1) throw SSLError("('No cipher can be selected.',)");
}

bool SSLContext::server_side() const noexcept { return impl_->server; }
void* SSLContext::native_handle() const noexcept { return impl_->ctx; }

SslOption::SslOption(const SSLContext& ctx) : enabled(true), context(std::make_shared<SSLContext>(ctx)) {}

// ---------------------------------------------------------------------------------------------
// The TLS transport

namespace detail {

class TLSTransport final : public Transport, public Protocol {
 public:
  TLSTransport(EventLoop& loop, Ref<Transport> lower, const SSLContext& ctx, bool server_side, std::string hostname)
      : loop_(&loop), lower_(std::move(lower)), context_(ctx), hostname_(std::move(hostname)), handshake_(Future<>::create(loop)) {
    if (!server_side && ctx.check_hostname && ctx.verify_mode == CERT_NONE)
      throw std::invalid_argument("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
    if (!server_side && ctx.check_hostname && hostname_.empty())
      throw std::invalid_argument("check_hostname requires server_hostname");
    ssl_ = SSL_new(static_cast<SSL_CTX*>(ctx.native_handle()));
    if (!ssl_) throw ssl_error_from_queue("[SSL] cannot create a connection");
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio_, -1);
    SSL_set_bio(ssl_, rbio_, wbio_);
    if (server_side) {
      SSL_set_accept_state(ssl_);
      int mode = ctx.verify_mode == CERT_NONE       ? SSL_VERIFY_NONE
                 : ctx.verify_mode == CERT_OPTIONAL ? SSL_VERIFY_PEER
                                                    : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      SSL_set_verify(ssl_, mode, nullptr);
    } else {
      SSL_set_connect_state(ssl_);
      SSL_set_verify(ssl_, ctx.verify_mode == CERT_NONE ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
      const bool ip = is_ip_literal(hostname_);
      if (!hostname_.empty() && !ip) SSL_set_tlsext_host_name(ssl_, hostname_.c_str());
      if (ctx.check_hostname) {
        if (ip) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), hostname_.c_str());
        else {
          SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
          SSL_set1_host(ssl_, hostname_.c_str());
        }
      }
    }
  }

  /// Takes over the lower transport's protocol; `initial`: bytes already received from it.
  /// The timeouts are in seconds (asyncio's ssl_handshake_timeout and ssl_shutdown_timeout).
  void start(Protocol* upper, std::string_view initial, double handshake_timeout, double shutdown_timeout) {
    upper_ = upper;
    shutdown_timeout_ = shutdown_timeout;
    add_ref();  // the lower transport's pointer to us, released in connection_lost()
    lower_->set_protocol(this);
    Ref<TLSTransport> keep(this);
    // (the timers capture `this`: connection_lost(), which comes before we go, cancels them)
    timer_ = loop_->call_later(handshake_timeout, [this, handshake_timeout] {
      if (handshake_done_ || failed_) return;
      fail(std::make_exception_ptr(ConnectionAbortedError("SSL handshake is taking longer than " +
                                                          python_float(handshake_timeout) +
                                                          " seconds: aborting the connection")));
    });
    if (!initial.empty()) BIO_write(rbio_, initial.data(), static_cast<int>(initial.size()));
    do_handshake();
  }

  Future<> handshake() const { return handshake_; }

  // Transport (to the protocol above)
  void set_protocol(Protocol* protocol) override { upper_ = protocol; }
  Protocol* get_protocol() const noexcept override { return upper_; }
  bool is_reading() const noexcept override { return !read_paused_ && !closing_; }
  void pause_reading() override {
    read_paused_ = true;
    if (!lost_ && !shutting_down_) lower_->pause_reading();  // (the peer's close_notify must come in)
  }
  void resume_reading() override {
    if (!read_paused_) return;
    read_paused_ = false;
    if (lost_) return;
    lower_->resume_reading();
    // What OpenSSL still holds is delivered on the next turn (asyncio's call_soon(_do_read)).
    loop_->call_soon([keep = Ref<TLSTransport>(this)] { keep->do_read(); });
  }
  void write(std::string_view data) override {
    if (data.empty() || closing_ || failed_ || lost_) return;
    if (!handshake_done_) {
      pending_.append(data);
      return;
    }
    Ref<TLSTransport> keep(this);
    ssl_write(data);
    flush();
  }
  bool can_write_eof() const noexcept override { return false; }
  void write_eof() override { throw std::runtime_error("SSL transport does not support write_eof()"); }
  std::size_t get_write_buffer_size() const noexcept override {
    return pending_.size() + (lost_ ? 0 : lower_->get_write_buffer_size());
  }
  void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) override {
    lower_->set_write_buffer_limits(high, low);
  }
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override {
    return lower_->get_write_buffer_limits();
  }
  bool is_closing() const noexcept override { return closing_ || lost_; }
  /// asyncio's SSL shutdown: our close_notify, then the peer's is awaited (what else comes is
  /// dropped) for up to ssl_shutdown_timeout, then the transport below closes. A peer that
  /// never answers: the transport below is aborted and the protocol's connection_lost()
  /// gets TimeoutError("SSL shutdown timed out").
  void close() override {
    if (closing_) return;
    closing_ = true;
    if (lost_) return;
    Ref<TLSTransport> keep(this);
    if (!handshake_done_ || failed_) return lower_->close();
    shutting_down_ = true;
    ERR_clear_error();
    SSL_shutdown(ssl_);  // our close_notify
    ERR_clear_error();
    flush();
    if (close_notified_ || eof_) return lower_->close();  // the peer's came already (or its EOF)
    timer_ = loop_->call_later(shutdown_timeout_, [this] {
      error_ = std::make_exception_ptr(TimeoutError("SSL shutdown timed out"));
      lower_->abort();
    });
    if (read_paused_) lower_->resume_reading();
    do_read();  // what the peer sent already
  }
  void abort() override {
    closing_ = true;
    if (!lost_) lower_->abort();
  }
  std::any get_extra_info(std::string_view name) const override {
    if (name == "sslcontext") return context_;
    if (name == "ssl_object") return static_cast<void*>(ssl_);
    if (name == "peercert") {
      X509* cert = handshake_done_ ? SSL_get1_peer_certificate(ssl_) : nullptr;
      if (!cert) return {};
      PeerCert pc = peer_cert(cert);
      X509_free(cert);
      return pc;
    }
    if (name == "cipher") {
      const char* c = handshake_done_ ? SSL_get_cipher_name(ssl_) : nullptr;
      return c ? std::any(std::string(c)) : std::any();
    }
    if (name == "version") return handshake_done_ ? std::any(std::string(SSL_get_version(ssl_))) : std::any();
    if (name == "alpn_protocol") {
      const unsigned char* p = nullptr;
      unsigned len = 0;
      SSL_get0_alpn_selected(ssl_, &p, &len);
      if (!p || len == 0) return {};
      return std::string(reinterpret_cast<const char*>(p), len);
    }
    if (name == "server_hostname") {
      const char* sni = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
      if (sni) return std::string(sni);
      return hostname_.empty() ? std::any() : std::any(hostname_);
    }
    return lower_->get_extra_info(name);
  }

  // Protocol (of the transport below)
  std::span<char> get_buffer(std::size_t size_hint) override {
    if (in_.size() < std::max<std::size_t>(size_hint, 65536)) in_.resize(std::max<std::size_t>(size_hint, 65536));
    return {in_.data(), in_.size()};
  }
  void buffer_updated(std::size_t nbytes) override {
    if (nbytes == 0 || failed_) return;
    Ref<TLSTransport> keep(this);
    BIO_write(rbio_, in_.data(), static_cast<int>(nbytes));
    if (!handshake_done_) do_handshake();
    else do_read();
  }
  bool eof_received() override {
    Ref<TLSTransport> keep(this);
    if (!handshake_done_) {
      if (!failed_) fail(std::make_exception_ptr(ConnectionResetError("Connection lost")));
      return false;
    }
    // The peer closed without close_notify: an EOF all the same (asyncio's ragged EOF).
    if (!eof_ && upper_ && !failed_) {
      eof_ = true;
      upper_->eof_received();
    }
    return false;  // TLS has no half-close: the transport below closes
  }
  void connection_lost(std::exception_ptr error) override {
    lost_ = true;
    closing_ = true;
    timer_.cancel();
    // After the peer's close_notify the stream ended cleanly: a reset that follows (our
    // close_notify reaching a socket the peer closed) is no error.
    std::exception_ptr why = error_ ? error_ : (eof_ && close_notified_ ? nullptr : error);
    if (!handshake_done_ && !handshake_.done())
      handshake_.set_exception(why ? why : std::make_exception_ptr(ConnectionResetError("Connection lost")));
    if (Protocol* upper = std::exchange(upper_, nullptr)) upper->connection_lost(why);
    release();  // the lower transport's reference
  }
  void pause_writing() override {
    if (upper_) upper_->pause_writing();
  }
  void resume_writing() override {
    if (upper_) upper_->resume_writing();
  }

 private:
  ~TLSTransport() override { SSL_free(ssl_); }

  void do_handshake() {
    if (handshake_done_ || failed_ || lost_) return;
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      flush();
      handshake_done_ = true;
      timer_.cancel();
      if (!pending_.empty()) {
        std::string out = std::move(pending_);
        pending_.clear();
        ssl_write(out);
      }
      flush();
      handshake_.set_result();
      if (closing_) {  // close() came during the handshake
        closing_ = false;
        close();
        return;
      }
      do_read();  // application data that came with the last handshake flight
      return;
    }
    const int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      flush();
      return;
    }
    std::exception_ptr error = handshake_error(ssl_, hostname_);
    flush();  // the alert goes to the peer
    fail(error);
  }

  /// Decrypts what came; while shutting down, drops it until the peer's close_notify.
  void do_read() {
    if (!handshake_done_ || failed_ || lost_ || eof_) return;
    Ref<TLSTransport> keep(this);
    while ((shutting_down_ || !read_paused_) && !failed_ && !lost_) {
      Protocol* to = shutting_down_ ? nullptr : upper_;
      std::span<char> room = to ? to->get_buffer(16384) : std::span<char>(scratch_, sizeof scratch_);
      ERR_clear_error();
      const int n = SSL_read(ssl_, room.data(), static_cast<int>(std::min<std::size_t>(room.size(), INT_MAX)));
      if (n > 0) {
        if (to) to->buffer_updated(static_cast<std::size_t>(n));
        continue;
      }
      const int e = SSL_get_error(ssl_, n);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
      if (e == SSL_ERROR_ZERO_RETURN) {  // close_notify: EOF, then our close_notify back
        flush();
        eof_ = true;
        close_notified_ = true;
        if (to) to->eof_received();
        if (shutting_down_) {
          timer_.cancel();
          lower_->close();
        } else {
          close();
        }
        return;
      }
      std::exception_ptr error = std::make_exception_ptr(ssl_error_from_queue("[SSL] read failed"));
      flush();
      fail(error);
      return;
    }
    flush();  // what reading produced (key updates, session tickets)
  }

  void ssl_write(std::string_view data) {
    while (!data.empty()) {
      ERR_clear_error();
      const int n = SSL_write(ssl_, data.data(), static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30)));
      if (n <= 0) {
        fail(std::make_exception_ptr(ssl_error_from_queue("[SSL] write failed")));
        return;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  /// What OpenSSL wrote goes to the transport below.
  void flush() {
    if (lost_) return;
    for (;;) {
      const std::size_t pending = BIO_ctrl_pending(wbio_);
      if (pending == 0) return;
      std::string out(pending, '\0');
      const int n = BIO_read(wbio_, out.data(), static_cast<int>(pending));
      if (n <= 0) return;
      out.resize(static_cast<std::size_t>(n));
      lower_->write(std::move(out));
      if (lost_) return;
    }
  }

  /// A fatal error: the handshake (if pending) and the protocol above get it once the
  /// transport below is closed (after flushing the alert).
  void fail(std::exception_ptr error) {
    if (failed_) return;
    failed_ = true;
    error_ = error;
    timer_.cancel();
    if (!handshake_done_ && !handshake_.done()) handshake_.set_exception(error);
    closing_ = true;
    if (!lost_) lower_->close();
  }

  EventLoop* loop_;
  Ref<Transport> lower_;
  SSLContext context_;
  std::string hostname_;
  Future<> handshake_;
  TimerHandle timer_;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;
  BIO* wbio_ = nullptr;
  Protocol* upper_ = nullptr;
  std::string pending_;  // written before the handshake finished
  std::vector<char> in_;
  char scratch_[16384];
  std::exception_ptr error_;
  double shutdown_timeout_ = kSslShutdownTimeout;
  bool handshake_done_ = false;
  bool failed_ = false;
  bool closing_ = false;
  bool lost_ = false;
  bool eof_ = false;
  bool close_notified_ = false;  // the peer's close_notify came
  bool shutting_down_ = false;   // ours went: waiting for the peer's
  bool read_paused_ = false;
};

Task<bool> tls_server_handshake(StreamWriter writer, SslOption ssl, StartTlsOptions options) {
  try {
    options.server_side = true;
    co_await writer.start_tls(std::move(ssl), options);
    co_return true;
  } catch (const CancelledError&) {
    throw;
  } catch (const std::exception& e) {
    log(LogLevel::debug, std::string("SSL handshake failed: ") + e.what());
  }
  writer.transport().close();  // (the connection is closing already: the alert goes out first)
  co_return false;
}

void check_tls_timeouts(const std::optional<double>& handshake, const std::optional<double>& shutdown, bool ssl) {
  auto check = [ssl](const std::optional<double>& seconds, const char* name) {
    if (!seconds) return;
    if (!ssl) throw std::invalid_argument(std::string(name) + " is only meaningful with ssl");
    if (!(*seconds > 0))
      throw std::invalid_argument(std::string(name) + " should be a positive number, got " + python_float(*seconds));
  };
  check(handshake, "ssl_handshake_timeout");
  check(shutdown, "ssl_shutdown_timeout");
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// StreamWriter::start_tls

Task<> StreamWriter::start_tls(SslOption ssl, StartTlsOptions options) {
  if (!state_) throw std::runtime_error("use of a moved-from stream handle");
  detail::Ref<detail::StreamState> state(state_);
  Transport* lower = state->transport();
  if (!lower || lower->is_closing() || state->lost()) throw ConnectionResetError("Connection lost");
  detail::check_tls_timeouts(options.ssl_handshake_timeout, options.ssl_shutdown_timeout, true);
  const SSLContext ctx = ssl.context ? *ssl.context : SSLContext::create_default_context(Purpose::SERVER_AUTH);
  const bool server_side = options.server_side.value_or(ctx.server_side());
  if (server_side && !ctx.server_side()) throw std::invalid_argument("start_tls(): a server needs a Purpose::CLIENT_AUTH context");
  // Bytes the reader holds already (a ClientHello that came before start_tls) are TLS's.
  std::string initial;
  if (state->buffered() > 0) {
    StreamReader reader(state.get());
    auto take = reader.read(static_cast<std::ptrdiff_t>(state->buffered()));
    initial = take.await_resume();
  }
  detail::Ref<detail::TLSTransport> tls(
      new detail::TLSTransport(*state->loop(), detail::Ref<Transport>(lower), ctx, server_side, options.server_hostname));
  state->set_transport(tls);
  tls->start(state.get(), initial, options.ssl_handshake_timeout.value_or(detail::kSslHandshakeTimeout),
             options.ssl_shutdown_timeout.value_or(detail::kSslShutdownTimeout));
  co_await tls->handshake();
}

}  // namespace aio
