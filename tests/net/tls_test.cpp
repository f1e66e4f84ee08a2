// TLS over real sockets on 127.0.0.1, both backends, with a CA and server and client
// certificates made at test time by the openssl CLI: verification (chain, hostname),
// verification off, SNI, ALPN, start_tls, client certificates, clean shutdown and its timeout,
// handshake timeouts, a malformed handshake, a large transfer.
#include <openssl/ssl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "net_test_util.hpp"

namespace {

/// The certificates, made once per test process in a temporary directory.
struct Certs {
  std::string dir, ca, server_cert, server_key, other_ca, client_cert, client_key;

  static const Certs& get() {
    static const Certs certs = make();
    return certs;
  }

 private:
  static Certs make() {
    char tmpl[] = "/tmp/aio-tls-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    Certs c;
    c.dir = tmpl;
    c.ca = c.dir + "/ca.pem";
    c.server_cert = c.dir + "/server.pem";
    c.server_key = c.dir + "/server.key";
    c.other_ca = c.dir + "/other-ca.pem";
    c.client_cert = c.dir + "/client.pem";
    c.client_key = c.dir + "/client.key";
    const std::string d = c.dir;
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string script =
        "cd '" + d + "' && " +
        "openssl req -x509" + ec + " -keyout ca.key -out ca.pem -days 2 -subj '/CN=aio test CA' && " +
        "openssl req -x509" + ec + " -keyout other-ca.key -out other-ca.pem -days 2 -subj '/CN=aio other CA' && " +
        "openssl req" + ec + " -keyout server.key -out server.csr -subj '/CN=localhost' && " +
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf && " +
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
        "-extfile ext.cnf && " +
        "openssl req" + ec + " -keyout client.key -out client.csr -subj '/CN=aio client' && " +
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2";
    const std::string cmd = "(" + script + ") >'" + d + "/openssl.log' 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl failed: see " + d + "/openssl.log");
    static std::string made;  // removed when the test process exits
    made = d;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(made, ec);
    });
    return c;
  }
};

aio::SSLContext server_context() {
  auto ctx = aio::SSLContext::create_default_context(aio::Purpose::CLIENT_AUTH);
  ctx.load_cert_chain(Certs::get().server_cert, Certs::get().server_key);
  return ctx;
}

aio::SSLContext client_context() {
  auto ctx = aio::SSLContext::create_default_context(aio::Purpose::SERVER_AUTH);
  ctx.load_verify_locations(Certs::get().ca);
  return ctx;
}

/// A TLS server with `ctx` on 127.0.0.1 (a free port) that serves connections with `handler`.
aio::Task<aio::Server> tls_server(aio::SSLContext ctx, aio::ClientConnected handler = net_test::echo_handler) {
  aio::StartServerOptions options;
  options.ssl = ctx;
  co_return co_await aio::start_server(std::move(handler), "127.0.0.1", 0, options);
}

/// start_tls() options for the test certificates' host name.
aio::StartTlsOptions start_tls_options() {
  aio::StartTlsOptions o;
  o.server_hostname = "localhost";
  return o;
}

/// Closes the client's end, then the server, waiting for each.
aio::Task<> close_connection_then_server(aio::StreamWriter writer, aio::Server server) {
  writer.close();
  co_await writer.wait_closed();
  server.close();
  co_await server.wait_closed();
}

aio::OpenConnectionOptions tls_options(aio::SSLContext ctx, std::string hostname = "localhost") {
  aio::OpenConnectionOptions o;
  o.ssl = ctx;
  o.server_hostname = std::move(hostname);
  return o;
}

/// A connection to `server` verified with the test CA, as "localhost".
aio::Task<std::pair<aio::StreamReader, aio::StreamWriter>> tls_connect(const aio::Server& server) {
  auto options = tls_options(client_context());
  co_return co_await aio::open_connection("127.0.0.1", server.port(), options);
}

/// A listening socket that never accepts: connections to it wait for a handshake forever.
aio::Socket silent_server() {
  aio::Socket listener(AF_INET, SOCK_STREAM);
  listener.bind(aio::SockAddr{"127.0.0.1", 0});
  listener.listen();
  return listener;
}

