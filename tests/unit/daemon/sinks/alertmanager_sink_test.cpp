#include "daemon/sinks/alertmanager_sink.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
// g++ 12 with -fsanitize reports a false -Wmaybe-uninitialized in Beast 1.74's response parser
// (boost::optional content length).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop
#include <catch2/catch.hpp>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <stdexcept>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using greenrack::config::AlertmanagerConfig;
using greenrack::sinks::AlertmanagerSink;
using greenrack::sinks::AmAlert;
using greenrack::sinks::parse_alertmanager_url;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Generous: CI machines are small and busy. Conditions are polled, so passing tests are fast.
constexpr milliseconds patience = 10s;

template <typename Condition>
bool wait_until(Condition condition, milliseconds timeout = patience) {
    const auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(milliseconds(10));
    }
    return condition();
}

// A small HTTP/1.1 server on 127.0.0.1 (keep-alive) that records every request and answers
// with the status set by set_reply(). stop() closes the port and every connection; start()
// opens the same port again.
class RecordingServer {
public:
    struct Request {
        std::string target;
        std::string content_type;
        std::string body;
        nlohmann::json alerts; // the parsed body (null when it is not JSON)
        int connection = 0;    // which TCP connection carried it (1, 2, ...)
    };

    RecordingServer() { start(); }
    ~RecordingServer() { stop(); }
    RecordingServer(const RecordingServer&) = delete;
    RecordingServer& operator=(const RecordingServer&) = delete;

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    void start() {
        if (thread_.joinable()) {
            return;
        }
        io_ = std::make_unique<asio::io_context>();
        acceptor_ = std::make_unique<tcp::acceptor>(
            *io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
        port_ = acceptor_->local_endpoint().port();
        accept();
        thread_ = std::thread([this] { io_->run(); });
    }

    // Closes the listening port and every connection: clients get "connection refused".
    void stop() {
        if (!thread_.joinable()) {
            return;
        }
        asio::post(*io_, [this] {
            beast::error_code ignored;
            acceptor_->close(ignored);
            for (auto& weak : sessions_) {
                if (auto session = weak.lock()) {
                    session->socket.close(ignored);
                }
            }
            sessions_.clear();
        });
        thread_.join(); // run() returns once every operation has ended
        acceptor_.reset();
        io_.reset();
    }

    void set_reply(unsigned status, std::string body = {}) {
        std::lock_guard lock(mutex_);
        status_ = status;
        body_ = std::move(body);
    }

    std::vector<Request> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    std::size_t count() {
        std::lock_guard lock(mutex_);
        return requests_.size();
    }

private:
    struct Session : std::enable_shared_from_this<Session> {
        Session(RecordingServer& server_, tcp::socket socket_, int id_)
            : server(server_), socket(std::move(socket_)), id(id_) {}

        void read() {
            request = {};
            http::async_read(socket, buffer, request,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                 if (!ec) {
                                     self->respond();
                                 }
                             });
        }
        void respond() {
            response = server.record(request, id);
            http::async_write(socket, response,
                              [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                  if (!ec) {
                                      self->read();
                                  }
                              });
        }

        RecordingServer& server;
        tcp::socket socket;
        int id;
        beast::flat_buffer buffer;
        http::request<http::string_body> request;
        http::response<http::string_body> response;
    };

    void accept() {
        acceptor_->async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec) {
                return;
            }
            auto session = std::make_shared<Session>(*this, std::move(socket), ++connections_);
            sessions_.push_back(session);
            session->read();
            accept();
        });
    }

    http::response<http::string_body> record(const http::request<http::string_body>& request,
                                             int connection) {
        std::lock_guard lock(mutex_);
        requests_.push_back({std::string(request.target()),
                             std::string(request[http::field::content_type]), request.body(),
                             nlohmann::json::parse(request.body(), nullptr, false), connection});
        http::response<http::string_body> response{static_cast<http::status>(status_), 11};
        response.body() = body_;
        response.keep_alive(request.keep_alive());
        response.prepare_payload();
        return response;
    }

    std::uint16_t port_ = 0; // chosen at the first start, kept for restarts
    std::unique_ptr<asio::io_context> io_;
    std::unique_ptr<tcp::acceptor> acceptor_;
    std::vector<std::weak_ptr<Session>> sessions_; // io thread only
    int connections_ = 0;                          // io thread only
    std::thread thread_;

    std::mutex mutex_;
    unsigned status_ = 200;
    std::string body_;
    std::vector<Request> requests_;
};

