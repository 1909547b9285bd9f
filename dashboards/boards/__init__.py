"""The provisioned Grafana dashboards: what ergonomists, wearers' advocates and operators see.

- Team overview and nudge effectiveness show only aggregates over at least `min_group` wearers
  (`dashboards.queries.gated`); the minimum is part of every query, so smaller groups never
  leave InfluxDB.
- Wearer drill-down shows one pseudonymous wearer; it is provisioned into its own folder
  (`individual/`) so that access can be restricted to occupational-health staff.
- Fleet health shows sensors and gateways.

`python -m dashboards.boards` rewrites the JSON files from these modules (the tests check that
the committed files are up to date): the provisioned ones, and in `export/` the same dashboards
for Grafana's import, which asks for the InfluxDB data source. `--min-group-size N`, `--out DIR`
and `--export-out DIR` build a variant.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from dashboards.boards.panels import DASHBOARDS_DIR, EXPORT_DIR, Json, dump, for_import
from dashboards.queries import MIN_GROUP_SIZE

from .fleet import fleet_health
from .nudges import nudge_effectiveness
from .team import team_overview
from .wearer import wearer_drilldown

__all__ = ["build", "fleet_health", "nudge_effectiveness", "team_overview", "wearer_drilldown"]


def build(min_group: int = MIN_GROUP_SIZE) -> dict[str, Json]:
    """Every dashboard by its path under the dashboards directory (folder = provider)."""
    if min_group < 2:
        raise ValueError(f"a minimum group size below 2 shows individuals, got {min_group}")
    return {
        "posture/team-overview.json": team_overview(min_group),
        "posture/nudge-effectiveness.json": nudge_effectiveness(min_group),
        "posture/fleet-health.json": fleet_health(),
        "individual/wearer-drilldown.json": wearer_drilldown(),
    }


def write(
    directory: Path = DASHBOARDS_DIR,
    export_dir: Path = EXPORT_DIR,
    *,
    min_group: int = MIN_GROUP_SIZE,
) -> list[Path]:
    """Write the provisioned dashboards to `directory` and their import variants to `export_dir`."""
    written = []
    for name, model in build(min_group).items():
        for path, text in (
            (directory / name, dump(model)),
            (export_dir / Path(name).name, dump(for_import(model))),
        ):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DASHBOARDS_DIR)
    parser.add_argument("--export-out", type=Path, default=EXPORT_DIR)
    parser.add_argument("--min-group-size", type=int, default=MIN_GROUP_SIZE)
    args = parser.parse_args(argv)
    for path in write(args.out, args.export_out, min_group=args.min_group_size):
        print(path)
