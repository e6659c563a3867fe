// Charts of the dashboard, drawn with TradingView's lightweight-charts (served from /static/vendor, never a CDN).
// An element with data-chart="candles" or data-chart="equity" and data-url gets its chart; the data is fetched
// from that URL (JSON, see trading/dashboard/chart_data.py) and refreshed every data-refresh seconds.
// Zoom and pan: mouse wheel and drag, or the chart's buttons (keyboard users: Tab to them, Enter).
(function () {
  "use strict";
  var LC = window.LightweightCharts;

  function baseOptions(el) {
    return {
      autoSize: true,
      layout: { textColor: "#1d2430", background: { type: "solid", color: "#ffffff" } },
      grid: { vertLines: { color: "#eef0f3" }, horzLines: { color: "#eef0f3" } },
      timeScale: { timeVisible: true, secondsVisible: false },
      localization: { timeFormatter: function (t) { return new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC"; } },
    };
  }

  function buttons(el, chart) {
    var bar = document.createElement("div");
    bar.className = "actions";
    [["Zoom in", 0.5], ["Zoom out", 2], ["Fit all", 0]].forEach(function (spec) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "small";
      b.textContent = spec[0];
      b.addEventListener("click", function () {
        var ts = chart.timeScale();
        if (!spec[1]) { ts.fitContent(); return; }
        var r = ts.getVisibleLogicalRange();
        if (!r) { return; }
        var mid = (r.from + r.to) / 2, half = ((r.to - r.from) / 2) * spec[1];
        ts.setVisibleLogicalRange({ from: mid - half, to: mid + half });
      });
      bar.appendChild(b);
    });
    el.parentNode.insertBefore(bar, el);
  }

  function candles(el) {
    var chart = LC.createChart(el, baseOptions(el));
    var series = chart.addSeries(LC.CandlestickSeries, {
      upColor: "#13702f", downColor: "#b3161f", borderVisible: false, wickUpColor: "#13702f", wickDownColor: "#b3161f",
    });
    var markers = LC.createSeriesMarkers(series, []);
    var lines = [];
    var first = true;
    buttons(el, chart);
    return function (data) {
      var digits = data.digits || 5;
      series.applyOptions({ priceFormat: { type: "price", precision: digits, minMove: Math.pow(10, -digits) } });
      series.setData(data.candles);
      markers.setMarkers(data.markers);
      lines.forEach(function (l) { series.removePriceLine(l); });
      lines = data.lines.map(function (l) {
        return series.createPriceLine({
          price: l.price, title: l.title, lineWidth: 1, lineStyle: LC.LineStyle.Dashed,
          color: l.kind === "sl" ? "#b3161f" : "#13702f", axisLabelVisible: true,
        });
      });
      el.setAttribute("data-candles", String(data.candles.length));
      el.setAttribute("data-markers", String(data.markers.length));
      el.setAttribute("data-lines", String(data.lines.length));
      if (first) { chart.timeScale().fitContent(); first = false; }
    };
  }

  function equity(el) {
    var chart = LC.createChart(el, baseOptions(el));
    var eq = chart.addSeries(LC.LineSeries, { color: "#0b5cd5", lineWidth: 2, title: "Equity" });
    var bal = chart.addSeries(LC.LineSeries, { color: "#596170", lineWidth: 1, lineStyle: LC.LineStyle.Dashed, title: "Balance" });
    var dd = chart.addSeries(LC.AreaSeries, {
      lineColor: "#b3161f", topColor: "rgba(179,22,31,0.05)", bottomColor: "rgba(179,22,31,0.35)", lineWidth: 1,
      title: "Drawdown %", priceFormat: { type: "percent" },
    }, 1);
    var first = true;
    buttons(el, chart);
    return function (data) {
      eq.setData(data.equity);
      bal.setData(data.balance);
      dd.setData(data.drawdown);
      el.setAttribute("data-points", String(data.equity.length));
      if (first) { chart.timeScale().fitContent(); first = false; }
    };
  }

  function start(el) {
    if (el.getAttribute("data-started")) { return; }
    el.setAttribute("data-started", "1");
    var draw = el.getAttribute("data-chart") === "candles" ? candles(el) : equity(el);
    function load() {
      fetch(el.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) { draw(data); el.setAttribute("data-loaded", "1"); })
        .catch(function (e) { el.setAttribute("data-error", String(e)); });
    }
    load();
    var every = parseInt(el.getAttribute("data-refresh") || "0", 10);
    if (every > 0) { setInterval(load, every * 1000); }
  }

  function all() {
    if (!LC) { return; }
    document.querySelectorAll("[data-chart]").forEach(start);
  }
  document.addEventListener("DOMContentLoaded", all);
  document.addEventListener("htmx:afterSettle", all);
})();
