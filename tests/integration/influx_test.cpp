// The InfluxDB sink against a real influxd 1.6.7 (and, for the v2 API that Debian's influxd
// lacks, a scripted HTTP server), all on free 127.0.0.1 ports.

#include "daemon/sinks/influx_lines.hpp"
#include "daemon/sinks/influx_sink.hpp"
#include "daemon/sinks/line_protocol.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/influxd.hpp"
#include "tests/support/process.hpp"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
// g++ 12 with -fsanitize reports a false -Wmaybe-uninitialized in Beast 1.74's request parser
// (boost::optional content length).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#pragma GCC diagnostic pop
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sstream>
#include <thread>

using namespace greenrack;
using namespace std::chrono_literals;
using sinks::InfluxSink;
using sinks::LineBuilder;
using test::Influxd;
using test::TempDir;
using test::wait_until;

namespace {

constexpr std::int64_t base_ms = 1'764'340'000'000;

config::InfluxConfig fast_config(const std::string& url) {
    config::InfluxConfig config;
    config.enabled = true;
    config.url = url;
    config.database = "greenrack";
    config.batch_lines = 100;
    config.flush_interval = 50ms;
    config.timeout = 2'000ms;
    config.retry_min = 50ms;
    config.retry_max = 200ms;
    return config;
}

// The sink's spool in <dir>/spool-<name> (a fresh one unless the same name is used again).
std::unique_ptr<sinks::Spool> spool_in(const TempDir& dir, std::shared_ptr<spdlog::logger> logger,
                                       const std::string& name = "influx",
                                       std::uint64_t max_bytes = 64ULL << 20U) {
    sinks::SpoolOptions options;
    options.directory = dir.path() / ("spool-" + name);
    options.max_bytes = max_bytes;
    options.segment_bytes = std::max<std::uint64_t>(max_bytes / 8, 4096);
    return std::make_unique<sinks::Spool>(options, name, std::move(logger),
                                          std::chrono::system_clock::now());
}

// Everything the sink logs, readable once the sink has stopped.
struct CapturedLog {
    CapturedLog() {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream);
        logger = std::make_shared<spdlog::logger>("influx", sink);
        logger->set_level(spdlog::level::debug);
    }
    std::string text() {
        logger->flush();
        return stream.str();
    }
    std::ostringstream stream;
    std::shared_ptr<spdlog::logger> logger;
};

// `count` lines "m,run=<run> seq=<i>i <base_ms + first + i>".
std::string numbered_lines(std::string_view measurement, std::string_view run, int first,
                           int count) {
    LineBuilder lines;
    for (int i = first; i < first + count; ++i) {
        lines.begin(measurement)
            .tag("run", run)
            .field_int("seq", i)
            .end(sinks::from_unix_ms(base_ms + i));
    }
    return lines.take();
}

nlohmann::json query_series(const Influxd& influxd, const std::string& statement) {
    auto reply = influxd.query(statement, "greenrack");
    REQUIRE(reply.status == 200);
    auto json = nlohmann::json::parse(reply.body);
    const auto& result = json.at("results").at(0);
    return result.contains("series") ? result.at("series") : nlohmann::json::array();
}

// The single value of `SELECT <aggregate> FROM ...`, or -1 when there is none.
double query_number(const Influxd& influxd, const std::string& statement) {
    auto series = query_series(influxd, statement);
    if (series.empty()) {
        return -1;
    }
    return series.at(0).at("values").at(0).at(1).get<double>();
}

// A scripted HTTP server: answers each request with the next reply of the script (then 204)
// and records what it received.
class ScriptedServer {
public:
    struct Reply {
        unsigned status = 204;
        std::string body;
        std::string retry_after;
    };
    struct Request {
        std::string target;
        std::string authorization;
        std::string body;
        std::chrono::steady_clock::time_point at;
    };

    explicit ScriptedServer(std::vector<Reply> script)
        : script_(std::move(script)),
          acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
        port_ = acceptor_.local_endpoint().port();
        thread_ = std::thread([this] { serve(); });
    }
    ~ScriptedServer() {
        stopping_ = true;
        test::port_open(port_); // wakes accept()
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::vector<Request> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }

