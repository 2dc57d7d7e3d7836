// A small rolling-window line plot on <canvas>: no library, no build step. The x axis is the control
// tick (so decimated or late frames land where they belong), shown as seconds before the newest tick.
// A NaN value breaks a line (e.g. no policy ran on that tick). Drawing happens only when asked (the app
// batches it per animation frame), so a burst of frames costs one redraw.

export class Plot {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {object} o
   * @param {{label: string, color: string}[]} o.series
   * @param {HTMLElement} [o.legend] where the series names and their newest values are written
   * @param {boolean} [o.stacked] draw the series as stacked areas (their sum is the top line)
   * @param {boolean} [o.zero] keep 0 inside the y range
   * @param {string} [o.unit] shown after the newest values in the legend
   * @param {number} [o.digits] decimals of the legend values
   */
  constructor(canvas, o) {
    this.canvas = canvas;
    this.series = o.series;
    this.legend = o.legend ?? null;
    this.stacked = o.stacked ?? false;
    this.zero = o.zero ?? false;
    this.unit = o.unit ?? "";
    this.digits = o.digits ?? 3;
    this.windowTicks = 500;
    this.rateHz = 50;
    this.frames = 0;
    /** per series: parallel arrays of ticks and values */
    this.data = this.series.map(() => ({ x: [], y: [] }));
    this.buildLegend();
  }

  /** Set the visible window in seconds and the control rate (ticks per second). */
  setWindow(seconds, rateHz) {
    this.rateHz = rateHz;
    this.windowTicks = Math.max(10, Math.round(seconds * rateHz));
  }

  /** Add one sample per series at control tick x; undefined skips a series, NaN breaks its line. */
  add(x, values) {
    values.forEach((v, i) => {
      if (v === undefined) return;
      const d = this.data[i];
      // A tick older than the newest one means a new node (a restart): start over.
      if (d.x.length && x < d.x[d.x.length - 1]) this.clear();
      d.x.push(x);
      d.y.push(v);
    });
    this.frames++;
    this.canvas.dataset.frames = String(this.frames);
  }

  clear() {
    for (const d of this.data) {
      d.x.length = 0;
      d.y.length = 0;
    }
  }

  newestTick() {
    let t = -Infinity;
    for (const d of this.data) if (d.x.length) t = Math.max(t, d.x[d.x.length - 1]);
    return t;
  }

  /** Drop samples that have left the window (amortised: trims in chunks, not per sample). */
  trim(from) {
    for (const d of this.data) {
      let n = 0;
      while (n < d.x.length && d.x[n] < from) n++;
      if (n > 64 || n === d.x.length) {
        d.x.splice(0, n);
        d.y.splice(0, n);
      }
    }
  }

  /** Values to draw: as given, or cumulative sums for a stacked plot (series pushed together). */
  drawn() {
    if (!this.stacked) return this.data;
    const out = [];
    let below = null;
    for (const d of this.data) {
      const y = below ? d.y.map((v, i) => (Number.isFinite(v) ? v : 0) + (below.y[i] ?? 0)) : d.y.map((v) => (Number.isFinite(v) ? v : 0));
      below = { x: d.x, y };
      out.push(below);
    }
    return out;
  }

