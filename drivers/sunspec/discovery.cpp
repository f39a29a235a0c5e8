#include "drivers/sunspec/discovery.hpp"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <utility>

namespace greenrack::sunspec {

namespace {

// Offsets inside the common model, counted from its ID register (ID = 0, L = 1).
struct StringField {
    std::size_t offset;
    std::size_t registers;
};
constexpr StringField mn_field{2, 16};
constexpr StringField md_field{18, 16};
constexpr StringField opt_field{34, 8};
constexpr StringField vr_field{42, 8};
constexpr StringField sn_field{50, 16};
constexpr std::size_t da_offset = 66;
constexpr std::uint16_t older_common_model_length = 65; // without Pad
constexpr std::uint16_t unimplemented_u16 = 0xFFFF;

std::string hex4(std::uint16_t value) {
    char text[8];
    std::snprintf(text, sizeof text, "0x%04X", static_cast<unsigned>(value));
    return text;
}

std::string at(std::uint32_t address) {
    return std::to_string(address);
}

DiscoveryError error(DiscoveryError::Kind kind, std::optional<std::uint16_t> address,
                     std::string message) {
    return DiscoveryError{kind, address, std::move(message)};
}

DiscoveryError chain_broken(std::uint16_t address, const std::string& why) {
    return error(DiscoveryError::Kind::chain_broken, address,
                 "chain broken at " + at(address) + ": " + why);
}

// One discovery run: the caller's read function and the options, clamped.
class Walk {
public:
    Walk(const ReadFunction& read, const DiscoveryOptions& options)
        : read_(read), options_(options),
          max_registers_(std::clamp<std::uint16_t>(options.max_registers, 2, 125)) {}

    std::variant<Discovery, DiscoveryError> run() {
        std::string tried;
        bool any_answer = false;
        for (const std::uint16_t base : options_.bases) {
            if (!tried.empty()) {
                tried += ", ";
            }
            tried += at(base) + " (";
            if (base > 0xFFFF - 2) { // no room for the marker and a model ID
                tried += "out of range)";
                continue;
            }
            ReadResult result = read_(base, 2);
            if (const auto* failure = std::get_if<ReadError>(&result)) {
                if (failure->kind == ReadError::Kind::link) {
                    return error(DiscoveryError::Kind::read_failed, base,
                                 "probing " + at(base) + " for SunS: " + describe(*failure));
                }
                any_answer = any_answer || failure->kind == ReadError::Kind::exception;
                tried += describe(*failure) + ")";
                continue;
            }
            any_answer = true;
            const auto& registers = std::get<std::vector<std::uint16_t>>(result);
            if (registers.size() < 2) {
                tried += "short read: " + std::to_string(registers.size()) + " of 2 registers)";
                continue;
            }
            if (registers[0] != marker_high || registers[1] != marker_low) {
                tried += hex4(registers[0]) + " " + hex4(registers[1]) + ")";
                continue;
            }
            return walk(base);
        }
        if (!any_answer && !options_.bases.empty()) {
            return error(DiscoveryError::Kind::read_failed, std::nullopt,
                         "no answer while probing for SunS at " + tried);
        }
        return error(DiscoveryError::Kind::no_marker, std::nullopt,
                     "no SunS marker at " + (tried.empty() ? std::string("any base") : tried));
    }

private:
    // Walks the model chain that starts after the marker at `base`.
    std::variant<Discovery, DiscoveryError> walk(std::uint16_t base) {
        Discovery found;
        found.base = base;
        std::uint32_t next = base + 2u; // <= 0xFFFF: checked by run()
        while (true) {
            const auto address = static_cast<std::uint16_t>(next);
            const std::uint16_t asked = address == 0xFFFF ? 1 : 2;
            ReadResult result = read_(address, asked);
            if (const auto* failure = std::get_if<ReadError>(&result);
                failure != nullptr && failure->kind == ReadError::Kind::exception && asked == 2) {
                // Some devices end the map right after an end model's ID: read the ID alone.
                result = read_(address, 1);
            }
            std::vector<std::uint16_t> header;
            std::string unreadable; // why the header could not be read, when it could not
            if (const auto* failure = std::get_if<ReadError>(&result)) {
                if (failure->kind != ReadError::Kind::exception) {
                    return error(DiscoveryError::Kind::read_failed, address,
                                 "reading the model header at " + at(address) + ": " +
                                     describe(*failure));
                }
                unreadable = describe(*failure);
            } else {
                header = std::get<std::vector<std::uint16_t>>(std::move(result));
                if (header.empty()) {
                    unreadable = "an empty read";
                }
            }
            if (!unreadable.empty()) {
                if (found.models.empty()) {
                    return chain_broken(address,
                                        "no model after the SunS marker (" + unreadable + ")");
                }
                found.warnings.push_back("no end model: reading the model header at " +
                                         at(address) + " gave " + unreadable +
                                         ", taken as the end of the map");
                found.end = address;
                break;
            }
            const std::uint16_t id = header[0];
            if (id == end_model_id) {
                if (header.size() < 2) {
                    found.warnings.push_back("end model at " + at(address) +
                                             " has no length register");
                } else if (header[1] != 0) {
                    found.warnings.push_back("end model at " + at(address) + " has length " +
                                             std::to_string(header[1]) + " (0 expected)");
                }
                found.end = address;
                break;
            }
            if (header.size() < 2) {
                return chain_broken(address,
                                    "model " + std::to_string(id) + " has no readable length");
            }
            const std::uint16_t length = header[1];
            if (found.models.size() >= options_.max_models) {
                return chain_broken(address, "more than " + std::to_string(options_.max_models) +
                                                 " models without an end model");
            }
            next = next + 2u + length;
            if (next > 0xFFFF) {
                const bool fits = next == 0x10000;
                return chain_broken(address,
                                    "model " + std::to_string(id) + " with length " +
                                        std::to_string(length) +
                                        (fits ? " ends at address 65535, leaving no room for an "
                                                "end model"
                                              : " runs past address 65535"));
            }
            found.models.push_back(ModelHeader{id, address, length});
            if (id == common_model_id && !found.identity) {
                auto identity = read_identity(found.models.back(), found.warnings);
                if (auto* failure = std::get_if<DiscoveryError>(&identity)) {
                    return std::move(*failure);
                }
                found.identity = std::get<DeviceIdentity>(std::move(identity));
            }
        }
        if (found.models.empty() || found.models.front().id != common_model_id) {
            found.warnings.push_back(found.models.empty()
                                         ? std::string("the chain holds no model")
                                         : "first model at " + at(found.models.front().address) +
                                               " is " + std::to_string(found.models.front().id) +
                                               ", not the common model (1)");
        }
        if (!found.identity) {
            found.warnings.push_back("no common model (1): the device is not identified");
        }
        return found;
    }

