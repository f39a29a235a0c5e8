#pragma once

#include "daemon/core/device_reading.hpp"

#include <optional>
#include <vector>

namespace greenrack::core {

// The latest reading of every device (index = Config::devices index). Lives on the event loop.
class SampleStore {
public:
    explicit SampleStore(std::size_t devices) : latest_(devices) {}

    void update(DeviceReading reading);
    const DeviceReading* latest(std::size_t device) const;
    std::size_t size() const { return latest_.size(); }

private:
    std::vector<std::optional<DeviceReading>> latest_;
};

} // namespace greenrack::core
