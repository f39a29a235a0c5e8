#pragma once

#include "daemon/config/config.hpp"

#include <spdlog/logger.h>
#include <string>
#include <string_view>

namespace mqtt {
class connect_options_builder;
} // namespace mqtt

namespace greenrack::sinks {

// The part of the Paho connect options that MqttSink and fleet::MqttSubscriber share:
// * user name and password (when mqtt.username is set); warns when the password would go to
//   the broker over plain TCP;
// * for TLS URIs: the trust store (ca_file, else the system one), the client certificate and
//   key (with its password), chain verification always and host name verification unless
//   verify_hostname is off (warned as INSECURE), and an info line naming the CA and the client
//   certificate.
// Log lines start with `who` ("mqtt", "mqtt subscriber <client id>"). Secrets are never logged.
void apply_auth_and_tls(mqtt::connect_options_builder& builder, const config::MqttConfig& config,
                        spdlog::logger& logger, std::string_view who);

// The host of a broker URI ("ssl://[::1]:8883" -> "::1"), for messages.
std::string uri_host(const std::string& uri);

} // namespace greenrack::sinks
