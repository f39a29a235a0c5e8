#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace greenrack::sinks {

// One alert as Prometheus Alertmanager's API v2 (POST /api/v2/alerts) takes it.
// Label names must be valid Alertmanager label names ([a-zA-Z_][a-zA-Z0-9_]*): the encoder
// does not check them (the caller validates), Alertmanager refuses the whole request with 400
// otherwise. A label with an empty value is the same as no label (Prometheus semantics): it is
// left out of the JSON and of alert_key(). Values and annotations may hold any bytes: invalid
// UTF-8 becomes U+FFFD, so the body is always valid JSON.
struct AmAlert {
    std::map<std::string, std::string> labels;      // alertname, severity, site, scope, ...
    std::map<std::string, std::string> annotations; // summary, description, ...
    std::int64_t starts_at_ms = 0;                  // Unix time in milliseconds
    std::optional<std::int64_t> ends_at_ms;         // set on resolve
    std::string generator_url;                      // omitted when empty
};

// The JSON array of the request body: [{"labels":{..},"annotations":{..},"startsAt":"..",
// "endsAt":"..","generatorURL":".."}, ...]; endsAt only when set, generatorURL only when not
// empty, annotations always (possibly {}). Times are RFC 3339 UTC with milliseconds.
std::string encode_alertmanager_alerts(const std::vector<AmAlert>& alerts);

// RFC 3339 UTC with milliseconds: 1764342000123 -> "2025-11-28T15:00:00.123Z" (pure).
std::string format_rfc3339_ms(std::int64_t unix_ms);

// Stable identity of an alert, from its labels only (what Alertmanager fingerprints): equal
// for equal label sets whatever the insertion order, different otherwise. Not meant for display.
std::string alert_key(const AmAlert& alert);

} // namespace greenrack::sinks
