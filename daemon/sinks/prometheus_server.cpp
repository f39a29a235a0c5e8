#include "daemon/sinks/prometheus_server.hpp"

#include "daemon/sinks/prometheus_exposition.hpp"

#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <list>
#include <optional>

namespace greenrack::sinks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {
class Connection;
} // namespace

// Everything the server and its connections share. Every handler holds a shared_ptr to it, so
// it outlives the PrometheusServer object until the last pending operation has completed.
struct PrometheusServerState : std::enable_shared_from_this<PrometheusServerState> {
    PrometheusServerState(asio::io_context& io_context, PrometheusServerSettings s,
                          PrometheusServer::RenderMetrics render,
                          PrometheusServer::HealthProblem health,
                          std::shared_ptr<spdlog::logger> log)
        : io(io_context), settings(std::move(s)), render_metrics(std::move(render)),
          health_problem(std::move(health)), logger(std::move(log)), acceptor(io_context),
          accept_retry(io_context), lag_timer(io_context) {}

    bool start();
    void stop();
    void accept();
    void on_accept(const error_code& ec, tcp::socket socket);
    void arm_lag_probe(steady_clock::time_point due);
    std::string lag_problem(steady_clock::time_point now) const;
    http::response<http::string_body> respond(const http::request<http::string_body>& request);

    asio::io_context& io;
    PrometheusServerSettings settings;
    PrometheusServer::RenderMetrics render_metrics;
    PrometheusServer::HealthProblem health_problem;
    std::shared_ptr<spdlog::logger> logger;
    tcp::acceptor acceptor;
    asio::steady_timer accept_retry;
    asio::steady_timer lag_timer;
    bool running = false;
    bool limit_logged = false;
    std::list<std::weak_ptr<Connection>> open; // closed on stop()
    std::atomic<std::uint16_t> port{0};
    std::atomic<std::size_t> connections{0};
    std::atomic<std::int64_t> last_lag_ms{0};
    milliseconds bad_lag{0};                            // the last lag above max_lag...
    std::optional<steady_clock::time_point> bad_lag_at; // ...and when it was measured
};

namespace {

http::response<http::string_body> text_response(http::status status, unsigned version,
                                                std::string body) {
    http::response<http::string_body> response{status, version};
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.set(http::field::cache_control, "no-store");
    response.body() = std::move(body);
    return response;
}

// One accepted connection: reads one request at a time (keep-alive honoured), answers it, and
// closes on a timeout, a malformed or oversized request, or stop().
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(std::shared_ptr<PrometheusServerState> state, tcp::socket socket)
        : state_(std::move(state)), stream_(std::move(socket)),
          buffer_(state_->settings.max_request_bytes) {
        ++state_->connections;
    }
    ~Connection() { --state_->connections; }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void start() { read(); }

    void close() {
        error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
    }

private:
    void read() {
        parser_.emplace();
        parser_->header_limit(state_->settings.max_request_bytes);
        parser_->body_limit(state_->settings.max_request_bytes);
        stream_.expires_after(state_->settings.read_timeout);
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(const error_code& ec) {
        if (!state_->running || ec == asio::error::operation_aborted) {
            close();
            return;
        }
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::eof || ec == asio::error::connection_reset) {
            close();
            return;
        }
        if (ec) {
            // Malformed or oversized: answer once, then close.
            state_->logger->debug("prometheus: bad request: {}", ec.message());
            auto status = http::status::bad_request;
            if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
                status = http::status::request_header_fields_too_large;
            } else if (ec == http::error::body_limit) {
                status = http::status::payload_too_large;
            }
            const auto reason = http::obsolete_reason(status);
            write(text_response(status, 11, std::string(reason.data(), reason.size()) + "\n"),
                  true);
            return;
        }
        const auto& request = parser_->get();
        const bool close_after = !request.keep_alive();
        write(state_->respond(request), close_after);
    }

    void write(http::response<http::string_body> response, bool close_after) {
        response_ = std::move(response);
        response_.keep_alive(!close_after);
        response_.prepare_payload();
        stream_.expires_after(state_->settings.write_timeout);
        http::async_write(
            stream_, response_,
            [self = shared_from_this(), close_after](const error_code& ec, std::size_t) {
                self->on_write(ec, close_after);
            });
    }

    void on_write(const error_code& ec, bool close_after) {
        if (!state_->running || ec) {
            close();
            return;
        }
        if (close_after) {
            linger();
            return;
        }
        read();
    }

    // After the last response: half-close, then discard what the client still sends (for at
    // most a second) before closing, so unread request bytes do not reset the connection
    // before the client has read the response.
    void linger() {
        error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.expires_after(linger_time);
        drain();
    }

    void drain() {
        stream_.async_read_some(asio::buffer(discard_),
                                [self = shared_from_this()](const error_code& ec, std::size_t) {
                                    if (ec || !self->state_->running) {
                                        self->close();
                                        return;
                                    }
                                    self->drain();
                                });
    }

    static constexpr milliseconds linger_time{1'000};

    std::shared_ptr<PrometheusServerState> state_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> response_;
    std::array<char, 512> discard_{};
};

