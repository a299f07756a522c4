"""The fixed part of the public contract (docs/contract.md), as data the knowledge is checked against."""
from __future__ import annotations

#: The contract's triage levels, most urgent first (the knowledge manifest must list exactly these).
TRIAGE_LEVELS = ("emergency", "urgent", "routine", "self_care")

_BOOLS = (
    "hard_lump eases_with_stretch at_night disrupts_daily_life widespread weakness muscle_wasting "
    "numbness_tingling difficulty_walking swelling skin_changes lightheaded heavy_sweating headache "
    "extreme_thirst nausea toxin_exposure leg_pain_walking back_or_neck_pain recent_strenuous_exercise "
    "no_warmup hot_environment low_fluid_intake caffeine poor_sleep stress_anxiety pregnant menstruating "
    "prolonged_sitting poor_posture standing_hard_floors prolonged_writing low_mineral_diet").split()

#: observation id -> (type, the values the contract requires; a knowledge base may add more)
CORE_OBSERVATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "movement": ("enum", ("cramp", "spasm", "twitch", "jerk", "tic", "convulsion", "twisting")),
    "sites": ("set", ("calf", "thigh", "foot", "hand", "fingers", "arm", "eyelid", "face", "neck", "back",
                      "abdomen", "chest_wall", "whole_body")),
    "episode_minutes": ("number", ()),
    "pattern": ("enum", ("single", "occasional", "recurrent", "increasing", "continuous")),
    "pain": ("enum", ("none", "mild", "moderate", "severe")),
    **{name: ("bool", ()) for name in _BOOLS},
    "medications": ("set", ("diuretic", "statin", "other_fluid_loss")),
    "conditions": ("set", ("diabetes", "atherosclerosis", "iron_deficiency", "spinal_injury", "peripheral_neuropathy",
                           "high_blood_pressure", "kidney_disease", "liver_disease", "multiple_sclerosis",
                           "parkinsons", "alzheimers", "anxiety_disorder", "depression",
                           "neuromuscular_family_history", "tourette")),
}
#: written at the top of a case rather than under answers
TOP_LEVEL = {"age": ("number", ()), "sex": ("enum", ("female", "male", "other"))}

CORE_CAUSES = tuple((
    "overexertion dehydration electrolyte_imbalance heat_illness medication_effect pregnancy ageing "
    "posture_or_position stress_anxiety stimulants_or_sleep poor_circulation nerve_compression diabetes "
    "iron_deficiency peripheral_neuropathy myopathy motor_neuron_disease dystonia myoclonus tic_disorder "
    "menstrual toxin_exposure organ_failure neurodegenerative_disease").split())

__all__ = ["CORE_CAUSES", "CORE_OBSERVATIONS", "TOP_LEVEL", "TRIAGE_LEVELS"]
