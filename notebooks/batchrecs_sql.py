"""Runs the analyst SQL files of ../analyses on a BatchRecs lake with Python's duckdb package, read-only.

The SQL files are the one source of every analysis: this module only finds the lake, opens its catalog read-only,
sets an analysis's parameters as DuckDB variables and runs the file as it is. Install: pip install duckdb matplotlib pandas.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

ANALYSES = Path(__file__).resolve().parent.parent / "analyses"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def find_lake() -> Path:
    """$BATCHRECS_LAKE, else the demo lake that ./batchrecs demo writes (demo-out/lake at the repository root)."""
    configured = os.environ.get("BATCHRECS_LAKE")
    if configured:
        return Path(configured).expanduser()
    root = Path(__file__).resolve().parent.parent
    for candidate in (Path.cwd() / "demo-out" / "lake", root / "demo-out" / "lake"):
        if (candidate / "batchrecs.duckdb").exists():
            return candidate
    return root / "demo-out" / "lake"


def analysis_names() -> list[str]:
    """The analyses there are: the names of analyses/*.sql."""
    return sorted(p.stem for p in ANALYSES.glob("*.sql"))


class Lake:
    """A read-only connection to LAKE/batchrecs.duckdb that runs analyses by name.

    Read-only because the nightly publish renames a new database file into place: this connection keeps reading the
    run it opened and never blocks the publish, and it leaves no write-ahead log beside the catalog (a read-write
    session's WAL would spoil the next publish). Call reconnect() to see a newer run.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else find_lake()
        self.database = self.path / "batchrecs.duckdb"
        if not self.database.exists():
            raise FileNotFoundError(
                f"No run database at {self.database.resolve()}: run ./batchrecs demo, or set BATCHRECS_LAKE to a lake folder."
            )
        self.con = duckdb.connect(str(self.database), read_only=True)
        self._variables: set[str] = set()

    def reconnect(self) -> None:
        """Opens the catalog again, to see the runs published since."""
        self.con.close()
        self.con = duckdb.connect(str(self.database), read_only=True)
        self._variables = set()

    def run(self, name: str, **params):
        """Runs analyses/NAME.sql and returns its result as a pandas DataFrame.

        Each keyword is one of the file's parameters (its "-- params:" header), set as a DuckDB variable before the
        file runs; None or a missing keyword leaves the file's default. Values are bound, never spliced into SQL.
        """
        path = ANALYSES / f"{name}.sql"
        if not path.exists():
            raise FileNotFoundError(f"No analysis {path}; there are: {', '.join(analysis_names())}")
        given = {k: v for k, v in params.items() if v is not None}
        for variable in given:
            if not _IDENTIFIER.match(variable):
                raise ValueError(f"{variable!r} is not a parameter name (letters, digits and _)")
        # A variable set for an earlier analysis would otherwise stay set for this one.
        for variable in sorted(self._variables - given.keys()):
            self.con.execute(f"RESET VARIABLE {variable}")
        for variable, value in given.items():
            self.con.execute(f"SET VARIABLE {variable} = ?", [value])
        self._variables = set(given)
        # The file's statements run in order; the result is the last one's.
        return self.con.execute(path.read_text(encoding="utf-8")).df()