std::string_view path_of(std::string_view target) {
    return target.substr(0, target.find('?'));
}

} // namespace

bool PrometheusServerState::start() {
    error_code ec;
    const auto address = asio::ip::make_address(settings.address, ec);
    if (ec) {
        logger->error("prometheus: cannot listen on {}: not an IP address", settings.address);
        return false;
    }
    const tcp::endpoint endpoint(address, settings.port);
    const auto fail = [&](const char* what) {
        logger->error("prometheus: cannot listen on {}:{} ({}: {}); /metrics is not served",
                      settings.address, settings.port, what, ec.message());
        error_code ignored;
        acceptor.close(ignored);
        return false;
    };
    if (acceptor.open(endpoint.protocol(), ec)) {
        return fail("open");
    }
    if (acceptor.set_option(tcp::acceptor::reuse_address(true), ec)) {
        return fail("reuse_address");
    }
    if (acceptor.bind(endpoint, ec)) {
        return fail("bind");
    }
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
        return fail("listen");
    }
    port = acceptor.local_endpoint(ec).port();
    running = true;
    logger->info("prometheus: serving /metrics and /healthz on {}:{}", settings.address,
                 port.load());
    accept();
    arm_lag_probe(steady_clock::now() + settings.lag_probe_interval);
    return true;
}

void PrometheusServerState::stop() {
    if (!running) {
        return;
    }
    running = false;
    port = 0;
    error_code ignored;
    acceptor.close(ignored);
    accept_retry.cancel();
    lag_timer.cancel();
    for (auto& weak : open) {
        if (auto connection = weak.lock()) {
            connection->close();
        }
    }
    open.clear();
}

void PrometheusServerState::accept() {
    acceptor.async_accept(io,
                          [self = shared_from_this()](const error_code& ec, tcp::socket socket) {
                              self->on_accept(ec, std::move(socket));
                          });
}

void PrometheusServerState::on_accept(const error_code& ec, tcp::socket socket) {
    if (!running || ec == asio::error::operation_aborted) {
        return;
    }
    if (ec) {
        // E.g. out of file descriptors: retry a little later instead of spinning on the loop.
        logger->warn("prometheus: accept failed: {}", ec.message());
        accept_retry.expires_after(milliseconds(100));
        accept_retry.async_wait([self = shared_from_this()](const error_code& wait_ec) {
            if (!wait_ec && self->running) {
                self->accept();
            }
        });
        return;
    }
    if (connections.load() >= settings.max_connections) {
        if (!limit_logged) {
            logger->warn("prometheus: {} connections open; closing new ones",
                         settings.max_connections);
            limit_logged = true;
        }
        error_code ignored;
        socket.close(ignored);
    } else {
        limit_logged = false;
        open.remove_if([](const std::weak_ptr<Connection>& c) { return c.expired(); });
        auto connection = std::make_shared<Connection>(shared_from_this(), std::move(socket));
        open.push_back(connection);
        connection->start();
    }
    accept();
}

