#include "daemon/sinks/prometheus_server.hpp"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
// g++ 12 with -fsanitize reports a false -Wmaybe-uninitialized in Beast 1.74's response parser
// (boost::optional content length); the server itself only parses requests.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop
#include <catch2/catch.hpp>
#include <future>
#include <poll.h>
#include <spdlog/logger.h>
#include <sys/socket.h>
#include <thread>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using greenrack::sinks::PrometheusServer;
using greenrack::sinks::PrometheusServerSettings;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

PrometheusServerSettings test_settings() {
    PrometheusServerSettings settings;
    settings.address = "127.0.0.1";
    settings.port = 0; // any free port
    return settings;
}

// A PrometheusServer on its own io_context, run by a background thread like the daemon's loop.
class RunningServer {
public:
    explicit RunningServer(
        PrometheusServerSettings settings = test_settings(),
        PrometheusServer::RenderMetrics render = [] { return std::string("m 1\n"); },
        PrometheusServer::HealthProblem health = [] { return std::string(); })
        : server_(io_, std::move(settings), std::move(render), std::move(health),
                  std::make_shared<spdlog::logger>("test")) {
        REQUIRE(server_.start());
        REQUIRE(server_.port() != 0);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~RunningServer() {
        asio::post(io_, [this] {
            server_.stop();
            io_.stop();
        });
        thread_.join();
    }
    RunningServer(const RunningServer&) = delete;
    RunningServer& operator=(const RunningServer&) = delete;

    std::uint16_t port() const { return server_.port(); }
    PrometheusServer& server() { return server_; }
    asio::io_context& io() { return io_; }

private:
    asio::io_context io_;
    PrometheusServer server_;
    std::thread thread_;
};

struct Reply {
    unsigned status = 0;
    std::string content_type;
    std::string allow;
    std::string body;
};

tcp::socket connect(asio::io_context& io, std::uint16_t port) {
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    return socket;
}

Reply exchange(tcp::socket& socket, http::verb method, const std::string& target,
               bool keep_alive = false) {
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, "127.0.0.1");
    request.keep_alive(keep_alive);
    request.prepare_payload();
    http::write(socket, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    Reply reply;
    reply.status = response.result_int();
    reply.content_type = std::string(response[http::field::content_type]);
    reply.allow = std::string(response[http::field::allow]);
    reply.body = response.body();
    return reply;
}

// One request on a fresh connection (synchronous Beast client).
Reply request(std::uint16_t port, http::verb method, const std::string& target) {
    asio::io_context io;
    auto socket = connect(io, port);
    return exchange(socket, method, target);
}

// Runs `action` on the event loop's thread and waits for it.
void run_on_loop(asio::io_context& io, std::function<void()> action) {
    std::promise<void> done;
    asio::post(io, [&] {
        action();
        done.set_value();
    });
    done.get_future().wait();
}

template <typename Condition>
bool wait_until(Condition condition, milliseconds timeout = milliseconds(3'000)) {
    const auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(milliseconds(10));
    }
    return condition();
}

// True when the peer closes `socket` (EOF or reset) within `timeout`.
bool closed_by_peer_within(tcp::socket& socket, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
        pollfd fd{socket.native_handle(), POLLIN, 0};
        const auto left =
            std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count();
        if (::poll(&fd, 1, static_cast<int>(std::max<long>(left, 0))) > 0) {
            char byte = 0;
            const auto n = ::recv(socket.native_handle(), &byte, 1, 0);
            if (n <= 0) {
                return true;
            }
        }
    }
    return false;
}

} // namespace

