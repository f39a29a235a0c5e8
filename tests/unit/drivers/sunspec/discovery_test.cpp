// SunSpec discovery against a fake device: a register map in which every unmapped register
// answers exception 02 (or, for some tests, ends a read short). The fake checks that no read
// asks for more than 125 registers or runs past 65535, and stops a runaway walk.

#include "drivers/sunspec/discovery.hpp"

#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace greenrack::sunspec;

namespace {

class FakeDevice {
public:
    enum class Unmapped {
        exception,  // a read touching an unmapped register answers exception 02
        short_read, // a read stops before the first unmapped register (may return nothing)
    };

    std::map<std::uint16_t, std::uint16_t> registers;
    Unmapped unmapped = Unmapped::exception;
    std::set<std::uint16_t> timeouts; // a read touching one of these times out
    std::set<std::uint16_t> broken;   // a read touching one of these is a link error

    ReadResult read(std::uint16_t address, std::uint16_t count) {
        reads.emplace_back(address, count);
        CHECK(count >= 1);
        CHECK(count <= 125);
        CHECK(address + count <= 0x10000);
        REQUIRE(reads.size() < 10'000); // a walk that never ends fails here instead of hanging
        for (std::uint32_t a = address; a < std::uint32_t{address} + count; ++a) {
            if (timeouts.count(static_cast<std::uint16_t>(a)) != 0) {
                return ReadError{ReadError::Kind::timeout, 0, "timeout"};
            }
            if (broken.count(static_cast<std::uint16_t>(a)) != 0) {
                return ReadError{ReadError::Kind::link, 0, "connection lost"};
            }
        }
        std::vector<std::uint16_t> out;
        for (std::uint32_t a = address; a < std::uint32_t{address} + count; ++a) {
            auto it = registers.find(static_cast<std::uint16_t>(a));
            if (it == registers.end()) {
                if (unmapped == Unmapped::exception) {
                    return ReadError{ReadError::Kind::exception, 2, "illegal data address"};
                }
                break;
            }
            out.push_back(it->second);
        }
        return out;
    }

    ReadFunction reader() {
        return [this](std::uint16_t address, std::uint16_t count) { return read(address, count); };
    }

    std::uint16_t largest_read() const {
        std::uint16_t largest = 0;
        for (const auto& read : reads) {
            largest = std::max(largest, read.second);
        }
        return largest;
    }

    std::vector<std::pair<std::uint16_t, std::uint16_t>> reads; // (address, count)
};

struct Identity {
    std::string mn = "SunSpec Sim";
    std::string md = "PV-3P-10K";
    std::string opt = "opt-a";
    std::string vr = "1.2.3";
    std::string sn = "SN-0001";
    std::uint16_t da = 1;
};

// Writes a SunSpec image into a FakeDevice's map, model after model.
class Image {
public:
    Image(FakeDevice& device, std::uint16_t base) : map_(device.registers), next_(base + 2u) {
        map_[base] = marker_high;
        map_[static_cast<std::uint16_t>(base + 1)] = marker_low;
    }

    // A common model of `length` holding as many points of `identity` as the length allows.
    Image& common(const Identity& identity = {}, std::uint16_t length = 66) {
        const std::uint32_t start = next_;
        std::vector<std::uint16_t> body(68, 0);
        put(body, 2, 16, identity.mn);
        put(body, 18, 16, identity.md);
        put(body, 34, 8, identity.opt);
        put(body, 42, 8, identity.vr);
        put(body, 50, 16, identity.sn);
        body[66] = identity.da;
        header(1, length);
        for (std::uint32_t offset = 2; offset < std::uint32_t{length} + 2u; ++offset) {
            set(start + offset, offset < body.size() ? body[offset] : 0);
        }
        next_ = start + 2u + length;
        return *this;
    }

    // Any other model: a header and `length` registers of filler.
    Image& model(std::uint16_t id, std::uint16_t length) {
        const std::uint32_t start = next_;
        header(id, length);
        for (std::uint32_t a = start + 2u; a < start + 2u + length && a <= 0xFFFF; ++a) {
            set(a, 0x0101);
        }
        next_ = start + 2u + length;
        return *this;
    }

