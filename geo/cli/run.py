"""``parksite run``: the main job on a study — validate, gate, analyse, map."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..io import refuse_overwriting_input, safe_component, write_csv
from ..redline import CONFLICT_COLUMNS
from ..study import load_study
from ._common import console, esc, guarded, out
from .options import study_arg


@click.command("run")
@study_arg
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the tables and rasters [default: out/<study name>].")
@click.option("--map", "map_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML map to write [default: maps/<study name>.html].")
@click.option("--offline/--online", default=True, show_default=True,
              help="Inline every asset so the map opens with no network (intranet PCs).")
@click.option("--basemap", type=click.Choice(["none", "osm", "amap", "tianditu"]),
              default=None,
              help="Background [default: the study's [map] basemap, else none]: none = vector "
                   "basemap from the bundled data; amap shifts overlays to GCJ-02 for display.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="Language of the map's labels [default: the study's [map] lang, else zh].")
@click.option("--tiles", metavar="FOLDER_OR_URL",
              help="Local tile folder or URL template ({z}/{x}/{y}) for the basemap.")
@click.option("--tianditu-key", envvar="TIANDITU_KEY", metavar="KEY",
              help="Tianditu key for --basemap tianditu (or TIANDITU_KEY).")
@click.option("--skip", multiple=True,
              type=click.Choice(["sourcing", "suitability", "parks", "layout"]),
              help="Leave out an analysis the study file declares (repeatable).")
def command(study, out_dir, map_path, offline, basemap, lang, tiles, tianditu_key, skip):
    """Run everything STUDY (layers/*.toml) declares and write the map.

    \b
    1. validate the study file and read every layer;
    2. the red-line gate (parks vs red lines; table + GeoPackage);
    3. sourcing within the transport circle, if the study has [sourcing];
    4. park evaluation and symbiosis pairs, if the study has [parks];
    5. site suitability, if the study has [suitability];
    6. recommendations ([parks.recommend]) and a park layout ([layout]);
    7. the interactive map (offline by default): maps/<name>.html.

    Exit code 0 when the run completes (conflicts are reported, see
    `parksite redlines` for a gate that exits 1 on conflicts); 2 on bad input.
    """
    _run(study, out_dir, map_path, offline, basemap, lang, tiles, tianditu_key, set(skip))


@guarded
def _run(study_path, out_dir, map_path, offline, basemap, lang, tiles, tianditu_key,
         skip) -> int:
    from ..redline import check_study
    from .redlines import park_table, summary_table, write_result

    t0 = time.perf_counter()
    study = load_study(study_path)
    stem = safe_component(study.name, fallback=safe_component(study_path.stem))
    out_dir = out_dir or Path("out") / stem
    map_path = map_path or Path("maps") / f"{stem}.html"
    refuse_overwriting_input(map_path, [study_path])
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    with console.status("reading layers…"):
        for key, spec in study.layers.items():
            if not spec.is_raster:
                study.load(key)
    console.print(f"[green]✓[/] {len(study.layers)} layers read and valid "
                  f"({time.perf_counter() - t0:.1f} s)")

    red = check_study(study)
    results["redline_conflicts"] = red.conflicts
    results["redline_parks"] = red.parks
    write_result(red, out_dir / "redline_conflicts.gpkg", study.load_role("parks"))

    write_csv(red.conflicts[CONFLICT_COLUMNS], out_dir / "redline_conflicts.csv")
    out.print(park_table(red))
    if red.has_conflicts:
        out.print(summary_table(red))
    console.print(f"[green]✓[/] red-line gate: {int((red.parks.status != 'pass').sum())} of "
                  f"{len(red.parks)} parks with findings → {esc(out_dir)}/redline_conflicts.*")

    if study.has_role("firms"):
        results["firms"] = study.load_role("firms")
    if "sourcing" in study.sections and "sourcing" not in skip:
        from ..sourcing import run_sourcing, write_sourcing

        from .sourcing import gaps_table, parks_table as sourcing_parks_table

        src = run_sourcing(study)
        write_sourcing(src, out_dir)
        results.update(src.as_map_results())
        out.print(sourcing_parks_table(src))
        out.print(gaps_table(src))
        console.print("[green]✓[/] sourcing within the transport circle → "
                      f"{esc(out_dir)}/sourcing*")
    if "parks" in study.sections and "parks" not in skip:
        from ..parks import evaluate_parks, park_industries
        from ..recommend import recommend_study
        from ..symbiosis import find_pairs, pairs_geodataframe

        ev = evaluate_parks(study)
        write_csv(ev, out_dir / "parks.csv")
        write_csv(park_industries(study), out_dir / "parks_industries.csv")
        results["park_evaluation"] = ev
        sym = find_pairs(study)
        write_csv(sym, out_dir / "symbiosis.csv")
        results["symbiosis"] = pairs_geodataframe(study, sym)
        console.print(f"[green]✓[/] park evaluation and {len(sym)} symbiosis pairs → "
                      f"{esc(out_dir)}/parks.csv, symbiosis.csv")
    if "suitability" in study.sections and "suitability" not in skip:
        from ..suitability import run_suitability

        suit = run_suitability(study, out_dir=out_dir / "suitability")
        results["suitability"] = suit.as_map_results()
        console.print(f"[green]✓[/] suitability → {esc(out_dir / 'suitability')}")

    if "parks" in study.sections and "parks" not in skip:
        # After suitability, so that its candidate regions compete with the parks.
        cand = out_dir / "suitability" / "candidates.gpkg"
        recs = recommend_study(study, candidates=cand if cand.exists() else None)
        for ind, df in recs.items():
            write_csv(df, out_dir / f"recommend_{safe_component(ind)}.csv")
        results["recommendations"] = recs
        console.print(f"[green]✓[/] recommendations for {', '.join(recs) or 'no industry'} → "
                      f"{esc(out_dir)}/recommend_*.csv")
    if "layout" in study.sections and "layout" not in skip:
        from ..layout import layout_from_study, write_layout

        lay = layout_from_study(study)
        if lay is not None:
            write_layout(lay, out_dir / "layout.gpkg")
            results["layout"] = lay
            console.print(f"[green]✓[/] layout of park {esc(lay.summary.get('park_id', ''))} → "
                          f"{esc(out_dir)}/layout.gpkg")
            from ..webmap import write_layout_map

            lm_name = f"layout_{safe_component(lay.summary['park_id'])}.html"
            lm = write_layout_map(study, lay, map_path.parent / lm_name,
                                  offline=offline, basemap=basemap, lang=lang, tiles=tiles,
                                  tianditu_key=tianditu_key)
            console.print(f"[green]✓[/] layout map → {esc(lm['path'])} "
                          f"({lm['bytes'] / 1e6:.1f} MB)")

    from ..webmap import write_map

    info = write_map(study, map_path, results, offline=offline, basemap=basemap, lang=lang,
                     tiles=tiles, tianditu_key=tianditu_key)
    console.print(f"[green]✓[/] map → {esc(info['path'])} ({info['bytes'] / 1e6:.1f} MB, "
                  f"{len(info['layers'])} layers, {'offline' if offline else 'online'}) "
                  f"in {time.perf_counter() - t0:.1f} s")
    return 0
