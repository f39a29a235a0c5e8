#include "daemon/sinks/spool.hpp"

#include "tests/support/process.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <spdlog/sinks/null_sink.h>

using namespace greenrack::sinks;
using greenrack::test::TempDir;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const auto t0 = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764340000000));

std::shared_ptr<spdlog::logger> quiet() {
    return std::make_shared<spdlog::logger>("spool",
                                            std::make_shared<spdlog::sinks::null_sink_mt>());
}

SpoolOptions options_in(const fs::path& dir) {
    SpoolOptions options;
    options.directory = dir;
    options.max_age = std::chrono::hours(24 * 365 * 100); // t0 is in the past
    return options;
}

std::vector<std::string> payloads(const std::vector<SpoolEntry>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) {
        out.push_back(e.payload);
    }
    return out;
}

std::vector<fs::path> segment_files(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() == ".seg") {
            out.push_back(entry.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

TEST_CASE("the spool hands records out in order with their sequence number and append time") {
    TempDir dir("spool");
    Spool spool(options_in(dir.path()), "test", quiet(), t0);
    CHECK(spool.append(std::vector<std::string_view>{"a", "b"}, t0) == 2);
    CHECK(spool.append("c", t0 + 1s) == 3);
    CHECK(spool.unread() == 3);

    auto first = spool.read(2, 1 << 20);
    REQUIRE(first.size() == 2);
    CHECK(first[0].seq == 1);
    CHECK(first[0].payload == "a");
    CHECK(first[0].ts_ms == 1764340000000);
    CHECK(first[1].seq == 2);
    auto second = spool.read(10, 1 << 20);
    REQUIRE(second.size() == 1);
    CHECK(second[0].payload == "c");
    CHECK(second[0].ts_ms == 1764340001000);
    CHECK(spool.read(10, 1 << 20).empty());
    CHECK(spool.stats().pending == 3);
    spool.ack(3);
    CHECK(spool.stats().pending == 0);
    CHECK(spool.stats().acked == 3);
}

TEST_CASE("the spool's read stops at the byte budget but always returns at least one record") {
    TempDir dir("spool");
    Spool spool(options_in(dir.path()), "test", quiet(), t0);
    spool.append(std::vector<std::string_view>{"0123456789", "0123456789", "0123456789"}, t0);
    CHECK(spool.read(10, 5).size() == 1);
    CHECK(spool.read(10, 20).size() == 2);
}

TEST_CASE("after a rewind the spool hands out again everything not acknowledged") {
    TempDir dir("spool");
    Spool spool(options_in(dir.path()), "test", quiet(), t0);
    spool.append(std::vector<std::string_view>{"a", "b", "c", "d"}, t0);
    REQUIRE(spool.read(10, 1 << 20).size() == 4);
    spool.ack(2);
    spool.rewind();
    CHECK(payloads(spool.read(10, 1 << 20)) == std::vector<std::string>{"c", "d"});
}

TEST_CASE("undelivered records survive a restart and sequence numbers continue") {
    TempDir dir("spool");
    {
        Spool spool(options_in(dir.path()), "test", quiet(), t0);
        spool.append(std::vector<std::string_view>{"a", "b", "c"}, t0);
        REQUIRE(spool.read(1, 1 << 20).size() == 1);
        spool.ack(1);
        spool.sync(t0);
    }
    Spool spool(options_in(dir.path()), "test", quiet(), t0 + 1s);
    CHECK(spool.stats().pending == 2);
    CHECK(spool.append("d", t0 + 1s) == 4);
    const auto entries = spool.read(10, 1 << 20);
    CHECK(payloads(entries) == std::vector<std::string>{"b", "c", "d"});
    CHECK(entries.front().seq == 2);
}

TEST_CASE("without a sync the acknowledged records are sent again after a crash, never lost") {
    TempDir dir("spool");
    SpoolOptions options = options_in(dir.path());
    options.sync_interval = std::chrono::hours(1);
    {
        Spool spool(options, "test", quiet(), t0);
        spool.append(std::vector<std::string_view>{"a", "b"}, t0);
        spool.read(10, 1 << 20);
        spool.ack(1);
        // Simulate a crash: what the destructor would write is removed again.
    }
    fs::remove(dir.path() / "acked");
    Spool spool(options, "test", quiet(), t0);
    CHECK(payloads(spool.read(10, 1 << 20)) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a torn append at the end of a segment is cut off and the spool stays writable") {
    TempDir dir("spool");
    {
        Spool spool(options_in(dir.path()), "test", quiet(), t0);
        spool.append(std::vector<std::string_view>{"one", "two"}, t0);
    }
    const auto files = segment_files(dir.path());
    REQUIRE(files.size() == 1);
    const auto intact = fs::file_size(files[0]);
    {
        std::ofstream out(files[0], std::ios::binary | std::ios::app);
        out << "GRS1\x20\x00\x00"; // a header cut short by a crash
    }
    Spool spool(options_in(dir.path()), "test", quiet(), t0);
    CHECK(fs::file_size(files[0]) == intact);
    CHECK(spool.append("three", t0) == 3);
    CHECK(payloads(spool.read(10, 1 << 20)) == std::vector<std::string>{"one", "two", "three"});
    CHECK(spool.stats().corrupt == 0);
}

TEST_CASE("a damaged record inside a segment is skipped and counted, the others are kept") {
    TempDir dir("spool");
    {
        Spool spool(options_in(dir.path()), "test", quiet(), t0);
        spool.append(std::vector<std::string_view>{"first", "second", "third"}, t0);
    }
    const auto files = segment_files(dir.path());
    REQUIRE(files.size() == 1);
    {
        std::fstream file(files[0], std::ios::binary | std::ios::in | std::ios::out);
        file.seekp(28 + 5 + 28 + 2); // inside "second"
        file.put('X');
    }
    Spool spool(options_in(dir.path()), "test", quiet(), t0);
    CHECK(spool.stats().corrupt == 1);
    CHECK(payloads(spool.read(10, 1 << 20)) == std::vector<std::string>{"first", "third"});
}

TEST_CASE("a record whose header or payload straddles the end of a read window is read whole") {
    // read() decodes from 256 KiB windows of a segment; the second record starts `split` bytes
    // before the end of the first window: inside, at the end of, or past its 28-byte header.
    constexpr std::size_t window = 256 * 1024;
    for (const std::size_t split : {1, 4, 13, 27, 28, 29, 40, 1000}) {
        CAPTURE(split);
        TempDir dir("spool");
        Spool spool(options_in(dir.path()), "test", quiet(), t0);
        const std::string filler(window - split - 28, 'f');
        const std::string second(600, 's');
        spool.append(std::vector<std::string_view>{filler, second, "third"}, t0);
        const auto entries = spool.read(10, 16 << 20);
        CHECK(spool.stats().corrupt == 0);
        REQUIRE(entries.size() == 3);
        CHECK(entries[1].seq == 2);
        CHECK(entries[1].payload == second);
        CHECK(entries[2].payload == "third");
    }
}

TEST_CASE("past the size cap the oldest undelivered records are dropped and counted") {
    TempDir dir("spool");
    SpoolOptions options = options_in(dir.path());
    options.max_bytes = 64 * 1024;
    options.segment_bytes = 8 * 1024;
    Spool spool(options, "test", quiet(), t0);
    const std::string payload(100, 'x');
    for (int i = 0; i < 2000; ++i) {
        spool.append(payload, t0);
    }
    CHECK(spool.stats().bytes <= options.max_bytes);
    const std::uint64_t dropped = spool.stats().dropped;
    CHECK(dropped > 0);
    CHECK(spool.stats().pending + dropped == 2000);
    const auto entries = spool.read(100000, 1U << 30U);
    REQUIRE(entries.size() == spool.stats().pending);
    CHECK(entries.front().seq == dropped + 1); // exactly the oldest went
    CHECK(entries.back().seq == 2000);
    for (std::size_t i = 1; i < entries.size(); ++i) {
        REQUIRE(entries[i].seq == entries[i - 1].seq + 1);
    }
}

TEST_CASE("records older than the age cap are dropped and counted as dropped by age") {
    TempDir dir("spool");
    SpoolOptions options = options_in(dir.path());
    options.max_age = 1h;
    Spool spool(options, "test", quiet(), t0);
    spool.append(std::vector<std::string_view>{"old", "older"}, t0);
    spool.sync(t0 + 30min);
    CHECK(spool.stats().dropped == 0);
    spool.sync(t0 + 61min);
    CHECK(spool.stats().dropped == 2);
    CHECK(spool.stats().dropped_age == 2);
    CHECK(spool.append("new", t0 + 61min) == 3);
    CHECK(payloads(spool.read(10, 1 << 20)) == std::vector<std::string>{"new"});
}

TEST_CASE("delivered segments are deleted, so a healthy spool stays small") {
    TempDir dir("spool");
    SpoolOptions options = options_in(dir.path());
    options.segment_bytes = 4096;
    options.sync_interval = 0ms;
    Spool spool(options, "test", quiet(), t0);
    const std::string payload(200, 'y');
    for (int i = 0; i < 500; ++i) {
        const auto seq = spool.append(payload, t0);
        REQUIRE(spool.read(10, 1 << 20).size() == 1);
        spool.ack(seq);
    }
    spool.sync(t0);
    CHECK(segment_files(dir.path()).size() <= 2);
    CHECK(spool.stats().bytes <= 2 * 4096 + 256);
    CHECK(spool.stats().pending == 0);
}

TEST_CASE("a spool directory that cannot be created stops start-up with the path") {
    TempDir dir("spool");
    const fs::path file = dir.path() / "not-a-directory";
    std::ofstream(file) << "x";
    CHECK_THROWS_WITH(Spool(options_in(file / "spool"), "test", quiet(), t0),
                      Catch::Contains("not-a-directory"));
}

TEST_CASE("after the size cap dropped records, reading starts at the oldest record kept") {
    TempDir dir("spool");
    SpoolOptions options = options_in(dir.path());
    options.max_bytes = 64 * 1024;
    options.segment_bytes = 8 * 1024;
    Spool spool(options, "test", quiet(), t0);
    const std::string payload(40, 'z');
    spool.append(std::vector<std::string_view>(3000, payload), t0);
    const std::uint64_t dropped = spool.stats().dropped;
    REQUIRE(dropped > 0);
    const auto entries = spool.read(10, 1 << 20);
    REQUIRE(entries.size() == 10);
    CHECK(entries.front().seq == dropped + 1);
}