private:
    void serve() {
        namespace http = boost::beast::http;
        while (!stopping_) {
            boost::system::error_code ec;
            boost::asio::ip::tcp::socket socket(io_);
            acceptor_.accept(socket, ec);
            if (ec || stopping_) {
                continue;
            }
            boost::beast::flat_buffer buffer;
            while (!stopping_) {
                http::request<http::string_body> request;
                http::read(socket, buffer, request, ec);
                if (ec) {
                    break;
                }
                Reply reply;
                {
                    std::lock_guard lock(mutex_);
                    requests_.push_back({std::string(request.target()),
                                         std::string(request[http::field::authorization]),
                                         request.body(), std::chrono::steady_clock::now()});
                    if (next_ < script_.size()) {
                        reply = script_[next_++];
                    }
                }
                http::response<http::string_body> response{static_cast<http::status>(reply.status),
                                                           11};
                if (!reply.retry_after.empty()) {
                    response.set(http::field::retry_after, reply.retry_after);
                }
                response.body() = reply.body;
                response.keep_alive(request.keep_alive());
                response.prepare_payload();
                http::write(socket, response, ec);
                if (ec) {
                    break;
                }
            }
        }
    }

    std::vector<Reply> script_;
    std::size_t next_ = 0;
    std::vector<Request> requests_;
    std::mutex mutex_;
    std::atomic<bool> stopping_{false};
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

} // namespace

TEST_CASE("influx: hostile names and values are read back unchanged", "[influx]") {
    TempDir dir("greenrack-influx");
    Influxd influxd(dir.path(), {.database = "greenrack"});
    CapturedLog log;
    InfluxSink sink(fast_config(influxd.url()), spool_in(dir, log.logger), log.logger);
    sink.start();

    const std::string measurement = "rack power, total=all 机架 c:\\dir \"q\"";
    const std::string tag_key = "rack name,=x \"k\"";
    const std::string tag_value = "机架-07, row=3 \"A\" c:\\dir\\ x\\,y";
    const std::string float_key = "power w,=x";
    const std::string int_key = "say \"hi\" c:\\dir";
    const std::string bool_key = "机架 ok";
    const std::string string_value = "say \"hi\", c:\\dir\\ end=1 \\";
    LineBuilder lines;
    lines.begin(measurement)
        .tag(tag_key, tag_value)
        .tag("multi", "line one\nline two")
        .field_float(float_key, 21.5)
        .field_int(int_key, 42)
        .field_bool(bool_key, true)
        .field_string("note", string_value)
        .field_string("two lines", "first\nsecond")
        .end(sinks::from_unix_ms(base_ms));
    lines.begin("newline\nmeasurement").field_float("v", 1.0).end(sinks::from_unix_ms(base_ms));
    lines.begin("trailing\\").field_float("v", 2.0).end(sinks::from_unix_ms(base_ms));
    sink.enqueue(lines.take());
    REQUIRE(wait_until([&] { return sink.stats().written_lines == 3; }, 10s));
    CHECK(sink.stats().rejected_lines == 0);

    std::map<std::string, std::map<std::string, nlohmann::json>> stored;
    for (const auto& series : query_series(influxd, "SELECT * FROM /.*/")) {
        const auto& columns = series.at("columns");
        const auto& row = series.at("values").at(0);
        for (std::size_t i = 0; i < columns.size(); ++i) {
            if (!row.at(i).is_null()) {
                stored[series.at("name").get<std::string>()][columns.at(i)] = row.at(i);
            }
        }
    }
    REQUIRE(stored.count(measurement) == 1);
    auto& point = stored[measurement];
    // A tag's backslash before a space becomes '/': InfluxDB's line splitter would end the tags
    // there (line_protocol.hpp).
    CHECK(point[tag_key] == "机架-07, row=3 \"A\" c:\\dir/ x\\,y");
    CHECK(point["multi"] == "line one line two");
    CHECK(point[float_key] == 21.5);
    CHECK(point[int_key] == 42);
    CHECK(point[bool_key] == true);
    CHECK(point["note"] == string_value);
    CHECK(point["two lines"] == "first second");
    CHECK(point["time"] == "2025-11-28T14:26:40Z");
    // Line breaks become spaces; a trailing backslash (unstorable) becomes '/'.
    CHECK(stored.count("newline measurement") == 1);
    CHECK(stored.count("trailing/") == 1);
    sink.stop(1s);
}