/// Whether the peer's close_notify reached this end of the connection.
bool received_close_notify(const aio::StreamWriter& writer) {
  auto* ssl = static_cast<SSL*>(std::any_cast<void*>(writer.get_extra_info("ssl_object")));
  return (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN) != 0;
}

/// A handler that stops reading (so never answers a close_notify; `deaf` is set then) until
/// `release` is set.
aio::ClientConnected deaf_handler(aio::Event& deaf, aio::Event& release) {
  return [&deaf, &release](aio::StreamReader, aio::StreamWriter w) -> aio::Task<> {
    w.transport().pause_reading();
    deaf.set();
    co_await release.wait();
  };
}

}  // namespace

NET_REAL_TEST(Tls, VerifiedEcho) {
  auto server = co_await tls_server(server_context());
  auto [reader, writer] = co_await tls_connect(server);
  writer.write("hello over tls\n");
  co_await writer.drain();
  EXPECT_EQ(co_await reader.readline(), "hello over tls\n");
  auto cert = std::any_cast<aio::PeerCert>(writer.get_extra_info("peercert"));
  EXPECT_EQ(cert.subject, "/CN=localhost");
  EXPECT_EQ(cert.issuer, "/CN=aio test CA");
  EXPECT_EQ(cert.subject_alt_name,
            (std::vector<std::pair<std::string, std::string>>{{"DNS", "localhost"}, {"IP Address", "127.0.0.1"}}));
  EXPECT_TRUE(writer.get_extra_info("sslcontext").has_value());
  EXPECT_TRUE(std::any_cast<std::string>(writer.get_extra_info("version")).starts_with("TLSv1."));
  EXPECT_TRUE(writer.get_extra_info("peername").has_value());  // the socket's, below TLS
  EXPECT_FALSE(writer.can_write_eof());
  writer.close();
  co_await writer.wait_closed();

  // No server_hostname: the host itself (an IP address here) is checked against the SAN.
  aio::OpenConnectionOptions by_ip;
  by_ip.ssl = client_context();
  auto [r2, w2] = co_await aio::open_connection("127.0.0.1", server.port(), by_ip);
  w2.write("by ip\n");
  EXPECT_EQ(co_await r2.readline(), "by ip\n");
  w2.close();
  co_await w2.wait_closed();
  server.close();
  co_await server.wait_closed();
}

NET_REAL_TEST(Tls, HostnameMismatch) {
  auto server = co_await tls_server(server_context());
  auto options = tls_options(client_context(), "example.com");
  try {
    co_await aio::open_connection("127.0.0.1", server.port(), options);
    ADD_FAILURE() << "the handshake should have failed";
  } catch (const aio::SSLCertVerificationError& e) {
    EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Hostname mismatch"), std::string::npos) << e.what();
    const std::system_error& as_os_error = e;  // OSError, as Python's
    EXPECT_NE(as_os_error.code().value(), 0);
  }
  server.close();
  co_await server.wait_closed();
}

NET_REAL_TEST(Tls, UntrustedCA) {
  auto server = co_await tls_server(server_context());
  auto ctx = aio::SSLContext::create_default_context();
  ctx.load_verify_locations(Certs::get().other_ca);
  auto options = tls_options(ctx);
  try {
    co_await aio::open_connection("127.0.0.1", server.port(), options);
    ADD_FAILURE() << "the handshake should have failed";
  } catch (const aio::SSLCertVerificationError& e) {
    EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos) << e.what();
    EXPECT_NE(e.verify_code, 0);
  }
  // The default context (system trust store only) does not know the test CA either.
  aio::OpenConnectionOptions defaults;
  defaults.ssl = true;
  defaults.server_hostname = "localhost";
  bool failed = false;
  try {
    co_await aio::open_connection("127.0.0.1", server.port(), defaults);
  } catch (const aio::SSLCertVerificationError& e) {
    failed = true;
    EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(failed);
  server.close();
  co_await server.wait_closed();
}

