// MQTT over TLS against a real mosquitto with certificates made by openssl at run time: client
// certificates and an ACL, host name verification (and what turning it off does and does not
// allow), a broker signed by another CA, an identity the ACL does not allow to publish, and a
// user name with a password file.

#include "tests/integration/mqtt_test_support.hpp"
#include "tests/integration/site_harness.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/mosquitto_broker.hpp"

#include <catch2/catch.hpp>
#include <csignal>

using namespace greenrack::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string prefix = "greenrack/v1/it/";
const std::string server_san = "IP:127.0.0.1,DNS:localhost";
const std::string key_password = "client-key-pass-4411";

// Client identities (the certificate's CN is the user name at the broker).
const std::string daemon_identity = "greenrackd-it";
const std::string intruder_identity = "greenrackd-intruder";
const std::string subscriber_identity = "greenrack-test-subscriber";

// Both logs, for the context of a failed check (taken after the wait the check depends on).
std::string logs(const Process& daemon, const MosquittoBroker& broker) {
    return "greenrackd:\n" + daemon.err() + "\nmosquitto:\n" + broker.log();
}

std::string quoted(const std::filesystem::path& path) {
    return "\"" + path.string() + "\"";
}

// The daemon may write its own site's topics, the intruder only another site's, and the
// test subscriber may read everything.
std::filesystem::path write_acl(const TestPki& pki) {
    return pki.write("acl", "user " + daemon_identity + "\ntopic write greenrack/v1/it/#\n\n" +
                                "user " + intruder_identity +
                                "\ntopic write greenrack/v1/other/#\n\n" + "user " +
                                subscriber_identity + "\ntopic read greenrack/v1/#\n");
}

// A TLS listener presenting <server>.crt that requires a client certificate signed by `pki`'s
// CA and takes the certificate's CN as the user name, with the ACL above.
MosquittoOptions cert_broker(const TestPki& pki, const TestPki& server_pki,
                             const std::string& server) {
    MosquittoOptions options;
    options.name = "mosquitto-tls";
    options.scheme = "ssl";
    options.config = "cafile " + pki.ca_cert().string() + "\ncertfile " +
                     server_pki.cert(server).string() + "\nkeyfile " +
                     server_pki.key(server).string() +
                     "\nrequire_certificate true\nuse_identity_as_username true\n"
                     "allow_anonymous false\nacl_file " +
                     write_acl(pki).string() + "\nlog_type all\n";
    return options;
}

// [mqtt] lines for the daemon: TLS with the CA and the client certificate `client`.
std::string tls_lines(const MosquittoBroker& broker, const TestPki& pki,
                      const std::string& client) {
    return "uri = \"" + broker.uri() + "\"\nca_file = " + quoted(pki.ca_cert()) +
           "\ncert_file = " + quoted(pki.cert(client)) + "\nkey_file = " + quoted(pki.key(client)) +
           "\n";
}

SubscriberAuth subscriber_auth(const TestPki& pki) {
    SubscriberAuth auth;
    auth.ca_file = pki.ca_cert();
    auth.cert_file = pki.cert("subscriber");
    auth.key_file = pki.key("subscriber");
    return auth;
}

// Issues the daemon's, the intruder's and the subscriber's certificates and two server
// certificates: "server" names 127.0.0.1 and localhost, "wrong" only wrong.example.
void issue_certificates(const TestPki& pki) {
    pki.issue("server", "localhost", server_san);
    pki.issue("wrong", "wrong.example", "DNS:wrong.example");
    pki.issue("client", daemon_identity);
    pki.issue("intruder", intruder_identity);
    pki.issue("subscriber", subscriber_identity);
}

bool wait_for_metric(std::uint16_t port, const std::string& name, double value,
                     std::chrono::milliseconds timeout) {
    return wait_until([&] { return scrape_metric(port, name) == value; }, timeout);
}

bool log_contains(Process& process, const std::string& text, std::chrono::milliseconds timeout) {
    return wait_until([&] { return process.err().find(text) != std::string::npos; }, timeout);
}

} // namespace

