"""Words of the map in zh and en, layer labels and feature names by language.
"""

from __future__ import annotations

import pandas as pd

_T: dict[str, tuple[str, str]] = {
    "model_card": ("模型说明", "Model card"),
    "study": ("研究", "Study"),
    "generated": ("生成时间", "Generated"),
    "version": ("软件版本", "Software"),
    "sources": ("数据来源", "Data sources"),
    "file_date": ("文件日期", "file date"),
    "layers": ("图层", "Layers"),
    "redline_rules": ("红线规则", "Red-line rules"),
    "weights": ("权重", "Weights"),
    "analysis": ("分析设置", "Analysis settings"),
    "display": ("显示", "Display"),
    "legend": ("图例", "Legend"),
    "synthetic": ("合成数据", "synthetic"),
    "illustrative": ("示意范围，非法定边界", "illustrative outline, not a legal boundary"),
    "approximate": ("近似范围", "approximate extent"),
    "id": ("编号", "ID"),
    "name": ("名称", "Name"),
    "industry": ("行业", "Industry"),
    "industries": ("规划产业", "Planned industries"),
    "area": ("面积", "Area"),
    "park": ("园区", "Park"),
    "zone": ("红线区", "Zone"),
    "class": ("类别", "Class"),
    "kind": ("冲突类型", "Conflict"),
    "basis": ("依据", "Basis"),
    "banned": ("禁入行业", "Banned industries"),
    "status": ("红线审查", "Red-line check"),
    "n_conflicts": ("冲突数", "Conflicts"),
    "overlap": ("重叠面积", "Overlap"),
    "overlap_total": ("重叠合计", "Overlap total"),
    "pct_of_park": ("占园区", "Share of park"),
    "min_distance": ("最近距离", "Nearest distance"),
    "nearest_zone": ("最近红线区", "Nearest zone"),
    "review": ("需人工复核", "needs review"),
    "local_supply_rate": ("本地配套率", "Local supply rate"),
    "n_firms": ("企业数", "Firms"),
    "median_rate": ("本地配套率中位数", "Median local supply rate"),
    "share_40": ("配套率≥40%的企业", "Firms with ≥ 40 % local supply"),
    "gaps": ("补链目标", "Chain gaps (补链)"),
    "missing": ("缺失配套", "Missing inputs"),
    "criterion": ("指标", "Criterion"),
    "grade": ("亩均评级", "亩均 grade (per-mu)"),
    "dominant": ("实际主导产业", "Dominant industry (LQ)"),
    "hhi": ("产业集中度 HHI", "Concentration (HHI)"),
    "per_mu": ("亩均投资 / 产出（百万元）", "Investment / output per 亩 (M yuan)"),
    "symbiosis": ("产业共生", "Industrial symbiosis"),
    "material": ("物料", "Material"),
    "road_dist": ("道路距离", "Road distance"),
    "recommend": ("选址推荐", "Recommended sites"),
    "score_w": ("综合得分", "Score"),
    "reason": ("理由", "Why"),
    "layout": ("园区布局", "Park layout"),
    "plot": ("地块", "Plot"),
    "facility": ("共享设施", "Shared facility"),
    "setback": ("污染企业防护距离", "Polluter setback"),
    "links": ("企业关联", "Firm links"),
    "st_free": ("空闲", "free"),
    "st_incoming": ("拟入驻", "incoming"),
    "st_existing": ("现有企业", "existing"),
    "st_facility": ("共享设施", "facility"),
    "st_residual": ("零星用地", "residual"),
    "weight": ("权重", "Weight"),
    "aggregation": ("综合方法", "Aggregation"),
    "constraints": ("刚性约束", "Hard constraints"),
    "stability": ("稳定性检验", "Stability check"),
    "radius": ("半径", "Radius"),
    "metric": ("度量", "Measure"),
    "road_km": ("道路里程", "Road length"),
    "rank": ("排名", "Rank"),
    "mean_score": ("平均适宜性", "Mean suitability"),
    "score": ("适宜性", "Suitability"),
    "low": ("低", "low"),
    "high": ("高", "high"),
    "other": ("其他", "other"),
    "note": ("备注", "Note"),
    "port": ("港口", "Port"),
    "site": ("站点", "Site"),
    "none": ("无", "none"),
    "buffer_m": ("红线缓冲距离", "Red-line buffer"),
    "red_first": ("红线优先：落入红线即排除，任何加权得分都不能抵消。",
                  "Red line first: a red-line hit excludes a site; no weighted score "
                  "compensates for it."),
    "rule_core": ("核心保护区：原则上禁止人为活动（自然资发〔2022〕142号）。",
                  "core: human activity prohibited in principle (notice 自然资发〔2022〕142号)."),
    "rule_redline": ("生态保护红线：禁止开发性、生产性建设活动（有限人为活动除外）。",
                     "redline: development and production construction prohibited (limited "
                     "activities excepted)."),
    "rule_restricted": ("限制区（如太湖一级保护区）：仅禁入所列行业。",
                        "restricted (e.g. Taihu first-level zone): only the listed industries "
                        "are banned."),
    "simplify": ("显示几何简化容差", "Display simplification"),
    "conflicts": ("红线冲突", "Red-line conflicts"),
    "firms": ("企业", "Firms"),
    "service_areas": ("公路可达范围", "Road service areas"),
    "suitability": ("用地适宜性", "Site suitability"),
    "exclusions": ("刚性排除", "Hard exclusions"),
    "candidates": ("候选区域", "Candidate regions"),
    "pass": ("通过", "pass"),
    "conflict": ("冲突", "conflict"),
    "review_s": ("待复核", "review"),
    "not_checked": ("未审查", "not checked"),
    "core": ("核心保护区", "core zone"),
    "redline": ("生态保护红线", "red line"),
    "restricted": ("限制开发区（部分行业禁入）", "restricted (some industries banned)"),
    "k_overlap": ("重叠", "overlap"),
    "k_buffer": ("缓冲区内", "within buffer"),
    "k_restricted": ("禁入行业", "banned industry"),
    "mu": ("亩", "mu"),
    "ha": ("公顷", "ha"),
    "park_grade": ("园区评价：亩均等级", "Park evaluation: 亩均 grade"),
    "park_dominant": ("园区评价：主导产业", "Park evaluation: dominant industry"),
    "not_graded": ("未评级（企业数据缺失）", "not graded (firm data missing)"),
    "graded_firms": ("参评企业", "Firms graded"),
    "n_missing": ("缺数据", "missing data"),
    "chain_complete": ("产业链完整度（100 公里）", "Chain completeness (100 km)"),
    "supply_median": ("本地配套率中位数（四分位）", "Local supply rate, median (IQR)"),
    "free_land": ("可用土地", "Free land"),
    "redline_s": ("红线状态", "Red-line status"),
    "size_rate": ("点大小 = 本地配套率", "Dot size = local supply rate"),
    "not_rated": ("未计算", "not rated"),
    "gap_panel": ("补链目标（按锚点企业投入价值排序）",
                  "Chain gaps (补链), ranked by anchor input value"),
    "gap_input": ("缺失投入行业", "Missing input"),
    "gap_anchors": ("锚点", "Anchors"),
    "gap_value": ("投入价值 百万元", "Anchor input value (M yuan)"),
    "gap_supplier": ("最近供应商", "Nearest supplier"),
    "gap_km": ("道路距离", "By road"),
    "gap_more": ("另有 {n} 项，见 sourcing_gaps.csv", "{n} more in sourcing_gaps.csv"),
    "outside_parks": ("园区外", "outside parks"),
    "excluded": ("已排除", "excluded"),
    "candidate": ("候选区域（适宜性分析）", "candidate region (suitability)"),
    "flagged": ("需注意", "flagged"),
    "stability_l": ("适宜性稳定性（蒙特卡洛）", "Suitability stability (Monte Carlo)"),
    "stability_n": ("权重扰动下进入前 5% 的比例", "share of weight-perturbed runs in the top 5 %"),
    "plots_ind": ("地块（按行业）", "Plots by industry"),
    "facilities": ("共享设施", "Shared facilities"),
    "roads_int": ("园区道路", "Internal roads"),
    "firm_links": ("产业链关联企业连线", "Links between chain-linked firms"),
    "park_outline": ("园区范围", "Park outline"),
    "unplaced": ("未落位企业", "Unplaced firms"),
    "objective": ("目标值（链加权距离）", "Objective (chain-weighted distance)"),
    "improvement": ("相对随机方案改进", "Improvement vs random"),
    "missing_inputs": ("100 公里内缺失的投入", "Inputs missing within 100 km"),
    "g_red": ("红线与管控", "Red lines and controls"),
    "g_parks": ("园区", "Parks"),
    "g_siting": ("选址", "Siting"),
    "g_invest": ("招商", "Investment"),
    "g_layout": ("布局", "Layout"),
    "g_base": ("底图", "Basemap"),
    "sum_unchecked": ("园区：未做红线审查", "Parks: red-line gate not run"),
    "sum_parks": ("{n} 个园区：{nc} 个红线冲突{conf}，{nr} 个待复核{rev}，{np} 个通过",
                  "{n} parks: {nc} in red-line conflict{conf}, {nr} to review{rev}, "
                  "{np} pass"),
    "sum_allowed": ("；{n} 个部分位于限制区但产业未禁入{names}",
                    "; {n} partly inside a restricted zone, industries not banned{names}"),
    "sum_no_sites": ("选址：未做适宜性分析", "Sites: suitability not run"),
    "sum_sites": ("{n} 个候选区域，前三：{top}", "{n} candidate regions; top: {top}"),
    "sum_no_gaps": ("补链：未做本地配套分析", "Chain gaps: sourcing not run"),
    "sum_gaps": ("{n} 项补链缺口，最大：{what}（{park}，锚点投入 {value} 百万元，最近供应商 "
                 "{km} km）",
                 "{n} chain gaps; largest: {what} ({park}, anchor input {value} M yuan, "
                 "nearest supplier {km} km)"),
    "data_date": ("数据日期", "Data date"),
    "print_note": ("园区范围为示意，非法定边界；红线为公开资料整理，以主管部门数据为准。",
                   "Park outlines are illustrative, not legal boundaries; red lines are "
                   "compiled from public sources, the authorities' data prevail."),
    "search": ("搜索", "Search"),
    "search_hint": ("园区、企业、红线区、区县…", "park, firm, zone, district…"),
    "measure": ("量算", "Measure"),
    "clear": ("清除", "Clear"),
    "distance": ("距离", "Distance"),
    "area_w": ("面积", "Area"),
    "measure_hint": ("在地图上依次点击；三点以上计算面积", "Click points on the map; "
                     "three or more give an area"),
    "north": ("北", "N"),
    "zoom_in": ("放大", "Zoom in"),
    "zoom_out": ("缩小", "Zoom out"),
    "tiles_failed": ("在线底图瓦片无法加载（无网络或被拦截）。离线使用请以 --basemap none "
                     "（研究区自带矢量底图）或 --tiles 本地瓦片文件夹 重新生成地图。",
                     "Online basemap tiles failed to load (no network or blocked). Offline, "
                     "rebuild the map with --basemap none (the study's own vector basemap) or "
                     "--tiles LOCAL_TILE_FOLDER."),
    "candidates_top": ("候选区域（前 {n}）", "Candidate regions (top {n})"),
    "kind_park": ("园区", "park"),
    "kind_firm": ("企业", "firm"),
    "kind_zone": ("红线区", "zone"),
    "kind_district": ("区县", "district"),
    "all": ("全部", "all"),
    "p_top": ("进入前 N 的概率（蒙特卡洛）", "Chance of top N (Monte Carlo)"),
    "cell_stab": ("栅格稳定性均值", "Mean cell stability"),
    "dist_highway": ("距高速公路", "To highway"),
    "dist_redline": ("距红线", "To red line"),
    "mc_rank": ("蒙特卡洛排名中位数", "Median Monte Carlo rank"),
    "min_score": ("最低适宜性", "Lowest suitability"),
    "max_score": ("最高适宜性", "Highest suitability"),
    "district": ("区县", "District"),
    "chain": ("产业链", "Chain"),
    "gap_short": ("补链", "Gaps"),
    "card_short": ("说明", "About"),
}


def _label(spec, lang: str) -> str:
    o = spec.options
    first, second = ("label_zh", "label_en") if lang == "zh" else ("label_en", "label_zh")
    for k in (first, second):
        v = o.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return spec.key


def _names(gdf: pd.DataFrame, lang: str) -> tuple[pd.Series, pd.Series]:
    """(name in the map's language, name in the other language or '') per row."""
    idx = gdf.index
    base = gdf["name"].astype("string") if "name" in gdf else pd.Series(pd.NA, index=idx,
                                                                       dtype="string")
    zh = gdf["name_zh"].astype("string") if "name_zh" in gdf else None
    en = gdf["name_en"].astype("string") if "name_en" in gdf else None
    main, other = (zh, en) if lang == "zh" else (en, zh)
    first = main.fillna(base) if main is not None else base
    if "id" in gdf:
        first = first.fillna(gdf["id"].astype("string"))
    first = first.fillna("")
    second = other.fillna("") if other is not None else pd.Series("", index=idx, dtype="string")
    second = second.where(second != first, "")
    return first, second

