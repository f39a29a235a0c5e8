// Pure helpers shared by the benchmark programs (greenrack-reference-poller and
// greenrack-bench-probe): the reference poller's device file, cheap field extraction from
// state payloads, nearest-rank percentiles and the lateness formula. No I/O beyond an istream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace greenrack::bench {

// One read request of a device: Modbus function 03 (holding) or 04 (input registers).
struct ReadRequest {
    int function = 3;
    int start = 0;
    int count = 0;
};

// One line of the device file:
//   <device-id> <host> <port> <unit-id> <fc>:<start>:<count> [<fc>:<start>:<count> ...]
struct DeviceSpec {
    std::string id;
    std::string host;
    int port = 0;
    int unit_id = 0;
    std::vector<ReadRequest> requests;
    std::size_t line = 0; // where it was defined in the file
};

// A device file that cannot be used; what() reads "line <n>: <reason>".
class DeviceFileError : public std::runtime_error {
public:
    DeviceFileError(std::size_t line, const std::string& reason);
    std::size_t line() const { return line_; }

private:
    std::size_t line_;
};

// The most registers one function 03/04 request may carry (Modbus application protocol).
inline constexpr int max_registers_per_request = 125;

// Parses a device file: one device per line, '#' starts a comment, blank lines are ignored.
// Checks every field (device id usable as one MQTT topic level and inside a JSON string, port
// 1..65535, unit id 0..247 or 255, function 3 or 4, 1..125 registers within 0..65535, ids
// unique) and throws DeviceFileError naming the first bad line. An empty file is an error too.
std::vector<DeviceSpec> parse_device_file(std::istream& in);

// A whole decimal number in [min, max], nothing else in `text`; nullopt otherwise.
std::optional<std::int64_t> parse_integer(std::string_view text, std::int64_t min,
                                          std::int64_t max);

// The number after `"<key>"` followed by optional whitespace, ':' and optional whitespace, in a
// JSON text, found by string search only (no parse): the first occurrence of the quoted key that
// is not preceded by a backslash (an escaped quote inside a string value). nullopt when the key
// is absent or its value is not a number (null, a string, ...). `key` is given without quotes.
std::optional<double> find_number_field(std::string_view payload, std::string_view key);

// The topic level before the last one (`.../device/<id>/state` -> `<id>`); empty when the topic
// has fewer than two levels.
std::string_view device_from_topic(std::string_view topic);

// Nearest-rank percentile (p in [0, 100]) of samples sorted ascending: the smallest sample with
// at least p % of the samples at or below it (rank ceil(p/100 * n), at least 1). nullopt for no
// samples.
std::optional<double> percentile_nearest_rank(const std::vector<double>& sorted, double p);

// How late a poll started after its scheduled slot, from a state payload: (ts - poll_ms) modulo
// the interval, in [0, interval). `ts` has a resolution of `ts_resolution_ms` (whole ms, cut
// off), so a poll that started right on its slot can appear to start up to that much before
// it, which the modulo would turn into almost a whole interval: a remainder within
// ts_resolution_ms below the interval counts as 0 (on time). Assumes the real lateness is less
// than the interval minus that resolution.
double lateness_ms(double ts_ms, double poll_ms, double interval_ms, double ts_resolution_ms = 1.0);

// The start of the probe's measurement window: t0 + warm-up, moved up to the next multiple of
// the interval (UTC), where the pollers' slots start. A poll's ts lies between its slot and the
// next one, so a window of whole slots holds exactly one poll per slot and device; a window
// starting inside a slot would count a device polled near that offset one time more or less,
// depending on the jitter of its poll.
double measurement_window_start(double t0_ms, double warmup_ms, double interval_ms);

// Appends `text` to `out` with the characters JSON requires escaped (", \, control characters).
void append_json_escaped(std::string& out, std::string_view text);

} // namespace greenrack::bench