TEST_CASE("mqtt tls: the daemon publishes with a client certificate (encrypted key) to a broker "
          "that requires one, within its ACL",
          "[mqtt][tls]") {
    SiteHarness site;
    const TestPki pki;
    issue_certificates(pki);
    MosquittoBroker broker(site.dir(), cert_broker(pki, pki, "server"));
    const auto encrypted_key = pki.encrypt_key("client", key_password);
    const auto metrics_port = free_port();
    write_daemon_config(site,
                        "uri = \"" + broker.uri() + "\"\nca_file = " + quoted(pki.ca_cert()) +
                            "\ncert_file = " + quoted(pki.cert("client")) +
                            "\nkey_file = " + quoted(encrypted_key) +
                            "\nkey_password_file = " + quoted(pki.dir() / "client.pass") + "\n",
                        metrics_port);

    SecureSubscriber subscriber(broker.uri(), prefix + "#", subscriber_auth(pki));
    auto daemon = site.start_daemon();

    const auto state = subscriber.wait_for(prefix + "device/pv-1/state", 20s);
    INFO(logs(*daemon, broker));
    REQUIRE(state.has_value());
    check_matches_snapshot(json::parse(*state), site.snapshot()["devices"]["pv-1"]);
    CHECK(subscriber.wait_for(prefix + "status", 5s) == std::optional<std::string>("online"));
    CHECK(wait_for_metric(metrics_port, "greenrack_self_mqtt_connected", 1, 10s));

    const std::string log = daemon->err();
    CHECK(log.find("host name verification on") != std::string::npos);
    CHECK(log.find("INSECURE") == std::string::npos);
    CHECK(log.find(key_password) == std::string::npos);
    // The broker knows the daemon by its certificate.
    CHECK(broker.log().find("u'" + daemon_identity + "'") != std::string::npos);

    CHECK(daemon->stop(SIGTERM, 10s) == 0);
    CHECK(
        wait_until([&] { return subscriber.wait_for(prefix + "status", 100ms) == "offline"; }, 5s));
}

TEST_CASE("mqtt tls: a broker certificate that does not name the host is refused unless "
          "verify_hostname = false, which warns",
          "[mqtt][tls]") {
    SiteHarness site;
    const TestPki pki;
    issue_certificates(pki);
    // Signed by the right CA, but for wrong.example while the daemon dials 127.0.0.1.
    MosquittoBroker broker(site.dir(), cert_broker(pki, pki, "wrong"));
    const auto metrics_port = free_port();

    {
        write_daemon_config(site, tls_lines(broker, pki, "client"), metrics_port);
        auto daemon = site.start_daemon();
        CHECK(log_contains(*daemon,
                           "TLS host name verification failed: the broker's certificate is not "
                           "issued for 127.0.0.1",
                           15s));
        sleep_ms(1000);
        INFO(logs(*daemon, broker));
        CHECK(daemon->running());
        CHECK(scrape_metric(metrics_port, "greenrack_self_mqtt_connected") == 0.0);
        // The TLS session was dropped before any MQTT CONNECT reached the broker.
        CHECK(broker.log().find("as " + daemon_identity + " (") == std::string::npos);
        CHECK(daemon->stop(SIGTERM, 10s) == 0);
    }
    {
        write_daemon_config(site, tls_lines(broker, pki, "client") + "verify_hostname = false\n",
                            metrics_port);
        auto daemon = site.start_daemon();
        CHECK(wait_for_metric(metrics_port, "greenrack_self_mqtt_connected", 1, 15s));
        INFO(logs(*daemon, broker));
        CHECK(daemon->err().find("INSECURE: TLS host name verification is off") !=
              std::string::npos);
        CHECK(broker.log().find("as " + daemon_identity + " (") != std::string::npos);
        CHECK(daemon->stop(SIGTERM, 10s) == 0);
    }
}

TEST_CASE("mqtt tls: verify_hostname = false still refuses a broker certificate from another CA",
          "[mqtt][tls]") {
    SiteHarness site;
    const TestPki pki;
    issue_certificates(pki);
    TestPki rogue("rogue-ca");
    rogue.issue("server", "localhost", server_san);
    MosquittoBroker broker(site.dir(), cert_broker(pki, rogue, "server"));
    const auto metrics_port = free_port();
    write_daemon_config(site, tls_lines(broker, pki, "client") + "verify_hostname = false\n",
                        metrics_port);

    auto daemon = site.start_daemon();
    CHECK(log_contains(*daemon,
                       "TLS: this client aborted the handshake (unknown CA): the broker's "
                       "certificate is not trusted (mqtt.ca_file)",
                       15s));
    sleep_ms(1000);
    INFO(logs(*daemon, broker));
    CHECK(daemon->running());
    CHECK(scrape_metric(metrics_port, "greenrack_self_mqtt_connected") == 0.0);
    CHECK(broker.log().find("as " + daemon_identity + " (") == std::string::npos);
    CHECK(daemon->stop(SIGTERM, 10s) == 0);
}

