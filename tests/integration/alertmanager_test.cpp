// The Alertmanager sink against a real Prometheus Alertmanager 0.25 (Debian's
// prometheus-alertmanager) on a free 127.0.0.1 port: what the sink fires and resolves is what
// GET /api/v2/alerts shows.

#include "daemon/sinks/alertmanager_json.hpp"
#include "daemon/sinks/alertmanager_sink.hpp"
#include "tests/support/alertmanager.hpp"
#include "tests/support/process.hpp"

#include <catch2/catch.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

using namespace greenrack;
using namespace std::chrono_literals;
using sinks::AlertmanagerSink;
using sinks::AmAlert;
using test::Alertmanager;
using test::TempDir;
using test::wait_until;

namespace {

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
    std::shared_ptr<StringSink> sink;
    std::shared_ptr<spdlog::logger> logger;
};

config::AlertmanagerConfig sink_config(const Alertmanager& alertmanager) {
    config::AlertmanagerConfig config;
    config.enabled = true;
    config.urls = {alertmanager.url()};
    config.resend_interval = 1s;
    config.timeout = 2s;
    config.retry_min = 100ms;
    config.retry_max = 500ms;
    config.generator_url = "http://greenrack.test/d/site";
    return config;
}

std::int64_t unix_ms_ago(std::chrono::seconds ago) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               (std::chrono::system_clock::now() - ago).time_since_epoch())
        .count();
}

AmAlert rack_alert(const std::string& rack, std::int64_t starts_at_ms) {
    AmAlert alert;
    alert.labels = {{"alertname", "RackNonGreen"},
                    {"severity", "warning"},
                    {"site", "demo"},
                    {"scope", "rack"},
                    {"subject", rack},
                    {"rack", rack}};
    alert.annotations = {{"summary", "rack " + rack + " runs on grid power"},
                         {"description", "non-green power above 2 kW for 5 min, \"say\"\n机架"}};
    alert.starts_at_ms = starts_at_ms;
    return alert;
}

// The alert with label rack=`rack` in a GET /api/v2/alerts answer (null when absent).
nlohmann::json find_rack(const nlohmann::json& alerts, const std::string& rack) {
    for (const auto& alert : alerts) {
        if (alert["labels"].value("rack", "") == rack) {
            return alert;
        }
    }
    return nullptr;
}

} // namespace

TEST_CASE("alertmanager shows fired alerts until they are resolved and keeps resent ones active",
          "[alertmanager]") {
    TempDir dir("greenrack-alertmanager");
    Alertmanager alertmanager(dir.path());
    CapturedLog log;
    AlertmanagerSink sink(sink_config(alertmanager), log.logger);
    sink.start();

    const std::int64_t base = unix_ms_ago(120s);
    const std::int64_t started = base - base % 1000 + 123; // milliseconds that show
    sink.fire(rack_alert("r07", started));
    sink.fire(rack_alert("r08", started + 1000));
    REQUIRE(wait_until([&] { return alertmanager.get_alerts(true).size() == 2; }, 20s));

    const auto alerts = alertmanager.get_alerts(true);
    const auto r07 = find_rack(alerts, "r07");
    REQUIRE(r07.is_object());
    CHECK(r07["labels"] == nlohmann::json::parse(R"({"alertname": "RackNonGreen",
        "severity": "warning", "site": "demo", "scope": "rack", "subject": "r07",
        "rack": "r07"})"));
    CHECK(r07["annotations"]["summary"] == "rack r07 runs on grid power");
    CHECK(r07["annotations"]["description"] ==
          "non-green power above 2 kW for 5 min, \"say\"\n机架");
    CHECK(r07["startsAt"] == sinks::format_rfc3339_ms(started));
    CHECK(r07["generatorURL"] == "http://greenrack.test/d/site");
    CHECK(r07["status"]["state"] == "active");
    const auto r08 = find_rack(alerts, "r08");
    REQUIRE(r08.is_object());
    CHECK(r08["startsAt"] == sinks::format_rfc3339_ms(started + 1000));

    // Resolved: Alertmanager lists it no more.
    AmAlert resolved;
    resolved.labels = rack_alert("r07", 0).labels;
    sink.resolve(resolved);
    REQUIRE(
        wait_until([&] { return find_rack(alertmanager.get_alerts(true), "r07").is_null(); }, 20s));
    CHECK(find_rack(alertmanager.get_alerts(false), "r07").is_null());

    // r08 is re-sent (updatedAt moves on), stays active with its first startsAt.
    const auto first_update = r08["updatedAt"];
    REQUIRE(wait_until(
        [&] {
            const auto now = find_rack(alertmanager.get_alerts(true), "r08");
            return now.is_object() && now["updatedAt"] != first_update;
        },
        20s));
    const auto later = find_rack(alertmanager.get_alerts(true), "r08");
    REQUIRE(later.is_object());
    CHECK(later["status"]["state"] == "active");
    CHECK(later["startsAt"] == sinks::format_rfc3339_ms(started + 1000));
    CHECK(sink.stats().posts_failed == 0);
    CHECK(sink.stats().alerts_rejected == 0);
    CHECK(sink.stats().firing == 1);
    sink.stop(2s);
}

TEST_CASE("alertmanager restarted gets the firing alerts again from the sink", "[alertmanager]") {
    TempDir dir("greenrack-alertmanager");
    Alertmanager alertmanager(dir.path());
    CapturedLog log;
    AlertmanagerSink sink(sink_config(alertmanager), log.logger);
    sink.start();
    const std::int64_t started = unix_ms_ago(60s);
    sink.fire(rack_alert("r01", started));
    REQUIRE(wait_until([&] { return alertmanager.get_alerts(true).size() == 1; }, 20s));

    alertmanager.stop(); // it keeps no alerts across restarts
    REQUIRE(wait_until([&] { return sink.stats().posts_failed >= 1; }, 20s));
    alertmanager.start();
    REQUIRE(wait_until([&] { return !find_rack(alertmanager.get_alerts(true), "r01").is_null(); },
                       20s));
    CHECK(find_rack(alertmanager.get_alerts(true), "r01")["startsAt"] ==
          sinks::format_rfc3339_ms(started));
    sink.stop(2s);
}

TEST_CASE("alertmanager refusal of an invalid label name is logged and counted", "[alertmanager]") {
    TempDir dir("greenrack-alertmanager");
    Alertmanager alertmanager(dir.path());
    CapturedLog log;
    AlertmanagerSink sink(sink_config(alertmanager), log.logger);
    sink.start();
    AmAlert bad = rack_alert("r01", unix_ms_ago(10s));
    bad.labels["bad-name"] = "x"; // the caller's job to avoid: shows what Alertmanager does
    sink.fire(bad);
    REQUIRE(wait_until([&] { return sink.stats().alerts_rejected == 1; }, 20s));
    CHECK(wait_until(
        [&] { return log.sink->text().find("invalid name \"bad-name\"") != std::string::npos; },
        5s));
    CHECK(sink.stats().posts_failed == 1);
    CHECK(alertmanager.get_alerts(false).empty());
    sink.stop(2s);
}