TEST_CASE("influx: a 400 partial write counts the bad lines as rejected and never resends them",
          "[influx]") {
    TempDir dir("greenrack-influx");
    Influxd influxd(dir.path(), {.database = "greenrack"});
    CapturedLog log;
    InfluxSink sink(fast_config(influxd.url()), spool_in(dir, log.logger), log.logger);
    sink.start();

    // A line influxd cannot parse between two good ones.
    sink.enqueue("good,k=a v=1 1764340000001\nbad_line_without_fields 1764340000002\n"
                 "good,k=b v=2 1764340000003\n");
    REQUIRE(wait_until(
        [&] { return sink.stats().written_lines + sink.stats().rejected_lines == 3; }, 10s));
    CHECK(sink.stats().written_lines == 2);
    CHECK(sink.stats().rejected_lines == 1);

    // A field type conflict (v is a float): influxd drops that point only.
    sink.enqueue("good,k=c v=3i 1764340000004\ngood,k=d v=4 1764340000005\n");
    REQUIRE(wait_until(
        [&] { return sink.stats().written_lines + sink.stats().rejected_lines == 5; }, 10s));
    CHECK(sink.stats().written_lines == 3);
    CHECK(sink.stats().rejected_lines == 2);

    test::sleep_ms(300); // several flush intervals: nothing is sent again
    CHECK(influxd.requests_matching("POST /write") == 2);
    CHECK(sink.stats().failed_requests == 0);
    CHECK(sink.stats().queue_lines == 0);
    CHECK(sink.stats().healthy);
    CHECK(query_number(influxd, "SELECT count(v) FROM good") == 3);
    sink.stop(1s);
    const auto text = log.text();
    CHECK(text.find("bad_line_without_fields") != std::string::npos);
    CHECK(text.find("field type conflict") != std::string::npos);
}

TEST_CASE("influx: lines queued while influxd is down arrive after it restarts", "[influx]") {
    TempDir dir("greenrack-influx");
    Influxd influxd(dir.path(), {.database = "greenrack"});
    CapturedLog log;
    InfluxSink sink(fast_config(influxd.url()), spool_in(dir, log.logger), log.logger);
    sink.start();

    sink.enqueue(numbered_lines("restart", "a", 0, 10));
    REQUIRE(wait_until([&] { return sink.stats().written_lines == 10; }, 10s));

    influxd.stop();
    sink.enqueue(numbered_lines("restart", "a", 10, 100));
    REQUIRE(wait_until([&] { return sink.stats().failed_requests >= 2; }, 10s));
    CHECK_FALSE(sink.stats().healthy);
    CHECK(sink.stats().queue_lines == 100);
    CHECK(sink.stats().written_lines == 10);

    influxd.start(); // same port, same data
    REQUIRE(wait_until([&] { return sink.stats().written_lines == 110; }, 15s));
    CHECK(sink.stats().queue_lines == 0);
    CHECK(sink.stats().dropped_lines == 0);
    CHECK(sink.stats().healthy);
    CHECK(query_number(influxd, "SELECT count(seq) FROM restart") == 110);
    sink.stop(1s);
}

