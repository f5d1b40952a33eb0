/* volfolio dashboard: renders a DemoReport (src/web/report.ts). Display only: no pricing math here. */
(() => {
  const $ = (id) => document.getElementById(id);
  const pct = (x) => (x === null || x === undefined || !Number.isFinite(x) ? "" : `${(100 * x).toFixed(2)}%`);
  const num = (x, d = 0) =>
    x === null || x === undefined || !Number.isFinite(x)
      ? ""
      : x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const esc = (s) =>
    String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
  ];
  const cfg = { displaylogo: false, responsive: true };
  const layout = (extra) =>
    Object.assign({ margin: { l: 60, r: 20, t: 10, b: 45 }, font: { size: 11 } }, extra);

  function na(report, section, ids) {
    const why = report.unavailable?.[section] || "no data";
    for (const id of ids) $(id).innerHTML = `<p class="na">not available: ${esc(why)}</p>`;
  }
  function table(rows, cols) {
    if (!rows.length) return "<p>(no rows)</p>";
    const head = cols.map((c) => `<th>${esc(c[0])}</th>`).join("");
    const body = rows.map((r) => `<tr>${cols.map((c) => `<td>${c[1](r)}</td>`).join("")}</tr>`).join("");
    return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  }
  const signed = (x, d = 0) => `<span class="${x < 0 ? "neg" : "pos"}">${num(x, d)}</span>`;

  function surface(r) {
    const s = r.surface;
    if (!s) return na(r, "surface", ["surface3d", "smiles", "term", "richcheap", "arbitrage"]);
    const labels = s.expiries.map((e) => e.expiry.slice(0, 10));
    // Every expiry, each row over its own quoted k range (null elsewhere: plotly leaves a gap).
    Plotly.newPlot(
      "surface3d",
      [
        {
          type: "surface",
          x: s.grid.k,
          y: s.grid.timeToExpiry,
          z: s.grid.vol,
          colorscale: "Viridis",
          showscale: false,
          connectgaps: false,
          hovertemplate: "k %{x:.3f}<br>T %{y:.4f} y<br>vol %{z:.1%}<extra></extra>",
        },
      ],
      layout({
        margin: { l: 0, r: 0, t: 0, b: 0 },
        scene: {
          xaxis: { title: { text: "k = ln(K/F)" } },
          yaxis: { title: { text: "T (years)" } },
          zaxis: { title: { text: "vol" }, tickformat: ".0%" },
          aspectmode: "manual",
          aspectratio: { x: 1.2, y: 1.2, z: 0.7 },
          camera: { eye: { x: 1.6, y: -1.6, z: 0.9 } },
        },
      }),
      cfg,
    );
    $("surface3d-note").textContent =
      `${s.grid.timeToExpiry.length} of ${s.expiries.length} expiries drawn, each over its quoted log-moneyness range (${labels[0]} to ${labels.at(-1)}).`;
    // Smiles: one expiry at a time over its quoted strikes (every clean quote: bid, ask, mark vols)
    // with the fit across the quoted range, or every expiry's fit in log-moneyness.
    const sel = $("smile-expiry");
    sel.innerHTML =
      `<option value="all">all expiries (fits, log-moneyness)</option>` +
      s.expiries
        .map(
          (e, i) =>
            `<option value="${i}">${esc(labels[i])} (${num(e.timeToExpiry * 365, 1)} d, ${e.quotes.length} quotes)</option>`,
        )
        .join("");
    sel.value = "0";
    const drawSmile = () => {
      const v = sel.value;
      if (v === "all") {
        Plotly.react(
          "smiles",
          s.expiries.map((e, i) => ({
            name: labels[i],
            x: e.fit.map((p) => p.k),
            y: e.fit.map((p) => p.vol),
            mode: "lines",
            line: { color: PALETTE[i % PALETTE.length] },
            meta: "fit",
          })),
          layout({
            xaxis: { title: { text: "log-moneyness k" } },
            yaxis: { title: { text: "implied vol (fit)" }, tickformat: ".0%" },
          }),
          cfg,
        );
        return;
      }
      const e = s.expiries[Number(v)];
      const q = e.quotes;
      const trace = (name, key, symbol, color) => ({
        name,
        x: q.map((p) => p.strike),
        y: q.map((p) => p[key]),
        text: q.map((p) => p.instrument),
        mode: "markers",
        marker: { symbol, size: 7, color },
        meta: key,
      });
      Plotly.react(
        "smiles",
        [
          trace("bid vol", "bidVol", "triangle-up", "#1f77b4"),
          trace("ask vol", "askVol", "triangle-down", "#d62728"),
          trace("mark vol", "markVol", "circle-open", "#7f7f7f"),
          {
            name: `${s.model} fit`,
            x: e.fit.map((p) => p.strike),
            y: e.fit.map((p) => p.vol),
            mode: "lines",
            line: { color: "#2ca02c" },
            meta: "fit",
          },
        ],
        layout({
          xaxis: { title: { text: `strike, USD (forward ${num(e.forwardUsd)})` } },
          // Vol axis on the fit and the marks (wide one-sided asks of a day-old expiry would
          // flatten the smile; they stay in the data, above the range).
          yaxis: {
            title: { text: "implied vol" },
            tickformat: ".0%",
            range: [
              0,
              1.4 *
                Math.max(
                  ...e.fit.map((p) => p.vol),
                  ...q.map((p) => p.markVol ?? 0),
                  ...q.map((p) => p.bidVol ?? 0),
                ),
            ],
          },
          legend: { orientation: "h", x: 0, y: -0.2 },
          margin: { l: 60, r: 20, t: 10, b: 80 },
        }),
        cfg,
      );
    };
    sel.onchange = drawSmile;
    drawSmile();
    Plotly.newPlot(
      "term",
      [
        {
          name: "ATM vol",
          x: s.term.map((t) => t.expiry.slice(0, 10)),
          y: s.term.map((t) => t.atmVol),
          mode: "lines+markers",
        },
        {
          name: "25d RR",
          x: s.term.map((t) => t.expiry.slice(0, 10)),
          y: s.term.map((t) => t.rr25),
          mode: "lines+markers",
          yaxis: "y2",
        },
        {
          name: "25d BF",
          x: s.term.map((t) => t.expiry.slice(0, 10)),
          y: s.term.map((t) => t.bf25),
          mode: "lines+markers",
          yaxis: "y2",
        },
      ],
      layout({
        yaxis: { title: { text: "ATM vol" }, tickformat: ".0%" },
        // legend under the plot: at the side it covered the right axis in a half-width card
        margin: { l: 60, r: 60, t: 10, b: 70 },
        legend: { orientation: "h", x: 0, y: -0.18 },
        yaxis2: { overlaying: "y", side: "right", tickformat: ".1%", title: { text: "RR / BF" } },
      }),
      cfg,
    );
    $("richcheap").innerHTML =
      table(s.richCheap, [
        ["instrument", (x) => esc(x.name)],
        ["bid vol", (x) => (x.bidVol === null ? "no bid" : pct(x.bidVol))],
        ["ask vol", (x) => (x.askVol === null ? "no ask" : pct(x.askVol))],
        ["quote vol", (x) => pct(x.targetVol)],
        ["fit vol", (x) => pct(x.fittedVol)],
        ["diff (vol pts)", (x) => signed(x.volDiffPts, 2)],
        ["signal", (x) => esc(x.signal)],
      ]) +
      `<p class="note">rich: the fit is below the bid (a sale candidate); cheap: above the ask (a purchase candidate). A quote without a bid cannot be sold: "no bid" (cheap only if the fit is above its ask).</p>`;
    const a = s.arbitrage;
    if (a) {
      const v = (ok) => (ok ? '<span class="pos">none</span>' : '<span class="neg">found</span>');
      $("arbitrage").innerHTML =
        `<p id="arbitrage-status"><b>${a.free ? "arbitrage-free" : "static arbitrage found"}</b> (${esc(s.model)} fit; butterfly ${v(a.butterflyFree)}, calendar ${v(a.calendarFree)})</p>` +
        (a.butterfly.length
          ? table(a.butterfly, [
              ["butterfly: expiry", (x) => esc(x.expiry.slice(0, 10))],
              ["min density g", (x) => num(x.minDensityG, 4)],
              ["at k", (x) => num(x.at, 3)],
              ["points", (x) => num(x.points)],
            ])
          : "") +
        (a.calendar.length
          ? table(a.calendar, [
              ["calendar: from", (x) => esc(x.from.slice(0, 10))],
              ["to", (x) => esc(x.to.slice(0, 10))],
              ["min w increase", (x) => num(x.minIncrease, 5)],
              ["at k", (x) => num(x.at, 3)],
              ["points", (x) => num(x.points)],
            ])
          : "") +
        `<p class="note">core/surface/arbitrage.ts surfaceArbitrageReport: butterfly = negative risk-neutral density (g &lt; 0) on each slice; calendar = total variance falling between consecutive expiries.</p>`;
    } else $("arbitrage").innerHTML = '<p class="na">not available: no arbitrage report in this report</p>';
  }

  function book(r) {
    const b = r.book;
    if (!b) return na(r, "greeks", ["book"]);
    $("book").innerHTML =
      `<p>${esc(b.label)}; valued on ${esc(b.market)}: ${b.valued} of ${b.positions} positions valued, ${b.excluded.length} excluded${b.expired?.length ? `, ${b.expired.length} expired (settled, in no figure but equity)` : ""}.</p>` +
      (b.excluded.length
        ? table(b.excluded, [
            ["excluded", (x) => esc(x.instrument)],
            ["quantity", (x) => num(x.quantity, 2)],
            ["reason", (x) => esc(x.reason)],
            ["detail", (x) => esc(x.detail)],
          ])
        : "") +
      (b.expired?.length
        ? table(b.expired, [
            ["expired (settled)", (x) => esc(x.instrument)],
            ["quantity", (x) => num(x.quantity, 2)],
            ["settled at", (x) => `${num(x.settlementPrice)} (${esc(x.settlementSource)})`],
            ["value", (x) => `${num(x.value, 6)} ${esc(x.currency)}`],
            ["value USD", (x) => num(x.valueUsd)],
          ])
        : "") +
      (b.options.length
        ? table(b.options, [
            ["option", (x) => esc(x.instrument)],
            ["forward USD", (x) => num(x.forwardUsd)],
            ["vol", (x) => pct(x.vol)],
            ["vol source", (x) => esc(x.source)],
            ["note", (x) => esc(x.note || "")],
          ])
        : "") +
      (b.legs ? `<p>Placed legs: ${b.legs.map(esc).join("; ")}</p>` : "") +
      b.notes.map((n) => `<p class="note">${esc(n)}</p>`).join("");
  }

  function risk(r) {
    book(r);
    if (r.greeks) {
      const rows = r.greeks.rows;
      const x = rows.map((g) => `${g.underlying} ${g.bucket}`);
      Plotly.newPlot(
        "greeks",
        [
          { type: "bar", name: "cash delta (Black delta x index)", x, y: rows.map((g) => g.cashDeltaUsd) },
          { type: "bar", name: "vega (per 1.00 vol)", x, y: rows.map((g) => g.vegaUsd) },
          { type: "bar", name: "theta / day", x, y: rows.map((g) => g.thetaUsdPerDay) },
          { type: "bar", name: "cash gamma", x, y: rows.map((g) => g.cashGammaUsd) },
        ],
        layout({ barmode: "group", yaxis: { title: { text: "USD" } } }),
        cfg,
      );
      // Which delta is which: the same figures and names as `volfolio risk --json` (byUnderlying).
      const by = r.greeks.byUnderlying || [];
      $("greeks-delta").innerHTML = by.length
        ? table(by, [
            ["underlying", (g) => esc(g.underlying)],
            ["Black delta (coin)", (g) => num(g.deltaBlackCoin, 4)],
            ["premium-adj. delta (coin)", (g) => num(g.deltaPremiumAdjustedCoin, 4)],
            ["cash delta USD", (g) => num(g.cashDeltaUsd)],
            ["vega USD / vol pt", (g) => num(g.vegaUsdPerVolPt)],
            ["theta USD / day", (g) => num(g.thetaUsdPerDay)],
          ]) +
          `<p class="note">Black delta = Black's forward delta in coins, Deribit's <code>delta</code> column (what the exchange screen shows); cash delta = Black delta x index. Premium-adjusted delta = Black delta - the coin premium: the coin-terms delta of a coin-margined account. Inverse options valued by Deribit's mark convention (coin premium = Black(F)/F, USD = coin x index).</p>`
        : "";
    } else na(r, "greeks", ["greeks", "greeks-delta"]);
    if (r.scenarios) {
      const s = r.scenarios;
      Plotly.newPlot(
        "heatmap",
        [
          {
            type: "heatmap",
            x: s.spotShocks,
            y: s.volShocks,
            z: s.pnl,
            colorscale: "RdBu",
            reversescale: true,
            zmid: 0,
            colorbar: { title: { text: "USD" } },
          },
        ],
        layout({
          xaxis: { title: { text: "spot shock" }, tickformat: ".0%" },
          yaxis: { title: { text: "vol shock (abs)" }, tickformat: ".0%" },
        }),
        cfg,
      );
    } else na(r, "scenarios", ["heatmap"]);
    if (r.stress)
      $("stress").innerHTML = table(r.stress, [
        ["scenario", (x) => esc(x.id)],
        ["spot", (x) => pct(x.spotShift)],
        ["vol", (x) => pct(x.volShift)],
        ["PnL USD", (x) => signed(x.pnlUsd)],
        ["close cost USD", (x) => num(x.closeCostUsd)],
        ["stressed loss USD", (x) => num(x.stressedLossUsd)],
      ]);
    else na(r, "stress", ["stress"]);
    if (r.margin) {
      // The figures of `volfolio margin` (web/bookMarket.ts bookMargin): amounts in the row's currency.
      const m = r.margin;
      const dp = (cur) => (cur === "USDC" || cur === "USD" ? 0 : 4);
      const move = (x) => (x === null || x === undefined ? "none" : `${x > 0 ? "+" : ""}${pct(x)}`);
      const dist = (a, d, side) =>
        a.alreadyBelowMaintenance ? "already below maintenance" : move(a.spot?.[d]?.[side]);
      $("margin").innerHTML =
        `<h3>Margin by settlement currency</h3>` +
        table(m.byCurrency, [
          ["currency", (x) => esc(x.currency)],
          ["standard IM", (x) => num(x.stdInitial, dp(x.currency))],
          ["standard MM", (x) => num(x.stdMaintenance, dp(x.currency))],
          ["portfolio IM", (x) => num(x.pmInitial, dp(x.currency))],
          ["portfolio MM", (x) => num(x.pmMaintenance, dp(x.currency))],
          ["worst case", (x) => num(x.pmWorstCaseLoss, dp(x.currency))],
          ["worst cell (Deribit)", (x) => `${esc(x.pmWorstCell)}<br><small>${esc(x.pmWorst)}</small>`],
          ["extended table", (x) => num(x.pmExtendedTableLoss, dp(x.currency))],
          ["roll shock", (x) => num(x.pmRollShock, dp(x.currency))],
          ["delta shock", (x) => num(x.pmDeltaShock, dp(x.currency))],
        ]) +
        `<p class="note">Portfolio margin (Deribit S:PM): IM = worst case of the risk matrix (standard table, or extended table after weights and dampener) + roll shock + delta shock; MM = 0.8 x IM. Standard margin: per position, no offsets.</p>` +
        `<h3>Accounts (segregated, one per settlement currency)</h3>` +
        table(m.accounts, [
          ["currency", (x) => esc(x.currency)],
          ["cash", (x) => num(x.cash, dp(x.currency))],
          ["positions", (x) => num(x.positions, dp(x.currency))],
          ["equity", (x) => num(x.equity, dp(x.currency))],
          ["equity USD", (x) => num(x.equityUsd)],
          ["portfolio MM", (x) => num(x.pmMaintenance, dp(x.currency))],
          ["buffer", (x) => signed(x.buffer, dp(x.currency))],
          ["MM / equity", (x) => (x.pmMaintenanceRatio === null ? "n/a" : pct(x.pmMaintenanceRatio))],
        ]) +
        `<p class="note">Equity ${num(m.equityUsd)} USD; portfolio maintenance ${num(m.portfolioMaintenanceUsd)} USD (initial ${num(m.portfolioInitialUsd)}); standard maintenance ${num(m.standardMaintenanceUsd)} USD.</p>` +
        `<h3>Distance to liquidation (full revaluation)</h3>` +
        `<div id="margin-liquidation">` +
        table(m.liquidationByAccount, [
          ["account", (a) => esc(a.account)],
          ["equity", (a) => `${num(a.equity, dp(a.unit))} ${esc(a.unit)}`],
          ["maintenance", (a) => num(a.maintenance, dp(a.unit))],
          ["buffer", (a) => signed(a.buffer, dp(a.unit))],
          ["spot down (sticky-strike)", (a) => dist(a, "sticky-strike", "down")],
          ["spot up (sticky-strike)", (a) => dist(a, "sticky-strike", "up")],
          ["spot down (sticky-moneyness)", (a) => dist(a, "sticky-moneyness", "down")],
          ["spot up (sticky-moneyness)", (a) => dist(a, "sticky-moneyness", "up")],
          [
            "vol up",
            (a) =>
              a.alreadyBelowMaintenance
                ? "already below maintenance"
                : a.volUp === null
                  ? "none"
                  : `+${num(100 * a.volUp, 2)} pts`,
          ],
        ]) +
        `</div>` +
        `<p class="note">The first move at which an account's equity falls below its portfolio maintenance: positions and coin cash revalued and maintenance recomputed at each bumped market (spot: every underlying together; vol: parallel rise). Segregated rows: each currency's account against its own maintenance, in its currency. Pooled: cross collateral, every account in USD (haircut 0, as Deribit documents). none = not within -99%..+1000% spot / +500 vol points.</p>`;
    } else na(r, "margin", ["margin"]);
  }

  function optimizer(r) {
    const o = r.optimizer;
    if (!o) return na(r, "optimizer", ["beforeafter", "trades", "frontier"]);
    const keys = Object.keys(o.before).filter(
      (k) => Number.isFinite(o.before[k]) || Number.isFinite(o.after[k]),
    );
    // Small multiples: one panel per measure (own y scale: coin delta next to USD margin).
    const cols = 4;
    const rows = Math.ceil(keys.length / cols);
    const axes = {};
    keys.forEach((k, i) => {
      axes[`xaxis${i ? i + 1 : ""}`] = { title: { text: k, font: { size: 10 } }, showticklabels: false };
      axes[`yaxis${i ? i + 1 : ""}`] = { tickfont: { size: 9 }, zeroline: true };
    });
    Plotly.newPlot(
      "beforeafter",
      keys.map((k, i) => ({
        type: "bar",
        name: k,
        meta: k,
        x: ["before", "after"],
        y: [o.before[k], o.after[k]],
        xaxis: `x${i ? i + 1 : ""}`,
        yaxis: `y${i ? i + 1 : ""}`,
        marker: { color: ["#1f77b4", "#ff7f0e"] },
        hovertemplate: `${k} %{x}: %{y:,.4g}<extra></extra>`,
      })),
      layout({
        grid: { rows, columns: cols, pattern: "independent", ygap: 0.45, xgap: 0.35 },
        showlegend: false,
        margin: { l: 50, r: 10, t: 30, b: 30 },
        title: { text: "blue = before, orange = after", font: { size: 11 } },
        ...axes,
      }),
      cfg,
    );
    frontier(o);
    $("trades").innerHTML =
      table(keys, [
        ["measure", (k) => esc(k)],
        ["before", (k) => num(o.before[k], 2)],
        ["after", (k) => num(o.after[k], 2)],
      ]) +
      `<p>Status: ${esc(o.status)}; objective ${Number.isFinite(o.objectiveUsd) ? `${num(o.objectiveUsd, 2)} USD` : "n/a"}.</p>` +
      table(o.trades, [
        ["instrument", (x) => esc(x.instrument)],
        ["contracts", (x) => signed(x.contracts, 2)],
        ["limit USD", (x) => num(x.limitPriceUsd, 2)],
        ["edge USD", (x) => num(x.edgeUsd, 2)],
        ["why", (x) => esc(x.explanation)],
      ]) +
      (o.notes.length ? `<ul>${o.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : "");
  }

  function frontier(o) {
    const f = o.frontier;
    if (!f?.points.length) {
      const why = o.notes.find((n) => n.startsWith("frontier not available: "));
      $("frontier").innerHTML = `<p class="na">not available: ${esc(
        why ? why.slice("frontier not available: ".length) : `optimizer status ${o.status}`,
      )}</p>`;
      return;
    }
    const x = f.points.map((p) => p.cvarUsd);
    const objLabel =
      {
        edge: "edge, USD (maximized)",
        theta: "theta, USD (maximized)",
        "vega-target": "cost to reach the vega target, USD (minimized)",
      }[f.objectiveKind] || `${f.objectiveKind}, USD`;
    Plotly.newPlot(
      "frontier",
      [
        {
          name: objLabel,
          x,
          y: f.points.map((p) => p.objectiveUsd),
          mode: "lines+markers",
          text: f.points.map((p) => `${p.trades} trades, ${p.status}`),
          meta: "frontier",
        },
        {
          name: "proposal",
          x: [o.after.cvarUsd],
          y: [o.objectiveUsd],
          mode: "markers",
          marker: { symbol: "star", size: 14, color: "#d62728" },
          meta: "proposal",
        },
        {
          name: "vega after (USD / vol pt)",
          x,
          y: f.points.map((p) => p.vegaUsdPerVolPt),
          mode: "lines+markers",
          yaxis: "y2",
          line: { dash: "dot", color: "#2ca02c" },
          meta: "vega",
        },
      ],
      layout({
        xaxis: { title: { text: `CVaR ${(100 * f.alpha).toFixed(0)}% of the book after the trades (USD)` } },
        yaxis: { title: { text: objLabel } },
        yaxis2: { overlaying: "y", side: "right", title: { text: "vega USD/vol pt" } },
        margin: { l: 60, r: 70, t: 10, b: 45 },
        legend: { x: 1.1 },
      }),
      cfg,
    );
  }

  function backtest(r) {
    const b = r.backtest;
    if (!b) return na(r, "backtest", ["backtest-source", "equity", "drawdown", "attribution", "metrics"]);
    $("backtest-source").innerHTML =
      `<b>${b.kind === "chain-history" ? "Real chain history" : "Synthetic market"}</b>: ${esc(b.dataSource || "unlabelled")}; ${esc(b.strategy)}; ${esc((b.from || b.dates[0] || "").slice(0, 10))} to ${esc((b.to || b.dates.at(-1) || "").slice(0, 10))} (valuation ${esc(r.valuationTime.slice(0, 10))}).`;
    Plotly.newPlot(
      "equity",
      [{ x: b.dates, y: b.equityUsd, mode: "lines", name: b.strategy }],
      layout({ yaxis: { title: { text: "USD" } } }),
      cfg,
    );
    Plotly.newPlot(
      "drawdown",
      [{ x: b.dates, y: b.drawdown, mode: "lines", fill: "tozeroy", line: { color: "#b42318" } }],
      layout({ yaxis: { tickformat: ".1%" } }),
      cfg,
    );
    Plotly.newPlot(
      "attribution",
      [{ type: "bar", x: b.attribution.map((a) => a.component), y: b.attribution.map((a) => a.usd) }],
      layout({ yaxis: { title: { text: "USD" } } }),
      cfg,
    );
    $("metrics").innerHTML =
      `<p>${esc(b.strategy)}</p>` +
      (b.metrics
        ? table(Object.entries(b.metrics), [
            ["metric", (x) => esc(x[0])],
            ["value", (x) => num(x[1], 4)],
          ])
        : '<p class="na">not available: no metrics</p>');
  }

  function regime(r) {
    if (r.volIndex) {
      const v = r.volIndex;
      Plotly.newPlot(
        "volindex",
        [
          {
            x: v.term.map((t) => t.expiry.slice(0, 10)),
            y: v.term.map((t) => t.vol),
            mode: "lines+markers",
            name: "model-free vol",
          },
        ],
        layout({
          yaxis: { tickformat: ".0%" },
          title: {
            text: `${v.underlying} 30-day index ${v.index.toFixed(2)} (${v.method === "dvol" ? "Deribit DVOL method" : (v.method ?? "Cboe method")})`,
            font: { size: 12 },
          },
          margin: { l: 60, r: 20, t: 30, b: 45 },
        }),
        cfg,
      );
    } else na(r, "volIndex", ["volindex"]);
    if (r.regime?.stale) {
      const st = r.regime.stale;
      $("regime-stale").innerHTML =
        `<p class="neg"><b>stale price history</b>: it ends ${esc(st.lastDate)}, ${num(st.daysBehind)} days before the valuation date ${esc(st.valuationDate)}; realized vol and regime are of that older period.</p>`;
    } else $("regime-stale").innerHTML = "";
    if (r.regime) {
      const g = r.regime;
      Plotly.newPlot(
        "regime",
        [
          { x: g.dates, y: g.realizedVol, mode: "lines", name: "realized vol" },
          { x: g.dates, y: g.garchVol, mode: "lines", name: "GARCH vol" },
          {
            x: g.dates,
            y: g.highVolProbability,
            mode: "lines",
            name: "P(high vol)",
            yaxis: "y2",
            fill: "tozeroy",
            line: { color: "#9467bd", width: 1 },
          },
        ],
        layout({
          ...(g.source
            ? {
                title: { text: `daily prices: ${g.source}`, font: { size: 12 } },
                margin: { l: 60, r: 20, t: 34, b: 40 },
              }
            : {}),
          yaxis: { tickformat: ".0%", domain: [0.35, 1], title: { text: "vol" } },
          yaxis2: { domain: [0, 0.27], range: [0, 1], title: { text: "P(high)" } },
        }),
        cfg,
      );
    } else na(r, "regime", ["regime"]);
    forecastPlot(r.regime?.forecast);
  }

  /** Walk-forward forecasts (src/web/forecastPanel.ts) against the realized next-30-day vol. */
  function forecastPlot(f) {
    if (!f) {
      $("forecast").innerHTML =
        '<p class="na">not available: the price history is shorter than 1,100 days</p>';
      return;
    }
    const line = (name, y, extra = {}) => ({ x: f.dates, y, mode: "lines", name, ...extra });
    Plotly.newPlot(
      "forecast",
      [
        line("realized next 30 days", f.realizedVol, { line: { color: "#000", width: 2 } }),
        line("naive (trailing 30d)", f.forecastVol.naive, { line: { width: 1, dash: "dot" } }),
        line("HAR-RV", f.forecastVol.har),
        line("GARCH", f.forecastVol.garch),
        line("boosted trees", f.forecastVol.gbdt),
        line("P(30d vol +50% within 7d)", f.eventProbability, {
          yaxis: "y2",
          fill: "tozeroy",
          line: { color: "#d62728", width: 1 },
        }),
      ],
      layout({
        title: { text: f.note, font: { size: 11 } },
        margin: { l: 60, r: 20, t: 40, b: 40 },
        yaxis: { tickformat: ".0%", domain: [0.35, 1], title: { text: "vol" } },
        yaxis2: { domain: [0, 0.27], rangemode: "tozero", title: { text: "P(spike)" } },
      }),
      cfg,
    );
  }

  /** Readable panel of an agent's GET /state (src/agent/loop.ts AgentState plus runId/broker/killSwitch). */
  function agentPanel(a) {
    const st = a.state || {};
    const fmt = (x, d = 2) =>
      typeof x === "number" ? num(x, d) : x === null || x === undefined ? "n/a" : esc(x);
    const kv = (rows) =>
      `<table><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join("")}</tbody></table>`;
    const mode = String(st.mode ?? "unknown");
    const reasons = Array.isArray(st.modeReasons) ? st.modeReasons : [];
    const positions = Object.values(st.book?.positions || {});
    const cash = Object.entries(st.book?.cash || {});
    const limits = st.limits && typeof st.limits === "object" ? Object.entries(st.limits) : [];
    const decisions = Array.isArray(st.lastDecisions) ? st.lastDecisions : [];
    const opt = st.lastOptimizer;
    const known = new Set([
      "mode",
      "modeReasons",
      "book",
      "delta",
      "vega",
      "marginUsd",
      "cvarUsd",
      "varUsd",
      "surface",
      "step",
      "runId",
      "broker",
      "killSwitch",
      "ordersSent",
      "fills",
      "limitRejections",
      "lastOptimizer",
      "limits",
      "lastDecisions",
      "lastStepMs",
      "recovered",
    ]);
    const other = Object.fromEntries(Object.entries(st).filter(([k]) => !known.has(k)));
    return (
      `<p id="agent-source">live from ${esc(a.source)} (refreshed ${esc(new Date().toISOString().slice(11, 19))} UTC)</p>` +
      `<div class="row">` +
      `<div class="card"><h2>Mode</h2><p id="agent-mode" class="mode-${esc(mode)}"><b>${esc(mode)}</b>${
        reasons.length ? `: ${reasons.map(esc).join("; ")}` : ""
      }</p>${kv([
        ["run", fmt(st.runId)],
        ["broker", fmt(st.broker)],
        ["step", fmt(st.step, 0)],
        ["kill switch", st.killSwitch ? '<span class="neg">engaged</span>' : "off"],
      ])}</div>` +
      `<div class="card"><h2>Greeks and risk</h2><div id="agent-greeks">${kv([
        // The agent's risk block (core valuation): Black's forward delta summed in coins, the
        // premium-adjusted coin delta, and vega per vol POINT (st.vega is per 1.00 vol, 100x larger).
        ["delta, Black forward (coin)", fmt(st.risk?.greeks?.deltaUnderlyingCoin ?? st.delta, 4)],
        ["delta, premium-adjusted (coin)", fmt(st.risk?.greeks?.deltaPremiumAdjustedCoin, 4)],
        [
          "vega (USD / vol pt)",
          fmt(
            st.risk?.greeks?.vegaUsdPerVolPt ?? (typeof st.vega === "number" ? st.vega / 100 : undefined),
            2,
          ),
        ],
        ["theta (USD / day)", fmt(st.risk?.greeks?.thetaUsdPerDay, 2)],
        ["equity (USD)", fmt(st.risk?.equity?.equityUsd, 0)],
        [
          "unpriced positions",
          st.risk?.unpriced?.length
            ? `<span class="neg">${esc(st.risk.unpriced.map((u) => `${u.instrument}: ${u.reason}`).join("; "))}</span>`
            : "none",
        ],
        ["initial margin (USD)", fmt(st.marginUsd, 0)],
        ["CVaR (USD)", fmt(st.cvarUsd, 0)],
        ["VaR (USD)", fmt(st.varUsd, 0)],
        ["surface fit RMSE (vol pts)", fmt(st.surface?.rmseVolPts, 3)],
      ])}</div></div>` +
      `<div class="card"><h2>Limits and orders</h2><div id="agent-limits">${kv([
        ["orders sent", fmt(st.ordersSent, 0)],
        ["fills", fmt(st.fills, 0)],
        ["orders rejected by limits", fmt(st.limitRejections, 0)],
        ...limits.map(([k, v]) => [k, typeof v === "object" ? esc(JSON.stringify(v)) : fmt(v, 4)]),
      ])}</div></div>` +
      `</div><div class="row">` +
      `<div class="card"><h2>Positions</h2><div id="agent-positions">${table(positions, [
        ["instrument", (p) => esc(p.instrument)],
        ["quantity", (p) => signed(p.quantity, 2)],
        ["cost", (p) => num(p.cost, 6)],
      ])}${
        cash.length
          ? table(cash, [
              ["cash", (c) => esc(c[0])],
              ["amount", (c) => num(c[1], 6)],
            ])
          : ""
      }</div></div>` +
      `<div class="card"><h2>Last decisions</h2><div id="agent-decisions">${
        opt
          ? kv([
              ["optimizer step", fmt(opt.step, 0)],
              ["status", fmt(opt.status)],
              ["summary", fmt(opt.summary)],
              ["diagnosis", fmt(opt.diagnosis)],
            ])
          : "<p>(no optimizer run yet)</p>"
      }${decisions.length ? `<pre>${esc(JSON.stringify(decisions.slice(-10), null, 2))}</pre>` : ""}</div></div>` +
      `</div>` +
      (Object.keys(other).length
        ? `<details><summary>other fields</summary><pre>${esc(JSON.stringify(other, null, 2))}</pre></details>`
        : "")
    );
  }

  async function agent(r, qs) {
    if (window.VOLFOLIO_REPORT) return na(r, "agent", ["agent"]);
    let timer = null;
    const load = async () => {
      try {
        const a = await (await fetch(`/api/agent${qs}`)).json();
        // A configured agent (source set) is polled every 5 s, also while it is unreachable.
        if (!timer && a && a.source) timer = setInterval(load, 5000);
        if (a?.running) $("agent").innerHTML = agentPanel(a);
        else
          $("agent").innerHTML = `<p class="na">not available: ${esc(
            (a && (a.error || a.hint)) || r.unavailable?.agent || "no agent",
          )}</p>`;
      } catch (e) {
        $("agent").innerHTML = `<p class="na">not available: ${esc(e.message)}</p>`;
      }
    };
    await load();
  }

  // ---------------------------------------------------------------------------------------------
  // Position builder: every figure from POST /api/builder/evaluate (web/builder.ts, the core
  // valuation); the page keeps the legs and the controls, nothing else.
  async function builderTab(qs) {
    const root = $("builder");
    if (window.VOLFOLIO_REPORT) {
      root.innerHTML =
        '<p class="na">not available: the builder needs a running server with a market (volfolio serve --chain FILE, --live or --synthetic)</p>';
      return;
    }
    let chain;
    try {
      const res = await fetch(`/api/builder/chain${qs}`);
      chain = await res.json();
      if (!res.ok || !chain.available) throw new Error(chain.error || `HTTP ${res.status}`);
    } catch (e) {
      root.innerHTML = `<p class="na">not available: ${esc(e.message)}</p>`;
      return;
    }
    const state = { legs: [], seq: 0, last: null };
    let rows = chain.rows;
    const unds = [...new Set(rows.map((x) => x.underlying))];
    const opt = (v, t) => `<option value="${esc(v)}">${esc(t ?? v)}</option>`;
    $("b-market").textContent = `${chain.label}; valuation ${chain.valuationTime}; ${rows.length} options`;
    const u = $("b-underlying");
    const ex = $("b-expiry");
    const k = $("b-strike");
    const kind = $("b-kind");
    u.innerHTML = unds.map((x) => opt(x)).join("");
    const pick = () =>
      rows.find(
        (x) =>
          x.underlying === u.value &&
          x.expiry === ex.value &&
          String(x.strike) === k.value &&
          x.kind === kind.value,
      );
    const fillExpiries = () => {
      const es = [...new Set(rows.filter((x) => x.underlying === u.value).map((x) => x.expiry))].sort();
      ex.innerHTML = es.map((e) => opt(e, e.slice(0, 10))).join("");
      fillStrikes();
    };
    const fillStrikes = () => {
      const c = rows.filter((x) => x.underlying === u.value && x.expiry === ex.value);
      const ks = [...new Set(c.map((x) => x.strike))].sort((a, b) => a - b);
      const f = c[0]?.forwardUsd ?? 0;
      k.innerHTML = ks.map((x) => opt(String(x), num(x))).join("");
      // Default: the strike nearest the forward.
      const near = ks.reduce((a, x) => (Math.abs(x - f) < Math.abs(a - f) ? x : a), ks[0]);
      if (near !== undefined) k.value = String(near);
      showQuote();
    };
    const showQuote = () => {
      const q = pick();
      const cur = q?.premiumCurrency === "coin" ? q.underlying : "USD";
      $("b-quote").innerHTML = q
        ? `<span data-k="bid">bid ${q.bid === null ? "none" : num(q.bid, 4)}</span> / <span data-k="ask">ask ${q.ask === null ? "none" : num(q.ask, 4)}</span> / mark ${num(q.mark, 4)} ${esc(cur)}; IV bid ${q.bidIv === null ? "none" : pct(q.bidIv)}, ask ${q.askIv === null ? "none" : pct(q.askIv)}, mark ${pct(q.markIv)}; forward ${num(q.forwardUsd)}`
        : "(not listed)";
    };
    u.onchange = fillExpiries;
    ex.onchange = fillStrikes;
    k.onchange = showQuote;
    kind.onchange = showQuote;
    fillExpiries();

    const spot = $("b-spot");
    const vol = $("b-vol");
    const days = $("b-days");
    const date = $("b-date");
    const index0 = () =>
      rows.find((x) => x.underlying === (state.legs[0] ? state.legs[0].instrument.split(/[-_]/)[0] : u.value))
        ?.indexUsd ?? rows[0].indexUsd;
    const setSpotRange = () => {
      const i = index0();
      spot.min = String(Math.round(i * 0.5));
      spot.max = String(Math.round(i * 1.5));
      spot.step = String(Math.max(1, Math.round(i / 1000)));
      spot.value = String(i);
    };
    setSpotRange();
    const labels = () => {
      $("b-spot-v").textContent = num(Number(spot.value));
      $("b-vol-v").textContent = `${Number(vol.value) >= 0 ? "+" : ""}${num(Number(vol.value), 1)} pts`;
      $("b-days-v").textContent = `T+${days.value} d`;
    };
    labels();

    const legsTable = () => {
      $("b-legs").innerHTML = state.legs.length
        ? table(state.legs, [
            ["leg", (l) => esc(l.instrument)],
            ["side", (l) => (l.quantity > 0 ? "buy" : "sell")],
            ["contracts", (l) => signed(l.quantity, 2)],
            [
              "",
              (l) =>
                `<button type="button" class="b-remove" data-i="${state.legs.indexOf(l)}">remove</button>`,
            ],
          ])
        : "<p>(no legs: pick one above)</p>";
      for (const b of document.querySelectorAll("#b-legs .b-remove"))
        b.onclick = () => {
          state.legs.splice(Number(b.dataset.i), 1);
          legsTable();
          evaluate(true);
        };
    };
    $("b-add").onclick = () => {
      const q = pick();
      const size = Number($("b-size").value);
      if (!q || !(size > 0)) {
        $("b-error").textContent = !q ? "pick a listed option" : "size must be > 0";
        return;
      }
      const first = state.legs.length === 0;
      state.legs.push({ instrument: q.instrument, quantity: $("b-side").value === "sell" ? -size : size });
      if (first) setSpotRange();
      legsTable();
      evaluate(true);
    };
    $("b-clear").onclick = () => {
      state.legs = [];
      legsTable();
      evaluate(true);
    };
    $("b-file").onchange = async () => {
      const f = $("b-file").files[0];
      if (!f) return;
      const res = await fetch(`/api/builder/book${qs}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: await f.text(), name: f.name }),
      });
      const j = await res.json();
      if (!res.ok) {
        $("b-error").textContent = j.error;
        return;
      }
      state.legs.push(...j.legs);
      $("b-book-note").textContent = j.leftOut.length
        ? `from ${f.name}: ${j.legs.length} legs added; not added: ${j.leftOut.map((x) => `${x.instrument} (${x.reason})`).join(", ")}`
        : `from ${f.name}: ${j.legs.length} legs added`;
      setSpotRange();
      legsTable();
      evaluate(true);
    };
    let timer = null;
    for (const el of [spot, vol, days, date, $("b-pricing"), $("b-range")])
      el.oninput = el.onchange = () => {
        labels();
        clearTimeout(timer);
        timer = setTimeout(() => evaluate(el === $("b-pricing")), 120);
      };
    $("b-include").onchange = () => evaluate(true);
    $("b-export").onclick = () => {
      if (!state.last) return;
      const blob = new Blob([`${JSON.stringify(state.last.book, null, 2)}\n`], { type: "application/json" });
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "volfolio-builder-book.json";
      a.click();
      URL.revokeObjectURL(a.href);
    };
    legsTable();

    // Live refresh (serve --live): the data's age, stale marking, and the chain and marks reloaded
    // when the server has refreshed its market.
    let seen = null;
    const live = async () => {
      let st;
      try {
        st = await (await fetch(`/api/live${qs}`)).json();
      } catch (e) {
        $("b-live").innerHTML = `<span class="neg">live status unavailable: ${esc(e.message)}</span>`;
        return;
      }
      if (!st.live) return false;
      const age = st.ageMs === null ? "none yet" : `${num(st.ageMs / 1000, 0)} s`;
      $("b-live").className = st.stale ? "neg stale" : "pos";
      $("b-live").textContent =
        `${st.stale ? "STALE: " : "live: "}${st.source}; last refresh ${st.updatedAt ? st.updatedAt.slice(11, 19) : "none"} UTC, age ${age}${st.error ? `; last attempt failed: ${st.error}` : ""}`;
      if (seen !== null && st.updates !== seen) {
        const res = await fetch(`/api/builder/chain${qs}`);
        const c = await res.json();
        if (c.available) {
          rows = c.rows;
          $("b-market").textContent = `${c.label}; valuation ${c.valuationTime}; ${rows.length} options`;
          showQuote();
          await evaluate(true);
        }
      }
      seen = st.updates;
      return true;
    };
    if (await live()) setInterval(live, 1000);

    async function evaluate(withMargin) {
      const seq = ++state.seq;
      window.volfolioBuilderIdle = false;
      $("b-error").textContent = "";
      const body = {
        legs: state.legs,
        pricing: $("b-pricing").value,
        volShift: Number(vol.value) / 100,
        days: Number(days.value),
        spot: Number(spot.value),
        spotRange: Number($("b-range").value) / 100,
        includeBook: $("b-include").checked,
        margin: withMargin || !state.last?.margin?.after,
      };
      if (date.value) body.date = date.value;
      try {
        const res = await fetch(`/api/builder/evaluate${qs}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        const j = await res.json();
        if (seq !== state.seq) return;
        if (!res.ok) throw new Error(j.error || `HTTP ${res.status}`);
        if (!body.margin && state.last) j.margin = state.last.margin;
        state.last = j;
        render(j);
      } catch (e) {
        if (seq === state.seq) $("b-error").textContent = e.message;
      } finally {
        if (seq === state.seq) window.volfolioBuilderIdle = true;
      }
    }

    /** A number cell: the shown text and the full-precision value in data-v (tests read both). */
    const cell = (x, d, key) =>
      `<span${key ? ` data-k="${key}"` : ""} data-v="${x === null || x === undefined ? "" : x}">${x === null || x === undefined ? "unbounded" : num(x, d)}</span>`;
    function render(j) {
      const legCols = [
        ["leg", (l) => esc(l.instrument)],
        ["contracts", (l) => signed(l.quantity, 2)],
        ["price", (l) => `${cell(l.price, 5)} ${l.premiumCurrency === "coin" ? "coin" : "USD"}`],
        [
          "bid / ask",
          (l) =>
            `${l.bid === null ? "no bid" : num(l.bid, 4)} / ${l.ask === null ? "no ask" : num(l.ask, 4)}`,
        ],
        ["vol", (l) => `${pct(l.vol)} <small>${esc(l.volSource)}</small>`],
        ["premium USD", (l) => cell(l.premiumUsd, 2)],
        ["fee USD", (l) => cell(l.feeUsd, 2)],
        ["delta (coin)", (l) => cell(l.greeks.deltaBlackCoin, 4, "delta")],
        ["cash delta USD", (l) => cell(l.greeks.cashDeltaUsd, 0)],
        ["gamma USD/1%", (l) => cell(l.greeks.cashGammaUsd, 0)],
        ["vega USD/pt", (l) => cell(l.greeks.vegaUsdPerVolPt, 2, "vega")],
        ["theta USD/day", (l) => cell(l.greeks.thetaUsdPerDay, 2, "theta")],
      ];
      $("b-leg-table").innerHTML = j.legs.length ? table(j.legs, legCols) : "";
      $("b-greeks").innerHTML = j.totals.length
        ? table(j.totals, [
            ["total", (g) => esc(g.underlying)],
            ["value USD", (g) => cell(g.valueUsd, 2, "valueUsd")],
            ["value (coin)", (g) => cell(g.valueCoin, 5, "valueCoin")],
            ["Black delta (coin)", (g) => cell(g.deltaBlackCoin, 4, "deltaBlackCoin")],
            [
              "premium-adj. delta (coin)",
              (g) => cell(g.deltaPremiumAdjustedCoin, 4, "deltaPremiumAdjustedCoin"),
            ],
            ["cash delta USD", (g) => cell(g.cashDeltaUsd, 0, "cashDeltaUsd")],
            ["gamma USD / 1%", (g) => cell(g.cashGammaUsd, 0, "cashGammaUsd")],
            ["vega USD / vol pt", (g) => cell(g.vegaUsdPerVolPt, 2, "vegaUsdPerVolPt")],
            ["theta USD / day", (g) => cell(g.thetaUsdPerDay, 2, "thetaUsdPerDay")],
          ])
        : "";
      const be = j.breakevens.length ? j.breakevens.map((x) => num(x)).join(", ") : "none";
      $("b-summary").innerHTML = j.legs.length
        ? `<table><tbody>
          <tr><th>premium (USD, + paid)</th><td>${cell(j.premiumUsd, 2, "premiumUsd")}</td></tr>
          <tr><th>fees (USD)</th><td>${cell(j.feesUsd, 2, "feesUsd")}</td></tr>
          <tr><th>breakevens (${esc(j.curves.expiry.label)})</th><td data-k="breakevens" data-v="${j.breakevens.join(",")}">${be}</td></tr>
          <tr><th>max profit (USD)</th><td>${cell(j.maxProfitUsd, 2, "maxProfitUsd")}</td></tr>
          <tr><th>max loss (USD)</th><td>${cell(j.maxLossUsd, 2, "maxLossUsd")}</td></tr>
          <tr><th>P&amp;L at spot ${num(j.atSpot.spot)}: ${esc(j.curves.expiry.label)}</th><td id="b-at-expiry">${cell(j.atSpot.expiry, 2)}</td></tr>
          <tr><th>P&amp;L at spot ${num(j.atSpot.spot)}: T+0, vol ${esc(vol.value)} pts</th><td id="b-at-t0">${cell(j.atSpot.t0, 2)}</td></tr>
          <tr><th>P&amp;L at spot ${num(j.atSpot.spot)}: ${esc(j.curves.tn.label)}</th><td id="b-at-tn">${cell(j.atSpot.tn, 2)}</td></tr>
          ${j.curves.date ? `<tr><th>P&amp;L at spot ${num(j.atSpot.spot)}: ${esc(j.curves.date.label)}</th><td id="b-at-date">${cell(j.atSpot.date, 2)}</td></tr>` : ""}
          </tbody></table>`
        : "<p>(no legs)</p>";
      const m = j.margin;
      const liq = (x) => (x === null || x === undefined ? "none" : pct(x));
      const mrow = (name, f) =>
        `<tr><th>${name}</th><td>${m.before ? f(m.before, "before") : "n/a"}</td><td>${m.after ? f(m.after, "after") : "n/a"}</td></tr>`;
      $("b-margin").innerHTML =
        `<p class="note">Account: ${esc(m.account)}.${m.error ? ` <span class="na">${esc(m.error)}</span>` : ""}</p>` +
        (m.before || m.after
          ? `<table><thead><tr><th>USD</th><th>before</th><th>after</th></tr></thead><tbody>` +
            mrow("standard IM", (x, w) => cell(x.standardInitialUsd, 0, `stdIM-${w}`)) +
            mrow("standard MM", (x, w) => cell(x.standardMaintenanceUsd, 0, `stdMM-${w}`)) +
            mrow("portfolio IM", (x, w) => cell(x.portfolioInitialUsd, 0, `pmIM-${w}`)) +
            mrow("portfolio MM", (x, w) => cell(x.portfolioMaintenanceUsd, 0, `pmMM-${w}`)) +
            mrow("equity", (x, w) => cell(x.equityUsd, 0, `equity-${w}`)) +
            mrow("liquidation: spot down", (x) =>
              x.liquidation.alreadyBelowMaintenance
                ? "already below maintenance"
                : liq(x.liquidation.spotDown),
            ) +
            mrow("liquidation: spot up", (x) =>
              x.liquidation.alreadyBelowMaintenance ? "already below maintenance" : liq(x.liquidation.spotUp),
            ) +
            mrow("liquidation: vol up", (x) =>
              x.liquidation.alreadyBelowMaintenance
                ? "already below maintenance"
                : x.liquidation.volUp === null
                  ? "none"
                  : `+${num(100 * x.liquidation.volUp, 1)} pts`,
            ) +
            `</tbody></table><p class="note">As <code>volfolio margin</code> (web/bookMarket.ts bookMargin): Deribit standard and portfolio margin; distance to liquidation of the pooled account by full revaluation (sticky-strike).</p>`
          : "");
      const c = j.curves;
      const traces = [
        {
          name: c.expiry.label,
          x: j.spots,
          y: c.expiry.pnlUsd,
          mode: "lines",
          line: { color: "#1d2330", width: 2 },
          meta: "expiry",
        },
        {
          name: `T+0 (vol ${vol.value} pts)`,
          x: j.spots,
          y: c.t0.pnlUsd,
          mode: "lines",
          line: { color: "#1f77b4" },
          meta: "t0",
        },
        {
          name: c.tn.label,
          x: j.spots,
          y: c.tn.pnlUsd,
          mode: "lines",
          line: { color: "#ff7f0e", dash: "dash" },
          meta: "tn",
        },
      ];
      if (c.date)
        traces.push({
          name: c.date.label,
          x: j.spots,
          y: c.date.pnlUsd,
          mode: "lines",
          line: { color: "#2ca02c", dash: "dot" },
          meta: "date",
        });
      Plotly.react(
        "b-payoff",
        traces,
        layout({
          xaxis: { title: { text: `${j.underlying} spot, USD (index ${num(j.indexUsd)})` } },
          yaxis: { title: { text: "P&L, USD" }, zeroline: true },
          shapes: [
            {
              type: "line",
              x0: j.atSpot.spot,
              x1: j.atSpot.spot,
              yref: "paper",
              y0: 0,
              y1: 1,
              line: { color: "#b42318", dash: "dot" },
            },
          ],
          legend: { orientation: "h", x: 0, y: -0.2 },
          margin: { l: 70, r: 20, t: 10, b: 80 },
        }),
        cfg,
      );
      $("b-notes").innerHTML = j.notes.map((n) => `<p class="note">${esc(n)}</p>`).join("");
    }
    await evaluate(true);
  }

  function historyTab(r) {
    const h = r.history;
    if (!h)
      return na(r, "history", ["h-source", "h-atm", "h-skew", "h-index", "h-cone", "h-delta", "h-smiles"]);
    $("h-source").textContent = `${h.source}${h.skipped.length ? `; ${h.skipped.length} files skipped` : ""}`;
    const dates = h.days.map((d) => d.date);
    Plotly.newPlot(
      "h-atm",
      h.tenors.map((t, i) => ({
        name: `${t}d`,
        x: dates,
        y: h.days.map((d) => d.atm[t]),
        mode: "lines+markers",
        marker: { size: 3 },
        line: { color: PALETTE[i % PALETTE.length] },
        meta: `atm${t}`,
      })),
      layout({ yaxis: { tickformat: ".0%", title: { text: "ATM vol" } } }),
      cfg,
    );
    const st = $("h-skew-tenor");
    st.innerHTML = h.tenors.map((t) => `<option value="${t}">${t} days</option>`).join("");
    st.value = h.tenors.includes(30) ? "30" : String(h.tenors[0]);
    const skew = () => {
      const t = st.value;
      Plotly.react(
        "h-skew",
        [
          {
            name: `RR25 ${t}d`,
            x: dates,
            y: h.days.map((d) => d.rr25[t]),
            mode: "lines+markers",
            marker: { size: 3 },
            meta: "rr25",
          },
          {
            name: `BF25 ${t}d`,
            x: dates,
            y: h.days.map((d) => d.bf25[t]),
            mode: "lines+markers",
            marker: { size: 3 },
            meta: "bf25",
          },
        ],
        layout({ yaxis: { tickformat: ".1%", title: { text: "vol" } } }),
        cfg,
      );
    };
    st.onchange = skew;
    skew();
    const vi = h.volIndex;
    Plotly.newPlot(
      "h-index",
      [
        {
          name: "vol index (project, DVOL method)",
          x: vi.map((d) => d.date),
          y: vi.map((d) => d.index),
          mode: "lines+markers",
          marker: { size: 3 },
          meta: "index",
        },
        {
          name: "realized vol 30d",
          x: vi.map((d) => d.date),
          y: vi.map((d) => d.realizedVol30),
          mode: "lines",
          meta: "rv30",
        },
        ...(h.dvolSource
          ? [
              {
                name: "Deribit DVOL",
                x: vi.map((d) => d.date),
                y: vi.map((d) => d.dvol),
                mode: "lines",
                line: { dash: "dot" },
                meta: "dvol",
              },
            ]
          : []),
      ],
      layout({
        yaxis: { title: { text: "vol points" } },
        legend: { orientation: "h", x: 0, y: -0.2 },
        margin: { l: 60, r: 20, t: 10, b: 80 },
      }),
      cfg,
    );
    if (h.cone) {
      const c = h.cone.rows;
      const x = c.map((q) => q.days);
      const band = (k, name, color) => ({
        name,
        x,
        y: c.map((q) => q[k]),
        mode: "lines",
        line: { color, dash: k === "p50" ? "solid" : "dot" },
        meta: k,
      });
      Plotly.newPlot(
        "h-cone",
        [
          band("p90", "90th pct", "#b42318"),
          band("p75", "75th pct", "#ff7f0e"),
          band("p50", "median", "#1d2330"),
          band("p25", "25th pct", "#2ca02c"),
          band("p10", "10th pct", "#1f77b4"),
          {
            name: "realized now",
            x,
            y: c.map((q) => q.latest),
            mode: "markers",
            marker: { symbol: "x", size: 9, color: "#7f7f7f" },
            meta: "latest",
          },
          {
            name: `implied ATM ${dates.at(-1)}`,
            x,
            y: c.map((q) => q.impliedAtm),
            mode: "lines+markers",
            line: { color: "#9467bd", width: 3 },
            meta: "implied",
          },
        ],
        layout({
          xaxis: {
            title: { text: `horizon, days (realized: ${h.cone.source}, ${h.cone.from} to ${h.cone.to})` },
          },
          yaxis: { tickformat: ".0%" },
        }),
        cfg,
      );
    } else
      $("h-cone").innerHTML = '<p class="na">not available: no daily price history of this underlying</p>';
    const sel = $("h-date");
    sel.innerHTML = dates.map((d, i) => `<option value="${i}">${d}</option>`).join("");
    sel.value = String(dates.length - 1);
    const day = () => {
      const d = h.days[Number(sel.value)];
      if (!d.surface.length) {
        $("h-delta").innerHTML = `<p class="na">not available: ${esc(d.error || "no surface that day")}</p>`;
        return;
      }
      Plotly.react(
        "h-delta",
        d.surface.map((e, i) => ({
          name: `${e.expiry.slice(0, 10)} (${num(e.days, 0)}d)`,
          x: h.deltaLabels,
          y: e.deltaVols,
          mode: "lines+markers",
          line: { color: PALETTE[i % PALETTE.length] },
          meta: e.expiry,
        })),
        layout({
          xaxis: { title: { text: "forward delta (puts left, calls right)" } },
          yaxis: { tickformat: ".0%" },
        }),
        cfg,
      );
      Plotly.react(
        "h-smiles",
        d.surface.map((e, i) => ({
          name: e.expiry.slice(0, 10),
          x: e.fit.map((p) => p.k),
          y: e.fit.map((p) => p.vol),
          mode: "lines",
          line: { color: PALETTE[i % PALETTE.length] },
          meta: e.expiry,
        })),
        layout({ xaxis: { title: { text: "log-moneyness k" } }, yaxis: { tickformat: ".0%" } }),
        cfg,
      );
    };
    sel.onchange = day;
    day();
  }

  function tabs() {
    for (const b of document.querySelectorAll("nav button"))
      b.addEventListener("click", () => {
        for (const x of document.querySelectorAll("nav button")) x.classList.toggle("active", x === b);
        for (const s of document.querySelectorAll("section.tab"))
          s.classList.toggle("active", s.id === `tab-${b.dataset.tab}`);
        for (const p of document.querySelectorAll(`#tab-${b.dataset.tab} .js-plotly-plot`))
          Plotly.Plots.resize(p);
      });
  }

  async function main() {
    tabs();
    const token = new URLSearchParams(location.search).get("token");
    const qs = token ? `?token=${encodeURIComponent(token)}` : "";
    const r = window.VOLFOLIO_REPORT || (await (await fetch(`/api/report${qs}`)).json());
    window.volfolioReport = r;
    $("meta").textContent = `${r.source} | valuation ${r.valuationTime} | seed ${r.seed}`;
    for (const f of [surface, risk, optimizer, backtest, regime, historyTab]) {
      try {
        f(r);
      } catch (e) {
        console.error(`${f.name}: ${e.message}`);
      }
    }
    await builderTab(qs).catch((e) => {
      $("builder").innerHTML = `<p class="na">not available: ${esc(e.message)}</p>`;
    });
    await agent(r, qs);
    window.volfolioReady = true;
  }
  main();
})();
