#include "drivers/sim/simulator.hpp"

namespace greenrack::sim {

Simulator::Simulator(Scenario scenario, SimTime start)
    : scenario_(std::move(scenario)), physics_(scenario_, start) {
    images_.reserve(scenario_.devices.size());
    for (const DeviceSpec& d : scenario_.devices) {
        images_.emplace_back(d.profile, d.unimplemented, d.fixed_values);
    }
    units_.resize(scenario_.listeners.size());
    for (auto& table : units_) {
        table.fill(-1);
    }
    for (std::size_t i = 0; i < scenario_.devices.size(); ++i) {
        const DeviceSpec& d = scenario_.devices[i];
        units_[d.listener_index][d.unit_id] = static_cast<int>(i);
    }
    refresh_images();
}

void Simulator::refresh_images() {
    for (std::size_t i = 0; i < images_.size(); ++i) {
        images_[i].update(physics_.readings(i));
    }
}

std::size_t Simulator::advance_to(SimTime target) {
    std::size_t steps = 0;
    while (physics_.now() + scenario_.sim.step <= target) {
        physics_.step(scenario_.sim.step);
        ++steps;
    }
    if (steps > 0) {
        refresh_images();
    }
    return steps;
}

bool Simulator::device_offline(std::size_t device) const {
    return physics_.events().device_offline(scenario_.devices[device].id, physics_.now());
}

std::optional<std::size_t> Simulator::device_at(std::size_t listener, std::uint8_t unit) const {
    if (listener >= units_.size() || units_[listener][unit] < 0) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(units_[listener][unit]);
}

std::size_t Simulator::handle_request(std::size_t listener, std::uint8_t unit,
                                      std::span<const std::uint8_t> pdu,
                                      std::span<std::uint8_t> response) {
    if (pdu.empty()) {
        return 0;
    }
    const std::uint8_t function = pdu[0];
    stats_.count_request(function);
    if (is_write_function(function)) {
        stats_.count_write_rejected();
    }
    const auto device = device_at(listener, unit);
    Answer answer;
    if (!device && scenario_.listeners[listener].is_serial()) {
        stats_.count_unanswered(); // RTU: a frame for another address is not ours to answer
        return 0;
    }
    if (!device) {
        answer = exception_answer(function, ModbusException::gateway_target_failed, response);
    } else if (device_offline(*device)) {
        stats_.count_unanswered();
        return 0;
    } else {
        answer = answer_request(images_[*device], pdu, response);
    }
    if (answer.exception != ModbusException::none) {
        stats_.count_exception(answer.exception);
    }
    return answer.length;
}

} // namespace greenrack::sim
