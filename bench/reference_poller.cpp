// greenrack-reference-poller: the floor greenrackd is compared with in the benchmark. Plain
// libmodbus reads and plain MQTT publishes in one loop: no framework, no accounting, no threads
// beyond Paho's own. Reads only (functions 03 and 04), never writes.
//
//   greenrack-reference-poller --devices FILE --mqtt URI --topic-prefix PREFIX
//       [--interval-ms 1000] [--duration-s N] [--qos 1] [--timeout-ms 500]
//
// Each cycle starts on a multiple of the interval in UTC. In it, every device in file order is
// read, then its state is published to <PREFIX>/device/<id>/state (not retained):
//   {"ts":<ms>,"seq":<n>,"device":"<id>","poll_ms":<ms>,"regs":[...]}  or  ..."error":"<text>"}
// Devices on the same host:port share one connection. A read that fails for another reason
// than a Modbus exception response closes its connection; the connection is opened again (at
// most once per cycle) the next cycle, and until then its devices publish the error.

#include "bench/bench_support.hpp"

#include <mqtt/async_client.h>

#include <modbus.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace greenrack::bench {
namespace {

struct Options {
    std::string devices_file;
    std::string mqtt_uri;
    std::string topic_prefix;
    std::int64_t interval_ms = 1000;
    std::int64_t duration_s = 0; // 0: until SIGINT/SIGTERM
    int qos = 1;
    int timeout_ms = 500;
};

[[noreturn]] void usage_error(const std::string& message) {
    std::cerr << "greenrack-reference-poller: " << message << "\n"
              << "usage: greenrack-reference-poller --devices FILE --mqtt URI --topic-prefix "
                 "PREFIX [--interval-ms 1000] [--duration-s N] [--qos 1] [--timeout-ms 500]\n";
    std::exit(2);
}

std::int64_t parse_number(std::string_view name, std::string_view text, std::int64_t min,
                          std::int64_t max) {
    const auto value = parse_integer(text, min, max);
    if (!value) {
        usage_error(std::string(name) + " must be a number " + std::to_string(min) + ".." +
                    std::to_string(max) + ", got '" + std::string(text) + "'");
    }
    return *value;
}

Options parse_options(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            usage_error("reads Modbus devices and publishes their registers over MQTT");
        }
        if (i + 1 >= argc) {
            usage_error("missing value for " + std::string(arg));
        }
        const std::string_view value = argv[++i];
        if (arg == "--devices") {
            options.devices_file = value;
        } else if (arg == "--mqtt") {
            options.mqtt_uri = value;
        } else if (arg == "--topic-prefix") {
            options.topic_prefix = value;
        } else if (arg == "--interval-ms") {
            options.interval_ms = parse_number(arg, value, 1, 3'600'000);
        } else if (arg == "--duration-s") {
            options.duration_s = parse_number(arg, value, 1, 365LL * 86400);
        } else if (arg == "--qos") {
            options.qos = static_cast<int>(parse_number(arg, value, 0, 2));
        } else if (arg == "--timeout-ms") {
            options.timeout_ms = static_cast<int>(parse_number(arg, value, 1, 60'000));
        } else {
            usage_error("unknown option " + std::string(arg));
        }
    }
    if (options.devices_file.empty() || options.mqtt_uri.empty() || options.topic_prefix.empty()) {
        usage_error("--devices, --mqtt and --topic-prefix are required");
    }
    return options;
}

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Waits until the UTC time `until_ms`. False when SIGINT or SIGTERM arrived (both are blocked in
// every thread and only taken here, so no handler runs inside libmodbus or Paho).
bool wait_until(std::int64_t until_ms, const sigset_t& signals) {
    while (true) {
        timespec now{};
        clock_gettime(CLOCK_REALTIME, &now);
        const std::int64_t now_ns =
            static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
        const std::int64_t left_ns = until_ms * 1'000'000 - now_ns;
        timespec timeout{};
        if (left_ns > 0) {
            timeout.tv_sec = static_cast<time_t>(left_ns / 1'000'000'000);
            timeout.tv_nsec = static_cast<long>(left_ns % 1'000'000'000);
        }
        const int signal = sigtimedwait(&signals, nullptr, &timeout);
        if (signal > 0) {
            return false;
        }
        if (left_ns <= 0) {
            return true;
        }
    }
}

// One Modbus TCP connection, shared by the devices on its host:port.
struct Connection {
    modbus_t* ctx = nullptr;
    bool connected = false;
    std::int64_t tried_cycle = -1; // the cycle of the last connect attempt
    std::string error;             // why it is not connected
};

struct Device {
    const DeviceSpec* spec = nullptr;
    Connection* connection = nullptr;
    mqtt::string_ref topic;
    std::uint64_t seq = 0;
};

// Exception responses (the device answered): the connection itself is fine.
bool is_exception(int error) {
    return error > MODBUS_ENOBASE && error <= EMBXGTAR;
}

template <typename T> void append_number(std::string& out, T value) {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

void append_fixed3(std::string& out, double value) {
    char buffer[64];
    const auto result =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, 3);
    out.append(buffer, result.ptr);
}

int run(const Options& options) {
    std::vector<DeviceSpec> specs;
    {
        std::ifstream in(options.devices_file);
        if (!in) {
            std::cerr << "greenrack-reference-poller: cannot open " << options.devices_file << ": "
                      << std::strerror(errno) << "\n";
            return 2;
        }
        try {
            specs = parse_device_file(in);
        } catch (const DeviceFileError& e) {
            std::cerr << "greenrack-reference-poller: " << options.devices_file << ": " << e.what()
                      << "\n";
            return 2;
        }
    }

    // SIGINT/SIGTERM are blocked before Paho starts its threads, so they inherit the mask, and
    // taken synchronously by wait_until.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    // Connections, one per host:port. A std::map keeps them at fixed addresses.
    std::map<std::pair<std::string, int>, Connection> connections;
    std::vector<Device> devices;
    devices.reserve(specs.size());
    for (const DeviceSpec& spec : specs) {
        Connection& connection = connections[{spec.host, spec.port}];
        if (connection.ctx == nullptr) {
            connection.ctx =
                modbus_new_tcp_pi(spec.host.c_str(), std::to_string(spec.port).c_str());
            if (connection.ctx == nullptr) {
                std::cerr << "greenrack-reference-poller: line " << spec.line << ": "
                          << modbus_strerror(errno) << "\n";
                return 2;
            }
            modbus_set_response_timeout(
                connection.ctx, static_cast<std::uint32_t>(options.timeout_ms / 1000),
                static_cast<std::uint32_t>(options.timeout_ms % 1000) * 1000);
        }
        Device device;
        device.spec = &spec;
        device.connection = &connection;
        device.topic = mqtt::string_ref(options.topic_prefix + "/device/" + spec.id + "/state");
        devices.push_back(std::move(device));
    }

    // Paho: no persistence, room for far more queued publishes than one cycle makes, so a
    // publish never blocks or fails because of the queue; tokens are not waited for.
    const auto create = mqtt::create_options_builder()
                            .send_while_disconnected(true)
                            .max_buffered_messages(1 << 20)
                            .finalize();
    mqtt::async_client client(options.mqtt_uri,
                              "greenrack-reference-poller-" + std::to_string(getpid()), create,
                              nullptr);
    const auto connect = mqtt::connect_options_builder()
                             .clean_session(true)
                             .keep_alive_interval(std::chrono::seconds(30))
                             .connect_timeout(std::chrono::seconds(10))
                             .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(5))
                             .max_inflight(65535)
                             .finalize();
    try {
        client.connect(connect)->wait();
    } catch (const mqtt::exception& e) {
        std::cerr << "greenrack-reference-poller: cannot connect to " << options.mqtt_uri << ": "
                  << e.what() << "\n";
        return 1;
    }

    std::uint64_t cycles = 0;
    std::uint64_t skipped = 0;
    std::uint64_t reads_ok = 0;
    std::uint64_t reads_failed = 0;
    std::uint64_t publishes = 0;
    std::uint64_t publish_errors = 0;

    std::string payload;
    std::string regs;
    payload.reserve(16 * 1024);
    regs.reserve(16 * 1024);
    std::uint16_t registers[max_registers_per_request];

    const std::int64_t interval = options.interval_ms;
    const std::int64_t start_ms = wall_ms();
    const std::int64_t end_ms =
        options.duration_s > 0 ? start_ms + options.duration_s * 1000 : INT64_MAX;
    std::int64_t slot = (start_ms / interval + 1) * interval;

    // Open the connections before the first cycle, so it measures reads only.
    for (auto& [endpoint, connection] : connections) {
        if (modbus_connect(connection.ctx) == 0) {
            connection.connected = true;
        } else {
            connection.error = modbus_strerror(errno);
            std::cerr << "greenrack-reference-poller: " << endpoint.first << ":" << endpoint.second
                      << ": " << connection.error << "\n";
        }
    }

    const auto steady_ms = [](std::chrono::steady_clock::time_point since) {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
            .count();
    };

    while (slot < end_ms && wait_until(slot, signals)) {
        const auto cycle = static_cast<std::int64_t>(cycles);
        for (Device& device : devices) {
            Connection& connection = *device.connection;
            const DeviceSpec& spec = *device.spec;
            const auto began = std::chrono::steady_clock::now();
            if (!connection.connected && connection.tried_cycle != cycle) {
                connection.tried_cycle = cycle;
                if (modbus_connect(connection.ctx) == 0) {
                    connection.connected = true;
                } else {
                    connection.error = modbus_strerror(errno);
                }
            }
            // ts and poll_ms are only known after the reads: the registers go to their own
            // buffer first.
            regs.clear();
            std::string_view error;
            std::size_t done = 0;
            if (connection.connected) {
                modbus_set_slave(connection.ctx, spec.unit_id);
                for (const ReadRequest& request : spec.requests) {
                    const int n = request.function == 3
                                      ? modbus_read_registers(connection.ctx, request.start,
                                                              request.count, registers)
                                      : modbus_read_input_registers(connection.ctx, request.start,
                                                                    request.count, registers);
                    if (n != request.count) {
                        const int code = n < 0 ? errno : EMBMDATA;
                        if (!is_exception(code)) {
                            // Opened again next cycle, not by the next device of this one.
                            modbus_close(connection.ctx);
                            connection.connected = false;
                            connection.tried_cycle = cycle;
                            connection.error = modbus_strerror(code);
                            error = connection.error;
                        } else {
                            error = modbus_strerror(code);
                        }
                        break;
                    }
                    ++done;
                    for (int r = 0; r < n; ++r) {
                        if (!regs.empty()) {
                            regs += ',';
                        }
                        append_number(regs, registers[r]);
                    }
                }
            } else {
                error = connection.error;
            }
            const double poll_ms = steady_ms(began);
            const std::int64_t ts = wall_ms();
            reads_ok += done;
            reads_failed += spec.requests.size() - done;

            payload.clear();
            payload += "{\"ts\":";
            append_number(payload, ts);
            payload += ",\"seq\":";
            append_number(payload, ++device.seq);
            payload += ",\"device\":\"";
            payload += spec.id;
            payload += "\",\"poll_ms\":";
            append_fixed3(payload, poll_ms);
            if (error.empty()) {
                payload += ",\"regs\":[";
                payload += regs;
                payload += "]}";
            } else {
                payload += ",\"error\":\"";
                append_json_escaped(payload, error);
                payload += "\"}";
            }
            try {
                client.publish(device.topic, payload.data(), payload.size(), options.qos, false);
                ++publishes;
            } catch (const mqtt::exception& e) {
                if (publish_errors++ == 0) {
                    std::cerr << "greenrack-reference-poller: publish failed: " << e.what() << "\n";
                }
            }
        }
        ++cycles;
        // The next cycle starts on the next multiple of the interval not yet begun.
        const std::int64_t now = wall_ms();
        std::int64_t next = slot + interval;
        if (now >= next) {
            next = (now / interval + 1) * interval;
            skipped += static_cast<std::uint64_t>((next - slot) / interval - 1);
        }
        slot = next;
    }

    // Outstanding publishes get at most 5 s.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (const auto& token : client.get_pending_delivery_tokens()) {
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) {
            break;
        }
        try {
            token->wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(left));
        } catch (const mqtt::exception&) {
            // Counted below as not delivered.
        }
    }
    // A token can still be listed for a moment after it completed.
    std::size_t undelivered = 0;
    for (const auto& token : client.get_pending_delivery_tokens()) {
        undelivered += token->is_complete() ? 0 : 1;
    }
    if (undelivered > 0 || publish_errors > 0) {
        std::cerr << "greenrack-reference-poller: " << undelivered
                  << " publish(es) not acknowledged in 5 s, " << publish_errors
                  << " publish call(s) failed\n";
    }
    try {
        client.disconnect(std::chrono::milliseconds(500))->wait_for(std::chrono::seconds(2));
    } catch (const mqtt::exception&) {
        // Stopping anyway.
    }
    for (auto& [endpoint, connection] : connections) {
        modbus_close(connection.ctx);
        modbus_free(connection.ctx);
    }

    std::cout << "reference-poller: cycles=" << cycles << " skipped=" << skipped
              << " devices=" << devices.size() << " reads_ok=" << reads_ok
              << " reads_failed=" << reads_failed << " publishes=" << publishes << std::endl;
    return 0;
}

} // namespace
} // namespace greenrack::bench

int main(int argc, char** argv) {
    return greenrack::bench::run(greenrack::bench::parse_options(argc, argv));
}
