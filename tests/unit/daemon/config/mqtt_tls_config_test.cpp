// [mqtt] TLS options: defaults, relative paths, and every misuse refused at file:line:column
// before anything is opened. The loader checks the PEM markers only (the files here are not
// real certificates; the integration test mqtt_tls_test uses real ones).
#include "daemon/config/config.hpp"

#include "drivers/common/config_error.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using greenrack::common::ConfigError;
using greenrack::config::Config;
using greenrack::config::load_config;

namespace {

const std::string certificate_pem =
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const std::string key_pem = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
const std::string encrypted_key_pem =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n-----END ENCRYPTED PRIVATE KEY-----\n";

class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "greenrack-tls-config-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            FAIL("mkdtemp failed");
        }
        path_ = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }
    fs::path write(const std::string& name, const std::string& text) const {
        const fs::path file = path_ / name;
        fs::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        return file;
    }

private:
    fs::path path_;
};

// A loadable site around the given [mqtt] body (one device of a fixture profile).
std::string site_with_mqtt(const std::string& mqtt) {
    return "[site]\nid = \"t\"\n[daemon]\nprofile_dirs = [\"" +
           (fs::path(GREENRACK_FIXTURES_DIR) / "config" / "profiles").string() + "\"]\n[mqtt]\n" +
           mqtt +
           "[[bus]]\nid = \"b\"\nhost = \"localhost\"\n[[device]]\nid = \"pdu-1\"\nbus = "
           "\"b\"\nunit_id = 1\nprofile = \"test_pdu_4\"\n";
}

// "[site]...[mqtt]" header whose [mqtt] body starts on line 4.
std::string mqtt_only(const std::string& mqtt) {
    return "[site]\nid = \"t\"\n[mqtt]\n" + mqtt;
}

// The message of the ConfigError loading `text` throws, without the "<file>:" prefix.
std::string error_of(const TempDir& dir, const std::string& text) {
    const fs::path file = dir.write("greenrack.toml", text);
    try {
        load_config(file);
    } catch (const ConfigError& error) {
        const std::string message = error.what();
        REQUIRE(message.rfind(file.string() + ":", 0) == 0);
        return message.substr(file.string().size() + 1);
    }
    return "";
}

} // namespace

TEST_CASE("mqtt tls: files, key password and hostname verification are read from [mqtt]",
          "[config][mqtt][tls]") {
    TempDir dir;
    dir.write("pki/ca.crt", certificate_pem);
    dir.write("pki/client.crt", certificate_pem);
    dir.write("pki/client.key", encrypted_key_pem);
    dir.write("pki/key.pass", "k3y-pass\n");
    const Config config = load_config(
        dir.write("greenrack.toml", site_with_mqtt("uri = \"mqtts://broker.example:8883\"\n"
                                                   "ca_file = \"pki/ca.crt\"\n"
                                                   "cert_file = \"pki/client.crt\"\n"
                                                   "key_file = \"pki/client.key\"\n"
                                                   "key_password_file = \"pki/key.pass\"\n")));
    CHECK(config.mqtt.tls);
    CHECK(config.mqtt.ca_file == dir.path() / "pki" / "ca.crt");
    CHECK(config.mqtt.cert_file == dir.path() / "pki" / "client.crt");
    CHECK(config.mqtt.key_file == dir.path() / "pki" / "client.key");
    CHECK(config.mqtt.key_password == "k3y-pass");
    CHECK(config.mqtt.verify_hostname);
}

TEST_CASE("mqtt tls: an ssl:// URI alone uses the system trust store and verifies the host name",
          "[config][mqtt][tls]") {
    TempDir dir;
    const Config config = load_config(
        dir.write("greenrack.toml", site_with_mqtt("uri = \"ssl://broker.example:8883\"\n")));
    CHECK(config.mqtt.tls);
    CHECK(config.mqtt.ca_file.empty());
    CHECK(config.mqtt.cert_file.empty());
    CHECK(config.mqtt.key_password.empty());
    CHECK(config.mqtt.verify_hostname);
}

