#include "tests/support/sunspec_image.hpp"

namespace greenrack::test {

namespace {

constexpr int fc03 = 3;

void put(std::vector<std::uint16_t>& body, std::size_t offset, std::size_t registers,
         const std::string& text) {
    for (std::size_t i = 0; i < registers; ++i) {
        const auto high = static_cast<unsigned char>(2 * i < text.size() ? text[2 * i] : 0);
        const auto low = static_cast<unsigned char>(2 * i + 1 < text.size() ? text[2 * i + 1] : 0);
        body[offset + i] = static_cast<std::uint16_t>((high << 8) | low);
    }
}

} // namespace

SunSpecImage::SunSpecImage(ModbusTestServer& server, int unit, std::uint16_t base)
    : server_(server), unit_(unit), next_(base + 2) {
    set(base, 0x5375);     // "Su"
    set(base + 1, 0x6E53); // "nS"
}

SunSpecImage& SunSpecImage::common(const std::string& mn, const std::string& md,
                                   const std::string& sn, std::uint16_t da) {
    std::vector<std::uint16_t> body(68, 0);
    put(body, 2, 16, mn);
    put(body, 18, 16, md);
    put(body, 42, 8, "v1.0");
    put(body, 50, 16, sn);
    body[66] = da;
    body[0] = 1;
    body[1] = 66;
    for (std::size_t offset = 0; offset < body.size(); ++offset) {
        set(next_ + static_cast<int>(offset), body[offset]);
    }
    next_ += 68;
    return *this;
}

SunSpecImage& SunSpecImage::model(std::uint16_t id, std::uint16_t length) {
    set(next_, id);
    set(next_ + 1, length);
    for (int offset = 2; offset < length + 2; ++offset) {
        set(next_ + offset, 0);
    }
    next_ += 2 + length;
    return *this;
}

SunSpecImage& SunSpecImage::end(bool with_length) {
    set(next_, 0xFFFF);
    if (with_length) {
        set(next_ + 1, 0);
    }
    return *this;
}

SunSpecImage& SunSpecImage::set_point(int model_address, int offset, std::uint16_t value) {
    set(model_address + 2 + offset, value);
    return *this;
}

void SunSpecImage::set(int address, std::uint16_t value) {
    server_.set_register(unit_, fc03, address, value);
}

} // namespace greenrack::test