// Everything the sink logs, readable while it runs.
class StringSink : public spdlog::sinks::base_sink<std::mutex> {
public:
    std::string text() {
        std::lock_guard lock(mutex_);
        return text_;
    }

protected:
    void sink_it_(const spdlog::details::log_msg& message) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(message, formatted);
        text_.append(formatted.data(), formatted.size());
    }
    void flush_() override {}

private:
    std::string text_;
};

struct CapturedLog {
    CapturedLog() : sink(std::make_shared<StringSink>()) {
        logger = std::make_shared<spdlog::logger>("alertmanager", sink);
        logger->set_level(spdlog::level::debug);
    }
    std::string text() { return sink->text(); }
    bool contains(const std::string& part) {
        return wait_until([&] { return text().find(part) != std::string::npos; });
    }
    std::shared_ptr<StringSink> sink;
    std::shared_ptr<spdlog::logger> logger;
};

AlertmanagerConfig fast_config(std::vector<std::string> urls) {
    AlertmanagerConfig config;
    config.enabled = true;
    config.urls = std::move(urls);
    config.resend_interval = 60s; // tests that want resends shorten it
    config.timeout = 2s;
    config.retry_min = 50ms;
    config.retry_max = 200ms;
    return config;
}

AmAlert rack_alert(const std::string& rack, std::int64_t starts_at_ms = 1'795'878'000'000) {
    AmAlert alert;
    alert.labels = {{"alertname", "RackNonGreen"}, {"severity", "warning"}, {"rack", rack}};
    alert.annotations = {{"summary", "rack " + rack + " runs on grid power"}};
    alert.starts_at_ms = starts_at_ms;
    return alert;
}

// The alerts of `request` whose rack label is `rack`.
std::vector<nlohmann::json> alerts_for(const RecordingServer::Request& request,
                                       const std::string& rack) {
    std::vector<nlohmann::json> found;
    if (!request.alerts.is_array()) {
        return found;
    }
    for (const auto& alert : request.alerts) {
        if (alert["labels"].value("rack", "") == rack) {
            found.push_back(alert);
        }
    }
    return found;
}

// Requests that carry `rack` firing (resolved == false) or resolved (with endsAt).
std::size_t requests_with(RecordingServer& server, const std::string& rack, bool resolved) {
    std::size_t count = 0;
    for (const auto& request : server.requests()) {
        for (const auto& alert : alerts_for(request, rack)) {
            if (alert.contains("endsAt") == resolved) {
                ++count;
                break;
            }
        }
    }
    return count;
}

} // namespace

TEST_CASE("alertmanager urls: http with optional port and path prefix", "[alertmanager]") {
    auto endpoint = parse_alertmanager_url("http://127.0.0.1:9093");
    CHECK(endpoint.host == "127.0.0.1");
    CHECK(endpoint.port == "9093");
    CHECK(endpoint.authority == "127.0.0.1:9093");
    CHECK(endpoint.target == "/api/v2/alerts");

    endpoint = parse_alertmanager_url("http://am.example:9093/am/");
    CHECK(endpoint.host == "am.example");
    CHECK(endpoint.target == "/am/api/v2/alerts");

    endpoint = parse_alertmanager_url("http://am.example/a/b");
    CHECK(endpoint.port == "80");
    CHECK(endpoint.authority == "am.example");
    CHECK(endpoint.target == "/a/b/api/v2/alerts");

    endpoint = parse_alertmanager_url("http://[::1]:9093");
    CHECK(endpoint.host == "::1");
    CHECK(endpoint.port == "9093");
    CHECK(endpoint.authority == "[::1]:9093");
}

