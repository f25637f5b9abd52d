"""The waste and treatment process combinations of each Tiered Permitting tier
(DATA-DICTIONARY-ELEMENTS §2.3): CESQT and PBR share groups 1-13, PBR adds the cyanide groups,
CESW, CA and CEL have their own. Each is a tick box, or a certified technology number."""

from __future__ import annotations

from typing import Any

from services.submittal.domain.form import field
from services.submittal.domain.model import Model

G1 = "1. Aqueous waste with hexavalent chromium"
G2 = "2. Aqueous waste with metals"
G3 = "3. Aqueous waste with organics (<10% organics, <1% volatiles)"
G4 = "4. Sludges, dusts and solids with metals"
G5 = "5. Sludges with alum, gypsum, lime, sulfur or phosphate"
G6 = "6. Special waste (22 CCR 66261.120)"
G7 = "7. Special waste (22 CCR 66261.124)"
G8 = "8. Inorganic acid or alkaline waste"
G9 = "9. Soils with metals"
G10 = "10. Used oil, mixed oil, oily water, oil/water sludges"
G11 = "11. Containers (<110 gal) or liners"
G12 = "12. Multi-component resins"
G13 = "13. Wastestream/technology combination certified by DTSC (HSC 25200.1.5)"


def _p(label: str, sub: str, group: str) -> Any:
    return field(label, sub, section=group)


def _ct(label: str, cers: str, group: str) -> Any:
    return field(label, cers, section=group, max_length=10)


class Combinations(Model):
    """Whether at least one waste/treatment combination is ticked (guidance 1038)."""

    def any_combination(self) -> bool:
        return any(v for _, v in self)


class SharedCombinations(Combinations):
    """Groups 1-13, shared by CESQT (627-x) and PBR (630-x)."""

    chromium_reduction: bool | None = _p("Reduction of hexavalent to trivalent chromium", "1a",
                                         G1)
    metals_ph_adjustment: bool | None = _p("pH adjustment or neutralization", "2a", G2)
    metals_precipitation: bool | None = _p("Precipitation or crystallization", "2b", G2)
    metals_phase_separation: bool | None = _p(
        "Phase separation (filter, centrifuge, gravity settling)", "2c", G2)
    metals_ion_exchange: bool | None = _p("Ion exchange", "2d", G2)
    metals_reverse_osmosis: bool | None = _p("Reverse osmosis", "2e", G2)
    metals_metallic_replacement: bool | None = _p("Metallic replacement", "2f", G2)
    metals_plating_onto_electrode: bool | None = _p("Plating onto an electrode", "2g", G2)
    metals_electrodialysis: bool | None = _p("Electrodialysis", "2h", G2)
    metals_electrowinning: bool | None = _p("Electrowinning or electrolytic recovery", "2i", G2)
    metals_chemical_stabilization: bool | None = _p(
        "Chemical stabilization (silicates or cementitious)", "2j", G2)
    metals_evaporation: bool | None = _p("Evaporation", "2k", G2)
    metals_adsorption: bool | None = _p("Adsorption", "2l", G2)
    organics_phase_separation: bool | None = _p(
        "Phase separation (filter, centrifuge, gravity settling)", "3a", G3)
    organics_adsorption: bool | None = _p("Adsorption", "3b", G3)
    organics_distillation: bool | None = _p("Distillation", "3c", G3)
    organics_biological: bool | None = _p("Biological process (microorganisms)", "3d", G3)
    organics_photodegradation: bool | None = _p("Photodegradation in an enclosed system", "3e",
                                                G3)
    organics_stripping: bool | None = _p("Air or steam stripping", "3f", G3)
    solids_chemical_stabilization: bool | None = _p("Chemical stabilization", "4a", G4)
    solids_grinding: bool | None = _p("Grind, shred, crush or compact", "4b", G4)
    solids_drying: bool | None = _p("Drying to remove water", "4c", G4)
    solids_separation: bool | None = _p("Separation by size, magnetism or density", "4d", G4)
    alum_chemical_stabilization: bool | None = _p("Chemical stabilization", "5a", G5)
    alum_drying: bool | None = _p("Drying to remove water", "5b", G5)
    alum_phase_separation: bool | None = _p("Phase separation", "5c", G5)
    special120_chemical_stabilization: bool | None = _p("Chemical stabilization", "6a", G6)
    special120_drying: bool | None = _p("Drying to remove water", "6b", G6)
    special120_phase_separation: bool | None = _p("Phase separation", "6c", G6)
    special120_screening: bool | None = _p("Screening by size", "6d", G6)
    special120_separation: bool | None = _p("Separation by size, magnetism or density", "6e",
                                            G6)
    special124_chemical_stabilization: bool | None = _p("Chemical stabilization", "7a", G7)
    special124_drying: bool | None = _p("Drying to remove water", "7b", G7)
    special124_phase_separation: bool | None = _p("Phase separation", "7c", G7)
    special124_magnetic_separation: bool | None = _p("Magnetic separation", "7d", G7)
    inorganic_neutralization: bool | None = _p("pH adjustment or neutralization", "8a", G8)
    soils_chemical_stabilization: bool | None = _p("Chemical stabilization", "9a", G9)
    soils_separation_by_size: bool | None = _p("Separation by size", "9b", G9)
    soils_magnetic_separation: bool | None = _p("Magnetic separation", "9c", G9)
    oil_separation: bool | None = _p("Separation (filter, centrifuge, gravity settling)", "10a",
                                     G10)
    oil_distillation: bool | None = _p("Distillation", "10b", G10)
    oil_neutralization: bool | None = _p("Neutralization", "10c", G10)
    oil_separation_by_size: bool | None = _p("Separation by size, magnetism or density", "10d",
                                             G10)
    oil_reverse_osmosis: bool | None = _p("Reverse osmosis", "10e", G10)
    oil_biological: bool | None = _p("Biological process (microorganisms)", "10f", G10)
    containers_rinsing: bool | None = _p("Rinsing with liquid", "11a", G11)
    containers_crushing: bool | None = _p("Crush, shred, grind or puncture", "11b", G11)
    resins_mixing: bool | None = _p("Mixing per the manufacturer's instructions", "12a", G12)
    certified_technology_number: str | None = _ct("Certified technology (CT) number", "13",
                                                  G13)


