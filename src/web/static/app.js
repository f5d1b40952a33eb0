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
    if (!s) return na(r, "surface", ["surface3d", "smiles", "term", "richcheap"]);
    const labels = s.expiries.map((e) => e.expiry.slice(0, 10));
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
        },
      ],
      layout({
        scene: {
          xaxis: { title: { text: "k = ln(K/F)" } },
          yaxis: { title: { text: "T (years)" } },
          zaxis: { title: { text: "vol" }, tickformat: ".0%" },
        },
      }),
      cfg,
    );
    const smiles = [];
    s.expiries.forEach((e, i) => {
      const vis = i < 4 ? true : "legendonly";
      const color = PALETTE[i % PALETTE.length];
      smiles.push({
        name: `${labels[i]} bid`,
        x: e.points.map((p) => p.k),
        y: e.points.map((p) => p.bidVol),
        mode: "markers",
        marker: { symbol: "triangle-up", size: 6, color },
        legendgroup: labels[i],
        visible: vis,
        meta: "bid",
      });
      smiles.push({
        name: `${labels[i]} ask`,
        x: e.points.map((p) => p.k),
        y: e.points.map((p) => p.askVol),
        mode: "markers",
        marker: { symbol: "triangle-down", size: 6, color },
        legendgroup: labels[i],
        visible: vis,
        meta: "ask",
      });
      smiles.push({
        name: `${labels[i]} fit`,
        x: e.fit.map((p) => p.k),
        y: e.fit.map((p) => p.vol),
        mode: "lines",
        line: { color },
        legendgroup: labels[i],
        visible: vis,
        meta: "fit",
      });
    });
    Plotly.newPlot(
      "smiles",
      smiles,
      layout({
        xaxis: { title: { text: "log-moneyness k" } },
        yaxis: { title: { text: "implied vol" }, tickformat: ".0%" },
      }),
      cfg,
    );
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
    $("richcheap").innerHTML = table(s.richCheap, [
      ["instrument", (x) => esc(x.name)],
      ["quote vol", (x) => pct(x.targetVol)],
      ["fit vol", (x) => pct(x.fittedVol)],
      ["diff (vol pts)", (x) => signed(x.volDiffPts, 2)],
      ["signal", (x) => esc(x.signal)],
    ]);
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
    if (!b) return na(r, "backtest", ["equity", "drawdown", "attribution", "metrics"]);
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
          title: { text: `${v.underlying} 30-day index ${v.index.toFixed(2)}`, font: { size: 12 } },
          margin: { l: 60, r: 20, t: 30, b: 45 },
        }),
        cfg,
      );
    } else na(r, "volIndex", ["volindex"]);
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
    for (const f of [surface, risk, optimizer, backtest, regime]) {
      try {
        f(r);
      } catch (e) {
        console.error(`${f.name}: ${e.message}`);
      }
    }
    await agent(r, qs);
    window.volfolioReady = true;
  }
  main();
})();
