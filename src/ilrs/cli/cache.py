"""``ilrs cache info|prune``: what the disk cache of costly products holds, and making room."""

from __future__ import annotations

import datetime as dt
from typing import Any

import typer
from rich.table import Table

from ilrs.cli.common import console, handle_errors, print_json

app = typer.Typer(
    help="The disk cache of costly products (horizon maps and profiles, sky and link series).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


@app.command("info")
@handle_errors
def info(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Where the cache is, its size cap, and what each kind of product holds (entries, size, last use)."""
    from ilrs.config import get_settings
    from ilrs.services.cache import cache_max_bytes, product_cache

    cache = product_cache()
    entries = cache.entries()
    kinds: dict[str, dict] = {}
    for e in entries:
        k = kinds.setdefault(e.namespace, {"entries": 0, "bytes": 0, "last_used": 0.0})
        k["entries"] += 1
        k["bytes"] += e.size
        k["last_used"] = max(k["last_used"], e.last_used)
    cap = cache_max_bytes()
    doc: dict[str, Any] = {
        "path": str(cache.root),
        "enabled": cache.enabled and not get_settings().no_cache,
        "max_bytes": cap,
        "entries": len(entries),
        "bytes": sum(e.size for e in entries),
        "kinds": {
            n: {**k, "last_used": dt.datetime.fromtimestamp(k["last_used"], dt.UTC).isoformat(timespec="seconds")}
            for n, k in sorted(kinds.items())
        },
    }
    if as_json:
        print_json(doc)
        return
    cap_text = _gb(cap) if cap else "none (set ILRS_CACHE_MAX_GB)"
    console.print(f"cache {doc['path']}: {len(entries)} entries, {_gb(doc['bytes'])}; size cap {cap_text}")
    t = Table(title_justify="left")
    for c in ("kind", "entries", "size", "last used (UTC)"):
        t.add_column(c, justify="left" if c == "kind" else "right")
    for n, k in doc["kinds"].items():
        t.add_row(n, str(k["entries"]), _gb(k["bytes"]), k["last_used"][:16].replace("T", " "))
    console.print(t)


@app.command("prune")
@handle_errors
def prune(
    max_gb: float | None = typer.Option(
        None,
        "--max-gb",
        min=0.0,
        help="Delete the least recently used products until the cache holds at most this much [GB].",
    ),
    older_than_days: float | None = typer.Option(
        None, "--older-than", min=0.0, help="Delete the products not used for this long [days]."
    ),
    kind: str | None = typer.Option(None, "--kind", help="Only this kind of product (see `ilrs cache info`)."),
    everything: bool = typer.Option(False, "--all", help="Delete every product."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Make room: products unused for a while, or the least recently used beyond a size, or all of them. Products
    are recomputed when next needed; the portal's database beside them is never touched."""
    from ilrs.errors import IlrsError
    from ilrs.services.cache import product_cache

    if not everything and max_gb is None and older_than_days is None:
        raise IlrsError(
            "nothing to prune: say what to delete",
            source="ilrs cache prune",
            hint="give --max-gb GB, --older-than DAYS or --all",
        )
    cache = product_cache()
    if kind is not None and kind not in {e.namespace for e in cache.entries()}:
        raise IlrsError(
            f"the cache holds no product of kind {kind!r}",
            source="--kind",
            hint="`ilrs cache info` lists the kinds it holds",
        )
    removed = cache.prune(
        max_bytes=0 if everything else (int(max_gb * 1e9) if max_gb is not None else None),
        older_than_s=older_than_days * 86_400.0 if older_than_days is not None else None,
        namespace=kind,
    )
    left = cache.entries()
    doc = {
        "removed": len(removed),
        "removed_bytes": sum(e.size for e in removed),
        "entries": len(left),
        "bytes": sum(e.size for e in left),
    }
    if as_json:
        print_json(doc)
        return
    console.print(
        f"removed {doc['removed']} products ({_gb(doc['removed_bytes'])}); {doc['entries']} left ({_gb(doc['bytes'])})"
    )