// A timer due every lag_probe_interval: how late it fires is how long the loop was busy.
void PrometheusServerState::arm_lag_probe(steady_clock::time_point due) {
    lag_timer.expires_at(due);
    lag_timer.async_wait([self = shared_from_this(), due](const error_code& ec) {
        if (ec || !self->running) {
            return;
        }
        const auto now = steady_clock::now();
        const auto lag = std::chrono::duration_cast<milliseconds>(now - due);
        self->last_lag_ms = lag.count();
        if (lag > self->settings.max_lag) {
            self->bad_lag = lag;
            self->bad_lag_at = now;
            self->logger->warn("event loop lag: a timer fired {} ms late", lag.count());
        }
        self->arm_lag_probe(now + self->settings.lag_probe_interval);
    });
}

std::string PrometheusServerState::lag_problem(steady_clock::time_point now) const {
    // The probe itself overdue: the loop is behind right now.
    const auto overdue = std::chrono::duration_cast<milliseconds>(now - lag_timer.expiry());
    if (overdue > settings.max_lag) {
        return "event loop lag " + std::to_string(overdue.count()) + " ms";
    }
    if (bad_lag_at && now - *bad_lag_at <= settings.lag_memory) {
        const auto ago = std::chrono::duration_cast<std::chrono::seconds>(now - *bad_lag_at);
        return "event loop lag " + std::to_string(bad_lag.count()) + " ms, " +
               std::to_string(ago.count()) + " s ago";
    }
    return {};
}

http::response<http::string_body>
PrometheusServerState::respond(const http::request<http::string_body>& request) {
    const unsigned version = request.version();
    const auto target = request.target();
    const std::string_view path = path_of(std::string_view(target.data(), target.size()));
    if (path != "/metrics" && path != "/healthz") {
        return text_response(http::status::not_found, version, "not found\n");
    }
    if (request.method() != http::verb::get) {
        auto response =
            text_response(http::status::method_not_allowed, version, "method not allowed\n");
        response.set(http::field::allow, "GET");
        return response;
    }
    try {
        if (path == "/metrics") {
            auto response = text_response(http::status::ok, version, render_metrics());
            response.set(http::field::content_type, std::string(exposition_content_type));
            return response;
        }
        std::string problem = health_problem ? health_problem() : std::string();
        if (auto lag = lag_problem(steady_clock::now()); !lag.empty()) {
            problem += problem.empty() ? lag : "; " + lag;
        }
        if (problem.empty()) {
            return text_response(http::status::ok, version, "ok\n");
        }
        return text_response(http::status::service_unavailable, version, problem + "\n");
    } catch (const std::exception& e) {
        logger->error("prometheus: {} failed: {}", path, e.what());
    } catch (...) {
        logger->error("prometheus: {} failed", path);
    }
    return text_response(http::status::internal_server_error, version, "internal error\n");
}

PrometheusServerSettings make_server_settings(const config::PrometheusConfig& config) {
    PrometheusServerSettings settings;
    settings.address = config.listen_address;
    settings.port = config.listen_port;
    return settings;
}

PrometheusServer::PrometheusServer(asio::io_context& io, PrometheusServerSettings settings,
                                   RenderMetrics render_metrics, HealthProblem health_problem,
                                   std::shared_ptr<spdlog::logger> logger)
    : state_(std::make_shared<PrometheusServerState>(
          io, std::move(settings), std::move(render_metrics), std::move(health_problem),
          std::move(logger))) {}

PrometheusServer::~PrometheusServer() {
    stop();
}

bool PrometheusServer::start() {
    return state_->start();
}

void PrometheusServer::stop() {
    state_->stop();
}

std::uint16_t PrometheusServer::port() const {
    return state_->port.load();
}

std::size_t PrometheusServer::connections() const {
    return state_->connections.load();
}

milliseconds PrometheusServer::last_lag() const {
    return milliseconds(state_->last_lag_ms.load());
}

} // namespace greenrack::sinks
