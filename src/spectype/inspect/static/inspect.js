// spectype inspect page: keyboard-first stepping through a classify result table.
// State lives in window.inspect so tests (and curious users) can read it from the console.
"use strict";

const S = window.inspect = {
  info: null, pos: 0, row: null, ready: false, busy: false,
  linesOn: {}, showTemplates: true, matchSlope: false, showBad: true, lastError: null, seq: 0,
};
const $ = (id) => document.getElementById(id);
const ROLE_STYLE = {
  pred: { color: "#d62728", width: 1.6, dash: "solid" },
  lower: { color: "#2ca02c", width: 1.0, dash: "dot" },
  upper: { color: "#9467bd", width: 1.0, dash: "dot" },
  runner_up: { color: "#ff7f0e", width: 1.2, dash: "dash" },
};
const ROLE_LABEL = { pred: "template", lower: "−1 subtype", upper: "+1 subtype", runner_up: "runner-up" };

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const r = await fetch(path, opts);
  const data = await r.json();
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}

function say(text, isError) {
  $("message").textContent = text || "";
  $("message").style.color = isError ? "#b71c1c" : "#555";
  S.lastError = isError ? text : null;
}

function fmt(v, digits) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(digits ?? 2);
  return String(v);
}

function subtypeText(v) { return v === null || v === undefined ? "" : String(+v); }

// ------------------------------------------------------------------ session and view

async function loadInfo() {
  S.info = await api("/api/info");
  const cls = $("cls"), flag = $("flag");
  if (cls.options.length === 1) {
    for (const c of S.info.classes) cls.add(new Option(c, c));
    for (const f of S.info.flags) flag.add(new Option(f, f));
    buildLineToggles();
  }
  const v = S.info.view;
  $("order").value = v.order; cls.value = v.cls || ""; flag.value = v.flag || "";
  $("disagree").checked = !!v.disagree; $("sample").value = v.sample ?? ""; $("seed").value = v.seed;
  updateProgress(S.info.n_vetted);
}

function updateProgress(nVetted) {
  if (S.info) S.info.n_vetted = nVetted;
  $("progress").textContent = `${nVetted} vetted of ${S.info.n_rows} · sidecar ${S.info.sidecar.split("/").pop()}`;
}

async function applyView() {
  try {
    S.info = await api("/api/view", {
      order: $("order").value, cls: $("cls").value, flag: $("flag").value,
      disagree: $("disagree").checked, sample: $("sample").value, seed: $("seed").value || 0,
    });
  } catch (e) { say(e.message, true); return; }
  document.activeElement.blur();
  if (S.info.n_view === 0) { say("no rows match this view", true); return; }
  await show(S.info.start);
}

// ------------------------------------------------------------------ drawing

function buildLineToggles() {
  const box = $("linegroups");
  for (const g of S.info.lines) {
    S.linesOn[g.key] = g.default_on;
    const lab = document.createElement("label");
    lab.innerHTML = `<input type="checkbox" data-group="${g.key}"><span class="swatch" style="background:${g.color}"></span>${g.label}`;
    const cb = lab.querySelector("input");
    cb.checked = g.default_on;
    cb.addEventListener("change", () => { S.linesOn[g.key] = cb.checked; cb.blur(); redrawShapes(); });
    box.appendChild(lab);
  }
}

function syncLineBoxes() {
  for (const cb of document.querySelectorAll("#linegroups input")) cb.checked = !!S.linesOn[cb.dataset.group];
}

// Groups that matter for a class go on when a row of that class is shown (TiO/CaH for M, C2
// for carbon); the user's own toggles are left alone otherwise.
function autoGroups(cls) {
  if (cls === "M") { S.linesOn.tio = true; S.linesOn.cah = true; }
  if (cls === "C") { S.linesOn.c2 = true; }
  syncLineBoxes();
}