TEST_CASE("GET /metrics answers 200 with the exposition content type and the rendered text",
          "[prometheus_server]") {
    RunningServer server(test_settings(), [] { return std::string("greenrack_x 42\n"); });
    const auto reply = request(server.port(), http::verb::get, "/metrics");
    CHECK(reply.status == 200);
    CHECK(reply.content_type == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(reply.body == "greenrack_x 42\n");
    // A query string does not change the path.
    CHECK(request(server.port(), http::verb::get, "/metrics?debug=1").status == 200);
}

TEST_CASE("GET /healthz answers 200 ok when healthy and 503 with the reason when not",
          "[prometheus_server]") {
    std::atomic<bool> healthy{true};
    RunningServer server(
        test_settings(), [] { return std::string(); },
        [&] { return healthy ? std::string() : std::string("no device answered"); });
    auto reply = request(server.port(), http::verb::get, "/healthz");
    CHECK(reply.status == 200);
    CHECK(reply.body == "ok\n");
    healthy = false;
    reply = request(server.port(), http::verb::get, "/healthz");
    CHECK(reply.status == 503);
    CHECK(reply.body == "no device answered\n");
}

TEST_CASE("unknown paths answer 404 and other methods 405 with Allow: GET", "[prometheus_server]") {
    RunningServer server;
    CHECK(request(server.port(), http::verb::get, "/").status == 404);
    CHECK(request(server.port(), http::verb::get, "/metrics/x").status == 404);
    CHECK(request(server.port(), http::verb::post, "/nothing").status == 404);
    const auto post = request(server.port(), http::verb::post, "/metrics");
    CHECK(post.status == 405);
    CHECK(post.allow == "GET");
    CHECK(request(server.port(), http::verb::delete_, "/healthz").status == 405);
    CHECK(request(server.port(), http::verb::head, "/metrics").status == 405);
}

TEST_CASE("several requests are served on one keep-alive connection", "[prometheus_server]") {
    std::atomic<int> renders{0};
    RunningServer server(test_settings(), [&] { return "n " + std::to_string(++renders) + "\n"; });
    asio::io_context io;
    auto socket = connect(io, server.port());
    CHECK(exchange(socket, http::verb::get, "/metrics", true).body == "n 1\n");
    CHECK(exchange(socket, http::verb::get, "/healthz", true).body == "ok\n");
    CHECK(exchange(socket, http::verb::get, "/metrics", true).body == "n 2\n");
}

TEST_CASE("a throwing renderer answers 500 and the server keeps serving", "[prometheus_server]") {
    std::atomic<bool> fail{true};
    RunningServer server(test_settings(), [&]() -> std::string {
        if (fail) {
            throw std::runtime_error("boom");
        }
        return "ok 1\n";
    });
    CHECK(request(server.port(), http::verb::get, "/metrics").status == 500);
    fail = false;
    CHECK(request(server.port(), http::verb::get, "/metrics").status == 200);
}

TEST_CASE("a client that connects and sends nothing neither stalls the event loop nor other "
          "clients, and is cut off after the read timeout",
          "[prometheus_server]") {
    auto settings = test_settings();
    settings.read_timeout = milliseconds(400);
    RunningServer server(settings);

    // A timer on the same event loop, like the poller's, ticking every 10 ms.
    std::atomic<int> ticks{0};
    asio::steady_timer timer(server.io());
    std::function<void()> arm = [&] {
        timer.expires_after(milliseconds(10));
        timer.async_wait([&](const boost::system::error_code& ec) {
            if (!ec) {
                ++ticks;
                arm();
            }
        });
    };
    asio::post(server.io(), arm);

    asio::io_context io;
    auto silent = connect(io, server.port());
    auto dripping = connect(io, server.port());
    const int before = ticks.load();
    // The dripping client sends a request one byte every 50 ms: never complete in time.
    const std::string partial = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
    for (std::size_t i = 0; i < 5; ++i) {
        asio::write(dripping, asio::buffer(&partial[i], 1));
        std::this_thread::sleep_for(milliseconds(50));
    }
    // Meanwhile the loop kept running and another client is served.
    CHECK(ticks.load() - before >= 10);
    CHECK(request(server.port(), http::verb::get, "/metrics").status == 200);
    CHECK(server.server().connections() >= 2);

    CHECK(closed_by_peer_within(silent, milliseconds(2'000)));
    CHECK(closed_by_peer_within(dripping, milliseconds(2'000)));
    CHECK(wait_until([&] { return server.server().connections() == 0; }));
    run_on_loop(server.io(), [&] { timer.cancel(); });
}

TEST_CASE("connections beyond max_connections are closed at once, the others still work",
          "[prometheus_server]") {
    auto settings = test_settings();
    settings.max_connections = 2;
    RunningServer server(settings);
    asio::io_context io;
    auto first = connect(io, server.port());
    auto second = connect(io, server.port());
    REQUIRE(wait_until([&] { return server.server().connections() == 2; }));
    auto third = connect(io, server.port()); // the kernel accepts it, the server closes it
    CHECK(closed_by_peer_within(third, milliseconds(1'000)));
    CHECK(exchange(first, http::verb::get, "/healthz", true).status == 200);
    second.close();
    REQUIRE(wait_until([&] { return server.server().connections() == 1; }));
    CHECK(request(server.port(), http::verb::get, "/metrics").status == 200);
}

TEST_CASE("a request larger than max_request_bytes is refused and the connection closed",
          "[prometheus_server]") {
    auto settings = test_settings();
    settings.max_request_bytes = 1024;
    RunningServer server(settings);
    asio::io_context io;
    auto socket = connect(io, server.port());
    const std::string huge =
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(4096, 'a') + "\r\n\r\n";
    asio::write(socket, asio::buffer(huge));
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    CHECK(response.result_int() == 431);
    CHECK(closed_by_peer_within(socket, milliseconds(1'000)));
    const std::string body_post =
        "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n";
    auto second = connect(io, server.port());
    asio::write(second, asio::buffer(body_post));
    http::response<http::string_body> refused;
    boost::beast::flat_buffer buffer2;
    http::read(second, buffer2, refused);
    CHECK(refused.result_int() == 413);
    CHECK(closed_by_peer_within(second, milliseconds(1'000)));
}

TEST_CASE("a port that cannot be bound is an error, not a crash", "[prometheus_server]") {
    RunningServer first;
    auto settings = test_settings();
    settings.port = first.port(); // taken
    asio::io_context io;
    PrometheusServer second(
        io, settings, [] { return std::string(); }, [] { return std::string(); },
        std::make_shared<spdlog::logger>("t"));
    CHECK_FALSE(second.start());
    CHECK(second.port() == 0);
    settings.address = "not-an-address";
    PrometheusServer third(
        io, settings, [] { return std::string(); }, [] { return std::string(); },
        std::make_shared<spdlog::logger>("t"));
    CHECK_FALSE(third.start());
    // The first server is untouched.
    CHECK(request(first.port(), http::verb::get, "/healthz").status == 200);
}

TEST_CASE("healthz reports event loop lag after the loop was blocked", "[prometheus_server]") {
    auto settings = test_settings();
    settings.lag_probe_interval = milliseconds(20);
    settings.max_lag = milliseconds(100);
    settings.lag_memory = milliseconds(60'000);
    RunningServer server(settings);
    CHECK(request(server.port(), http::verb::get, "/healthz").status == 200);
    // Something hogs the loop for 300 ms.
    run_on_loop(server.io(), [] { std::this_thread::sleep_for(milliseconds(300)); });
    REQUIRE(wait_until([&] { return server.server().last_lag() >= milliseconds(100); }));
    const auto reply = request(server.port(), http::verb::get, "/healthz");
    CHECK(reply.status == 503);
    CHECK(reply.body.find("event loop lag") != std::string::npos);
}

TEST_CASE("stop closes open connections and the port", "[prometheus_server]") {
    asio::io_context loop;
    PrometheusServer server(
        loop, test_settings(), [] { return std::string(); }, [] { return std::string(); },
        std::make_shared<spdlog::logger>("t"));
    REQUIRE(server.start());
    const auto port = server.port();
    std::thread runner([&] { loop.run(); });
    asio::io_context io;
    auto socket = connect(io, port);
    REQUIRE(wait_until([&] { return server.connections() == 1; }));
    run_on_loop(loop, [&] { server.stop(); });
    CHECK(closed_by_peer_within(socket, milliseconds(1'000)));
    CHECK(wait_until([&] { return server.connections() == 0; }));
    CHECK(server.port() == 0);
    boost::system::error_code ec;
    tcp::socket again(io);
    again.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    CHECK(ec);
    loop.stop();
    runner.join();
}