TEST_CASE("influx: a full spool drops the oldest lines, counts them and keeps the newest",
          "[influx]") {
    TempDir dir("greenrack-influx");
    const std::uint16_t port = test::free_port(); // nothing listens yet
    auto config = fast_config("http://127.0.0.1:" + std::to_string(port));
    config.batch_lines = 10;
    CapturedLog log;
    InfluxSink sink(config, spool_in(dir, log.logger, "influx", 64U << 10U), log.logger);
    sink.start();

    constexpr int total = 3'000; // ~200 KB of records for a 64 KiB spool
    sink.enqueue(numbered_lines("capped", "a", 0, total));
    const auto dropped = sink.stats().dropped_lines.load();
    CHECK(dropped > 1'000);
    CHECK(sink.stats().queue_lines == total - dropped);
    CHECK(sink.spool_stats().bytes <= 64U << 10U);
    REQUIRE(wait_until([&] { return sink.stats().failed_requests >= 1; }, 10s));
    CHECK(sink.stats().queue_lines == total - dropped);

    Influxd influxd(dir.path(), {.port = port, .database = "greenrack"});
    REQUIRE(wait_until([&] { return sink.stats().written_lines == total - dropped; }, 15s));
    CHECK(sink.stats().dropped_lines == dropped);
    CHECK(query_number(influxd, "SELECT count(seq) FROM capped") ==
          static_cast<double>(total - dropped));
    CHECK(query_number(influxd, "SELECT min(seq) FROM capped") == static_cast<double>(dropped));
    CHECK(query_number(influxd, "SELECT max(seq) FROM capped") == total - 1);
    sink.stop(1s);
    CHECK(log.text().find("size cap reached: dropped") != std::string::npos);
}

TEST_CASE("influx: stop sends what is still queued", "[influx]") {
    TempDir dir("greenrack-influx");
    Influxd influxd(dir.path(), {.database = "greenrack"});
    auto config = fast_config(influxd.url());
    config.flush_interval = 60s;
    config.batch_lines = 1'000;
    CapturedLog log;
    InfluxSink sink(config, spool_in(dir, log.logger), log.logger);
    sink.start();
    sink.enqueue(numbered_lines("drained", "a", 0, 5));
    test::sleep_ms(100);
    CHECK(sink.stats().written_lines == 0);
    sink.stop(5s);
    CHECK(sink.stats().written_lines == 5);
    CHECK(query_number(influxd, "SELECT count(seq) FROM drained") == 5);
}

TEST_CASE("influx: v1 credentials are sent and a 401 keeps the lines spooled for the next start",
          "[influx]") {
    TempDir dir("greenrack-influx");
    const std::string password = "p@ss w&rd=1/?";
    Influxd influxd(dir.path(), {.database = "greenrack",
                                 .auth_enabled = true,
                                 .admin_user = "admin",
                                 .admin_password = password});
    auto config = fast_config(influxd.url());
    config.username = "admin";
    const std::string lines = numbered_lines("secured", "a", 0, 20);
    {
        config.password = "wrong";
        CapturedLog log;
        InfluxSink sink(config, spool_in(dir, log.logger), log.logger);
        sink.start();
        sink.enqueue(lines);
        REQUIRE(wait_until([&] { return sink.stats().failed_requests >= 2; }, 10s));
        CHECK(sink.stats().queue_lines == 20);
        CHECK(sink.stats().written_lines == 0);
        CHECK(sink.stats().rejected_lines == 0);
        CHECK_FALSE(sink.stats().healthy);
        sink.stop(0ms);
        const auto text = log.text();
        CHECK(text.find("HTTP 401") != std::string::npos);
        CHECK(text.find("wrong") == std::string::npos); // the password is never logged
    }
    // The lines refused with 401 wait in the spool: the next sink on it sends them.
    config.password = password;
    CapturedLog log;
    InfluxSink sink(config, spool_in(dir, log.logger), log.logger);
    CHECK(sink.stats().queue_lines == 20);
    sink.start();
    REQUIRE(wait_until([&] { return sink.stats().written_lines == 20; }, 10s));
    CHECK(query_number(influxd, "SELECT count(seq) FROM secured") == 20);
    sink.stop(1s);
}

TEST_CASE("influx: v2 writes with a token, honour Retry-After and resend the good lines of a "
          "refused batch",
          "[influx]") {
    TempDir dir("greenrack-influx");
    ScriptedServer server({
        {503, R"({"code":"unavailable","message":"busy"})", "1"},
        {400,
         R"({"code":"invalid","message":"unable to parse 'bad v= 1764340000002': missing field value"})",
         ""},
    });
    config::InfluxConfig config = fast_config(server.url());
    config.api = config::InfluxApi::v2;
    config.org = "my org";
    config.bucket = "green/rack";
    config.token = "s3cr3t";
    config.retry_min = 10ms;
    CapturedLog log;
    InfluxSink sink(config, spool_in(dir, log.logger), log.logger);
    sink.start();
    sink.enqueue("a v=1 1764340000001\nbad v= 1764340000002\nb v=2 1764340000003\n");
    REQUIRE(wait_until([&] { return sink.stats().written_lines == 2; }, 10s));
    sink.stop(1s);

    const auto requests = server.requests();
    REQUIRE(requests.size() == 3);
    for (const auto& request : requests) {
        CHECK(request.target == "/api/v2/write?org=my%20org&bucket=green%2Frack&precision=ms");
        CHECK(request.authorization == "Token s3cr3t");
    }
    CHECK(requests[0].body == "a v=1 1764340000001\nbad v= 1764340000002\nb v=2 1764340000003\n");
    CHECK(requests[1].at - requests[0].at >= 900ms); // Retry-After: 1, not retry_min
    CHECK(requests[2].body == "a v=1 1764340000001\nb v=2 1764340000003\n");
    CHECK(sink.stats().rejected_lines == 1);
    CHECK(sink.stats().failed_requests == 1);
}