TEST_CASE("alertmanager urls it cannot use are refused at construction, naming the url",
          "[alertmanager]") {
    auto message = [](const std::string& url) {
        try {
            parse_alertmanager_url(url);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK_THAT(message("https://am.example:9093"), Catch::Contains("https://am.example:9093") &&
                                                       Catch::Contains("https is not supported"));
    CHECK_THAT(message("am.example:9093"), Catch::Contains("http://"));
    CHECK_THAT(message("http://u:p@am.example:9093"), Catch::Contains("credentials"));
    CHECK_THAT(message("http://am.example:0"), Catch::Contains("port"));
    CHECK_THAT(message("http://am.example:99999"), Catch::Contains("port"));
    CHECK_THAT(message("http://am.example:x"), Catch::Contains("port"));
    CHECK_THAT(message("http://:9093"), Catch::Contains("no host"));
    CHECK_THAT(message("http://am.example/?a=1"), Catch::Contains("query"));
    CHECK_THAT(message("http://am example"), Catch::Contains("spaces"));

    CapturedLog log;
    CHECK_THROWS_WITH(
        AlertmanagerSink(fast_config({"http://127.0.0.1:9093", "https://am.example:9093"}),
                         log.logger),
        Catch::Contains("https://am.example:9093"));
    CHECK_THROWS_AS(AlertmanagerSink(fast_config({}), log.logger), std::invalid_argument);
}

TEST_CASE("alertmanager fire posts the alert promptly and again every resend interval",
          "[alertmanager]") {
    RecordingServer server;
    CapturedLog log;
    auto config = fast_config({server.url() + "/am/"});
    config.resend_interval = 200ms;
    config.generator_url = "http://greenrack.local/";
    AlertmanagerSink sink(config, log.logger);
    sink.start();
    sink.fire(rack_alert("r07"));

    REQUIRE(wait_until([&] { return server.count() >= 1; }));
    const auto first = server.requests().front();
    CHECK(first.target == "/am/api/v2/alerts");
    CHECK(first.content_type == "application/json");
    REQUIRE(first.alerts.is_array());
    REQUIRE(first.alerts.size() == 1);
    CHECK(first.alerts[0] == nlohmann::json::parse(R"({
        "labels": {"alertname": "RackNonGreen", "severity": "warning", "rack": "r07"},
        "annotations": {"summary": "rack r07 runs on grid power"},
        "startsAt": "2026-11-28T15:00:00.000Z",
        "generatorURL": "http://greenrack.local/"})"));

    // Re-sent, unchanged (same startsAt, no endsAt), over the same kept-alive connection.
    REQUIRE(wait_until([&] { return server.count() >= 4; }));
    for (const auto& request : server.requests()) {
        CHECK(request.alerts == first.alerts);
        CHECK(request.connection == 1);
    }
    CHECK(sink.stats().firing == 1);
    CHECK(sink.stats().posts_ok >= 3);
    CHECK(sink.stats().alerts_sent >= 3);
    CHECK(sink.stats().posts_failed == 0);
}

TEST_CASE("alertmanager fire of an unchanged alert waits for the resend, a change is sent at once",
          "[alertmanager]") {
    RecordingServer server;
    CapturedLog log;
    AlertmanagerSink sink(fast_config({server.url()}), log.logger); // resend every 60 s
    sink.start();
    sink.fire(rack_alert("r07"));
    REQUIRE(wait_until([&] { return server.count() == 1; }));

    sink.fire(rack_alert("r07"));
    sink.fire(rack_alert("r07"));
    std::this_thread::sleep_for(500ms);
    CHECK(server.count() == 1);

    // A later startsAt does not move the alert's start; the new annotation is sent.
    auto changed = rack_alert("r07", 1'795'878'060'000);
    changed.annotations["summary"] = "rack r07 still on grid power";
    sink.fire(changed);
    REQUIRE(wait_until([&] { return server.count() == 2; }));
    const auto second = server.requests().back().alerts;
    REQUIRE(second.size() == 1);
    CHECK(second[0]["annotations"]["summary"] == "rack r07 still on grid power");
    CHECK(second[0]["startsAt"] == "2026-11-28T15:00:00.000Z");
}

TEST_CASE("alertmanager resolve posts endsAt and the alert is not re-sent", "[alertmanager]") {
    RecordingServer server;
    CapturedLog log;
    auto config = fast_config({server.url()});
    config.resend_interval = 200ms;
    AlertmanagerSink sink(config, log.logger);
    sink.start();
    sink.fire(rack_alert("r07"));
    sink.fire(rack_alert("r08"));
    REQUIRE(wait_until([&] { return requests_with(server, "r07", false) >= 1; }));

    AmAlert resolved;
    resolved.labels = rack_alert("r07").labels;
    resolved.ends_at_ms = 1'795'878'300'000;
    sink.resolve(resolved);
    REQUIRE(wait_until([&] { return requests_with(server, "r07", true) == 1; }));
    CHECK(sink.stats().firing == 1);

    // What was sent: startsAt and annotations of the firing alert, the given endsAt.
    nlohmann::json resolve;
    std::size_t resolve_index = 0;
    auto requests = server.requests();
    for (std::size_t i = 0; i < requests.size(); ++i) {
        for (const auto& alert : alerts_for(requests[i], "r07")) {
            if (alert.contains("endsAt")) {
                resolve = alert;
                resolve_index = i;
            }
        }
    }
    CHECK(resolve["endsAt"] == "2026-11-28T15:05:00.000Z");
    CHECK(resolve["startsAt"] == "2026-11-28T15:00:00.000Z");
    CHECK(resolve["annotations"]["summary"] == "rack r07 runs on grid power");

    // r08 keeps being re-sent, r07 never again.
    REQUIRE(wait_until([&] { return server.count() >= resolve_index + 4; }));
    requests = server.requests();
    for (std::size_t i = resolve_index + 1; i < requests.size(); ++i) {
        CHECK(alerts_for(requests[i], "r07").empty());
        CHECK(alerts_for(requests[i], "r08").size() == 1);
    }
}

TEST_CASE("alertmanager down then up: the firing set and pending resolves all arrive",
          "[alertmanager]") {
    RecordingServer server;
    server.stop();
    CapturedLog log;
    AlertmanagerSink sink(fast_config({server.url()}), log.logger); // resend every 60 s
    sink.start();
    sink.fire(rack_alert("r01"));
    sink.fire(rack_alert("r02"));
    AmAlert resolved; // resolved without having fired here (e.g. fired before a restart)
    resolved.labels = rack_alert("r03").labels;
    sink.resolve(resolved);
    REQUIRE(wait_until([&] { return sink.stats().posts_failed >= 3; }));
    CHECK(sink.stats().posts_ok == 0);

    server.start();
    REQUIRE(wait_until([&] { return sink.stats().posts_ok == 1; }));
    // The first POST after the outage carries everything: the resolve first.
    const auto first = server.requests().front().alerts;
    REQUIRE(first.size() == 3);
    CHECK(first[0]["labels"]["rack"] == "r03");
    CHECK(first[0].contains("endsAt"));
    CHECK(first[0]["startsAt"] == first[0]["endsAt"]);
    CHECK(first[1]["labels"]["rack"] == "r01");
    CHECK(first[2]["labels"]["rack"] == "r02");
    CHECK_FALSE(first[1].contains("endsAt"));
    CHECK(server.count() == 1);
    CHECK(sink.stats().alerts_sent == 3);
    CHECK(log.contains("delivering again"));
}

TEST_CASE("alertmanager 5xx and 429 answers are retried until accepted", "[alertmanager]") {
    RecordingServer server;
    server.set_reply(503, "{\"code\":503,\"message\":\"busy\"}");
    CapturedLog log;
    AlertmanagerSink sink(fast_config({server.url()}), log.logger);
    sink.start();
    sink.fire(rack_alert("r07"));
    AmAlert resolved;
    resolved.labels = rack_alert("r09").labels;
    sink.resolve(resolved);
    REQUIRE(wait_until([&] { return server.count() >= 2; }));
    server.set_reply(429);
    REQUIRE(wait_until([&] { return server.count() >= 4; }));
    CHECK(sink.stats().posts_ok == 0);
    server.set_reply(200);
    REQUIRE(wait_until([&] { return sink.stats().posts_ok >= 1; }));
    const auto last = server.requests().back().alerts;
    REQUIRE(last.size() == 2);
    CHECK(last[0]["labels"]["rack"] == "r09");
    CHECK(last[1]["labels"]["rack"] == "r07");
    CHECK(sink.stats().posts_failed >= 3);
    CHECK(log.contains("HTTP 503: busy"));
}

TEST_CASE("alertmanager 4xx answers are logged, counted and not retried", "[alertmanager]") {
    RecordingServer server;
    server.set_reply(400, "\"invalid label set: invalid name \\\"bad-name\\\"\"\n");
    CapturedLog log;
    AlertmanagerSink sink(fast_config({server.url()}), log.logger); // resend every 60 s
    sink.start();
    sink.fire(rack_alert("r07"));
    AmAlert resolved;
    resolved.labels = rack_alert("r09").labels;
    sink.resolve(resolved);
    REQUIRE(wait_until([&] { return sink.stats().alerts_rejected == 2; }));
    std::this_thread::sleep_for(500ms); // several retry_max: a retry would have happened
    // One POST (or two, when the thread woke between the calls), each sent once.
    CHECK(server.count() == sink.stats().posts_failed);
    CHECK(requests_with(server, "r07", false) == 1);
    CHECK(requests_with(server, "r09", true) == 1);
    CHECK(sink.stats().alerts_rejected == 2);
    CHECK(sink.stats().posts_ok == 0);
    CHECK(sink.stats().firing == 1); // still firing: re-sent with the next resend
    CHECK(log.contains("Alertmanager " + server.url() + ": refused"));
    CHECK(log.contains("invalid label set: invalid name \"bad-name\""));

    // The next change goes out normally.
    server.set_reply(200);
    sink.fire(rack_alert("r10"));
    REQUIRE(wait_until([&] { return sink.stats().posts_ok == 1; }));
    CHECK(server.requests().back().alerts.size() == 1);
    CHECK(sink.stats().alerts_rejected == 2);
}

TEST_CASE("alertmanager with two urls keeps updating one while the other is down",
          "[alertmanager]") {
    RecordingServer up;
    RecordingServer down;
    down.stop();
    CapturedLog log;
    AlertmanagerSink sink(fast_config({up.url(), down.url()}), log.logger);
    sink.start();
    sink.fire(rack_alert("r01"));
    REQUIRE(wait_until([&] { return requests_with(up, "r01", false) == 1; }));
    AmAlert resolved;
    resolved.labels = rack_alert("r01").labels;
    sink.resolve(resolved);
    sink.fire(rack_alert("r02"));
    REQUIRE(wait_until([&] {
        return requests_with(up, "r01", true) == 1 && requests_with(up, "r02", false) == 1;
    }));
    CHECK(sink.stats().posts_failed >= 1);

    // Back: it gets the pending resolve and the firing set in one POST, the other nothing new.
    const std::size_t up_before = up.count();
    down.start();
    REQUIRE(wait_until([&] { return down.count() >= 1; }));
    const auto first = down.requests().front().alerts;
    REQUIRE(first.size() == 2);
    CHECK(first[0]["labels"]["rack"] == "r01");
    CHECK(first[0].contains("endsAt"));
    CHECK(first[1]["labels"]["rack"] == "r02");
    CHECK_FALSE(first[1].contains("endsAt"));
    CHECK(up.count() == up_before);
}

TEST_CASE("alertmanager stop sends pending resolves before it returns", "[alertmanager]") {
    RecordingServer server;
    CapturedLog log;
    AlertmanagerSink sink(fast_config({server.url()}), log.logger);
    sink.start();
    sink.fire(rack_alert("r07"));
    AmAlert resolved;
    resolved.labels = rack_alert("r07").labels;
    sink.resolve(resolved);
    sink.stop(5s);
    CHECK(requests_with(server, "r07", true) == 1);
    CHECK(sink.stats().firing == 0);
}

TEST_CASE("alertmanager stop gives up at the drain timeout while the server is down",
          "[alertmanager]") {
    RecordingServer server;
    server.stop();
    CapturedLog log;
    AlertmanagerSink sink(fast_config({server.url()}), log.logger);
    sink.start();
    sink.fire(rack_alert("r07"));
    REQUIRE(wait_until([&] { return sink.stats().posts_failed >= 1; }));
    const auto before = steady_clock::now();
    sink.stop(300ms);
    CHECK(steady_clock::now() - before < 5s);
    CHECK_THAT(log.text(), Catch::Contains("stopped with 1 firing alerts and 0 resolves not sent"));
}

TEST_CASE("alertmanager fire without labels is refused and counted", "[alertmanager]") {
    CapturedLog log;
    AlertmanagerSink sink(fast_config({"http://127.0.0.1:9"}), log.logger);
    AmAlert alert;
    alert.annotations["summary"] = "no labels";
    sink.fire(alert);
    CHECK(sink.stats().alerts_rejected == 1);
    CHECK(sink.stats().firing == 0);
}
