#pragma once

#include "daemon/core/alerts/alert_types.hpp"
#include "daemon/sinks/line_protocol.hpp"

#include <string>
#include <string_view>

namespace greenrack::sinks {

// Payloads of the alert topics (dashboards/METRICS.md lists every field). Pure.
//
// greenrack/v1/<site>/alerts/<rule>/<subject> (retained): the alert's state after its last
// transition: {"ts","rule","subject","scope","state","severity","since","active_at","fired_at",
// "resolved_at","value","threshold","clear_threshold","summary","labels":{...},"cause":{...}}.
// Times are UTC ms (null when it never happened); cause is null outside site and rack alerts.
std::string encode_alert_state(const alerts::AlertStatus& status, std::int64_t ts_ms);

// greenrack/v1/<site>/events (not retained): one message per transition, the state payload with
// "type": "alert", "from" and "to".
std::string encode_alert_event(const alerts::AlertEvent& event);

// Influx measurement `alert`: one line per transition, tags site, rule, subject, scope,
// severity; fields state, from_state, value, threshold, summary.
void append_alert_line(LineBuilder& out, std::string_view site, const alerts::AlertEvent& event);

} // namespace greenrack::sinks