class CesqtCombinations(SharedCombinations):
    """CESQT waste and treatment combinations (627-x)."""


CN = "Cyanide-bearing aqueous waste, group"


class PbrCombinations(SharedCombinations):
    """PBR waste and treatment combinations (630-x), with the cyanide groups 630-14 to 630-20.
    The sources do not give the cyanide groups' titles; they are named by their prefixes."""

    cr_hypochlorite: bool | None = _p("Hypochlorite oxidation", "630-14a", f"{CN} 630-14 (CR)")
    cr_peroxide: bool | None = _p("Peroxide or ozone oxidation (± UV)", "630-14b",
                                  f"{CN} 630-14 (CR)")
    cr_alkaline_chlorination: bool | None = _p("Alkaline chlorination", "630-14c",
                                               f"{CN} 630-14 (CR)")
    cr_electrochemical: bool | None = _p("Electrochemical oxidation", "630-14d",
                                         f"{CN} 630-14 (CR)")
    cr_ion_exchange: bool | None = _p("Ion exchange", "630-14e", f"{CN} 630-14 (CR)")
    cr_reverse_osmosis: bool | None = _p("Reverse osmosis", "630-14f", f"{CN} 630-14 (CR)")
    ro_hypochlorite: bool | None = _p("Hypochlorite oxidation", "630-15a", f"{CN} 630-15 (RO)")
    ro_peroxide: bool | None = _p("Peroxide or ozone oxidation (± UV)", "630-15b",
                                  f"{CN} 630-15 (RO)")
    ro_alkaline_chlorination: bool | None = _p("Alkaline chlorination", "630-15c",
                                               f"{CN} 630-15 (RO)")
    ro_electrochemical: bool | None = _p("Electrochemical oxidation", "630-15d",
                                         f"{CN} 630-15 (RO)")
    ro_ion_exchange: bool | None = _p("Ion exchange", "630-15e", f"{CN} 630-15 (RO)")
    ro_reverse_osmosis: bool | None = _p("Reverse osmosis", "630-15f", f"{CN} 630-15 (RO)")
    ter_hypochlorite: bool | None = _p("Hypochlorite oxidation", "630-16a",
                                       f"{CN} 630-16 (TER)")
    ter_peroxide: bool | None = _p("Peroxide or ozone oxidation (± UV)", "630-16b",
                                   f"{CN} 630-16 (TER)")
    ter_alkaline_chlorination: bool | None = _p("Alkaline chlorination", "630-16c",
                                                f"{CN} 630-16 (TER)")
    ter_electrochemical: bool | None = _p("Electrochemical oxidation", "630-16d",
                                          f"{CN} 630-16 (TER)")
    ter_ion_exchange: bool | None = _p("Ion exchange", "630-16e", f"{CN} 630-16 (TER)")
    ter_reverse_osmosis: bool | None = _p("Reverse osmosis", "630-16f", f"{CN} 630-16 (TER)")
    ab_hypochlorite: bool | None = _p("Hypochlorite oxidation", "630-17a", f"{CN} 630-17 (AB)")
    ab_peroxide: bool | None = _p("Peroxide or ozone oxidation (± UV)", "630-17b",
                                  f"{CN} 630-17 (AB)")
    ab_alkaline_chlorination: bool | None = _p("Alkaline chlorination", "630-17c",
                                               f"{CN} 630-17 (AB)")
    ab_electrochemical: bool | None = _p("Electrochemical oxidation", "630-17d",
                                         f"{CN} 630-17 (AB)")
    ab_ion_exchange: bool | None = _p("Ion exchange", "630-17e", f"{CN} 630-17 (AB)")
    ab_reverse_osmosis: bool | None = _p("Reverse osmosis", "630-17f", f"{CN} 630-17 (AB)")
    ol_hypochlorite: bool | None = _p("Hypochlorite oxidation", "630-18a", f"{CN} 630-18 (OL)")
    ol_peroxide: bool | None = _p("Peroxide or ozone oxidation (± UV)", "630-18b",
                                  f"{CN} 630-18 (OL)")
    ol_alkaline_chlorination: bool | None = _p("Alkaline chlorination", "630-18c",
                                               f"{CN} 630-18 (OL)")
    ol_electrochemical: bool | None = _p("Electrochemical oxidation", "630-18d",
                                         f"{CN} 630-18 (OL)")
    ol_ion_exchange: bool | None = _p("Ion exchange", "630-18e", f"{CN} 630-18 (OL)")
    ol_reverse_osmosis: bool | None = _p("Reverse osmosis", "630-18f", f"{CN} 630-18 (OL)")
    cyanide_electrowinning: bool | None = _p(
        "Electrowinning of process solutions with cyanides (metal recovery)", "630-19",
        f"{CN} 630-19")
    ps_hypochlorite: bool | None = _p("Hypochlorite oxidation", "630-20a", f"{CN} 630-20 (PS)")
    ps_peroxide: bool | None = _p("Peroxide or ozone oxidation (± UV)", "630-20b",
                                  f"{CN} 630-20 (PS)")
    ps_alkaline_chlorination: bool | None = _p("Alkaline chlorination", "630-20c",
                                               f"{CN} 630-20 (PS)")
    ps_electrochemical: bool | None = _p("Electrochemical oxidation", "630-20d",
                                         f"{CN} 630-20 (PS)")
    ps_ion_exchange: bool | None = _p("Ion exchange", "630-20e", f"{CN} 630-20 (PS)")
    ps_reverse_osmosis: bool | None = _p("Reverse osmosis", "630-20f", f"{CN} 630-20 (PS)")