NET_REAL_TEST(Tls, VerificationOff) {
  auto server = co_await tls_server(server_context());
  auto ctx = aio::SSLContext::create_default_context();
  ctx.check_hostname = false;
  ctx.verify_mode = aio::CERT_NONE;
  auto options = tls_options(ctx, "example.com");
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), options);
  writer.write("unverified\n");
  EXPECT_EQ(co_await reader.readline(), "unverified\n");
  writer.close();
  co_await writer.wait_closed();
  // .ssl = false is plain TCP: the TLS server sees garbage and closes.
  aio::OpenConnectionOptions plain;
  plain.ssl = false;
  auto [r2, w2] = co_await aio::open_connection("127.0.0.1", server.port(), plain);
  EXPECT_FALSE(w2.get_extra_info("sslcontext").has_value());
  w2.close();
  server.close();
  co_await server.wait_closed();
}

NET_REAL_TEST(Tls, SniAndAlpn) {
  auto seen_sni = aio::get_running_loop().create_future<std::string>();
  auto seen_alpn = aio::get_running_loop().create_future<std::string>();
  auto handler = [&](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
    auto sni = w.get_extra_info("server_hostname");
    seen_sni.set_result(sni.has_value() ? std::any_cast<std::string>(sni) : std::string("<none>"));
    auto alpn = w.get_extra_info("alpn_protocol");
    seen_alpn.set_result(alpn.has_value() ? std::any_cast<std::string>(alpn) : std::string("<none>"));
    co_await net_test::echo_handler(std::move(r), std::move(w));
  };
  auto sctx = server_context();
  sctx.set_alpn_protocols({"h2", "http/1.1"});
  auto server = co_await tls_server(sctx, handler);
  auto cctx = client_context();
  cctx.set_alpn_protocols({"http/1.1", "spdy/3"});
  auto options = tls_options(cctx);
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), options);
  EXPECT_EQ(co_await seen_sni, "localhost");
  EXPECT_EQ(co_await seen_alpn, "http/1.1");
  EXPECT_EQ(std::any_cast<std::string>(writer.get_extra_info("alpn_protocol")), "http/1.1");
  co_await close_connection_then_server(writer, server);
}

NET_REAL_TEST(Tls, StartTls) {
  // A STARTTLS dialogue: plain text first, then TLS on the same connection, both sides.
  auto sctx = server_context();
  auto handler = [&](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
    EXPECT_EQ(co_await r.readline(), "STARTTLS\n");
    w.write("OK\n");
    co_await w.drain();
    co_await w.start_tls(sctx);
    EXPECT_TRUE(w.get_extra_info("sslcontext").has_value());
    co_await net_test::echo_handler(std::move(r), std::move(w));
  };
  auto server = co_await aio::start_server(handler, "127.0.0.1", 0);
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
  writer.write("STARTTLS\n");
  EXPECT_EQ(co_await reader.readline(), "OK\n");
  EXPECT_FALSE(writer.get_extra_info("sslcontext").has_value());
  aio::StartTlsOptions tls = start_tls_options();
  co_await writer.start_tls(client_context(), tls);
  EXPECT_TRUE(writer.get_extra_info("peercert").has_value());
  writer.write("secret\n");
  EXPECT_EQ(co_await reader.readline(), "secret\n");
  co_await close_connection_then_server(writer, server);
}

NET_REAL_TEST(Tls, CleanShutdown) {
  // The server writes and closes (close_notify): the client reads everything, then EOF, no
  // error. The client's close reaches the server as EOF too.
  auto server_saw = aio::get_running_loop().create_future<std::string>();
  auto handler = [&](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
    std::string got = co_await r.read();  // until the client's close_notify
    server_saw.set_result(got);
    w.close();
    co_await w.wait_closed();
  };
  auto server = co_await tls_server(server_context(), handler);
  {
    auto [reader, writer] = co_await tls_connect(server);
    writer.write("last words");
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
    EXPECT_EQ(co_await server_saw, "last words");
  }
  auto greeter = [](aio::StreamReader, aio::StreamWriter w) -> aio::Task<> {
    w.write("bye");
    co_await w.drain();
    w.close();
    co_await w.wait_closed();
  };
  aio::StartServerOptions gopts;
  gopts.ssl = server_context();
  auto server2 = co_await aio::start_server(greeter, "127.0.0.1", 0, gopts);
  auto [reader, writer] = co_await tls_connect(server2);
  EXPECT_EQ(co_await reader.read(), "bye");
  EXPECT_TRUE(reader.at_eof());
  EXPECT_EQ(co_await reader.read(), "");
  EXPECT_FALSE(reader.exception());
  writer.close();
  co_await writer.wait_closed();
  server.close();
  server2.close();
  co_await server.wait_closed();
  co_await server2.wait_closed();
}

