"""Generate the bundled SYNTHETIC firm register data/yrd/firms.gpkg (layer ``firms``).

No public firm register with locations, industries, land, output and tax exists for
the Yangtze River Delta, so this one is made up, reproducibly (fixed seed), and every
record says ``synthetic = 1``. It is calibrated to the firm counts of the domain notes:

* Suzhou Industrial Park: microelectronics 31, precision machinery 27, medical supplies 12
  (plus a few biomedical R&D firms, BioBAY);
* Suzhou New District: 75% of its firms in electronics;
* Kunshan ETDZ: the notebook chain (six notebook makers, motherboard makers, suppliers);
* Wujiang ETDZ: IT assemblers and their suppliers;
* Chongming: biomedicine 20+ firms, the wind chain (1 blade maker + 8 suppliers: blade
  materials, moulds, operations and maintenance), battery recycling → cathode materials,
  smart equipment (5 firms);
* Zhangjiang: biomedicine R&D → CRO → pilot → manufacturing, integrated circuits;
* Caojing: petrochemicals and fine chemicals; Taicang, Nantong, Jiaxing: materials,
  wind equipment, batteries;

plus firms outside the parks in real industrial towns (Wuxi, Changzhou, Jiangyin,
Taixing, Lingang, Huzhou, and Nanjing and Hangzhou beyond the study area) so that some
chains are complete within 100 km by road and some are not (no firm makes blade core
materials; silicon wafers, separators, carbon fibre and catalysts are far from most
buyers). Firms inside a park are placed uniformly at random inside its (illustrative)
polygon; firms outside parks are scattered around a town centre (σ ≈ 5 km), kept
within 3 km of a road node and outside every park.

Land (亩), fixed investment, annual output and tax (million yuan) are drawn from
log-normal distributions around plausible per-industry figures (output per 亩 from
about 2 M yuan for services to 12 M yuan for assembly; the Changsha thresholds of the
domain notes, 1.5 M yuan investment or 2.5 M yuan output per 亩, fall inside the
spread). About 6% of the non-anchor values are left empty on purpose: "missing means
not graded" downstream.

Reads only data/yrd/ (parks.gpkg, base.gpkg); rerun with
``python data/make_firms.py`` from a clean clone. Same seed → same records.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

HERE = Path(__file__).resolve().parent
SEED = 20240521
OUT = HERE / "yrd" / "firms.gpkg"

# industry: (chain, zh suffix, en suffix, stage kind)
INDUSTRIES: dict[str, tuple[str, str, str, str]] = {
    "notebook_assembly": ("electronics", "电脑", "Computer", "assembly"),
    "motherboards": ("electronics", "电脑配件", "Computer Parts", "assembly"),
    "it_assembly": ("electronics", "信息技术", "Information Technology", "assembly"),
    "microelectronics": ("electronics", "微电子", "Microelectronics", "components"),
    "silicon_wafers": ("electronics", "硅材料", "Silicon Materials", "materials"),
    "electronic_components": ("electronics", "电子", "Electronics", "components"),
    "pcb": ("electronics", "电路板", "Circuit Board", "components"),
    "display_modules": ("electronics", "显示科技", "Display Technology", "components"),
    "storage_devices": ("electronics", "存储科技", "Storage Technology", "components"),
    "precision_machinery": ("electronics", "精密机械", "Precision Machinery", "components"),
    "smart_equipment": ("electronics", "智能装备", "Intelligent Equipment", "components"),
    "packaging": ("electronics", "包装材料", "Packaging Materials", "services"),
    "wind_turbines": ("wind", "风电设备", "Wind Power Equipment", "assembly"),
    "wind_blades": ("wind", "风电叶片", "Wind Blade", "components"),
    "blade_materials": ("wind", "复合材料", "Composite Materials", "materials"),
    "blade_moulds": ("wind", "模具", "Mould", "components"),
    "core_materials": ("wind", "芯材", "Core Materials", "materials"),
    "carbon_fibre": ("wind", "碳纤维", "Carbon Fibre", "materials"),
    "wind_om": ("wind", "风电运维", "Wind Power Services", "services"),
    "gearboxes": ("wind", "齿轮传动", "Gear Transmission", "components"),
    "generators": ("wind", "电机", "Electric Machinery", "components"),
    "towers": ("wind", "塔筒制造", "Tower Manufacturing", "components"),
    "battery_cells": ("battery", "新能源电池", "New Energy Battery", "assembly"),
    "energy_storage": ("battery", "储能科技", "Energy Storage", "assembly"),
    "battery_recycling": ("battery", "资源循环", "Resource Recycling", "recycling"),
    "cathode_materials": ("battery", "正极材料", "Cathode Materials", "materials"),
    "cathode_precursors": ("battery", "前驱体材料", "Precursor Materials", "materials"),
    "anode_materials": ("battery", "负极材料", "Anode Materials", "materials"),
    "electrolyte": ("battery", "电解液", "Electrolyte", "chemicals"),
    "separators": ("battery", "隔膜", "Separator", "materials"),
    "copper_foil": ("battery", "铜箔", "Copper Foil", "materials"),
    "lithium_salts": ("battery", "锂业", "Lithium", "chemicals"),
    "biomed_rd": ("biomedicine", "生物医药研究院", "Biomedical Research", "rd"),
    "cro": ("biomedicine", "医药研究服务", "Clinical Research Services", "rd"),
    "pilot_production": ("biomedicine", "生物制药中试", "Bioprocess Pilot", "components"),
    "biopharma_manufacturing": ("biomedicine", "生物制药", "Biopharmaceutical", "assembly"),
    "medical_supplies": ("biomedicine", "医疗器械", "Medical Devices", "components"),
    "lab_reagents": ("biomedicine", "生物试剂", "Bio-reagents", "rd"),
    "pharma_intermediates": ("biomedicine", "医药化工", "Pharmaceutical Chemicals", "chemicals"),
    "crude_refining": ("chemicals", "炼化", "Refining", "refinery"),
    "basic_petrochemicals": ("chemicals", "石化", "Petrochemical", "chemicals"),
    "fine_chemicals": ("chemicals", "精细化工", "Fine Chemicals", "chemicals"),
    "resins": ("chemicals", "树脂", "Resins", "chemicals"),
    "industrial_gases": ("chemicals", "气体", "Industrial Gases", "chemicals"),
    "catalysts": ("chemicals", "催化剂", "Catalysts", "chemicals"),
}

# kind: (median land 亩, output per 亩, fixed investment per 亩, tax / output), M yuan
KINDS = {
    "assembly": (150.0, 12.0, 3.0, 0.025),
    "components": (60.0, 5.0, 3.5, 0.05),
    "materials": (80.0, 4.0, 3.0, 0.04),
    "chemicals": (120.0, 6.0, 5.0, 0.05),
    "rd": (15.0, 3.0, 4.0, 0.08),
    "services": (20.0, 2.0, 1.5, 0.06),
    "recycling": (60.0, 2.5, 2.0, 0.04),
    "refinery": (3000.0, 15.0, 8.0, 0.08),
}

# Parks: {industry: (count, anchors)}
PARKS: dict[str, tuple[str, dict[str, tuple[int, int]]]] = {
    "sip": ("苏州", {"microelectronics": (31, 3), "precision_machinery": (27, 0),
                     "medical_supplies": (12, 0), "biomed_rd": (6, 0)}),
    "snd": ("苏州", {"electronic_components": (10, 0), "pcb": (4, 0), "display_modules": (4, 0),
                     "precision_machinery": (4, 0), "smart_equipment": (2, 0)}),
    "kunshan": ("昆山", {"notebook_assembly": (6, 6), "motherboards": (3, 1),
                         "electronic_components": (24, 0), "pcb": (8, 0),
                         "display_modules": (5, 0), "precision_machinery": (8, 0),
                         "packaging": (4, 0)}),
    "wujiang": ("吴江", {"it_assembly": (5, 2), "electronic_components": (8, 0), "pcb": (3, 0),
                         "precision_machinery": (3, 0), "packaging": (2, 0)}),
    "chongming": ("崇明", {"biopharma_manufacturing": (12, 2), "cro": (4, 0), "biomed_rd": (3, 0),
                           "medical_supplies": (3, 0), "wind_blades": (1, 1),
                           "blade_materials": (3, 0), "blade_moulds": (2, 0), "wind_om": (3, 0),
                           "battery_recycling": (2, 0), "cathode_materials": (2, 0),
                           "smart_equipment": (5, 0)}),
    "zhangjiang": ("上海", {"biomed_rd": (10, 0), "cro": (8, 0), "pilot_production": (4, 0),
                            "biopharma_manufacturing": (6, 2), "lab_reagents": (3, 0),
                            "microelectronics": (10, 2)}),
    "caojing": ("上海", {"crude_refining": (1, 0), "basic_petrochemicals": (4, 2),
                         "fine_chemicals": (10, 0), "resins": (4, 0), "industrial_gases": (2, 0),
                         "electrolyte": (2, 0), "lithium_salts": (1, 0),
                         "pharma_intermediates": (3, 0)}),
    "taicang": ("太仓", {"copper_foil": (2, 0), "anode_materials": (2, 0), "resins": (2, 0),
                         "blade_materials": (1, 0), "precision_machinery": (3, 0)}),
    "nantong": ("南通", {"wind_turbines": (2, 2), "gearboxes": (3, 0), "generators": (2, 0),
                         "towers": (2, 0), "biopharma_manufacturing": (3, 0), "cro": (1, 0),
                         "pharma_intermediates": (2, 0), "blade_materials": (1, 0)}),
    "jiaxing": ("嘉兴", {"electronic_components": (6, 0), "battery_cells": (3, 1),
                         "energy_storage": (2, 1), "cathode_precursors": (1, 0),
                         "precision_machinery": (3, 0)}),
}

# Towns outside the parks: (zh name, lon, lat, {industry: (count, anchors)})
TOWNS: dict[str, tuple[str, float, float, dict[str, tuple[int, int]]]] = {
    "wuxi": ("无锡", 120.33, 31.55, {"microelectronics": (6, 0), "storage_devices": (2, 0),
                                     "precision_machinery": (4, 0), "gearboxes": (1, 0)}),
    "changzhou": ("常州", 120.03, 31.78, {"battery_cells": (4, 1), "cathode_precursors": (2, 0),
                                          "energy_storage": (1, 0)}),
    "jiangyin": ("江阴", 120.28, 31.88, {"copper_foil": (1, 0), "resins": (1, 0),
                                         "towers": (1, 0)}),
    "taixing": ("泰兴", 120.05, 32.15, {"fine_chemicals": (3, 0), "lithium_salts": (1, 0),
                                        "pharma_intermediates": (1, 0)}),
    "lingang": ("上海", 121.88, 30.92, {"energy_storage": (1, 1), "smart_equipment": (2, 0),
                                        "precision_machinery": (2, 0)}),
    "huzhou": ("湖州", 120.10, 30.87, {"electrolyte": (1, 0), "battery_cells": (1, 0)}),
    "nanjing": ("南京", 118.82, 32.20, {"basic_petrochemicals": (2, 0), "fine_chemicals": (3, 0),
                                        "catalysts": (2, 0), "carbon_fibre": (1, 0),
                                        "separators": (1, 0), "display_modules": (2, 0)}),
    "hangzhou": ("杭州", 120.25, 30.30, {"silicon_wafers": (2, 0), "storage_devices": (2, 0),
                                         "biomed_rd": (3, 0), "cro": (2, 0),
                                         "lab_reagents": (2, 0), "medical_supplies": (2, 0)}),
}

BRANDS = [("华芯", "Huaxin"), ("恒达", "Hengda"), ("博远", "Boyuan"), ("新源", "Xinyuan"),
          ("汇通", "Huitong"), ("锦程", "Jincheng"), ("瑞丰", "Ruifeng"), ("宏泰", "Hongtai"),
          ("天成", "Tiancheng"), ("凯盛", "Kaisheng"), ("晶合", "Jinghe"), ("联创", "Lianchuang"),
          ("海润", "Hairun"), ("金桥", "Jinqiao"), ("永鑫", "Yongxin"), ("正泰", "Zhengtai"),
          ("中远", "Zhongyuan"), ("昌盛", "Changsheng"), ("嘉禾", "Jiahe"), ("宇通", "Yutong"),
          ("东晟", "Dongsheng"), ("蓝海", "Lanhai"), ("安达", "Anda"), ("维康", "Weikang"),
          ("力诺", "Linuo"), ("明阳", "Mingyang"), ("启航", "Qihang"), ("长青", "Changqing"),
          ("盛华", "Shenghua"), ("泰科", "Taike"), ("鼎新", "Dingxin"), ("康和", "Kanghe")]
CITY_EN = {"苏州": "Suzhou", "昆山": "Kunshan", "吴江": "Wujiang", "崇明": "Chongming",
           "上海": "Shanghai", "太仓": "Taicang", "南通": "Nantong", "嘉兴": "Jiaxing",
           "无锡": "Wuxi", "常州": "Changzhou", "江阴": "Jiangyin", "泰兴": "Taixing",
           "湖州": "Huzhou", "南京": "Nanjing", "杭州": "Hangzhou"}
MISSING_P = 0.06


def _road_nodes_xy(tr: Transformer) -> cKDTree:
    hw = gpd.read_file(HERE / "yrd" / "base.gpkg", layer="highways", engine="pyogrio")
    xy = shapely.get_coordinates(hw.geometry.values)
    x, y = tr.transform(xy[:, 0], xy[:, 1])
    return cKDTree(np.column_stack([x, y]))


def _in_polygon(rng: np.random.Generator, poly, n: int) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        c = np.column_stack([rng.uniform(minx, maxx, 4 * n), rng.uniform(miny, maxy, 4 * n)])
        out = np.vstack([out, c[shapely.contains_xy(poly, c[:, 0], c[:, 1])]])
    return out[:n]


def _near_town(rng, lon, lat, n, tr, tree, parks_union, max_road_m=3000.0):
    out = np.empty((0, 2))
    while len(out) < n:
        c = np.column_stack([lon + rng.normal(0, 0.05, 4 * n), lat + rng.normal(0, 0.045, 4 * n)])
        x, y = tr.transform(c[:, 0], c[:, 1])
        d, _ = tree.query(np.column_stack([x, y]))
        ok = (d <= max_road_m) & ~shapely.contains_xy(parks_union, c[:, 0], c[:, 1])
        out = np.vstack([out, c[ok]])
    return out[:n]


def build_firms(seed: int = SEED) -> gpd.GeoDataFrame:
    """The synthetic register (EPSG:4326), deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    parks = gpd.read_file(HERE / "yrd" / "parks.gpkg", engine="pyogrio").set_index("park_id")
    study = gpd.read_file(HERE / "yrd" / "base.gpkg", layer="study_area", engine="pyogrio")
    study_poly = shapely.union_all(study.geometry.values)
    tr = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True)
    tree = _road_nodes_xy(tr)
    parks_union = shapely.union_all(parks.geometry.values)
    rows: list[dict] = []
    groups = [(pid, city, inds, None) for pid, (city, inds) in PARKS.items()] + \
             [("", city, inds, (lon, lat)) for _, (city, lon, lat, inds) in TOWNS.items()]
    for pid, city, inds, town in groups:
        total = sum(c for c, _ in inds.values())
        pts = _in_polygon(rng, parks.geometry[pid], total) if town is None else \
            _near_town(rng, town[0], town[1], total, tr, tree, parks_union)
        k = 0
        for ind, (count, anchors) in inds.items():
            chain, zh, en, kind = INDUSTRIES[ind]
            land0, out_mu, inv_mu, tax_r = KINDS[kind]
            for j in range(count):
                anchor = j < anchors
                b = BRANDS[int(rng.integers(len(BRANDS)))]
                land = land0 * (4.0 if anchor else 1.0) * rng.lognormal(0, 0.6)
                output = land * out_mu * rng.lognormal(0, 0.45)
                invest = land * inv_mu * rng.lognormal(0, 0.4)
                tax = output * tax_r * rng.lognormal(0, 0.35)
                vals = np.round([land, invest, output, tax], 1)
                if not anchor:
                    vals[rng.random(4) < MISSING_P] = np.nan
                rows.append({
                    "park_id": pid, "industry": ind, "chain": chain, "anchor": bool(anchor),
                    "name": f"{city}{b[0]}{zh}有限公司",
                    "name_en": f"{CITY_EN[city]} {b[1]} {en} Co., Ltd. (synthetic)",
                    "land_mu": vals[0], "fixed_investment_myuan": vals[1],
                    "annual_output_myuan": vals[2], "annual_tax_myuan": vals[3],
                    "lon": round(float(pts[k, 0]), 6), "lat": round(float(pts[k, 1]), 6)})
                k += 1
    df = pd.DataFrame(rows)
    df.insert(0, "firm_id", [f"F{i + 1:04d}" for i in range(len(df))])
    df["in_study_area"] = shapely.contains_xy(study_poly, df["lon"], df["lat"])
    df["synthetic"] = True
    gdf = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]),
                           geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    return gdf


def main(argv: list[str] | None = None) -> int:
    gdf = build_firms()
    tmp = OUT.with_name(".firms.tmp.gpkg")
    if tmp.exists():
        tmp.unlink()
    gdf.to_file(tmp, layer="firms", driver="GPKG", engine="pyogrio")
    tmp.replace(OUT)
    by = gdf.groupby(["park_id", "industry"]).size()
    print(f"{OUT.relative_to(HERE.parent)}: {len(gdf)} synthetic firms, "
          f"{int(gdf['anchor'].sum())} anchors, {int((gdf['park_id'] != '').sum())} in parks")
    print(by.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
