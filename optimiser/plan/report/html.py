"""The report page's building blocks: escaping, number formats, tables, figures and the page.

Kept apart from what the sections say so every kind of report (plan, comparison, sweep) is
written with the same escaping and the same self-contained page: inline styles, images as data
URIs and a Content-Security-Policy that forbids loading anything else.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Iterable
from pathlib import Path

CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
       "form-action 'none'")

CSS = """
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; color: #111; margin: 2rem auto;
       max-width: 62rem; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.25rem; margin-top: 2rem;
     border-bottom: 2px solid #111; padding-bottom: 0.2rem; } h3 { font-size: 1.05rem; }
p.meta { color: #333; margin-top: 0; }
.answer { border: 2px solid #111; padding: 0.8rem 1rem; background: #f3f3f3; }
.answer p { margin: 0.3rem 0; } .big { font-size: 1.3rem; font-weight: bold; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.9rem; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3rem; }
th, td { border: 1px solid #777; padding: 0.25rem 0.5rem; vertical-align: top; }
th { background: #e6e6e6; text-align: left; } td.n { text-align: right; white-space: nowrap; }
tr.total td { font-weight: bold; border-top: 2px solid #111; }
tr.this td { font-weight: bold; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #ccc; }
figcaption { font-size: 0.9rem; color: #222; }
.status-ok { font-weight: bold; } .warn { font-weight: bold; text-decoration: underline; }
details { margin: 0.5rem 0 1rem; } summary { cursor: pointer; }
footer { margin-top: 3rem; font-size: 0.8rem; color: #333; border-top: 1px solid #777; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
  figure, table { break-inside: avoid; } details { display: block; } }
"""


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def gbp(value: object, pence: bool = False) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    if number != number:
        return "–"
    text = f"£{abs(number):,.2f}" if pence else f"£{abs(number):,.0f}"
    return f"−{text}" if number < -0.005 else text


def signed_gbp(value: float) -> str:
    if abs(value) < 0.5:
        return "no change"
    return ("+" if value > 0 else "−") + gbp(abs(value))


def num(value: object, fmt: str = ",.0f") -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return esc(value) if value not in (None, "") else "–"
    if number != number:
        return "–"
    return format(number, fmt)


def pct(value: object) -> str:
    try:
        return f"{100 * float(value):.0f} %"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"


def table_html(headers: list[str], rows: Iterable[list[str]], caption: str = "",
               numeric: Iterable[int] = (), row_classes: list[str] | None = None) -> str:
    """A table of already-escaped cells; columns in `numeric` are right-aligned."""
    numeric = set(numeric)
    out = ["<table>"]
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
               + "</tr></thead><tbody>")
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = "".join(f'<td class="n">{c}</td>' if j in numeric else f"<td>{c}</td>"
                        for j, c in enumerate(row))
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def figure_html(svg_bytes: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(svg_bytes).decode("ascii")
    return (f'<figure><img src="data:image/svg+xml;base64,{data}" alt="{esc(alt)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def png_figure(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
            f"<figcaption>{esc(alt)}</figcaption></figure>")


def shown_path(path: object) -> str:
    """A path as the reader would type it: relative to the current folder where it lies below."""
    try:
        return str(Path(str(path)).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


PLAN_SOURCE = ("Every figure comes from the run folder's CSV tables and run.json; the same "
               "tables are in plan.xlsx.")


def page(title: str, body: list[str], source: str = PLAN_SOURCE) -> str:
    made = dt.datetime.now().strftime("%d %B %Y %H:%M")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en-GB">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        "<main>", *body, "</main>",
        f"<footer>Written by optimiser on {esc(made)}. {esc(source)}</footer>",
        "</body>", "</html>", ""])

