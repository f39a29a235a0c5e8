#include "daemon/sinks/mqtt_connect_options.hpp"

#include <mqtt/connect_options.h>
#include <mqtt/ssl_options.h>

namespace greenrack::sinks {

void apply_auth_and_tls(mqtt::connect_options_builder& builder, const config::MqttConfig& config,
                        spdlog::logger& logger, std::string_view who) {
    if (!config.username.empty()) {
        builder.user_name(config.username);
        builder.password(config.password);
        if (!config.tls && !config.password.empty()) {
            logger.warn("{}: the password for user {} goes to {} unencrypted; use an ssl:// or "
                        "mqtts:// broker URI (see [mqtt] in the reference config)",
                        who, config.username, config.uri);
        }
    }
    if (!config.tls) {
        return;
    }
    auto ssl = mqtt::ssl_options_builder();
    // Paho's default trust store is the system one (SSL_CTX_set_default_verify_paths).
    if (!config.ca_file.empty()) {
        ssl.trust_store(config.ca_file.string());
    }
    if (!config.cert_file.empty()) {
        ssl.key_store(config.cert_file.string());
    }
    if (!config.key_file.empty()) {
        ssl.private_key(config.key_file.string());
    }
    if (!config.key_password.empty()) {
        ssl.private_keypassword(config.key_password);
    }
    // The chain is always verified; `verify` adds Paho's post-handshake check that the
    // certificate names the URI's host (X509_check_host, then X509_check_ip_asc).
    ssl.enable_server_cert_auth(true);
    ssl.verify(config.verify_hostname);
    builder.ssl(ssl.finalize());
    if (!config.verify_hostname) {
        logger.warn("{}: INSECURE: TLS host name verification is off (mqtt.verify_hostname = "
                    "false): any certificate the CA signed is accepted for {}, so anyone "
                    "holding one can impersonate the broker",
                    who, uri_host(config.uri));
    }
    logger.info("{}: TLS with {}{}, host name verification {}", who,
                config.ca_file.empty() ? std::string("the system trust store")
                                       : "CA file " + config.ca_file.string(),
                config.cert_file.empty() ? std::string(", no client certificate")
                                         : ", client certificate " + config.cert_file.string(),
                config.verify_hostname ? "on" : "OFF");
}

std::string uri_host(const std::string& uri) {
    auto start = uri.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    std::string rest = uri.substr(start, uri.find('/', start) - start);
    if (!rest.empty() && rest.front() == '[') {
        return rest.substr(1, rest.find(']') - 1);
    }
    return rest.substr(0, rest.rfind(':'));
}

} // namespace greenrack::sinks