CESW = "CESW processes"


class CeswCombinations(Combinations):
    """CESW waste and treatment combinations (628-x)."""

    resins_mixed: bool | None = _p("Resins: mixing or curing per the manufacturer's "
                                   "instructions", "628-1", CESW)
    small_containers: bool | None = _p("Containers under 110 gal: rinse, crush, shred, grind "
                                       "or puncture", "628-2", CESW)
    drying_special_wastes: bool | None = _p("Drying by evaporation or pressing to remove water",
                                            "628-3", CESW)
    magnetic_separation_or_screening: bool | None = _p("Magnetic separation or screening",
                                                       "628-4", CESW)
    settling_of_solids: bool | None = _p("Settling of solids from non-hazardous liquid",
                                         "628-8a", CESW)
    oil_water_separation: bool | None = _p("Separation of oil/water mixtures or sludges (under "
                                           "25 barrels a month)", "628-8b", CESW)
    laboratory_neutralization: bool | None = _p(
        "Neutralizing acid or alkaline material in certified or educational laboratories, or "
        "under 1 gal a batch of laboratory waste", "628-9", CESW)
    quality_control_laboratory: bool | None = _p(
        "Treatment in quality control or assurance laboratories", "628-10", CESW)
    wastestream_ct_number: str | None = _ct(
        "DTSC-certified wastestream/technology combination: CT number", "628-11", CESW)
    formaldehyde_ct_number: str | None = _ct(
        "Formaldehyde or glutaraldehyde treated with DTSC-certified equipment: CT number",
        "628-12", CESW)


