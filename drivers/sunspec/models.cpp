#include "drivers/sunspec/models.hpp"

#include "drivers/sunspec/model_tables.hpp"

#include <array>

namespace greenrack::sunspec {

namespace {

constexpr std::array<int, 18> supported_ids{
    1, 101, 102, 103, 111, 112, 113, 120, 121, 124, 160, 201, 202, 203, 204, 701, 713, 802,
};

const PointDef* find_in(std::span<const PointDef> points, std::string_view name) {
    for (const PointDef& point : points) {
        if (point.name == name) {
            return &point;
        }
    }
    return nullptr;
}

} // namespace

const PointDef* GroupDef::find_point(std::string_view point_name) const {
    return find_in(points, point_name);
}

const PointDef* ModelDef::find_point(std::string_view point_name) const {
    return find_in(points, point_name);
}

const GroupDef* ModelDef::find_group(std::string_view group_name) const {
    for (const GroupDef& group : groups) {
        if (group.name == group_name) {
            return &group;
        }
    }
    return nullptr;
}

const ModelDef* find_model(int id) {
    for (const auto family : {tables::common_models, tables::inverter_models, tables::meter_models,
                              tables::storage_models, tables::der_models}) {
        for (const ModelDef& model : family()) {
            if (model.id == id) {
                return &model;
            }
        }
    }
    return nullptr;
}

std::span<const int> supported_model_ids() {
    return supported_ids;
}

} // namespace greenrack::sunspec
