#pragma once

namespace greenrack::sim {

// Power flows on the site's main bus at one instant, all >= 0 (W):
//   R + D + I = L + C + X   (docs: green-accounting.md §1)
struct BusBalance {
    double renewable_w = 0.0; // R: PV + wind
    double discharge_w = 0.0; // D
    double import_w = 0.0;    // I
    double load_w = 0.0;      // L = IT + cooling
    double charge_w = 0.0;    // C
    double export_w = 0.0;    // X
    double it_w = 0.0;        // sum of the PDU inlets (part of L)
    double cooling_w = 0.0;   // L - IT

    // (R + D + I) - (L + C + X): zero by construction.
    double residual_w() const {
        return renewable_w + discharge_w + import_w - load_w - charge_w - export_w;
    }
};

// The grid closes the balance: import = max(0, L + C - R - D), export = max(0, -(L + C - R - D)).
BusBalance close_balance(double renewable_w, double discharge_w, double load_w, double charge_w);

} // namespace greenrack::sim
