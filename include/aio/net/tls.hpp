// TLS (Python's ssl module, as asyncio uses it): SSLContext with OpenSSL 3 underneath, and a
// TLS transport driven through memory BIOs. The TLS transport is a Protocol for the transport
// below it (a socket, on any backend) and a Transport for the protocol above it (the streams),
// so open_connection(.ssl), start_server(.ssl) and StreamWriter::start_tls() all use it.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "errors.hpp"
#include "streams.hpp"

namespace aio {

/// ssl.Purpose: SERVER_AUTH makes a client context (it authenticates servers), CLIENT_AUTH a
/// server context.
enum class Purpose { SERVER_AUTH, CLIENT_AUTH };

/// ssl.VerifyMode: aio::CERT_NONE, aio::CERT_OPTIONAL, aio::CERT_REQUIRED.
enum VerifyMode { CERT_NONE = 0, CERT_OPTIONAL = 1, CERT_REQUIRED = 2 };

/// ssl.SSLError: what() reads as Python's str(): "[SSL: WRONG_VERSION_NUMBER] wrong version number".
class SSLError : public OSError {
 public:
  explicit SSLError(const std::string& message, std::string library = "SSL", std::string reason = {})
      : OSError(Bare{}, EPROTO, message), library(std::move(library)), reason(std::move(reason)) {}
  std::string library;  ///< "SSL" (Python's .library)
  std::string reason;   ///< "WRONG_VERSION_NUMBER" (Python's .reason)
};

/// ssl.SSLCertVerificationError: "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed:
/// unable to get local issuer certificate".
class SSLCertVerificationError : public SSLError {
 public:
  SSLCertVerificationError(const std::string& message, long verify_code, std::string verify_message)
      : SSLError(message, "SSL", "CERTIFICATE_VERIFY_FAILED"),
        verify_code(verify_code),
        verify_message(std::move(verify_message)) {}
  long verify_code;            ///< X509_V_ERR_...
  std::string verify_message;  ///< "unable to get local issuer certificate", "Hostname mismatch, ..."
};

/// What get_extra_info("peercert") gives (Python's getpeercert(), flattened).
struct PeerCert {
  std::string subject;  ///< "/CN=localhost"
  std::string issuer;
  std::vector<std::pair<std::string, std::string>> subject_alt_name;  ///< {"DNS", "localhost"}, {"IP Address", "127.0.0.1"}
  std::string not_before, not_after;
  std::string pem;
};

/// ssl.SSLContext: a cheap handle (copies share the certificates and trust store loaded into
/// it; check_hostname and verify_mode are per copy and read when a connection starts).
class SSLContext {
 public:
  /// A bare context: Purpose::SERVER_AUTH = PROTOCOL_TLS_CLIENT (check_hostname, CERT_REQUIRED,
  /// no trust store yet), CLIENT_AUTH = PROTOCOL_TLS_SERVER (CERT_NONE).
  explicit SSLContext(Purpose purpose = Purpose::SERVER_AUTH);
  /// ssl.create_default_context(): the system trust store loaded; for SERVER_AUTH, chain and
  /// hostname verification on.
  static SSLContext create_default_context(Purpose purpose = Purpose::SERVER_AUTH);

  /// PEM certificate (chain) and private key ("" = the key is in certfile). SSLError on failure.
  void load_cert_chain(const std::string& certfile, const std::string& keyfile = {});
  /// PEM CA certificates to trust (a file and/or a hashed directory).
  void load_verify_locations(const std::string& cafile, const std::string& capath = {});
  /// The system's trust store.
  void load_default_certs();
  /// ALPN protocols, in preference order ({"h2", "http/1.1"}).
  void set_alpn_protocols(const std::vector<std::string>& protocols);
  /// OpenSSL cipher list (TLS 1.2 and below).
  void set_ciphers(const std::string& ciphers);

  /// True for a server context (Purpose::CLIENT_AUTH).
  bool server_side() const noexcept;
  /// The SSL_CTX*, for what aio does not wrap.
  void* native_handle() const noexcept;

  bool check_hostname = true;
  VerifyMode verify_mode = CERT_REQUIRED;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace aio
