"""The account statement as a PDF (fpdf2): the same sections and figures as the HTML page, A4 landscape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from trading.dashboard import display
from trading.dashboard.statement import SHOWN_TRADES, Statement, open_pl

HEAD = FontFace(emphasis="BOLD", fill_color=(230, 233, 238))


def _latin(text: Any) -> str:
    # The PDF's built-in Helvetica is Latin-1: dashes and ellipses become their ASCII forms.
    value = str(text).replace("–", "-").replace("…", "...").replace("“", '"').replace("”", '"')
    return value.encode("latin-1", "replace").decode("latin-1")


def _table(pdf: FPDF, header: list[str], rows: list[list[Any]], widths: tuple[int, ...], numeric: set[int]) -> None:
    align = tuple("RIGHT" if i in numeric else "LEFT" for i in range(len(header)))
    with pdf.table(col_widths=widths, text_align=align, headings_style=HEAD, line_height=5, padding=1) as table:
        table.row([_latin(h) for h in header])
        for values in rows:
            table.row([_latin(v) for v in values])


def statement_pdf(statement: Statement) -> bytes:
    """The statement as PDF bytes."""
    account, currency = statement.account, statement.account.currency
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title(_latin(f"Statement {account.name}"))
    pdf.set_author("Asirikuy Trader")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, _latin(f"Account statement: {account.name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    period = f"{statement.start:%Y-%m-%d} to {statement.end:%Y-%m-%d} (UTC, end exclusive)"
    pdf.cell(
        0, 5, _latin(f"{account.get_broker_display()} - {account.get_environment_display()} - {currency} - {period}")
    )
    pdf.ln(8)

    def heading(text: str) -> None:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 7, _latin(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=8)

    heading("Summary")
    money = lambda v: display.money(v, currency)  # noqa: E731
    summary = [
        ["Balance at start", money(statement.balance_start)],
        ["Closed trade P/L", money(statement.totals["realized"])],
        ["Swap", money(statement.totals["financing"])],
        ["Commission", money(-statement.totals["commission"])],
        ["Deposits, withdrawals and other balance changes", money(statement.other_changes)],
        ["Balance at end", money(statement.balance_end)],
        ["Floating P/L of open trades", money(open_pl(statement))],
    ]
    _table(pdf, ["", currency], summary, (90, 40), {1})
    pdf.ln(3)
    heading("Closed transactions")
    rows = [
        [
            t.pk,
            f"{t.open_time:%Y-%m-%d %H:%M}",
            t.side,
            display.units(t.initial_units),
            t.instrument.symbol,
            display.price(t.open_price, t.instrument.digits),
            display.price(t.stop_loss, t.instrument.digits),
            display.price(t.take_profit, t.instrument.digits),
            f"{t.close_time:%Y-%m-%d %H:%M}" if t.close_time else "",
            display.price(t.close_price, t.instrument.digits),
            display.money(-t.commission),
            display.money(t.financing),
            display.money(t.realized_pl),
        ]
        for t in statement.closed[:SHOWN_TRADES]
    ]
    header = ["Ticket", "Open time", "Type", "Units", "Symbol", "Price", "S/L", "T/P", "Close time", "Price"]
    header += ["Commission", "Swap", "Profit"]
    widths = (16, 28, 12, 22, 18, 20, 20, 20, 28, 20, 22, 20, 24)
    _table(pdf, header, rows, widths, {0, 3, 5, 6, 7, 9, 10, 11, 12})
    if statement.closed_count > SHOWN_TRADES:
        pdf.cell(
            0, 5, f"{statement.closed_count} closed trades; the first {SHOWN_TRADES} are listed (the CSV has all)."
        )
        pdf.ln(5)
    pdf.ln(3)
    heading("Open trades")
    rows = [
        [
            t.pk,
            f"{t.open_time:%Y-%m-%d %H:%M}",
            t.side,
            display.units(t.current_units),
            t.instrument.symbol,
            display.price(t.open_price, t.instrument.digits),
            display.price(t.stop_loss, t.instrument.digits),
            display.price(t.take_profit, t.instrument.digits),
            display.money(t.financing),
            display.money(t.unrealized_pl),
        ]
        for t in statement.open_trades
    ] or [["-", "no open trades", "", "", "", "", "", "", "", ""]]
    header = ["Ticket", "Open time", "Type", "Units", "Symbol", "Price", "S/L", "T/P", "Swap", "Floating P/L"]
    _table(pdf, header, rows, (16, 28, 12, 22, 18, 20, 20, 20, 22, 26), {0, 3, 5, 6, 7, 8, 9})
    pdf.ln(3)
    heading("Summary statistics")
    table = display.statistics_table(statement.statistics, currency)
    half = (len(table) + 1) // 2
    rows = [
        [a[0], a[2], *(b[0], b[2])] if b else [a[0], a[2], "", ""]
        for a, b in zip(table[:half], [*table[half:], None], strict=False)
    ]
    _table(pdf, ["Statistic", "Value", "Statistic", "Value"], rows, (70, 40, 70, 40), {1, 3})
    if statement.equity:
        pdf.ln(3)
        heading("Equity")
        _equity(pdf, statement.equity)
    return bytes(pdf.output())


def _equity(pdf: FPDF, points: list[tuple[Any, Decimal, Decimal]]) -> None:
    """Equity (blue) and balance (grey) as lines in a 250 × 50 mm box."""
    if pdf.get_y() > pdf.h - 70:
        pdf.add_page()
    points = points[:: max(1, len(points) // 1500)]  # a line per 1/6 mm is as fine as print goes
    x0, y0, w, h = pdf.l_margin, pdf.get_y() + 2, 250.0, 50.0
    values = [float(e) for _, e, _ in points] + [float(b) for _, _, b in points]
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    t0, t1 = points[0][0].timestamp(), points[-1][0].timestamp()
    span = (t1 - t0) or 1.0

    def xy(t: Any, v: Decimal) -> tuple[float, float]:
        return x0 + w * (t.timestamp() - t0) / span, y0 + h - h * (float(v) - lo) / (hi - lo)

    pdf.set_draw_color(200, 200, 200)
    pdf.rect(x0, y0, w, h)
    for column, colour in ((2, (89, 97, 112)), (1, (11, 92, 213))):
        pdf.set_draw_color(*colour)
        line = [xy(p[0], p[column]) for p in points]
        for a, b in zip(line, line[1:], strict=False):
            pdf.line(a[0], a[1], b[0], b[1])
    pdf.set_font("Helvetica", size=7)
    pdf.set_xy(x0 + w + 2, y0)
    pdf.cell(20, 4, f"{hi:,.2f}")
    pdf.set_xy(x0 + w + 2, y0 + h - 4)
    pdf.cell(20, 4, f"{lo:,.2f}")
    pdf.set_xy(x0, y0 + h + 1)
    pdf.cell(
        0, 4, _latin(f"{points[0][0]:%Y-%m-%d %H:%M} to {points[-1][0]:%Y-%m-%d %H:%M} UTC; blue equity, grey balance")
    )
