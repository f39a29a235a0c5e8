#include "daemon/core/sample_store.hpp"

namespace greenrack::core {

void SampleStore::update(DeviceReading reading) {
    if (reading.device < latest_.size()) {
        latest_[reading.device] = std::move(reading);
    }
}

const DeviceReading* SampleStore::latest(std::size_t device) const {
    if (device >= latest_.size() || !latest_[device]) {
        return nullptr;
    }
    return &*latest_[device];
}

} // namespace greenrack::core
