#pragma once

#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace greenrack::sinks {

// Where an HTTP client connects and what it puts in the Host header.
struct HttpEndpoint {
    std::string host;        // for the resolver (IPv6 without brackets)
    std::string port;        // the default port when the URL has none
    std::string authority;   // Host header: host[:port] as written in the URL
    std::string path_prefix; // "" or "/prefix" (without a trailing '/')
};

// "http://host[:port][/prefix][/]" (scheme case-insensitive, IPv6 hosts in brackets). Returns
// the reason the URL cannot be used for https (TLS is not supported yet), other schemes,
// credentials, query strings or fragments, spaces and non-ASCII characters, no host, bad ports.
std::variant<HttpEndpoint, std::string> parse_http_url(std::string_view url,
                                                       std::string_view default_port);

// A request header field, e.g. {"Content-Type", "application/json"}.
struct HttpField {
    std::string_view name;
    std::string_view value;
};

struct HttpResponse {
    boost::system::error_code error; // set when there is no (complete) response
    unsigned status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> fields; // header fields, in order

    // Value of the first header field called `name` (case-insensitive); "" when absent.
    std::string_view field(std::string_view name) const;
};

// One keep-alive HTTP/1.1 client connection (Boost.Beast), used by one thread at a time (plus
// cancel()). Operations are Asio async operations run to completion on a private io_context,
// so every step has a deadline (beast::tcp_stream timeouts) and cancel() can cut a request
// from another thread. The connection is opened on demand and closed after an error or an
// answer without keep-alive.
class HttpConnection {
public:
    explicit HttpConnection(HttpEndpoint endpoint);
    ~HttpConnection();
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    // POSTs `body` to `target` with the Host and User-Agent headers and `fields`, and reads the
    // answer, all before `deadline`. A body over `body_limit` bytes is an error (but Beast 1.74
    // misses a Content-Length over the limit when the body arrives with the header).
    HttpResponse post(const std::string& target, std::string body,
                      std::span<const HttpField> fields, std::uint64_t body_limit,
                      std::chrono::steady_clock::time_point deadline);

    // Thread-safe: aborts the operation in progress (or the next one).
    void cancel();

private:
    class Impl; // keeps Boost.Beast out of this header
    std::unique_ptr<Impl> impl_;
};

} // namespace greenrack::sinks
