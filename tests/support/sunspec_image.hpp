#pragma once

#include "tests/support/modbus_test_server.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace greenrack::test {

// Writes a SunSpec map into a ModbusTestServer's holding registers of one unit: the "SunS"
// marker at `base`, then models one after the other (every data register 0 unless set), then
// the end model.
class SunSpecImage {
public:
    SunSpecImage(ModbusTestServer& server, int unit, std::uint16_t base);

    // Common model 1 (L = 66) with these identity strings, version "v1.0" and device address.
    SunSpecImage& common(const std::string& mn, const std::string& md, const std::string& sn,
                         std::uint16_t da);
    // A model of `length` data registers, all 0.
    SunSpecImage& model(std::uint16_t id, std::uint16_t length);
    // The end model, with or without its length register.
    SunSpecImage& end(bool with_length);

    // Sets data register `offset` (counted after ID and L, as in drivers/sunspec/models.hpp) of
    // the model that starts at `model_address`.
    SunSpecImage& set_point(int model_address, int offset, std::uint16_t value);

    int next() const { return next_; } // address of the next model's ID register

private:
    void set(int address, std::uint16_t value);

    ModbusTestServer& server_;
    int unit_;
    int next_;
};

} // namespace greenrack::test