NET_REAL_TEST(Tls, GarbageInsteadOfServerHello) {
  auto junk = [](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
    (void)co_await r.read(100);
    w.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    co_await w.drain();
    (void)co_await r.read();
    w.close();
  };
  auto server = co_await aio::start_server(junk, "127.0.0.1", 0);
  auto options = tls_options(client_context());
  bool raised = false;
  try {
    co_await aio::open_connection("127.0.0.1", server.port(), options);
  } catch (const aio::SSLCertVerificationError& e) {
    ADD_FAILURE() << "not a verification error: " << e.what();
  } catch (const aio::SSLError& e) {
    raised = true;
    EXPECT_TRUE(std::string(e.what()).starts_with("[SSL: ")) << e.what();
  }
  EXPECT_TRUE(raised);
  server.close();
  co_await server.wait_closed();
}

NET_REAL_TEST(Tls, GarbageInsteadOfClientHello) {
  // A TLS server that gets garbage drops that connection and goes on serving.
  auto server = co_await tls_server(server_context());
  {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    writer.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    co_await writer.drain();
    (void)co_await reader.read();  // an alert, perhaps, then EOF
    EXPECT_TRUE(reader.at_eof());
    writer.close();
  }
  auto [reader, writer] = co_await tls_connect(server);
  writer.write("still serving\n");
  EXPECT_EQ(co_await reader.readline(), "still serving\n");
  co_await close_connection_then_server(writer, server);
}

NET_REAL_TEST(Tls, LargeTransferWithBackPressure) {
  auto server = co_await tls_server(server_context());
  auto conn = co_await tls_connect(server);  // (clang 14 cannot capture a binding)
  aio::StreamReader& reader = conn.first;
  aio::StreamWriter& writer = conn.second;
  const std::string data = net_test::pattern(8 << 20, 7);
  std::size_t max_buffered = 0;
  auto sender = [&]() -> aio::Task<> {
    for (std::size_t at = 0; at < data.size(); at += 64 * 1024) {
      writer.write(std::string_view(data).substr(at, 64 * 1024));
      max_buffered = std::max(max_buffered, writer.transport().get_write_buffer_size());
      co_await writer.drain();
    }
  };
  auto sending = aio::get_running_loop().create_task(sender());
  std::string back = co_await reader.readexactly(static_cast<std::ptrdiff_t>(data.size()));
  co_await sending;
  EXPECT_TRUE(back == data);
  // drain() keeps what waits in the transports bounded (a chunk plus the high-water mark).
  EXPECT_LT(max_buffered, 4u << 20);
  co_await close_connection_then_server(writer, server);
}

NET_REAL_TEST(Tls, StartTlsKeepsBufferedHandshakeBytes) {
  // The client starts TLS right after its STARTTLS line: its ClientHello reaches the server's
  // reader buffer before the server's start_tls, and is not lost.
  auto sctx = server_context();
  auto handler = [&](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
    EXPECT_EQ(co_await r.readline(), "STARTTLS\n");
    co_await aio::sleep(0.05);  // the ClientHello arrives meanwhile
    co_await w.start_tls(sctx);
    co_await net_test::echo_handler(std::move(r), std::move(w));
  };
  auto server = co_await aio::start_server(handler, "127.0.0.1", 0);
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
  writer.write("STARTTLS\n");
  aio::StartTlsOptions tls = start_tls_options();
  co_await writer.start_tls(client_context(), tls);
  writer.write("eager\n");
  EXPECT_EQ(co_await reader.readline(), "eager\n");
  co_await close_connection_then_server(writer, server);
}

