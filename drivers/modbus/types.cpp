#include "drivers/modbus/types.hpp"

#include <array>
#include <utility>

namespace greenrack::modbus {

namespace {

constexpr std::array<std::pair<std::string_view, DataType>, 17> data_type_names{{
    {"u16", DataType::u16},
    {"i16", DataType::i16},
    {"u32", DataType::u32},
    {"i32", DataType::i32},
    {"u64", DataType::u64},
    {"i64", DataType::i64},
    {"f32", DataType::f32},
    {"f64", DataType::f64},
    {"string", DataType::string},
    {"acc16", DataType::acc16},
    {"acc32", DataType::acc32},
    {"acc64", DataType::acc64},
    {"enum16", DataType::enum16},
    {"enum32", DataType::enum32},
    {"bitfield16", DataType::bitfield16},
    {"bitfield32", DataType::bitfield32},
    {"sunssf", DataType::sunssf},
}};

constexpr std::array<std::pair<std::string_view, WordOrder>, 4> word_order_names{{
    {"ABCD", WordOrder::abcd},
    {"CDAB", WordOrder::cdab},
    {"BADC", WordOrder::badc},
    {"DCBA", WordOrder::dcba},
}};

} // namespace

std::uint16_t register_count(DataType type, std::uint16_t string_registers) {
    switch (type) {
    case DataType::u16:
    case DataType::i16:
    case DataType::acc16:
    case DataType::enum16:
    case DataType::bitfield16:
    case DataType::sunssf:
        return 1;
    case DataType::u32:
    case DataType::i32:
    case DataType::f32:
    case DataType::acc32:
    case DataType::enum32:
    case DataType::bitfield32:
        return 2;
    case DataType::u64:
    case DataType::i64:
    case DataType::f64:
    case DataType::acc64:
        return 4;
    case DataType::string:
        return string_registers;
    }
    return 0;
}

bool is_signed(DataType type) {
    return type == DataType::i16 || type == DataType::i32 || type == DataType::i64 ||
           type == DataType::sunssf;
}

bool is_float(DataType type) {
    return type == DataType::f32 || type == DataType::f64;
}

std::optional<DataType> parse_data_type(std::string_view text) {
    for (const auto& [name, type] : data_type_names) {
        if (name == text) {
            return type;
        }
    }
    return std::nullopt;
}

std::string_view to_string(DataType type) {
    for (const auto& [name, candidate] : data_type_names) {
        if (candidate == type) {
            return name;
        }
    }
    return "?";
}

std::optional<WordOrder> parse_word_order(std::string_view text) {
    for (const auto& [name, order] : word_order_names) {
        if (name == text) {
            return order;
        }
    }
    return std::nullopt;
}

std::string_view to_string(WordOrder order) {
    for (const auto& [name, candidate] : word_order_names) {
        if (candidate == order) {
            return name;
        }
    }
    return "?";
}

std::optional<RegisterKind> parse_register_kind(std::string_view text) {
    if (text == "holding") {
        return RegisterKind::holding;
    }
    if (text == "input") {
        return RegisterKind::input;
    }
    return std::nullopt;
}

std::string_view to_string(RegisterKind kind) {
    return kind == RegisterKind::holding ? "holding" : "input";
}

std::optional<PointKind> parse_point_kind(std::string_view text) {
    if (text == "gauge") {
        return PointKind::gauge;
    }
    if (text == "counter") {
        return PointKind::counter;
    }
    return std::nullopt;
}

std::string_view to_string(PointKind kind) {
    return kind == PointKind::gauge ? "gauge" : "counter";
}

} // namespace greenrack::modbus