function markerShapes() {
  const shapes = [], notes = [];
  if (!S.row || !S.row.spectrum) return { shapes, notes };
  const w = S.row.spectrum.wave.filter((x) => x !== null);
  const lo = w[0], hi = w[w.length - 1];
  for (const g of S.info.lines) {
    if (!S.linesOn[g.key]) continue;
    for (const l of g.lines) {
      if (l.wave < lo || l.wave > hi) continue;
      shapes.push({ type: "line", xref: "x", yref: "paper", x0: l.wave, x1: l.wave, y0: 0, y1: 1,
        line: { color: g.color, width: 1, dash: "dot" }, name: `line:${g.key}:${l.name}` });
      notes.push({ x: l.wave, y: 1.0, xref: "x", yref: "paper", text: l.name, showarrow: false,
        textangle: -90, xanchor: "right", yanchor: "top", font: { size: 10, color: g.color },
        name: `line:${g.key}:${l.name}` });
    }
    for (const b of g.bands) {
      if (b.end < lo || b.start > hi) continue;
      shapes.push({ type: "rect", xref: "x", yref: "paper", x0: b.start, x1: b.end, y0: 0.93, y1: 1,
        fillcolor: g.color, opacity: 0.35, line: { width: 0 }, name: `band:${g.key}:${b.name}` });
      notes.push({ x: b.start, y: 0.92, xref: "x", yref: "paper", text: b.name, showarrow: false,
        xanchor: "left", yanchor: "top", font: { size: 9, color: g.color }, name: `band:${g.key}:${b.name}` });
    }
  }
  return { shapes, notes };
}

function badShapes() {
  if (!S.showBad || !S.row || !S.row.spectrum) return [];
  return S.row.spectrum.bad.map(([a, b]) => ({ type: "rect", xref: "x", yref: "paper", x0: a, x1: b,
    y0: 0, y1: 1, fillcolor: "#9e9e9e", opacity: 0.25, line: { width: 0 }, layer: "below", name: "bad" }));
}

function redrawShapes() {
  const m = markerShapes();
  Plotly.relayout($("plot"), { shapes: badShapes().concat(m.shapes), annotations: m.notes });
}

function plotRow(row) {
  const sp = row.spectrum;
  const f = row.fields;
  // Templates first, the spectrum last: drawn on top, but listed first in the legend.
  const traces = [];
  const spectrum = { x: sp.wave, y: sp.flux, type: "scatter", mode: "lines", name: "spectrum", legendrank: 1,
    line: { color: "#212121", width: 1 }, hovertemplate: "%{x:.1f} Å<br>%{y:.4g}<extra></extra>" };
  // The predicted type's template goes on top of its neighbours.
  const temps = row.templates.filter((t) => t.role !== "pred").concat(row.templates.filter((t) => t.role === "pred"));
  for (const t of temps) {
    const st = ROLE_STYLE[t.role];
    traces.push({ x: sp.wave, y: S.matchSlope ? t.flux_matched : t.flux, type: "scatter", mode: "lines",
      name: `${t.name} (${ROLE_LABEL[t.role]})`, meta: { role: t.role, file: t.file },
      line: { color: st.color, width: st.width, dash: st.dash }, opacity: 0.8, legendrank: 2,
      visible: S.showTemplates ? true : "legendonly",
      hovertemplate: `${t.name}: %{y:.4g}<extra></extra>` });
  }
  traces.push(spectrum);
  const m = markerShapes();
  const frame = sp.rest_frame ? `rest-frame (v = ${sp.velocity_kms.toFixed(1)} km/s)` : "observed-frame";
  const layout = {
    uirevision: `${row.path}#${row.index}`,
    margin: { l: 60, r: 20, t: 30, b: 45 },
    xaxis: { title: { text: `${frame} vacuum wavelength (Å)` } },
    yaxis: { title: { text: "flux" }, range: sp.yrange },
    legend: { orientation: "h", y: 1.08, x: 0 },
    shapes: badShapes().concat(m.shapes), annotations: m.notes,
    hovermode: "x",
  };
  Plotly.react($("plot"), traces, layout, { responsive: true, displaylogo: false });
  $("frame-note").textContent = `${frame}, vacuum Å` + (sp.medium_in_file === "air" ? " (file in air, converted)" : "") +
    ` · ${sp.n_bad} bad pixels shaded`;
}