TEST_CASE("mqtt tls: a certificate file holding its key, and verify_hostname = false",
          "[config][mqtt][tls]") {
    TempDir dir;
    dir.write("client.pem", certificate_pem + key_pem);
    const Config config = load_config(
        dir.write("greenrack.toml", site_with_mqtt("uri = \"wss://broker.example:443/mqtt\"\n"
                                                   "cert_file = \"client.pem\"\n"
                                                   "verify_hostname = false\n")));
    CHECK(config.mqtt.tls);
    CHECK(config.mqtt.key_file.empty());
    CHECK_FALSE(config.mqtt.verify_hostname);
}

TEST_CASE("mqtt tls: a plain tcp:// URI is not TLS", "[config][mqtt][tls]") {
    TempDir dir;
    const Config config = load_config(dir.write("greenrack.toml", site_with_mqtt("")));
    CHECK_FALSE(config.mqtt.tls);
}

TEST_CASE("mqtt tls: TLS options with a tcp:// or mqtt:// URI are refused at the option",
          "[config][mqtt][tls][error]") {
    TempDir dir;
    dir.write("ca.crt", certificate_pem);
    CHECK(error_of(dir, mqtt_only("uri = \"tcp://127.0.0.1:1883\"\nca_file = \"ca.crt\"\n")) ==
          "5:11: mqtt.ca_file: only valid with a TLS broker URI (ssl://, mqtts:// or wss://), "
          "but mqtt.uri is \"tcp://127.0.0.1:1883\"");
    CHECK(error_of(dir, mqtt_only("uri = \"mqtt://127.0.0.1:1883\"\nverify_hostname = false\n")) ==
          "5:19: mqtt.verify_hostname: only valid with a TLS broker URI (ssl://, mqtts:// or "
          "wss://), but mqtt.uri is \"mqtt://127.0.0.1:1883\"");
    // The default URI is tcp:// too.
    CHECK(error_of(dir, mqtt_only("cert_file = \"ca.crt\"\n")) ==
          "4:13: mqtt.cert_file: only valid with a TLS broker URI (ssl://, mqtts:// or wss://), "
          "but mqtt.uri is \"tcp://127.0.0.1:1883\"");
}

TEST_CASE("mqtt tls: missing, unreadable, empty-named or non-PEM files are refused",
          "[config][mqtt][tls][error]") {
    TempDir dir;
    const std::string uri = "uri = \"ssl://127.0.0.1:8883\"\n";
    CHECK(error_of(dir, mqtt_only(uri + "ca_file = \"missing.crt\"\n")) ==
          "5:11: mqtt.ca_file: cannot read \"" + (dir.path() / "missing.crt").string() +
              "\": No such file or directory");
    CHECK(error_of(dir, mqtt_only(uri + "ca_file = \"\"\n")) ==
          "5:11: mqtt.ca_file: must not be empty (leave it out instead)");
    fs::create_directories(dir.path() / "certs");
    CHECK(error_of(dir, mqtt_only(uri + "ca_file = \"certs\"\n")) ==
          "5:11: mqtt.ca_file: cannot read \"" + (dir.path() / "certs").string() +
              "\": is a directory");
    CHECK(error_of(dir, mqtt_only(uri + "ca_file = \"/dev/zero\"\n")) ==
          "5:11: mqtt.ca_file: cannot read \"/dev/zero\": not a regular file");
    dir.write("huge.pem", std::string(2 << 20, 'A'));
    CHECK(error_of(dir, mqtt_only(uri + "ca_file = \"huge.pem\"\n")) ==
          "5:11: mqtt.ca_file: cannot read \"" + (dir.path() / "huge.pem").string() +
              "\": larger than 1048576 bytes");
    dir.write("ca.der", std::string("\x30\x82\x01\x0a", 4));
    CHECK(error_of(dir, mqtt_only(uri + "ca_file = \"ca.der\"\n")) ==
          "5:11: mqtt.ca_file: \"" + (dir.path() / "ca.der").string() +
              "\" is not a PEM file (no \"-----BEGIN\" line)");
    dir.write("only-key.pem", key_pem);
    CHECK(error_of(dir, mqtt_only(uri + "ca_file = \"only-key.pem\"\n")) ==
          "5:11: mqtt.ca_file: \"" + (dir.path() / "only-key.pem").string() +
              "\" holds no certificate");
    if (geteuid() != 0) { // root reads anything
        const fs::path locked = dir.write("locked.crt", certificate_pem);
        fs::permissions(locked, fs::perms::none);
        CHECK(error_of(dir, mqtt_only(uri + "ca_file = \"locked.crt\"\n")) ==
              "5:11: mqtt.ca_file: cannot read \"" + locked.string() + "\": Permission denied");
    }
}