    // The end model: 0xFFFF followed by `length`, or by nothing at all.
    Image& end(std::optional<std::uint16_t> length = 0) {
        set(next_, end_model_id);
        if (length) {
            set(next_ + 1, *length);
        }
        return *this;
    }

    std::uint16_t next() const { return static_cast<std::uint16_t>(next_); }

    // SunSpec string: 2 characters per register, first in the high byte, NUL padded.
    static void put(std::vector<std::uint16_t>& body, std::size_t offset, std::size_t registers,
                    const std::string& text) {
        for (std::size_t i = 0; i < registers; ++i) {
            const auto high = static_cast<unsigned char>(2 * i < text.size() ? text[2 * i] : 0);
            const auto low =
                static_cast<unsigned char>(2 * i + 1 < text.size() ? text[2 * i + 1] : 0);
            body[offset + i] = static_cast<std::uint16_t>((high << 8) | low);
        }
    }

private:
    void header(std::uint16_t id, std::uint16_t length) {
        set(next_, id);
        set(next_ + 1, length);
    }
    void set(std::uint32_t address, std::uint16_t value) {
        REQUIRE(address <= 0xFFFF);
        map_[static_cast<std::uint16_t>(address)] = value;
    }

    std::map<std::uint16_t, std::uint16_t>& map_;
    std::uint32_t next_;
};

Discovery found(const std::variant<Discovery, DiscoveryError>& result) {
    if (const auto* failure = std::get_if<DiscoveryError>(&result)) {
        FAIL("discovery failed: " << failure->message);
    }
    return std::get<Discovery>(result);
}

DiscoveryError failed(const std::variant<Discovery, DiscoveryError>& result) {
    if (const auto* discovery = std::get_if<Discovery>(&result)) {
        FAIL("discovery succeeded at base " << discovery->base << " with "
                                            << discovery->models.size() << " models");
    }
    return std::get<DiscoveryError>(result);
}

std::string chain(const Discovery& discovery) {
    std::string text;
    for (const ModelHeader& model : discovery.models) {
        text += std::to_string(model.id) + "@" + std::to_string(model.address) + "+" +
                std::to_string(model.length) + " ";
    }
    return text + "end@" + std::to_string(discovery.end);
}

bool warned(const Discovery& discovery, const std::string& text) {
    return std::any_of(discovery.warnings.begin(), discovery.warnings.end(),
                       [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

} // namespace

// --- base addresses ----------------------------------------------------------------------------

TEST_CASE("SunS at 40000 is found by the first probe and the chain starts at 40002", "[sunspec]") {
    FakeDevice device;
    Image(device, 40000).common().end();
    const auto& discovery = found(discover(device.reader()));
    CHECK(discovery.base == 40000);
    CHECK(chain(discovery) == "1@40002+66 end@40070");
    REQUIRE_FALSE(device.reads.empty());
    CHECK(device.reads.front() == std::pair<std::uint16_t, std::uint16_t>{40000, 2});
    CHECK(discovery.warnings.empty());
}

TEST_CASE("SunS at 0 is found after 40000 answers an exception", "[sunspec]") {
    FakeDevice device;
    Image(device, 0).common().end();
    const auto& discovery = found(discover(device.reader()));
    CHECK(discovery.base == 0);
    CHECK(chain(discovery) == "1@2+66 end@70");
    CHECK(device.reads[0].first == 40000);
    CHECK(device.reads[1].first == 0);
}

TEST_CASE("SunS at 50000 is found after 40000 and 0 hold other data", "[sunspec]") {
    FakeDevice device;
    device.registers[40000] = 0x5375; // half a marker
    device.registers[40001] = 0x0000;
    device.registers[0] = 0x1234;
    device.registers[1] = 0x5678;
    Image(device, 50000).common().end();
    const auto& discovery = found(discover(device.reader()));
    CHECK(discovery.base == 50000);
    CHECK(chain(discovery) == "1@50002+66 end@50070");
}

TEST_CASE("the 1-based documentation numbers 40001/1/50001 are not probed", "[sunspec]") {
    // SunSpec documents print the base as 40001 (1-based); the marker is at wire address 40000.
    // A marker at wire address 40001 is not a SunSpec map (the doc's 0- vs 1-based quirk).
    FakeDevice device;
    Image(device, 40001).common().end();
    const auto& error = failed(discover(device.reader()));
    CHECK(error.kind == DiscoveryError::Kind::no_marker);
    for (const auto& read : device.reads) {
        CHECK(read.first != 40001);
        CHECK(read.first != 1);
        CHECK(read.first != 50001);
    }
}

TEST_CASE("without SunS at any base the error names what each base answered", "[sunspec]") {
    FakeDevice device;
    device.registers[0] = 0x0001;
    device.registers[1] = 0x0002;
    device.timeouts.insert(50000);
    const auto& error = failed(discover(device.reader()));
    CHECK(error.kind == DiscoveryError::Kind::no_marker);
    CHECK(error.message ==
          "no SunS marker at 40000 (exception 02), 0 (0x0001 0x0002), 50000 (timeout)");
    CHECK(device.reads.size() == 3);
}

TEST_CASE("a device that times out at every base is read_failed, not no_marker", "[sunspec]") {
    FakeDevice device;
    device.timeouts = {0, 40000, 50000};
    const auto& error = failed(discover(device.reader()));
    CHECK(error.kind == DiscoveryError::Kind::read_failed);
    CHECK(error.message.find("no answer") != std::string::npos);
}

TEST_CASE("a link error while probing stops discovery at once", "[sunspec]") {
    FakeDevice device;
    device.broken.insert(40000);
    Image(device, 0).common().end(); // would be found if discovery went on
    const auto& error = failed(discover(device.reader()));
    CHECK(error.kind == DiscoveryError::Kind::read_failed);
    CHECK(error.address == std::optional<std::uint16_t>(40000));
    CHECK(device.reads.size() == 1);
}

TEST_CASE("a base with no room for a model after the marker is skipped", "[sunspec]") {
    FakeDevice device;
    Image(device, 40000).common().end();
    DiscoveryOptions options;
    options.bases = {65534, 40000};
    const auto& discovery = found(discover(device.reader(), options));
    CHECK(discovery.base == 40000);
    for (const auto& read : device.reads) {
        CHECK(read.first != 65534);
    }
}

// --- the model chain ---------------------------------------------------------------------------

TEST_CASE("the chain 1 -> 103 -> 160 -> end lists each model's id, address and length",
          "[sunspec]") {
    // The example map of the register-map notes: base 40000, inverter with 2 MPPT inputs.
    FakeDevice device;
    Image(device, 40000).common().model(103, 50).model(160, 48).end();
    const auto& discovery = found(discover(device.reader()));
    CHECK(chain(discovery) == "1@40002+66 103@40070+50 160@40122+48 end@40172");
    CHECK(discovery.models[1] == ModelHeader{103, 40070, 50});
    CHECK(discovery.warnings.empty());
    // Only headers, the marker and the common model's points are read: not the other bodies.
    std::set<std::uint16_t> starts;
    for (const auto& read : device.reads) {
        starts.insert(read.first);
    }
    CHECK(starts == std::set<std::uint16_t>{40000, 40002, 40004, 40070, 40122, 40172});
}

TEST_CASE("a common model of length 65 is walked by its length, with a warning", "[sunspec]") {
    FakeDevice device;
    Identity identity;
    identity.da = 17;
    Image image(device, 40000);
    image.common(identity, 65).model(103, 50).end();
    const auto& discovery = found(discover(device.reader()));
    CHECK(chain(discovery) == "1@40002+65 103@40069+50 end@40121");
    CHECK(warned(discovery, "common model at 40002 has length 65"));
    REQUIRE(discovery.identity);
    CHECK(discovery.identity->serial == "SN-0001");
    CHECK(discovery.identity->device_address == std::optional<std::uint16_t>(17)); // DA fits in 65
}

TEST_CASE("a common model too short for its serial leaves it empty, with a warning", "[sunspec]") {
    FakeDevice device;
    Image(device, 40000).common({}, 50).end(); // Mn, Md, Opt, Vr only
    const auto& discovery = found(discover(device.reader()));
    REQUIRE(discovery.identity);
    CHECK(discovery.identity->version == "1.2.3");
    CHECK(discovery.identity->serial.empty());
    CHECK_FALSE(discovery.identity->device_address);
    CHECK(warned(discovery, "has length 50 (66 expected)"));
}

TEST_CASE("a vendor model is stepped over by its length", "[sunspec]") {
    FakeDevice device;
    Image(device, 40000).common().model(64110, 30).model(103, 50).end();
    const auto& discovery = found(discover(device.reader()));
    CHECK(chain(discovery) == "1@40002+66 64110@40070+30 103@40102+50 end@40154");
    CHECK(discovery.models[1].is_vendor());
    CHECK_FALSE(discovery.models[2].is_vendor());
    CHECK(discovery.warnings.empty());
}

TEST_CASE("a model id no table knows is stepped over by its length", "[sunspec]") {
    FakeDevice device;
    Image(device, 40000).common().model(63001, 200).model(0, 0).model(160, 28).end();
    const auto& discovery = found(discover(device.reader()));
    CHECK(chain(discovery) == "1@40002+66 63001@40070+200 0@40272+0 160@40274+28 end@40304");
}

TEST_CASE("an end model without a length register ends the chain with a warning", "[sunspec]") {
    FakeDevice device;
    Image(device, 40000).common().model(103, 50).end(std::nullopt); // 40121: exception 02
    const auto& discovery = found(discover(device.reader()));
    CHECK(chain(discovery) == "1@40002+66 103@40070+50 end@40122");
    CHECK(warned(discovery, "end model at 40122 has no length register"));
}

TEST_CASE("an end model whose length read comes back short ends the chain", "[sunspec]") {
    FakeDevice device;
    device.unmapped = FakeDevice::Unmapped::short_read;
    Image(device, 40000).common().end(std::nullopt);
    const auto& discovery = found(discover(device.reader()));
    CHECK(chain(discovery) == "1@40002+66 end@40070");
    CHECK(warned(discovery, "end model at 40070 has no length register"));
}

TEST_CASE("an end model with a non-zero length ends the chain with a warning", "[sunspec]") {
    FakeDevice device;
    Image(device, 40000).common().end(0x1234);
    const auto& discovery = found(discover(device.reader()));
    CHECK(chain(discovery) == "1@40002+66 end@40070");
    CHECK(warned(discovery, "end model at 40070 has length 4660 (0 expected)"));
}

TEST_CASE("an exception where the next header should be is taken as the end of the map",
          "[sunspec]") {
    FakeDevice device;
    Image(device, 40000).common().model(103, 50); // no end model at all
    const auto& discovery = found(discover(device.reader()));
    CHECK(chain(discovery) == "1@40002+66 103@40070+50 end@40122");
    CHECK(warned(discovery, "no end model: reading the model header at 40122 gave exception 02"));
}

TEST_CASE("an empty read where the next header should be is taken as the end of the map",
          "[sunspec]") {
    FakeDevice device;
    device.unmapped = FakeDevice::Unmapped::short_read;
    Image(device, 40000).common().model(103, 50);
    const auto& discovery = found(discover(device.reader()));
    CHECK(chain(discovery) == "1@40002+66 103@40070+50 end@40122");
    CHECK(warned(discovery, "gave an empty read"));
}

TEST_CASE("an exception right after the marker is an error, not an empty device", "[sunspec]") {
    FakeDevice device;
    Image(device, 40000); // the marker and nothing else
    const auto& error = failed(discover(device.reader()));
    CHECK(error.kind == DiscoveryError::Kind::chain_broken);
    CHECK(error.message == "chain broken at 40002: no model after the SunS marker (exception 02)");
}

TEST_CASE("a model whose length cannot be read breaks the chain", "[sunspec]") {
    FakeDevice device;
    Image image(device, 40000);
    image.common();
    device.registers[image.next()] = 103; // ID, then unmapped
    const auto& error = failed(discover(device.reader()));
    CHECK(error.kind == DiscoveryError::Kind::chain_broken);
    CHECK(error.address == std::optional<std::uint16_t>(40070));
    CHECK(error.message == "chain broken at 40070: model 103 has no readable length");
}

TEST_CASE("a model length running past address 65535 breaks the chain", "[sunspec]") {
    FakeDevice device;
    Image image(device, 40000);
    image.common();
    device.registers[40070] = 103;
    SECTION("past the end") {
        device.registers[40071] = 30000; // 40072 + 30000 > 65536
        const auto& error = failed(discover(device.reader()));
        CHECK(error.kind == DiscoveryError::Kind::chain_broken);
        CHECK(error.message ==
              "chain broken at 40070: model 103 with length 30000 runs past address 65535");
    }
    SECTION("up to 65535 exactly: no room for the end model") {
        device.registers[40071] = 65536 - 40072;
        const auto& error = failed(discover(device.reader()));
        CHECK(error.kind == DiscoveryError::Kind::chain_broken);
        CHECK(error.message.find("leaving no room for an end model") != std::string::npos);
    }
    CHECK(device.reads.size() < 10);
}

TEST_CASE("a length that would wrap back onto the same header stops instead of looping",
          "[sunspec]") {
    // In 16-bit arithmetic 40070 + 2 + 65534 == 40070: a naive walk reads this header forever.
    FakeDevice device;
    Image(device, 40000).common().model(103, 65534);
    const auto& error = failed(discover(device.reader()));
    CHECK(error.kind == DiscoveryError::Kind::chain_broken);
    CHECK(error.address == std::optional<std::uint16_t>(40070));
    CHECK(device.reads.size() < 10);
}

TEST_CASE("a chain of more than max_models models stops with an error", "[sunspec]") {
    // A region of zero registers reads as a run of (ID 0, L 0) headers.
    FakeDevice device;
    Image image(device, 40000);
    image.common();
    for (int i = 0; i < 150; ++i) {
        image.model(0, 0);
    }
    image.end();
    SECTION("the default cap is 100 models") {
        const auto& error = failed(discover(device.reader()));
        CHECK(error.kind == DiscoveryError::Kind::chain_broken);
        CHECK(error.message.find("more than 100 models") != std::string::npos);
        CHECK(device.reads.size() < 110);
    }
    SECTION("a larger cap walks the whole chain") {
        DiscoveryOptions options;
        options.max_models = 151;
        const auto& discovery = found(discover(device.reader(), options));
        CHECK(discovery.models.size() == 151);
        CHECK(discovery.end == 40070 + 150 * 2);
    }
}

TEST_CASE("a timeout inside the chain is read_failed at that address", "[sunspec]") {
    FakeDevice device;
    Image(device, 40000).common().model(103, 50).end();
    device.timeouts.insert(40070);
    const auto& error = failed(discover(device.reader()));
    CHECK(error.kind == DiscoveryError::Kind::read_failed);
    CHECK(error.address == std::optional<std::uint16_t>(40070));
    CHECK(error.message == "reading the model header at 40070: timeout");
}

TEST_CASE("a common model whose points answer an exception breaks the chain", "[sunspec]") {
    FakeDevice device;
    Image(device, 40000).common().end();
    device.registers.erase(40030); // inside Md
    const auto& error = failed(discover(device.reader()));
    CHECK(error.kind == DiscoveryError::Kind::chain_broken);
    CHECK(error.address == std::optional<std::uint16_t>(40002));
    CHECK(error.message.find("common model unreadable at 40004 (exception 02)") !=
          std::string::npos);
}

// --- identity ----------------------------------------------------------------------------------

TEST_CASE("identity comes from the common model with strings trimmed of NULs and spaces",
          "[sunspec]") {
    FakeDevice device;
    Identity identity;
    identity.mn = "  Fronius   "; // space padded both sides
    identity.md = "Symo 10.0-3-M";
    identity.opt = "";                                // not implemented: all 0x0000
    identity.vr = std::string("\0\0", 2) + "0.3.30 "; // leading NULs, a trailing space
    identity.sn = std::string("12345678\0junk", 13);  // garbage after the terminating NUL
    identity.da = 3;
    Image(device, 40000).common(identity).end();
    const auto& discovery = found(discover(device.reader()));
    REQUIRE(discovery.identity);
    CHECK(discovery.identity->manufacturer == "Fronius");
    CHECK(discovery.identity->model == "Symo 10.0-3-M");
    CHECK(discovery.identity->options.empty());
    CHECK(discovery.identity->version == "0.3.30");
    CHECK(discovery.identity->serial == "12345678");
    CHECK(discovery.identity->device_address == std::optional<std::uint16_t>(3));
}

TEST_CASE("a device address of 0xFFFF is not implemented", "[sunspec]") {
    FakeDevice device;
    Identity identity;
    identity.da = 0xFFFF;
    Image(device, 40000).common(identity).end();
    const auto& discovery = found(discover(device.reader()));
    REQUIRE(discovery.identity);
    CHECK_FALSE(discovery.identity->device_address);
}

TEST_CASE("a chain that does not start with the common model is identified with a warning",
          "[sunspec]") {
    FakeDevice device;
    Identity identity;
    identity.mn = "Late Inc";
    Image(device, 40000).model(103, 50).common(identity).end();
    const auto& discovery = found(discover(device.reader()));
    CHECK(chain(discovery) == "103@40002+50 1@40054+66 end@40122");
    REQUIRE(discovery.identity);
    CHECK(discovery.identity->manufacturer == "Late Inc");
    CHECK(warned(discovery, "first model at 40002 is 103, not the common model (1)"));
}

TEST_CASE("a chain without a common model has no identity and says so", "[sunspec]") {
    FakeDevice device;
    Image(device, 40000).model(103, 50).end();
    const auto& discovery = found(discover(device.reader()));
    CHECK_FALSE(discovery.identity);
    CHECK(warned(discovery, "no common model (1): the device is not identified"));
}

TEST_CASE("decode_string keeps the text between leading padding and the first NUL", "[sunspec]") {
    const std::vector<std::uint16_t> padded{0x2020, 0x4142, 0x4300, 0x4445}; // "  ABC\0DE"
    CHECK(decode_string(padded) == "ABC");
    const std::vector<std::uint16_t> zeros(8, 0);
    CHECK(decode_string(zeros).empty());
    const std::vector<std::uint16_t> inner{0x4120, 0x4220}; // "A B "
    CHECK(decode_string(inner) == "A B");
}

// --- read sizes --------------------------------------------------------------------------------

TEST_CASE("reads stay within max_registers: the common model is read in chunks", "[sunspec]") {
    FakeDevice device;
    Identity identity;
    identity.sn = "SERIAL-AT-THE-END";
    Image(device, 40000).common(identity).model(103, 50).end();
    SECTION("default: at most 125 (the common model in one read)") {
        const auto& discovery = found(discover(device.reader()));
        CHECK(device.largest_read() == 65); // Mn..DA
        REQUIRE(discovery.identity);
        CHECK(discovery.identity->serial == "SERIAL-AT-THE-END");
    }
    SECTION("max_registers 10: seven reads for the common model, the identity unchanged") {
        DiscoveryOptions options;
        options.max_registers = 10;
        const auto& discovery = found(discover(device.reader(), options));
        CHECK(device.largest_read() == 10);
        const auto common_reads =
            std::count_if(device.reads.begin(), device.reads.end(), [](const auto& read) {
                return read.first >= 40004 && read.first < 40070;
            });
        CHECK(common_reads == 7);
        REQUIRE(discovery.identity);
        CHECK(discovery.identity->serial == "SERIAL-AT-THE-END");
        CHECK(discovery.identity->manufacturer == "SunSpec Sim");
        CHECK(discovery.identity->device_address == std::optional<std::uint16_t>(1));
    }
    SECTION("max_registers above 125 is clamped to 125") {
        DiscoveryOptions options;
        options.max_registers = 500;
        (void)found(discover(device.reader(), options));
        CHECK(device.largest_read() <= 125);
    }
}