function clearPlot(message) {
  $("frame-note").textContent = "";
  Plotly.react($("plot"), [], { annotations: [{ text: message, xref: "paper", yref: "paper", x: 0.5, y: 0.5,
    showarrow: false, font: { size: 16, color: "#b71c1c" } }], xaxis: { visible: false }, yaxis: { visible: false } },
    { displaylogo: false });
}

function renderFacts(row) {
  const f = row.fields;
  // pred_subtype may be a number (2.0) or a type string ('G2'); pred_code is 10 * class + subtype.
  const sub = f.pred_subtype ?? (typeof f.pred_code === "number" ? +(f.pred_code % 10).toFixed(1) : null);
  let pred = f.pred_class || "no prediction";
  if (f.pred_class && typeof sub === "number") pred += subtypeText(sub);
  else if (f.pred_class && sub) pred = String(sub).startsWith(f.pred_class) ? String(sub) : pred + String(sub);
  $("prediction").textContent = `${pred}` + (f.pred_prob != null ? `  ${(100 * f.pred_prob).toFixed(1)}%` : "");
  const bits = [];
  if (f.runner_up) bits.push(`runner-up <b>${f.runner_up}</b> ${f.runner_up_prob != null ? (100 * f.runner_up_prob).toFixed(1) + "%" : ""}`);
  const hdr = [f.header_class, f.header_subclass].filter((x) => x).join(" ");
  if (hdr) bits.push(`header <b>${hdr}</b>` + (row.disagree ? ` <span class="disagree">disagrees</span>` : ""));
  if (f.snr != null) bits.push(`SNR ${fmt(f.snr, 1)}`);
  for (const k of ["obsid", "id", "ra", "dec", "z", "model"]) if (f[k] != null && f[k] !== "") bits.push(`${k} ${fmt(f[k], 5)}`);
  const flags = Object.keys(f).filter((k) => k.startsWith("flag_") && f[k] === true).map((k) => k.slice(5));
  bits.push(flags.length ? flags.map((x) => `<span class="flag">${x}</span>`).join("") : "no flags");
  bits.push(`<small>${row.path}${row.index ? " [" + row.index + "]" : ""}</small>`);
  $("details").innerHTML = bits.join(" · ");
  const errs = row.errors.slice();
  $("errors").hidden = errs.length === 0;
  $("errors").textContent = errs.join("\n");
  renderVetting(row.vetting);
  const tbl = $("fieldtable");
  tbl.innerHTML = "";
  for (const [k, v] of Object.entries(f)) {
    const tr = tbl.insertRow(); tr.insertCell().textContent = k; tr.insertCell().textContent = fmt(v, 4);
  }
}

function renderVetting(v) {
  const el = $("vetting");
  el.className = "vetting";
  if (!v || Object.keys(v).length === 0) { el.textContent = "not vetted"; return; }
  const parts = [];
  if (v.user_class) parts.push(`user: ${v.user_class}${subtypeText(v.user_subtype)}`);
  if (v.user_flag) parts.push(v.user_flag.replace(/_/g, " "));
  if (v.user_note) parts.push(`note: “${v.user_note}”`);
  el.textContent = parts.join(" · ") || "vetted";
  el.classList.add(v.user_flag ? "flagged" : "done");
}

async function show(pos) {
  if (!S.info || S.info.n_view === 0) return;
  pos = Math.max(0, Math.min(S.info.n_view - 1, pos));
  const seq = ++S.seq;
  S.ready = false;
  let row;
  try { row = await api(`/api/row/${pos}`); } catch (e) { say(e.message, true); return; }
  if (seq !== S.seq) return;  // a later key press already asked for another row
  S.pos = pos; S.row = row;
  $("position").textContent = `row ${pos + 1} / ${row.n_view}` + (row.n_view !== S.info.n_rows ? ` (table row ${row.row + 1})` : "");
  history.replaceState(null, "", `#${pos + 1}`);
  renderFacts(row);
  if (row.spectrum) {
    autoGroups(row.vetting && row.vetting.user_class ? row.vetting.user_class : row.fields.pred_class);
    plotRow(row);
  } else {
    clearPlot(row.errors.join("\n") || "no spectrum");
  }
  say(row.template_note || "");
  S.ready = true;
}

