// Secrets never reach greenrackd's output: the MQTT password, the InfluxDB password and token
// and the TLS key password, at --log-level trace, through successful connects and every kind
// of failure the daemon logs (a refused password, nothing listening, an unreachable InfluxDB),
// and through --check-config and --once.

#include "tests/integration/mqtt_test_support.hpp"
#include "tests/integration/site_harness.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/mosquitto_broker.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <functional>
#include <vector>

using namespace greenrack::test;
using namespace std::chrono_literals;

namespace {

// Distinctive values, so that any occurrence in the output is a leak.
const std::string mqtt_password = "mqttPw-7Qx2Lk9V";
const std::string wrong_mqtt_password = "wrongPw-3Hd8Rt1Z";
const std::string influx_password = "influxPw-5Nc4Wq8E";
const std::string influx_token = "influxTok-9Bv6Ty2U";
const std::string key_password = "keyPw-2Mz7Pa4S";
const std::vector<std::string> secrets = {mqtt_password, wrong_mqtt_password, influx_password,
                                          influx_token, key_password};

std::string quoted(const std::filesystem::path& path) {
    return "\"" + path.string() + "\"";
}

// Every secret that occurs in `output` (expected: none).
std::vector<std::string> leaked(const std::string& output) {
    std::vector<std::string> found;
    for (const auto& secret : secrets) {
        if (output.find(secret) != std::string::npos) {
            found.push_back(secret);
        }
    }
    return found;
}

// Runs the daemon on the harness config at trace level for `duration`, stops it and returns
// stdout + stderr.
std::string run_daemon(SiteHarness& site, std::chrono::milliseconds duration,
                       const std::function<bool(const Process&)>& done) {
    auto daemon = site.start_daemon({"--log-level", "trace"});
    wait_until([&] { return done(*daemon); }, duration);
    daemon->stop(SIGTERM, 10s);
    return daemon->out() + daemon->err();
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("secrets: passwords, tokens and key passwords never appear in greenrackd's output, "
          "on success or failure",
          "[secrets][mqtt]") {
    SiteHarness site;
    TestPki pki;
    pki.issue("server", "localhost", "IP:127.0.0.1,DNS:localhost");
    pki.issue("client", "greenrackd-it");
    const auto encrypted_key = pki.encrypt_key("client", key_password);
    const auto passwd = pki.dir() / "passwd";
    pki.run("mosquitto_passwd", {"-c", "-b", passwd.string(), "greenrack", mqtt_password});
    pki.write("passwd", read_file(passwd));
    MosquittoOptions options;
    options.name = "mosquitto-password";
    options.config = "allow_anonymous false\npassword_file " + passwd.string() + "\n";
    MosquittoBroker broker(site.dir(), options);

    const auto mqtt_pass = pki.write("mqtt.pass", mqtt_password + "\n");
    const auto wrong_pass = pki.write("wrong.pass", wrong_mqtt_password + "\n");
    const auto influx_pass = pki.write("influx.pass", influx_password + "\n");
    const auto token_file = pki.write("influx.token", influx_token + "\n");
    const std::string closed_url = "http://127.0.0.1:" + std::to_string(free_port());
    const auto metrics_port = free_port();

    SECTION("the right MQTT password (plain TCP), InfluxDB v1 with a password, unreachable") {
        write_daemon_config(
            site,
            "uri = \"" + broker.uri() +
                "\"\nusername = \"greenrack\"\npassword_file = " + quoted(mqtt_pass) + "\n",
            metrics_port,
            "[influxdb]\nenabled = true\nurl = \"" + closed_url +
                "\"\nusername = \"writer\"\npassword_file = " + quoted(influx_pass) +
                "\nflush_interval = \"100ms\"\n"
                "retry_min = \"100ms\"\nretry_max = \"200ms\"\n");
        const std::string output = run_daemon(site, 20s, [](const Process& daemon) {
            const std::string err = daemon.err();
            return contains(err, "mqtt: connected to") && contains(err, "InfluxDB: write failed");
        });
        INFO(output);
        CHECK(contains(output, "mqtt: connected to " + broker.uri()));
        CHECK(contains(output, "goes to " + broker.uri() + " unencrypted")); // the TCP warning
        CHECK(contains(output, "InfluxDB: write failed"));
        CHECK(contains(output, "&p=***")); // the masked query string
        CHECK(leaked(output) == std::vector<std::string>{});

        const RunResult check =
            run_program(GREENRACKD_BIN, {"--config", site.config_path().string(), "--check-config",
                                         "--log-level", "trace"});
        CHECK(check.status == 0);
        CHECK(leaked(check.out + check.err) == std::vector<std::string>{});
        const RunResult once = run_program(GREENRACKD_BIN, {"--config", site.config_path().string(),
                                                            "--once", "--log-level", "trace"});
        CHECK(once.status == 0);
        CHECK(leaked(once.out + once.err) == std::vector<std::string>{});
    }

    SECTION("a refused MQTT password, InfluxDB v2 with a token, unreachable") {
        write_daemon_config(
            site,
            "uri = \"" + broker.uri() +
                "\"\nusername = \"greenrack\"\npassword_file = " + quoted(wrong_pass) + "\n",
            metrics_port,
            "[influxdb]\nenabled = true\nurl = \"" + closed_url +
                "\"\napi = \"v2\"\norg = \"dc\"\nbucket = \"greenrack\"\n"
                "token_file = " +
                quoted(token_file) +
                "\nflush_interval = \"100ms\"\nretry_min = \"100ms\"\n"
                "retry_max = \"200ms\"\n");
        const std::string output = run_daemon(site, 20s, [](const Process& daemon) {
            const std::string err = daemon.err();
            return contains(err, "not authorized") && contains(err, "InfluxDB: write failed");
        });
        INFO(output);
        CHECK(contains(output, "broker refused the connection: not authorized"));
        CHECK(contains(output, "InfluxDB: write failed"));
        CHECK(leaked(output) == std::vector<std::string>{});
    }

    SECTION("TLS with an encrypted client key and a password, nothing listening") {
        write_daemon_config(site,
                            "uri = \"ssl://127.0.0.1:" + std::to_string(free_port()) +
                                "\"\nca_file = " + quoted(pki.ca_cert()) +
                                "\ncert_file = " + quoted(pki.cert("client")) +
                                "\nkey_file = " + quoted(encrypted_key) +
                                "\nkey_password_file = " + quoted(pki.dir() / "client.pass") +
                                "\nusername = \"greenrack\"\npassword_file = " + quoted(mqtt_pass) +
                                "\n",
                            metrics_port);
        const std::string output = run_daemon(site, 15s, [](const Process& daemon) {
            return contains(daemon.err(), "mqtt: connect to ssl://");
        });
        INFO(output);
        CHECK(contains(output, "TCP connect or TLS handshake failed"));
        CHECK(leaked(output) == std::vector<std::string>{});
    }

    SECTION("TLS with an encrypted client key and a password against a TLS broker") {
        MosquittoOptions tls;
        tls.name = "mosquitto-tls";
        tls.scheme = "ssl";
        tls.config = "cafile " + pki.ca_cert().string() + "\ncertfile " +
                     pki.cert("server").string() + "\nkeyfile " + pki.key("server").string() +
                     "\nrequire_certificate true\nallow_anonymous false\npassword_file " +
                     passwd.string() + "\n";
        MosquittoBroker tls_broker(site.dir(), tls);
        write_daemon_config(
            site,
            "uri = \"" + tls_broker.uri() + "\"\nca_file = " + quoted(pki.ca_cert()) +
                "\ncert_file = " + quoted(pki.cert("client")) +
                "\nkey_file = " + quoted(encrypted_key) +
                "\nkey_password_file = " + quoted(pki.dir() / "client.pass") +
                "\nusername = \"greenrack\"\npassword_file = " + quoted(mqtt_pass) + "\n",
            metrics_port);
        const std::string output = run_daemon(site, 15s, [&](const Process& daemon) {
            return contains(daemon.err(), "mqtt: connected to " + tls_broker.uri());
        });
        INFO(output);
        CHECK(contains(output, "mqtt: connected to " + tls_broker.uri()));
        CHECK(leaked(output) == std::vector<std::string>{});
    }
}