NET_REAL_TEST(Tls, CloseAwaitsThePeersCloseNotify) {
  auto server = co_await tls_server(server_context());
  auto [reader, writer] = co_await tls_connect(server);
  writer.write("ping\n");
  EXPECT_EQ(co_await reader.readline(), "ping\n");
  writer.close();  // our close_notify; the echo server answers with its own
  co_await aio::wait_for(writer.wait_closed(), 30.0);
  EXPECT_TRUE(received_close_notify(writer));
  EXPECT_FALSE(reader.exception());
  server.close();
  co_await server.wait_closed();
}

NET_REAL_TEST(Tls, ShutdownTimeoutWhenThePeerNeverAnswers) {
  // (the real clock, with a short ssl_shutdown_timeout: the handshake needs real I/O)
  aio::Event deaf, release;
  auto server = co_await tls_server(server_context(), deaf_handler(deaf, release));
  auto options = tls_options(client_context());
  options.ssl_shutdown_timeout = 0.2;
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), options);
  co_await aio::wait_for(deaf.wait(), 30.0);
  writer.close();
  EXPECT_TRUE(writer.is_closing());
  try {
    co_await aio::wait_for(writer.wait_closed(), 30.0);  // 30 s: only a hang fails here
    ADD_FAILURE() << "wait_closed() did not raise";
  } catch (const aio::TimeoutError& e) {
    EXPECT_STREQ(e.what(), "SSL shutdown timed out");  // asyncio's
  }
  EXPECT_FALSE(received_close_notify(writer));
  release.set();
  server.close();
  co_await aio::wait_for(server.wait_closed(), 30.0);
}

NET_REAL_TEST(Tls, CloseClientsSendsCloseNotifyAbortClientsDoesNot) {
  aio::StartServerOptions sopts;
  sopts.ssl = server_context();
  sopts.ssl_shutdown_timeout = 5;
  aio::Event served;  // the server's handshake is over: its handler runs
  auto reader_handler = [&](aio::StreamReader r, aio::StreamWriter) -> aio::Task<> {
    served.set();
    (void)co_await r.read();
  };
  auto server = co_await aio::start_server(reader_handler, "127.0.0.1", 0, sopts);
  for (bool abort : {false, true}) {
    auto [reader, writer] = co_await tls_connect(server);
    co_await aio::wait_for(served.wait(), 30.0);
    served.clear();
    if (abort) server.abort_clients();
    else server.close_clients();
    // Either way the client reads a clean EOF, as asyncio reports a TLS peer that just closes;
    // only close_clients() says goodbye with close_notify.
    EXPECT_EQ(co_await aio::wait_for(reader.read(), 30.0), "");
    EXPECT_FALSE(reader.exception());
    EXPECT_EQ(received_close_notify(writer), !abort) << (abort ? "abort_clients" : "close_clients");
    writer.close();
    co_await aio::wait_for(writer.wait_closed(), 30.0);
  }
  server.close();
  co_await aio::wait_for(server.wait_closed(), 30.0);
}

NET_REAL_TEST(Tls, ClientCertificates) {
  auto sctx = server_context();
  sctx.verify_mode = aio::CERT_REQUIRED;
  sctx.load_verify_locations(Certs::get().ca);
  std::vector<std::string> subjects;
  auto handler = [&](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
    auto cert = std::any_cast<aio::PeerCert>(w.get_extra_info("peercert"));
    subjects.push_back(cert.subject + " by " + cert.issuer);
    co_await net_test::echo_handler(std::move(r), std::move(w));
  };
  auto server = co_await tls_server(sctx, handler);
  auto with_cert = client_context();
  with_cert.load_cert_chain(Certs::get().client_cert, Certs::get().client_key);
  auto talk = [&](aio::SSLContext ctx) -> aio::Task<std::string> {
    auto options = tls_options(ctx);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), options);
    writer.write("who am i\n");
    std::string line = co_await aio::wait_for(reader.readline(), 30.0);
    writer.close();
    co_await aio::wait_for(writer.wait_closed(), 30.0);
    co_return line;
  };
  EXPECT_EQ(co_await talk(with_cert), "who am i\n");
  // Without a certificate: the server refuses it with an alert (in TLS 1.3 the client's
  // handshake is over by then, so the alert comes as its first read's error). The client
  // sends nothing: bytes the server would not read could turn its close into a reset.
  try {
    auto [reader, writer] = co_await tls_connect(server);
    (void)co_await aio::wait_for(reader.read(), 30.0);
    ADD_FAILURE() << "a client without a certificate was served";
  } catch (const aio::SSLError& e) {
    EXPECT_EQ(e.reason, "TLSV13_ALERT_CERTIFICATE_REQUIRED") << e.what();
  }
  // The server logged it (debug) and serves on.
  EXPECT_EQ(co_await talk(with_cert), "who am i\n");
  EXPECT_EQ(subjects, (std::vector<std::string>{"/CN=aio client by /CN=aio test CA", "/CN=aio client by /CN=aio test CA"}));
  server.close();
  co_await aio::wait_for(server.wait_closed(), 30.0);
}