CA1, CA2, CA3 = "Aqueous inorganic waste", "Aqueous organic waste", "Sludges"
CA4, CA5, CA6 = "Alum, gypsum, lime, sulfur or phosphate sludges", \
    "Special waste (66261.120)", "Special waste (66261.124)"
CA7, CA8, CA9 = "Soils with metals", "Oily water and sludges", "Acidic or alkaline waste"
CA12 = "DTSC-certified wastestream/technology combination"


class CaCombinations(Combinations):
    """CA waste and treatment combinations (629-x); group titles from the element names."""

    inorganic_phase_separation: bool | None = _p(
        "Phase separation (filter, centrifuge, gravity settling)", "629-1a", CA1)
    inorganic_ion_exchange: bool | None = _p("Ion exchange or metallic replacement", "629-1b",
                                             CA1)
    inorganic_reverse_osmosis: bool | None = _p("Reverse osmosis", "629-1c", CA1)
    inorganic_adsorption: bool | None = _p("Adsorption", "629-1d", CA1)
    inorganic_ph_adjustment: bool | None = _p("pH adjustment", "629-1e", CA1)
    inorganic_electrowinning: bool | None = _p("Electrowinning if no hydrochloric acid",
                                               "629-1f", CA1)
    inorganic_chromium_reduction: bool | None = _p("Hexavalent chromium reduction", "629-1g",
                                                   CA1)
    organic_phase_separation: bool | None = _p("Phase separation", "629-2a", CA2)
    organic_adsorption: bool | None = _p("Adsorption", "629-2b", CA2)
    sludges_physical_process: bool | None = _p("Filter, gravity, grind, crush or compact",
                                               "629-3a", CA3)
    sludges_drying: bool | None = _p("Drying", "629-3b", CA3)
    sludges_separation: bool | None = _p("Separation by size, magnetism or density", "629-3c",
                                         CA3)
    alum_drying: bool | None = _p("Drying", "629-4a", CA4)
    alum_phase_separation: bool | None = _p("Phase separation", "629-4b", CA4)
    special120_drying: bool | None = _p("Drying", "629-5a", CA5)
    special120_phase_separation: bool | None = _p("Phase separation", "629-5b", CA5)
    special120_screening: bool | None = _p("Screening by size", "629-5c", CA5)
    special120_separation: bool | None = _p("Separation by size, magnetism or density",
                                            "629-5d", CA5)
    special124_drying: bool | None = _p("Drying", "629-6a", CA6)
    special124_phase_separation: bool | None = _p("Phase separation", "629-6b", CA6)
    special124_magnetic_separation: bool | None = _p("Magnetic separation", "629-6c", CA6)
    soils_separation: bool | None = _p("Separation by size", "629-7a", CA7)
    soils_magnetic_separation: bool | None = _p("Magnetic separation", "629-7b", CA7)
    oily_phase_separation: bool | None = _p("Phase separation", "629-8a", CA8)
    oily_separation: bool | None = _p("Separation by size, magnetism or density", "629-8b",
                                      CA8)
    oily_reverse_osmosis: bool | None = _p("Reverse osmosis", "629-8c", CA8)
    neutralization_under_10_percent: bool | None = _p(
        "Neutralization of acidic or alkaline waste under 10% by weight", "629-9a", CA9)
    neutralization_by_batch: bool | None = _p(
        "Neutralization of acidic or alkaline waste over 10% by weight, under 500 gal a batch",
        "629-9b", CA9)
    certified_technology_number: str | None = _ct("Certified technology (CT) number", "629-12",
                                                  CA12)


CEL = "CEL processes (used oil)"


class CelCombinations(Combinations):
    """CEL waste and treatment combinations (631-x)."""

    certified_technology_number: str | None = _ct(
        "DTSC-certified combination: CT number", "631-1", CEL)
    gravity_separation: bool | None = _p("Gravity separation", "631-2a", CEL)
    centrifuge: bool | None = _p("Centrifuge", "631-2b", CEL)
    membrane_technology: bool | None = _p("Membrane technology", "631-2c", CEL)
    heating_of_water: bool | None = _p(
        "Heating to no more than 20 °F below the flash point of the used-oil component, at "
        "atmospheric pressure", "631-2d", CEL)
    demulsifier: bool | None = _p("Addition of demulsifiers", "631-2e", CEL)
