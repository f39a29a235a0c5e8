#include "daemon/sinks/http_connection.hpp"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
// g++ 12 with -fsanitize reports a false -Wmaybe-uninitialized in Beast 1.74's response parser
// (boost::optional content length).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#pragma GCC diagnostic pop
#include <cctype>
#include <charconv>
#include <utility>

namespace greenrack::sinks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

namespace {

bool valid_port(std::string_view port) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    return !port.empty() && ec == std::errc() && end == port.data() + port.size() && value >= 1 &&
           value <= 65535;
}

char lower(char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

} // namespace

std::variant<HttpEndpoint, std::string> parse_http_url(std::string_view url,
                                                       std::string_view default_port) {
    auto lower_starts_with = [&](std::string_view prefix) {
        return url.size() >= prefix.size() && iequals(url.substr(0, prefix.size()), prefix);
    };
    if (lower_starts_with("https://")) {
        return "https is not supported yet (TLS is a later issue): use http://, or a local "
               "TLS-terminating proxy";
    }
    if (!lower_starts_with("http://")) {
        return "must start with http://";
    }
    for (char c : url) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7F) {
            return "spaces, control and non-ASCII characters are not allowed";
        }
    }
    std::string_view rest = url.substr(7);
    if (rest.find_first_of("?#") != std::string_view::npos) {
        return "a query string or fragment is not allowed";
    }
    const auto slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    std::string_view path =
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (authority.find('@') != std::string_view::npos) {
        return "credentials in the URL are not supported";
    }
    std::string_view host = authority;
    std::string_view port = default_port;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return "unterminated IPv6 address";
        }
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (!after.starts_with(':')) {
                return "unexpected text after the IPv6 address";
            }
            port = after.substr(1);
        }
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) {
        return "no host";
    }
    if (!valid_port(port)) {
        return "the port must be a number from 1 to 65535";
    }
    while (path.ends_with('/')) {
        path.remove_suffix(1);
    }
    return HttpEndpoint{std::string(host), std::string(port), std::string(authority),
                        std::string(path)};
}

std::string_view HttpResponse::field(std::string_view name) const {
    for (const auto& [key, value] : fields) {
        if (iequals(key, name)) {
            return value;
        }
    }
    return {};
}

class HttpConnection::Impl {
public:
    explicit Impl(HttpEndpoint endpoint)
        : endpoint_(std::move(endpoint)), resolver_(io_), stream_(io_) {}

    HttpResponse post(const std::string& target, std::string body,
                      std::span<const HttpField> fields, std::uint64_t body_limit,
                      Clock::time_point deadline) {
        http::request<http::string_body> request{http::verb::post, target, 11};
        request.set(http::field::host, endpoint_.authority);
        request.set(http::field::user_agent, "greenrackd");
        for (const auto& field : fields) {
            request.set(beast::string_view(field.name.data(), field.name.size()),
                        beast::string_view(field.value.data(), field.value.size()));
        }
        request.keep_alive(true);
        request.body() = std::move(body);
        request.prepare_payload();

        const bool reused = connected_;
        HttpResponse result = attempt(request, body_limit, deadline);
        // A kept-alive connection the server closed meanwhile fails before any answer: try
        // once more on a fresh connection.
        if (result.error && reused && !answered_ && Clock::now() < deadline) {
            result = attempt(request, body_limit, deadline);
        }
        return result;
    }

    void cancel() {
        asio::post(io_, [this] { stream_.cancel(); });
    }

private:
    template <typename Initiate> beast::error_code run(Initiate&& initiate) {
        beast::error_code result = asio::error::operation_aborted;
        initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
        io_.restart();
        io_.run();
        return result;
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        stream_.close();
        buffer_.clear();
        connected_ = false;
    }

    beast::error_code connect(Clock::time_point deadline) {
        asio::ip::tcp::resolver::results_type endpoints;
        beast::error_code ec = asio::error::operation_aborted;
        resolver_.async_resolve(endpoint_.host, endpoint_.port,
                                [&](beast::error_code e, asio::ip::tcp::resolver::results_type r) {
                                    ec = e;
                                    endpoints = std::move(r);
                                });
        io_.restart();
        io_.run();
        if (ec) {
            return ec;
        }
        stream_.expires_at(deadline);
        ec = run([&](auto handler) { stream_.async_connect(endpoints, std::move(handler)); });
        if (ec) {
            close();
            return ec;
        }
        beast::error_code ignored;
        stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
        connected_ = true;
        return {};
    }

    HttpResponse attempt(const http::request<http::string_body>& request, std::uint64_t body_limit,
                         Clock::time_point deadline) {
        HttpResponse result;
        answered_ = false;
        if (!connected_) {
            if (auto ec = connect(deadline)) {
                result.error = ec;
                return result;
            }
        }
        stream_.expires_at(deadline);
        result.error =
            run([&](auto handler) { http::async_write(stream_, request, std::move(handler)); });
        if (result.error) {
            close();
            return result;
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(body_limit);
        stream_.expires_at(deadline);
        result.error = run(
            [&](auto handler) { http::async_read(stream_, buffer_, parser, std::move(handler)); });
        answered_ = parser.got_some();
        if (result.error) {
            close();
            return result;
        }
        auto& response = parser.get();
        result.status = response.result_int();
        for (const auto& field : response) {
            const auto name = field.name_string();
            const auto value = field.value();
            result.fields.emplace_back(std::string(name.data(), name.size()),
                                       std::string(value.data(), value.size()));
        }
        const bool keep_alive = response.keep_alive();
        result.body = std::move(response.body());
        if (!keep_alive) {
            close();
        }
        return result;
    }

    HttpEndpoint endpoint_;
    asio::io_context io_;
    asio::ip::tcp::resolver resolver_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    bool connected_ = false;
    bool answered_ = false;
};

HttpConnection::HttpConnection(HttpEndpoint endpoint)
    : impl_(std::make_unique<Impl>(std::move(endpoint))) {}

HttpConnection::~HttpConnection() = default;

HttpResponse HttpConnection::post(const std::string& target, std::string body,
                                  std::span<const HttpField> fields, std::uint64_t body_limit,
                                  Clock::time_point deadline) {
    return impl_->post(target, std::move(body), fields, body_limit, deadline);
}

void HttpConnection::cancel() {
    impl_->cancel();
}

} // namespace greenrack::sinks