  draw() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (w === 0 || h === 0) return;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);

    const newest = this.newestTick();
    const x1 = Number.isFinite(newest) ? newest : 0;
    const x0 = x1 - this.windowTicks;
    this.trim(x0);
    const lines = this.drawn();

    // y range over the visible samples
    let lo = this.zero ? 0 : Infinity;
    let hi = this.zero ? 0 : -Infinity;
    for (const d of lines) {
      for (let i = 0; i < d.y.length; i++) {
        if (d.x[i] < x0 || !Number.isFinite(d.y[i])) continue;
        lo = Math.min(lo, d.y[i]);
        hi = Math.max(hi, d.y[i]);
      }
    }
    if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
    if (hi - lo < 1e-9) [lo, hi] = [lo - 0.5, hi + 0.5];
    const pad = (hi - lo) * 0.08;
    if (!(this.zero && lo === 0)) lo -= pad;
    hi += pad;

    const left = 52;
    const right = 8;
    const top = 6;
    const bottom = 18;
    const pw = w - left - right;
    const ph = h - top - bottom;
    const px = (x) => left + ((x - x0) / (x1 - x0)) * pw;
    const py = (y) => top + (1 - (y - lo) / (hi - lo)) * ph;

    // grid and labels
    const style = getComputedStyle(c);
    g.font = "11px system-ui, sans-serif";
    g.strokeStyle = style.getPropertyValue("--grid").trim() || "#ddd";
    g.fillStyle = style.getPropertyValue("--axis").trim() || "#666";
    g.lineWidth = 1;
    g.textBaseline = "middle";
    g.textAlign = "right";
    for (let k = 0; k <= 4; k++) {
      const v = lo + ((hi - lo) * k) / 4;
      const y = Math.round(py(v)) + 0.5;
      g.beginPath();
      g.moveTo(left, y);
      g.lineTo(w - right, y);
      g.stroke();
      g.fillText(formatTick(v, hi - lo), left - 4, y);
    }
    g.textAlign = "center";
    g.textBaseline = "top";
    const seconds = this.windowTicks / this.rateHz;
    const step = seconds > 20 ? 10 : seconds > 8 ? 2 : 1;
    for (let s = 0; s <= seconds; s += step) {
      const x = Math.round(px(x1 - s * this.rateHz)) + 0.5;
      g.beginPath();
      g.moveTo(x, top);
      g.lineTo(x, top + ph);
      g.stroke();
      // the end labels align inwards, so they neither leave the canvas nor meet the y labels
      g.textAlign = s === 0 ? "right" : s + step > seconds ? "left" : "center";
      g.fillText(s === 0 ? "now" : `−${s} s`, x, top + ph + 3);
    }

    // series: stacked areas from the top down (so each band shows), else lines
    g.save();
    g.beginPath();
    g.rect(left, top, pw, ph);
    g.clip();
    const order = this.stacked ? [...lines.keys()].reverse() : [...lines.keys()];
    for (const i of order) {
      const d = lines[i];
      g.strokeStyle = this.series[i].color;
      g.lineWidth = 1.5;
      if (this.stacked) {
        g.fillStyle = this.series[i].color;
        g.beginPath();
        g.moveTo(px(d.x[0] ?? x1), py(Math.max(lo, 0)));
        for (let k = 0; k < d.x.length; k++) g.lineTo(px(d.x[k]), py(d.y[k]));
        g.lineTo(px(d.x[d.x.length - 1] ?? x1), py(Math.max(lo, 0)));
        g.closePath();
        g.fill();
        continue;
      }
      g.beginPath();
      let pen = false;
      for (let k = 0; k < d.x.length; k++) {
        const v = d.y[k];
        if (!Number.isFinite(v)) {
          pen = false;
          continue;
        }
        if (pen) g.lineTo(px(d.x[k]), py(v));
        else g.moveTo(px(d.x[k]), py(v));
        pen = true;
      }
      g.stroke();
    }
    g.restore();
    this.updateLegend();
  }

  buildLegend() {
    if (!this.legend) return;
    this.legend.replaceChildren();
    this.values = this.series.map((s) => {
      const item = document.createElement("span");
      item.className = "legend-item";
      const swatch = document.createElement("i");
      swatch.style.background = s.color;
      const value = document.createElement("b");
      item.append(swatch, `${s.label} `, value);
      this.legend.append(item);
      return value;
    });
  }

  updateLegend() {
    if (!this.legend) return;
    this.data.forEach((d, i) => {
      const v = d.y[d.y.length - 1];
      this.values[i].textContent = Number.isFinite(v) ? `${v.toFixed(this.digits)}${this.unit}` : "—";
    });
  }
}

/** Axis label with as many decimals as the visible range needs. */
function formatTick(v, range) {
  const digits = range >= 40 ? 0 : range >= 4 ? 1 : range >= 0.4 ? 2 : 3;
  return v.toFixed(digits);
}
