// Today's trend with Apache ECharts (vendored, window.echarts): receptions and pending on the left
// axis, the average response time in seconds on the right. Gaps (null) stay gaps.
import { el } from "../common/chat.js";
import { errorText, getLang, t } from "../common/i18n.js";

// Each snapshot may bring a new point; the trend is fetched again at most this often (a refresh forces it).
const RELOAD_MS = 60000;
const COLORS = ["#2f6bff", "#e08a00", "#12a150"];

function pad(n) {
  return String(n).padStart(2, "0");
}

const HOUR = 3600 * 1000;

function floorHour(ms) {
  const d = new Date(ms);
  d.setMinutes(0, 0, 0);
  return d.getTime();
}

function ceilHour(ms) {
  const floor = floorHour(ms);
  return floor === ms ? ms : floor + HOUR;
}

function hhmm(value) {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? "" : `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export class Trend {
  constructor({ api, host }) {
    Object.assign(this, { api, host });
    this.data = null;
    this.error = "";
    this.loadedAt = 0;
    this.request = 0;
    this.chart = null;
    this.canvas = el("div", { class: "mon-trend__canvas" });
    this.note = el("p", { class: "mon-trend__note", "data-testid": "trend-empty", hidden: true });
    this.host.replaceChildren(this.canvas, this.note);
    if ("ResizeObserver" in window) new ResizeObserver(() => this.chart?.resize()).observe(this.host);
    else window.addEventListener("resize", () => this.chart?.resize());
  }

  // force: the supervisor asked for fresh figures; otherwise at most once a minute.
  async load(force = false) {
    if (!force && Date.now() - this.loadedAt < RELOAD_MS) return;
    this.loadedAt = Date.now();
    const request = ++this.request;
    try {
      const data = await this.api.get("/monitor/trend");
      if (request !== this.request) return;
      this.data = data && Array.isArray(data.points) ? data : { day: data?.day, points: [] };
      this.error = "";
    } catch (e) {
      if (request !== this.request) return;
      this.error = errorText(e);
      this.loadedAt = 0;
    }
    this.render();
  }

  render() {
    const points = this.data?.points || [];
    this.host.dataset.points = String(points.length);
    const message = this.error || (!window.echarts ? t("m.trend.noChart") : !points.length && this.data ? t("m.trend.empty") : "");
    this.note.textContent = message;
    this.note.hidden = !message;
    this.note.classList.toggle("is-error", Boolean(this.error || !window.echarts));
    if (!window.echarts || !this.data) return;
    if (!this.chart) this.chart = window.echarts.init(this.canvas, null, { renderer: "canvas", locale: getLang() === "en" ? "EN" : "ZH" });
    const series = (name, key, extra = {}) => ({
      name,
      type: "line",
      showSymbol: points.length < 3,
      smooth: false,
      connectNulls: false,
      data: points.map((p) => [p.at, p[key] ?? null]),
      ...extra,
    });
    const receptions = t("m.f.receptions");
    const pending = t("m.f.pending");
    const response = t("m.f.avg_response_seconds");
    this.chart.setOption(
      {
        color: COLORS,
        animation: false,
        textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
        tooltip: {
          trigger: "axis",
          valueFormatter: (v) => (v === null || v === undefined || v === "-" ? "—" : String(Math.round(Number(v) * 10) / 10)),
        },
        legend: { top: 0, data: [receptions, pending, response] },
        grid: { left: 48, right: 56, top: 40, bottom: 28 },
        // Whole hours around the day's points (the store's day may not be the browser's).
        xAxis: {
          type: "time",
          min: (v) => floorHour(v.min),
          max: (v) => Math.max(ceilHour(v.max), floorHour(v.min) + HOUR),
          axisLabel: { formatter: (v) => hhmm(v), hideOverlap: true },
          splitLine: { show: false },
        },
        yAxis: [
          { type: "value", name: t("m.trend.people"), minInterval: 1, splitLine: { lineStyle: { color: "#eef1f7" } } },
          { type: "value", name: t("m.trend.seconds"), position: "right", splitLine: { show: false } },
        ],
        series: [
          series(receptions, "receptions", { areaStyle: { opacity: 0.08 } }),
          series(pending, "pending", { step: "end" }),
          series(response, "avg_response_seconds", { yAxisIndex: 1, lineStyle: { type: "dashed" } }),
        ],
      },
      { notMerge: true },
    );
  }

  // The chart's words follow the language; its locale (menus, dates) is fixed when it is made.
  relabel() {
    if (this.chart) {
      this.chart.dispose();
      this.chart = null;
    }
    this.render();
  }
}