TEST_CASE("mqtt tls: client certificate and key must go together and be what they claim",
          "[config][mqtt][tls][error]") {
    TempDir dir;
    const std::string uri = "uri = \"ssl://127.0.0.1:8883\"\n";
    dir.write("client.crt", certificate_pem);
    dir.write("client.key", key_pem);
    dir.write("client-enc.key", encrypted_key_pem);
    dir.write("key.pass", "secret\n");
    CHECK(error_of(dir, mqtt_only(uri + "key_file = \"client.key\"\n")) ==
          "5:12: mqtt.key_file: a client key needs its certificate (mqtt.cert_file)");
    CHECK(error_of(dir, mqtt_only(uri + "cert_file = \"client.crt\"\n")) ==
          "5:13: mqtt.cert_file: \"" + (dir.path() / "client.crt").string() +
              "\" holds no private key: set mqtt.key_file");
    CHECK(
        error_of(dir, mqtt_only(uri + "cert_file = \"client.key\"\nkey_file = \"client.key\"\n")) ==
        "5:13: mqtt.cert_file: \"" + (dir.path() / "client.key").string() +
            "\" holds no certificate");
    CHECK(
        error_of(dir, mqtt_only(uri + "cert_file = \"client.crt\"\nkey_file = \"client.crt\"\n")) ==
        "6:12: mqtt.key_file: \"" + (dir.path() / "client.crt").string() +
            "\" holds no private key");
    CHECK(error_of(dir, mqtt_only(uri +
                                  "cert_file = \"client.crt\"\nkey_file = \"client-enc.key\"\n")) ==
          "6:12: mqtt.key_file: the client key is encrypted: set mqtt.key_password_file");
    CHECK(error_of(dir, mqtt_only(uri + "cert_file = \"client.crt\"\nkey_file = \"client.key\"\n"
                                        "key_password_file = \"key.pass\"\n")) ==
          "7:21: mqtt.key_password_file: the client key is not encrypted");
    CHECK(error_of(dir, mqtt_only(uri + "key_password_file = \"key.pass\"\n")) ==
          "5:21: mqtt.key_password_file: needs a client key (mqtt.cert_file, mqtt.key_file)");
    CHECK(
        error_of(dir, mqtt_only(uri + "cert_file = \"client.crt\"\nkey_file = \"client-enc.key\"\n"
                                      "key_password_file = \"nope.pass\"\n")) ==
        "7:21: mqtt.key_password_file: cannot read \"" + (dir.path() / "nope.pass").string() +
            "\": No such file or directory");
}

TEST_CASE("mqtt tls: credentials in the broker URI are refused without repeating them",
          "[config][mqtt][error]") {
    TempDir dir;
    const std::string message =
        error_of(dir, mqtt_only("uri = \"ssl://greenrack:hunter2@broker.example:8883\"\n"));
    CHECK(message == "4:7: mqtt.uri: credentials in the broker URI are not supported (they would "
                     "end up in logs): use mqtt.username and mqtt.password_file");
    CHECK(message.find("hunter2") == std::string::npos);
}
