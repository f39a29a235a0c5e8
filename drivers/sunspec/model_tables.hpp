#pragma once

#include "drivers/sunspec/models.hpp"

#include <span>

// The model tables by family, one translation unit each; find_model() (models.cpp) searches
// them all. Internal to greenrack_sunspec: use find_model() / supported_model_ids().
namespace greenrack::sunspec::tables {

std::span<const ModelDef> common_models();   // 1 common, 120 nameplate, 121 settings
std::span<const ModelDef> inverter_models(); // 101-103, 111-113, 160 MPPT extension
std::span<const ModelDef> meter_models();    // 201-204
std::span<const ModelDef> storage_models();  // 124 storage controls, 802 battery
std::span<const ModelDef> der_models();      // 701 DER AC measurement, 713 storage capacity

} // namespace greenrack::sunspec::tables
