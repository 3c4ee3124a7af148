"""Build ``geo/data/gbt4754_2017.csv``: the national industry classification
GB/T 4754-2017 (国民经济行业分类), sections, divisions, groups and classes.

Source (see data/README.md): the GB/T 4754-2017 table as a JavaScript array in the
public repository ``zmshe/capital``, file ``src/utils/category.js`` at commit
0b8f1ae480aadd9f35aca2fd0efb934e9a7101e8 (2020-07-02). It lists 20 sections, 97
divisions, the groups that hold more than one class, and 1,380 classes — the
standard's own totals (20/97/473/1,380). A group with a single class is not listed
in the source; in the standard such a group has its class's name (e.g. 271/2710
化学药品原料药制造), and the build gives it that name.

English names of sections and divisions are transcribed here from the standard's
English titles; groups and classes carry Chinese names only.

Usage::

    python data/build_gbt4754.py PATH/TO/category.js [geo/data/gbt4754_2017.csv]
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "geo" / "data" / "gbt4754_2017.csv"

SECTIONS_EN = {
    "A": "Agriculture, forestry, animal husbandry and fishery",
    "B": "Mining",
    "C": "Manufacturing",
    "D": "Production and supply of electricity, heat, gas and water",
    "E": "Construction",
    "F": "Wholesale and retail trade",
    "G": "Transport, storage and postal services",
    "H": "Accommodation and catering",
    "I": "Information transmission, software and information technology services",
    "J": "Finance",
    "K": "Real estate",
    "L": "Leasing and business services",
    "M": "Scientific research and technical services",
    "N": "Water conservancy, environment and public facilities management",
    "O": "Resident services, repair and other services",
    "P": "Education",
    "Q": "Health and social work",
    "R": "Culture, sports and entertainment",
    "S": "Public administration, social security and social organisations",
    "T": "International organisations",
}

DIVISIONS_EN = {
    "01": "Agriculture", "02": "Forestry", "03": "Animal husbandry", "04": "Fishery",
    "05": "Professional and support activities for agriculture, forestry, animal "
          "husbandry and fishery",
    "06": "Mining and washing of coal", "07": "Extraction of petroleum and natural gas",
    "08": "Mining and processing of ferrous metal ores",
    "09": "Mining and processing of non-ferrous metal ores",
    "10": "Mining and processing of non-metal ores",
    "11": "Professional and support activities for mining", "12": "Other mining",
    "13": "Processing of food from agricultural products", "14": "Manufacture of foods",
    "15": "Manufacture of liquor, beverages and refined tea",
    "16": "Manufacture of tobacco", "17": "Manufacture of textiles",
    "18": "Manufacture of textile wearing apparel and clothing",
    "19": "Manufacture of leather, fur, feather and related products and footwear",
    "20": "Processing of timber, manufacture of wood, bamboo, rattan, palm and straw "
          "products",
    "21": "Manufacture of furniture", "22": "Manufacture of paper and paper products",
    "23": "Printing and reproduction of recording media",
    "24": "Manufacture of articles for culture, education, arts and crafts, sport and "
          "entertainment",
    "25": "Processing of petroleum, coal and other fuels",
    "26": "Manufacture of raw chemical materials and chemical products",
    "27": "Manufacture of medicines", "28": "Manufacture of chemical fibres",
    "29": "Manufacture of rubber and plastics products",
    "30": "Manufacture of non-metallic mineral products",
    "31": "Smelting and pressing of ferrous metals",
    "32": "Smelting and pressing of non-ferrous metals",
    "33": "Manufacture of metal products", "34": "Manufacture of general purpose machinery",
    "35": "Manufacture of special purpose machinery", "36": "Manufacture of automobiles",
    "37": "Manufacture of railway, ship, aerospace and other transport equipment",
    "38": "Manufacture of electrical machinery and equipment",
    "39": "Manufacture of computers, communication and other electronic equipment",
    "40": "Manufacture of measuring instruments and meters",
    "41": "Other manufacturing", "42": "Comprehensive utilisation of waste resources",
    "43": "Repair of metal products, machinery and equipment",
    "44": "Production and supply of electricity and heat",
    "45": "Production and supply of gas", "46": "Production and supply of water",
    "47": "Construction of buildings", "48": "Civil engineering",
    "49": "Construction installation activities",
    "50": "Building decoration, renovation and other construction",
    "51": "Wholesale trade", "52": "Retail trade", "53": "Railway transport",
    "54": "Road transport", "55": "Water transport", "56": "Air transport",
    "57": "Pipeline transport", "58": "Multimodal transport and transport agency",
    "59": "Loading, unloading, handling and warehousing", "60": "Postal services",
    "61": "Accommodation", "62": "Catering services",
    "63": "Telecommunications, radio, television and satellite transmission services",
    "64": "Internet and related services",
    "65": "Software and information technology services",
    "66": "Monetary and financial services", "67": "Capital market services",
    "68": "Insurance", "69": "Other financial activities", "70": "Real estate",
    "71": "Leasing", "72": "Business services", "73": "Research and experimental development",
    "74": "Professional technical services",
    "75": "Technology promotion and application services",
    "76": "Water conservancy management",
    "77": "Ecological protection and environmental governance",
    "78": "Public facilities management", "79": "Land management",
    "80": "Resident services",
    "81": "Repair of motor vehicles, electronic products and household goods",
    "82": "Other services", "83": "Education", "84": "Health", "85": "Social work",
    "86": "News and publishing", "87": "Radio, television, film and sound recording",
    "88": "Culture and arts", "89": "Sports", "90": "Entertainment",
    "91": "Organs of the Communist Party of China", "92": "State organs",
    "93": "CPPCC and democratic parties", "94": "Social security",
    "95": "Mass organisations, social groups and other membership organisations",
    "96": "Grass-roots self-governing mass organisations and other organisations",
    "97": "International organisations",
}

_ROW = re.compile(
    r"class4:\s*'(?P<c4>\d*)',\s*class3:\s*'(?P<c3>\d*)',\s*level:\s*'(?P<lv>[1-4])',\s*"
    r"class2:\s*'(?P<c2>\d*)',\s*class1:\s*'(?P<c1>[A-T])',\s*name:\s*'(?P<name>[^']*)'")
LEVELS = {"1": "section", "2": "division", "3": "group", "4": "class"}
TOTALS = {"section": 20, "division": 97, "group": 473, "class": 1380}


def parse(text: str) -> list[dict[str, str]]:
    """Rows ``code, level, section, parent, name_zh, name_en`` in the standard's order."""
    rows: dict[str, dict[str, str]] = {}
    for m in _ROW.finditer(text):
        lv = LEVELS[m["lv"]]
        code = {"section": m["c1"], "division": m["c2"], "group": m["c3"],
                "class": m["c4"]}[lv]
        parent = {"section": "", "division": m["c1"], "group": m["c2"],
                  "class": m["c3"]}[lv]
        name = re.sub(r"\s+", "", m["name"])
        if lv == "class" and m["c3"] not in rows:
            # a single-class group: the standard gives it its class's name
            rows[m["c3"]] = {"code": m["c3"], "level": "group", "section": m["c1"],
                             "parent": m["c2"], "name_zh": name, "name_en": ""}
        en = SECTIONS_EN.get(code, "") if lv == "section" else \
            DIVISIONS_EN.get(code, "") if lv == "division" else ""
        rows[code] = {"code": code, "level": lv, "section": m["c1"], "parent": parent,
                      "name_zh": name, "name_en": en}
    out = list(rows.values())
    counts = {lv: sum(r["level"] == lv for r in out) for lv in TOTALS}
    if counts != TOTALS:
        raise SystemExit(f"unexpected counts {counts}; GB/T 4754-2017 has {TOTALS}")
    missing = [r["code"] for r in out if r["level"] in ("section", "division")
               and not r["name_en"]]
    if missing:
        raise SystemExit(f"no English name for {missing}")
    return out


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    rows = parse(Path(argv[1]).read_text(encoding="utf-8"))
    out = Path(argv[2]) if len(argv) > 2 else OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{out}: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