    // Reads the points of a common model (as many as its length holds) into an identity.
    std::variant<DeviceIdentity, DiscoveryError> read_identity(const ModelHeader& model,
                                                               std::vector<std::string>& warnings) {
        const std::string where = "common model at " + at(model.address) + " has length " +
                                  std::to_string(model.length) + " (66 expected): ";
        if (model.length == older_common_model_length) {
            warnings.push_back(where + "an older device without the Pad register");
        } else if (model.length < older_common_model_length) {
            warnings.push_back(where + "points past offset " + std::to_string(model.length + 1) +
                               " are missing");
        } else if (model.length > common_model_length) {
            warnings.push_back(where + "registers after Pad ignored");
        }
        // Registers after the header, up to DA (Pad is not read): offset 2 is body[0].
        const auto wanted = std::min(model.length, static_cast<std::uint16_t>(da_offset - 1));
        std::vector<std::uint16_t> body;
        body.reserve(wanted);
        const std::uint32_t start = model.address + 2u;
        while (body.size() < wanted) {
            const auto address = static_cast<std::uint16_t>(start + body.size());
            const auto count = static_cast<std::uint16_t>(
                std::min<std::size_t>(wanted - body.size(), max_registers_));
            ReadResult result = read_(address, count);
            if (const auto* failure = std::get_if<ReadError>(&result)) {
                if (failure->kind != ReadError::Kind::exception) {
                    return error(DiscoveryError::Kind::read_failed, address,
                                 "reading the common model at " + at(address) + ": " +
                                     describe(*failure));
                }
                return chain_broken(model.address, "common model unreadable at " + at(address) +
                                                       " (" + describe(*failure) + ")");
            }
            const auto& registers = std::get<std::vector<std::uint16_t>>(result);
            if (registers.size() < count) {
                return chain_broken(model.address, "common model: short read at " + at(address) +
                                                       " (" + std::to_string(registers.size()) +
                                                       " of " + std::to_string(count) +
                                                       " registers)");
            }
            body.insert(body.end(), registers.begin(), registers.begin() + count);
        }
        const auto text = [&body](StringField field) {
            const std::size_t first = field.offset - 2;
            if (first + field.registers > body.size()) {
                return std::string();
            }
            return decode_string(
                std::span<const std::uint16_t>(body).subspan(first, field.registers));
        };
        DeviceIdentity identity;
        identity.manufacturer = text(mn_field);
        identity.model = text(md_field);
        identity.options = text(opt_field);
        identity.version = text(vr_field);
        identity.serial = text(sn_field);
        if (body.size() > da_offset - 2 && body[da_offset - 2] != unimplemented_u16) {
            identity.device_address = body[da_offset - 2];
        }
        return identity;
    }

    const ReadFunction& read_;
    const DiscoveryOptions& options_;
    std::uint16_t max_registers_;
};

} // namespace

std::variant<Discovery, DiscoveryError> discover(const ReadFunction& read,
                                                 const DiscoveryOptions& options) {
    return Walk(read, options).run();
}

std::string decode_string(std::span<const std::uint16_t> registers) {
    std::string text;
    text.reserve(registers.size() * 2);
    for (const std::uint16_t value : registers) {
        text.push_back(static_cast<char>(value >> 8));
        text.push_back(static_cast<char>(value & 0xFF));
    }
    const auto first = text.find_first_not_of(std::string_view("\0 ", 2));
    if (first == std::string::npos) {
        return {};
    }
    text.erase(0, first);
    text.erase(std::min(text.find('\0'), text.size()));
    text.erase(text.find_last_not_of(' ') + 1);
    return text;
}

std::string describe(const ReadError& error) {
    switch (error.kind) {
    case ReadError::Kind::exception: {
        char text[24];
        std::snprintf(text, sizeof text, "exception %02X",
                      static_cast<unsigned>(error.exception_code));
        return text;
    }
    case ReadError::Kind::timeout:
        return "timeout";
    case ReadError::Kind::link:
        return error.detail.empty() ? std::string("link error") : "link error: " + error.detail;
    }
    return "read error";
}

} // namespace greenrack::sunspec
