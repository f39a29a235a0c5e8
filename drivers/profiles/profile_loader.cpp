#include "drivers/profiles/profile_loader.hpp"

#include "drivers/common/toml_reader.hpp"
#include "drivers/profiles/roles.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <sstream>
#include <system_error>
#include <utility>

namespace greenrack::profiles {

namespace {

using common::ConfigError;
using common::number_text;
using common::quote;
using common::TableReader;
using modbus::DataType;
using modbus::PointSpec;
using modbus::RegisterKind;
using modbus::SentinelPolicy;
using modbus::WordOrder;

// Registers 0..65535: a point or constant must end at or before this.
constexpr std::int64_t register_space = 65536;

bool is_valid_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

std::string read_name(const TableReader& reader, std::string_view key, std::string_view what) {
    std::string name = reader.require_string(key);
    if (!is_valid_name(name)) {
        reader.fail(key, quote(name) + " is not a valid " + std::string(what) +
                             " (lower-case letters, digits and '_' only)");
    }
    return name;
}

RegisterKind read_function(const TableReader& reader, std::string_view key, RegisterKind fallback) {
    std::string text = reader.get_enum(key, modbus::to_string(fallback), {"holding", "input"});
    return *modbus::parse_register_kind(text);
}

WordOrder read_order(const TableReader& reader, std::string_view key, WordOrder fallback) {
    std::string text =
        reader.get_enum(key, modbus::to_string(fallback), {"ABCD", "CDAB", "BADC", "DCBA"});
    return *modbus::parse_word_order(text);
}

DataType read_type(const TableReader& reader) {
    if (!reader.has("type")) {
        reader.fail("type", "required key is missing");
    }
    std::string text = reader.get_enum("type", "",
                                       {"u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64",
                                        "string", "acc16", "acc32", "acc64", "enum16", "enum32",
                                        "bitfield16", "bitfield32", "sunssf"});
    return *modbus::parse_data_type(text);
}

// `sentinel` is false (no sentinel), an integer (custom raw value) or absent (type default).
SentinelPolicy read_sentinel(const TableReader& reader, DataType type) {
    reader.mark_used("sentinel");
    const toml::node* node = reader.table().get("sentinel");
    SentinelPolicy policy;
    if (node == nullptr) {
        return policy;
    }
    if (const auto* flag = node->as_boolean()) {
        if (flag->get()) {
            reader.fail("sentinel", "true is meaningless: use false (no sentinel), an integer "
                                    "(the raw \"not available\" value) or leave it out (the "
                                    "type's default)");
        }
        policy.mode = SentinelPolicy::Mode::none;
        return policy;
    }
    if (const auto* integer = node->as_integer()) {
        if (type == DataType::string) {
            reader.fail("sentinel", "a string point takes no integer sentinel (only false)");
        }
        const int bits = 16 * modbus::register_count(type);
        const std::int64_t value = integer->get();
        if (bits < 64) {
            const std::int64_t lowest = -(std::int64_t{1} << (bits - 1));
            const std::int64_t highest = (std::int64_t{1} << bits) - 1;
            if (value < lowest || value > highest) {
                reader.fail("sentinel", std::to_string(value) + " does not fit in " +
                                            std::to_string(bits) + " bits (allowed " +
                                            std::to_string(lowest) + ".." +
                                            std::to_string(highest) + ")");
            }
            policy.raw = static_cast<std::uint64_t>(value) & ((std::uint64_t{1} << bits) - 1);
        } else {
            policy.raw = static_cast<std::uint64_t>(value);
        }
        policy.mode = SentinelPolicy::Mode::custom;
        return policy;
    }
    reader.fail("sentinel",
                "expected false or an integer, got " + std::string(common::toml_type_name(*node)));
}

struct Defaults {
    RegisterKind function = RegisterKind::holding;
    WordOrder order = WordOrder::abcd;
    std::uint16_t max_registers = modbus::max_read_registers;
};

// One [[point]] or [[group.point]] table, validated on its own. For group points the address is
// relative to the block.
struct PointDef {
    TableReader reader;
    PointSpec spec;
    std::optional<std::string> scale_factor;
};

PointDef read_point(const TableReader& reader, const Defaults& defaults) {
    PointSpec spec;
    spec.name = read_name(reader, "name", "point name");
    spec.address = static_cast<std::uint16_t>(reader.require_int("address", 0, 65535));
    spec.function = read_function(reader, "function", defaults.function);
    spec.type = read_type(reader);
    spec.order = read_order(reader, "order", defaults.order);

    const auto length = reader.optional_int("length", 1, modbus::max_read_registers);
    if (spec.type == DataType::string && !length) {
        reader.fail("length", "required for type \"string\" (number of registers)");
    }
    if (spec.type != DataType::string && length) {
        reader.fail("length", "only valid for type \"string\" (a \"" +
                                  std::string(modbus::to_string(spec.type)) + "\" occupies " +
                                  std::to_string(modbus::register_count(spec.type)) +
                                  " registers)");
    }
    spec.registers =
        modbus::register_count(spec.type, static_cast<std::uint16_t>(length.value_or(0)));
    if (spec.registers > defaults.max_registers) {
        reader.fail(spec.type == DataType::string ? "length" : "type",
                    quote(spec.name) + " needs " + std::to_string(spec.registers) +
                        " registers, more than profile.max_registers (" +
                        std::to_string(defaults.max_registers) + ")");
    }

    spec.scale = reader.get_number("scale", 1.0);
    if (spec.scale == 0.0) {
        reader.fail("scale", "must not be 0 (use -1 to flip a sign convention)");
    }
    spec.offset = reader.get_number("offset", 0.0);
    auto scale_factor = reader.optional_string("scale_factor");
    if (scale_factor && spec.type == DataType::sunssf) {
        reader.fail("scale_factor", "a sunssf point cannot itself have a scale factor");
    }
    spec.unit = reader.get_string("unit", "");
    spec.kind = *modbus::parse_point_kind(reader.get_enum("kind", "gauge", {"gauge", "counter"}));
    if (auto role = reader.optional_string("role")) {
        if (!is_known_point_role(*role)) {
            reader.fail("role", "unknown role " + quote(*role) +
                                    " (the vocabulary is listed in config/profiles/README.md)");
        }
        spec.role = std::move(*role);
    }
    spec.min = reader.optional_number("min");
    spec.max = reader.optional_number("max");
    if (spec.min && spec.max && *spec.min > *spec.max) {
        reader.fail("max",
                    number_text(*spec.max) + " is less than min (" + number_text(*spec.min) + ")");
    }
    spec.sentinel = read_sentinel(reader, spec.type);
    reader.reject_unknown_keys();
    return PointDef{reader, std::move(spec), std::move(scale_factor)};
}

struct GroupDef {
    std::string prefix;
    std::int64_t count = 0;
    std::int64_t first = 1;
    std::int64_t base = 0;
    std::int64_t stride = 0;
    std::vector<PointDef> points;
};

GroupDef read_group(const TableReader& reader, const Defaults& defaults) {
    GroupDef group;
    group.prefix = read_name(reader, "prefix", "group prefix");
    group.count = reader.require_int("count", 1, 65535);
    group.first = reader.get_int("first", 1, 0, 65535);
    group.base = reader.require_int("base", 0, 65535);
    group.stride = reader.require_int("stride", 1, 65535);
    for (const TableReader& point : reader.table_array("point")) {
        group.points.push_back(read_point(point, defaults));
    }
    if (group.points.empty()) {
        reader.fail("point", "a group needs at least one [[group.point]] table");
    }
    reader.reject_unknown_keys();
    return group;
}

ConstantBlock read_constant(const TableReader& reader, const Defaults& defaults) {
    ConstantBlock block;
    block.function = read_function(reader, "function", defaults.function);
    block.address = static_cast<std::uint16_t>(reader.require_int("address", 0, 65535));
    const toml::array* values = reader.optional_array("values");
    const auto text = reader.optional_string("text");
    const auto length = reader.optional_int("length", 1, 65535);
    if (values != nullptr && text) {
        reader.fail("text", "give either values or text, not both");
    }
    if (values != nullptr) {
        if (length) {
            reader.fail("length", "only valid with text (values sets its own length)");
        }
        std::size_t index = 0;
        for (const toml::node& element : *values) {
            const auto* integer = element.as_integer();
            const std::string path = reader.key_path("values") + "[" + std::to_string(index) + "]";
            if (integer == nullptr) {
                throw ConfigError(common::location_of(element, reader.file()),
                                  path + ": expected an integer, got " +
                                      std::string(common::toml_type_name(element)));
            }
            if (integer->get() < 0 || integer->get() > 0xFFFF) {
                throw ConfigError(common::location_of(element, reader.file()),
                                  path + ": must be between 0 and 65535, got " +
                                      std::to_string(integer->get()));
            }
            block.values.push_back(static_cast<std::uint16_t>(integer->get()));
            ++index;
        }
        if (block.values.empty()) {
            reader.fail("values", "must not be empty");
        }
    } else if (text) {
        if (!length) {
            reader.fail("length", "required with text (number of registers)");
        }
        const auto capacity = static_cast<std::size_t>(*length) * 2;
        if (text->size() > capacity) {
            reader.fail("text", quote(*text) + " has " + std::to_string(text->size()) +
                                    " bytes, more than length " + std::to_string(*length) +
                                    " registers hold (" + std::to_string(capacity) + ")");
        }
        // Two characters per register, the first in the high byte; NUL padded.
        block.values.assign(static_cast<std::size_t>(*length), 0);
        for (std::size_t i = 0; i < text->size(); ++i) {
            const auto byte = static_cast<std::uint16_t>(static_cast<unsigned char>((*text)[i]));
            block.values[i / 2] |= static_cast<std::uint16_t>(i % 2 == 0 ? byte << 8 : byte);
        }
    } else {
        reader.fail_here("needs values = [...] or text = \"...\" with length");
    }
    if (static_cast<std::int64_t>(block.address) + static_cast<std::int64_t>(block.values.size()) >
        register_space) {
        reader.fail("address", std::to_string(block.values.size()) + " registers from " +
                                   std::to_string(block.address) +
                                   " run past the last register address (65535)");
    }
    reader.reject_unknown_keys();
    return block;
}

// A point after group expansion, with the table it came from (for error locations).
struct Expanded {
    PointSpec spec;
    const PointDef* def = nullptr;
    std::string group_local_prefix; // "<prefix>_<n>_" for group points, "" otherwise
};

void check_extent(const PointDef& def, const std::string& name, std::int64_t address,
                  std::uint16_t registers) {
    if (address + registers > register_space) {
        def.reader.fail("address", quote(name) + " needs registers " + std::to_string(address) +
                                       ".." + std::to_string(address + registers - 1) +
                                       ", past the last register address (65535)");
    }
}

int line_of_name(const PointDef& def) {
    return def.reader.location_of_key("name").line;
}

void resolve_scale_factors(std::vector<Expanded>& points,
                           const std::map<std::string, std::size_t, std::less<>>& by_name) {
    for (Expanded& point : points) {
        const auto& sf_name = point.def->scale_factor;
        if (!sf_name) {
            continue;
        }
        // A group point may name a scale factor of its own block first, then a profile-wide one.
        std::vector<std::string> candidates;
        if (!point.group_local_prefix.empty()) {
            candidates.push_back(point.group_local_prefix + *sf_name);
        }
        candidates.push_back(*sf_name);
        std::optional<std::size_t> target;
        for (const auto& candidate : candidates) {
            if (auto it = by_name.find(candidate); it != by_name.end()) {
                target = it->second;
                break;
            }
        }
        const TableReader& reader = point.def->reader;
        if (!target) {
            std::string names = quote(candidates.front());
            if (candidates.size() > 1) {
                names += " or " + quote(candidates.back());
            }
            reader.fail("scale_factor", "no point named " + names + " in this profile");
        }
        const PointSpec& sf = points[*target].spec;
        if (sf.type != DataType::sunssf) {
            reader.fail("scale_factor", "point " + quote(sf.name) + " has type " +
                                            quote(modbus::to_string(sf.type)) +
                                            "; a scale factor must have type \"sunssf\"");
        }
        if (sf.function != point.spec.function) {
            reader.fail("scale_factor", "scale factor " + quote(sf.name) + " is read from " +
                                            std::string(modbus::to_string(sf.function)) +
                                            " registers but " + quote(point.spec.name) + " from " +
                                            std::string(modbus::to_string(point.spec.function)) +
                                            " registers; both must use the same function");
        }
        point.spec.scale_factor = *target;
    }
}

DeviceProfile build_profile(const toml::table& root_table, const std::string& file,
                            const std::string& expected_name) {
    TableReader root(root_table, file, "");
    TableReader header = root.sub_table("profile");
    const auto point_tables = root.table_array("point");
    const auto group_tables = root.table_array("group");
    const auto constant_tables = root.table_array("constant");
    root.reject_unknown_keys();

    DeviceProfile profile;
    profile.source_file = file;
    profile.name = read_name(header, "name", "profile name");
    if (profile.name != expected_name) {
        header.fail("name",
                    quote(profile.name) + " must equal the file stem " + quote(expected_name));
    }
    profile.description = header.get_string("description", "");
    profile.device_role = *parse_device_role(header.get_enum(
        "device_role", "",
        {"rack_pdu", "pv_inverter", "wind_turbine", "battery", "grid_meter", "facility_meter"}));
    profile.max_registers = static_cast<std::uint16_t>(
        header.get_int("max_registers", modbus::max_read_registers, 1, modbus::max_read_registers));
    profile.max_gap =
        static_cast<std::uint16_t>(header.get_int("max_gap", 0, 0, modbus::max_read_registers));
    profile.even_alignment = header.get_bool("even_alignment", false);
    profile.holes = header.get_enum("holes", "exception", {"exception", "zero"}) == "zero"
                        ? HolePolicy::zero
                        : HolePolicy::exception;
    Defaults defaults;
    defaults.function = read_function(header, "default_function", RegisterKind::holding);
    defaults.order = read_order(header, "default_order", WordOrder::abcd);
    defaults.max_registers = profile.max_registers;
    header.reject_unknown_keys();

    std::vector<PointDef> point_defs;
    for (const TableReader& table : point_tables) {
        point_defs.push_back(read_point(table, defaults));
    }
    std::vector<GroupDef> groups;
    for (const TableReader& table : group_tables) {
        groups.push_back(read_group(table, defaults));
    }
    for (const TableReader& table : constant_tables) {
        profile.constants.push_back(read_constant(table, defaults));
    }
    if (point_defs.empty() && groups.empty()) {
        header.fail_here("defines no points (add [[point]] or [[group]] tables)");
    }

    // Expand groups, check extents and name uniqueness. Points keep file order: top-level
    // points first, then each group block by block.
    std::vector<Expanded> expanded;
    std::map<std::string, std::size_t, std::less<>> by_name;
    auto add = [&](Expanded point) {
        if (auto it = by_name.find(point.spec.name); it != by_name.end()) {
            point.def->reader.fail(
                "name", "duplicate point name " + quote(point.spec.name) +
                            " (first defined at line " +
                            std::to_string(line_of_name(*expanded[it->second].def)) + ")");
        }
        by_name.emplace(point.spec.name, expanded.size());
        expanded.push_back(std::move(point));
    };
    for (const PointDef& def : point_defs) {
        check_extent(def, def.spec.name, def.spec.address, def.spec.registers);
        add(Expanded{def.spec, &def, ""});
    }
    for (const GroupDef& group : groups) {
        for (std::int64_t i = 0; i < group.count; ++i) {
            const std::int64_t n = group.first + i;
            const std::string local = group.prefix + "_" + std::to_string(n) + "_";
            const std::int64_t block = group.base + group.stride * i;
            for (const PointDef& def : group.points) {
                Expanded point{def.spec, &def, local};
                point.spec.name = local + def.spec.name;
                const std::int64_t address = block + def.spec.address;
                check_extent(def, point.spec.name, address, def.spec.registers);
                point.spec.address = static_cast<std::uint16_t>(address);
                point.spec.index = static_cast<int>(n);
                add(std::move(point));
            }
        }
    }
    resolve_scale_factors(expanded, by_name);

    profile.points.reserve(expanded.size());
    for (Expanded& point : expanded) {
        profile.points.push_back(std::move(point.spec));
    }
    return profile;
}

} // namespace

DeviceProfile parse_profile(std::string_view toml_text, std::string_view source_name) {
    const toml::table table = common::parse_toml_text(toml_text, source_name);
    const std::string file(source_name);
    return build_profile(table, file, std::filesystem::path(file).stem().string());
}

DeviceProfile load_profile_file(const std::filesystem::path& path) {
    const toml::table table = common::parse_toml_file(path);
    return build_profile(table, path.string(), path.stem().string());
}

std::shared_ptr<const DeviceProfile> find_profile(std::string_view name,
                                                  std::span<const std::filesystem::path> dirs,
                                                  const common::SourceLocation& where) {
    if (!is_valid_name(name)) {
        throw ConfigError(where, "invalid profile name " + quote(name) +
                                     " (lower-case letters, digits and '_' only)");
    }
    const std::string file_name = std::string(name) + ".toml";
    std::string searched;
    for (const auto& dir : dirs) {
        const std::filesystem::path candidate = dir / file_name;
        std::error_code ec;
        if (std::filesystem::is_regular_file(candidate, ec)) {
            return std::make_shared<const DeviceProfile>(load_profile_file(candidate));
        }
        if (!searched.empty()) {
            searched += ", ";
        }
        searched += dir.string();
    }
    if (searched.empty()) {
        searched = "no profile directories configured";
    }
    throw ConfigError(where,
                      "device profile " + quote(name) + " not found (searched: " + searched + ")");
}

} // namespace greenrack::profiles