// ------------------------------------------------------------------ actions

async function vet(action, value, advance) {
  if (!S.row) return;
  try {
    const r = await api("/api/vet", { pos: S.pos, action, value });
    S.row.vetting = r.vetting;
    renderVetting(r.vetting);
    updateProgress(r.n_vetted);
    say(`saved: ${action}${value !== undefined ? " " + value : ""}`);
  } catch (e) { say(e.message, true); return; }
  if (advance && S.pos + 1 < S.info.n_view) await show(S.pos + 1);
  else if (action === "class" || action === "subtype" || action === "clear") await show(S.pos);
}

function openNote() {
  $("noteform").hidden = false;
  $("note").value = (S.row && S.row.vetting && S.row.vetting.user_note) || "";
  $("note").focus();
}

$("noteform").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("note").value;
  $("noteform").hidden = true; $("note").blur();
  enqueue(() => vet("note", text, false));
});
$("note").addEventListener("keydown", (ev) => {
  if (ev.key === "Escape") { $("noteform").hidden = true; $("note").blur(); ev.stopPropagation(); }
});
$("viewform").addEventListener("submit", (ev) => { ev.preventDefault(); enqueue(() => applyView()); });
$("show-templates").addEventListener("change", (ev) => { S.showTemplates = ev.target.checked; ev.target.blur(); if (S.row && S.row.spectrum) plotRow(S.row); });
$("match-slope").addEventListener("change", (ev) => { S.matchSlope = ev.target.checked; ev.target.blur(); if (S.row && S.row.spectrum) plotRow(S.row); });
$("show-bad").addEventListener("change", (ev) => { S.showBad = ev.target.checked; ev.target.blur(); if (S.row && S.row.spectrum) redrawShapes(); });

const CLASS_KEYS = new Set(["O", "B", "A", "F", "G", "K", "M", "C"]);

// Key actions run one after another (a queue), so fast typing never applies a key to a row
// the page has already left, and `S.pending` lets tests wait until the page is idle.
S.queue = Promise.resolve();
S.pending = 0;
function enqueue(fn) {
  S.pending += 1;
  S.queue = S.queue.then(fn).catch((e) => say(e.message, true)).finally(() => { S.pending -= 1; });
}

function keyAction(ev) {
  const k = ev.key;
  if (k === "n" || k === "ArrowRight") return () => show(S.pos + 1);
  if (k === "p" || k === "ArrowLeft") return () => show(S.pos - 1);
  if (k === "a") return () => vet("accept", undefined, true);
  if (ev.shiftKey && CLASS_KEYS.has(k)) return () => vet("class", k, false);
  if (/^[0-9]$/.test(k)) return () => vet("subtype", Number(k), false);
  if (k === "x") return () => vet("flag", "not_a_star", true);
  if (k === "b") return () => vet("flag", "bad_spectrum", true);
  if (k === "/" || k === "Enter") return async () => openNote();
  if (k === "u") return () => vet("clear", undefined, false);
  if (k === "r") return async () => { const i = await api("/api/info"); await show(i.start); };
  if (k === "l") return async () => {
    const anyOn = Object.values(S.linesOn).some((v) => v);
    for (const g of S.info.lines) S.linesOn[g.key] = !anyOn;
    syncLineBoxes(); redrawShapes();
  };
  if (k === "t") return async () => { $("show-templates").click(); };
  if (k === "m") return async () => { $("match-slope").click(); };
  return null;
}

document.addEventListener("keydown", (ev) => {
  const t = ev.target;
  if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const fn = keyAction(ev);
  if (!fn) return;
  ev.preventDefault();
  enqueue(fn);
});

enqueue(async () => {
  try {
    await loadInfo();
    if (S.info.n_view === 0) { say("no rows match this view", true); return; }
    const fromHash = parseInt(location.hash.slice(1), 10);
    await show(Number.isFinite(fromHash) && fromHash > 0 ? fromHash - 1 : S.info.start);
  } catch (e) { say(`could not load the session: ${e.message}`, true); }
});
