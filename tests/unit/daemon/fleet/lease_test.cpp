#include "daemon/fleet/lease.hpp"

#include <catch2/catch.hpp>

using namespace greenrack;
using fleet::Lease;
using fleet::LeaseRecord;

namespace {

constexpr std::int64_t ttl = 6000;
constexpr std::int64_t renew = 2000;
constexpr std::int64_t settle = 1000;

// Every instance sees every record in the same order (one broker, one topic).
void broadcast(std::initializer_list<Lease*> instances, const LeaseRecord& record,
               std::int64_t now) {
    for (Lease* lease : instances) {
        lease->observe(record, now);
    }
}

} // namespace

TEST_CASE("a lone aggregator claims the free lease and is active once its claim settled",
          "[fleet]") {
    Lease a("agg-a", ttl, renew, settle);
    auto claim = a.poll(0, -1);
    REQUIRE(claim);
    CHECK(claim->holder == "agg-a");
    CHECK(claim->epoch == 1);
    CHECK(claim->expires_ms == ttl);
    CHECK_FALSE(a.active(0)); // not before its claim came back
    a.observe(*claim, 10);
    CHECK_FALSE(a.active(500)); // settling
    CHECK(a.active(1010));
    CHECK_FALSE(a.poll(1010, -1)); // renews every 2 s, not sooner
    auto renewal = a.poll(2000, 15'000);
    REQUIRE(renewal);
    CHECK(renewal->epoch == 1);
    CHECK(renewal->expires_ms == 2000 + ttl);
    CHECK(renewal->last_tick_ms == 15'000);
}

TEST_CASE("the standby takes over once the active one's lease expired", "[fleet]") {
    Lease a("agg-a", ttl, renew, settle);
    Lease b("agg-b", ttl, renew, settle);
    auto claim = a.poll(0, -1);
    broadcast({&a, &b}, *claim, 0);
    CHECK_FALSE(b.poll(100, -1)); // held by a
    for (std::int64_t t = 2000; t <= 10'000; t += 2000) {
        if (auto renewal = a.poll(t, t)) {
            broadcast({&a, &b}, *renewal, t);
        }
        CHECK(a.active(t));
        CHECK_FALSE(b.active(t));
        CHECK_FALSE(b.poll(t + 1, -1));
    }
    // a stops without a word at 10 s: its last renewal expires at 16 s.
    CHECK_FALSE(b.poll(15'999, -1));
    auto takeover = b.poll(16'000, -1);
    REQUIRE(takeover);
    CHECK(takeover->epoch == 2);
    b.observe(*takeover, 16'010);
    CHECK(b.active(17'010));
    CHECK(b.last_published_tick_ms() == 10'000); // from a's last renewal
}

TEST_CASE("an active aggregator whose renewals stop coming back steps down before expiry",
          "[fleet]") {
    Lease a("agg-a", ttl, renew, settle);
    auto claim = a.poll(0, -1);
    a.observe(*claim, 0);
    CHECK(a.active(1000));
    // Cut off from the broker: nothing comes back. It stops publishing before ttl passes, so a
    // standby claiming at expiry never overlaps with it.
    CHECK(a.active(ttl - renew / 2 - 1));
    CHECK_FALSE(a.active(ttl - renew / 2));
}

TEST_CASE("competing claims of one epoch: the smallest name wins whatever the order", "[fleet]") {
    Lease a("agg-a", ttl, renew, settle);
    Lease b("agg-b", ttl, renew, settle);
    auto claim_b = b.poll(0, -1);
    auto claim_a = a.poll(0, -1);
    REQUIRE(claim_a);
    REQUIRE(claim_b);
    // b's claim reaches the broker first.
    broadcast({&a, &b}, *claim_b, 5);
    broadcast({&a, &b}, *claim_a, 6);
    CHECK(a.active(1006));
    CHECK_FALSE(b.active(1006));
    CHECK(b.current()->holder == "agg-a");
    // A newcomer that first sees the loser's retained claim follows the winner's renewal.
    Lease c("agg-c", ttl, renew, settle);
    c.observe(*claim_b, 100);
    auto renewal = a.poll(2000, -1);
    REQUIRE(renewal);
    c.observe(*renewal, 2000);
    CHECK(c.current()->holder == "agg-a");
}

TEST_CASE("a clean stop releases the lease and the standby takes over at once", "[fleet]") {
    Lease a("agg-a", ttl, renew, settle);
    Lease b("agg-b", ttl, renew, settle);
    broadcast({&a, &b}, *a.poll(0, -1), 0);
    auto release = a.release(45'000);
    REQUIRE(release);
    CHECK(release->expires_ms == 0);
    broadcast({&a, &b}, *release, 3000);
    CHECK_FALSE(a.active(3000));
    auto takeover = b.poll(3001, -1);
    REQUIRE(takeover);
    CHECK(takeover->epoch == 2);
    CHECK(b.last_published_tick_ms() == 45'000);
    CHECK_FALSE(b.release(0)); // b does not hold it yet... until its claim is seen
    broadcast({&a, &b}, *takeover, 3002);
    CHECK(b.active(4002));
    CHECK_FALSE(a.poll(4002, -1)); // a stays out while b's lease runs
}

TEST_CASE("late records of an older epoch are ignored", "[fleet]") {
    Lease b("agg-b", ttl, renew, settle);
    b.observe(LeaseRecord{"agg-b", 5, 20'000, -1}, 0);
    b.observe(LeaseRecord{"agg-a", 4, 30'000, -1}, 1);
    CHECK(b.current()->holder == "agg-b");
    CHECK(b.current()->epoch == 5);
    CHECK(b.active(1001));
}

TEST_CASE("lease records round-trip, empty or malformed payloads are no record", "[fleet]") {
    const LeaseRecord record{"agg-a", 3, 1'800'000'006'000, 1'800'000'000'000};
    CHECK(fleet::decode_lease(fleet::encode_lease(record)) == record);
    CHECK_FALSE(fleet::decode_lease(""));
    CHECK_FALSE(fleet::decode_lease("{}"));
    CHECK_FALSE(fleet::decode_lease("not json"));
}
