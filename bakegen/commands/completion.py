"""Shell completion of target names, for the options and arguments that take one (cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def complete_targets(ctx: typer.Context, incomplete: str) -> list[str]:
    """Target names for shell completion, from the workspace given (to this command or one
    it stands under) or the current folder."""
    from bakegen.pipeline import plan_workspace  # loaded only while completing

    workspace = None
    here: Any = ctx  # then click's contexts, up to the root
    while here is not None and workspace is None:
        workspace = (here.params or {}).get("workspace")
        here = here.parent
    try:
        plan = plan_workspace((workspace or Path(".")).resolve())
    except Exception:  # completion never fails loudly
        return []
    names = [i.target for i in plan.images] + [v.target for v in plan.verifies]
    return [n for n in names if n.startswith(incomplete)]