TEST_CASE("mqtt tls: an identity the ACL does not let publish gets nothing through and the "
          "daemon keeps running",
          "[mqtt][tls]") {
    SiteHarness site;
    const TestPki pki;
    issue_certificates(pki);
    MosquittoBroker broker(site.dir(), cert_broker(pki, pki, "server"));
    const auto metrics_port = free_port();
    // A valid certificate, but for an identity that may only write another site's topics.
    write_daemon_config(site, tls_lines(broker, pki, "intruder"), metrics_port);

    SecureSubscriber subscriber(broker.uri(), "greenrack/v1/#", subscriber_auth(pki));
    auto daemon = site.start_daemon();
    // MQTT 3.1.1 has no negative PUBACK: the broker drops the messages (and logs it).
    CHECK(wait_until(
        [&] { return broker.log().find("Denied PUBLISH from greenrackd-it") != std::string::npos; },
        20s));
    INFO(logs(*daemon, broker));
    CHECK(wait_for_metric(metrics_port, "greenrack_self_mqtt_connected", 1, 10s));
    sleep_ms(2000);
    CHECK(daemon->running());
    CHECK(log_contains(*daemon, "mqtt: connected to " + broker.uri(), 1s));
    CHECK(daemon->stop(SIGTERM, 10s) == 0);
    sleep_ms(500);
    CHECK(subscriber.total() == 0);
}

TEST_CASE("mqtt tls: user name and password_file over TLS are accepted, a wrong password is "
          "refused and logged",
          "[mqtt][tls]") {
    SiteHarness site;
    const TestPki pki;
    issue_certificates(pki);
    const std::string password = "broker-pass-8812";
    const auto passwd = pki.dir() / "passwd";
    pki.run("mosquitto_passwd", {"-c", "-b", passwd.string(), "greenrack", password});
    pki.run("mosquitto_passwd", {"-b", passwd.string(), "reader", "reader-pass"});
    pki.write("passwd", read_file(passwd)); // world-readable for the broker
    const auto acl = pki.write("acl-users", "user greenrack\ntopic write greenrack/v1/it/#\n\n"
                                            "user reader\ntopic read greenrack/v1/#\n");
    MosquittoOptions options;
    options.name = "mosquitto-users";
    options.scheme = "ssl";
    options.config = "certfile " + pki.cert("server").string() + "\nkeyfile " +
                     pki.key("server").string() + "\nallow_anonymous false\npassword_file " +
                     passwd.string() + "\nacl_file " + acl.string() + "\n";
    MosquittoBroker broker(site.dir(), options);
    const auto metrics_port = free_port();
    const auto mqtt_lines = [&](const std::filesystem::path& password_file) {
        return "uri = \"" + broker.uri() + "\"\nca_file = " + quoted(pki.ca_cert()) +
               "\nusername = \"greenrack\"\npassword_file = " + quoted(password_file) + "\n";
    };

    {
        write_daemon_config(site, mqtt_lines(pki.write("mqtt.pass", password + "\n")),
                            metrics_port);
        SubscriberAuth auth;
        auth.ca_file = pki.ca_cert();
        auth.username = "reader";
        auth.password = "reader-pass";
        SecureSubscriber subscriber(broker.uri(), prefix + "#", auth);
        auto daemon = site.start_daemon();
        const auto state = subscriber.wait_for(prefix + "device/battery-1/state", 20s);
        INFO(logs(*daemon, broker));
        REQUIRE(state.has_value());
        check_matches_snapshot(json::parse(*state), site.snapshot()["devices"]["battery-1"]);
        CHECK(daemon->err().find(password) == std::string::npos);
        CHECK(daemon->stop(SIGTERM, 10s) == 0);
    }
    {
        write_daemon_config(site, mqtt_lines(pki.write("wrong.pass", "not-the-password")),
                            metrics_port);
        auto daemon = site.start_daemon();
        const bool refused =
            log_contains(*daemon, "broker refused the connection: not authorized", 15s);
        INFO(logs(*daemon, broker));
        CHECK(refused);
        CHECK(wait_for_metric(metrics_port, "greenrack_self_mqtt_connected", 0, 5s));
        CHECK(daemon->running());
        CHECK(daemon->err().find("not-the-password") == std::string::npos);
        CHECK(daemon->stop(SIGTERM, 10s) == 0);
    }
}