NET_REAL_TEST(Tls, HandshakeTimeouts) {
  // A server that accepts and never speaks: the client gives up after ssl_handshake_timeout.
  aio::Socket silent = silent_server();
  auto options = tls_options(client_context());
  options.ssl_handshake_timeout = 0.25;
  try {
    co_await aio::wait_for(aio::open_connection("127.0.0.1", silent.getsockname().port, options), 30.0);
    ADD_FAILURE() << "the handshake did not time out";
  } catch (const aio::ConnectionAbortedError& e) {
    EXPECT_STREQ(e.what(), "SSL handshake is taking longer than 0.25 seconds: aborting the connection");
  }
  // The same through start_tls on a plain connection.
  auto [plain_reader, plain_writer] = co_await aio::open_connection("127.0.0.1", silent.getsockname().port);
  aio::StartTlsOptions tls = start_tls_options();
  tls.ssl_handshake_timeout = 0.25;
  EXPECT_THROW(co_await aio::wait_for(plain_writer.start_tls(client_context(), tls), 30.0), aio::ConnectionAbortedError);

  // A client that connects to a TLS server and never speaks is dropped; no handler runs.
  int handled = 0;
  auto handler = [&](aio::StreamReader, aio::StreamWriter) -> aio::Task<> {
    ++handled;
    co_return;
  };
  aio::StartServerOptions sopts;
  sopts.ssl = server_context();
  sopts.ssl_handshake_timeout = 0.25;
  auto server = co_await aio::start_server(handler, "127.0.0.1", 0, sopts);
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
  EXPECT_EQ(co_await aio::wait_for(reader.read(), 30.0), "");
  EXPECT_TRUE(reader.at_eof());
  EXPECT_EQ(handled, 0);
  server.close();
  co_await aio::wait_for(server.wait_closed(), 30.0);
}

NET_REAL_TEST(Tls, CancelledHandshake) {
  // wait_for around a TLS connect whose server never answers: TimeoutError, nothing left behind.
  aio::Socket silent = silent_server();
  auto options = tls_options(client_context());
  EXPECT_THROW(co_await aio::wait_for(aio::open_connection("127.0.0.1", silent.getsockname().port, options), 0.2),
               aio::TimeoutError);
  auto [plain_reader, plain_writer] = co_await aio::open_connection("127.0.0.1", silent.getsockname().port);
  aio::StartTlsOptions tls = start_tls_options();
  EXPECT_THROW(co_await aio::wait_for(plain_writer.start_tls(client_context(), tls), 0.2), aio::TimeoutError);
  plain_writer.close();
  co_await aio::wait_for(plain_writer.wait_closed(), 30.0);
}

NET_REAL_TEST(Tls, TimeoutOptionsAreChecked) {
  // asyncio's ValueErrors.
  aio::OpenConnectionOptions plain;
  plain.ssl_handshake_timeout = 5;
  try {
    co_await aio::open_connection("127.0.0.1", 1, plain);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "ssl_handshake_timeout is only meaningful with ssl");
  }
  auto negative = tls_options(client_context());
  negative.ssl_shutdown_timeout = -1;
  try {
    co_await aio::open_connection("127.0.0.1", 1, negative);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "ssl_shutdown_timeout should be a positive number, got -1.0");
  }
  aio::StartServerOptions sopts;
  sopts.ssl_shutdown_timeout = 1;
  EXPECT_THROW(co_await aio::start_server(net_test::echo_handler, "127.0.0.1", 0, sopts), std::invalid_argument);
}
