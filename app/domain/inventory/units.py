"""Units of measure: the UN/ECE Recommendation 20 codes a trading company uses.

The full list has about 2,000 codes, most for other trades; these are the ones the German
e-invoicing standards (XRechnung, ZUGFeRD) see in practice for goods and services. Adding a
code here is all it takes to allow it.
"""

from __future__ import annotations

UNIT_CODES: dict[str, str] = {
    "C62": "one (piece)",
    "H87": "piece",
    "EA": "each",
    "PR": "pair",
    "SET": "set",
    "XPK": "package",
    "XBX": "box",
    "XCT": "carton",
    "XPX": "pallet",
    "XRO": "roll",
    "XBG": "bag",
    "XBO": "bottle",
    "XCN": "can",
    "XSA": "sack",
    "DZN": "dozen",
    "GRM": "gram",
    "KGM": "kilogram",
    "TNE": "tonne",
    "MGM": "milligram",
    "MMT": "millimetre",
    "CMT": "centimetre",
    "MTR": "metre",
    "KMT": "kilometre",
    "MTK": "square metre",
    "MTQ": "cubic metre",
    "MLT": "millilitre",
    "LTR": "litre",
    "HLT": "hectolitre",
    "KWH": "kilowatt hour",
    "SEC": "second",
    "MIN": "minute",
    "HUR": "hour",
    "DAY": "day",
    "WEE": "week",
    "MON": "month",
    "ANN": "year",
    "LS": "lump sum",
    "P1": "percent",
}
