// How the dashboard writes its figures: any value may be null (shown as "—"), rates are ratios (1 = 100%).
import { formatAmount } from "../common/bot.js";
import { getLang, t } from "../common/i18n.js";

export const DASH = "—";

export function isNumber(v) {
  return v !== null && v !== undefined && v !== "" && Number.isFinite(Number(v));
}

function decimal(v, places) {
  return Number(v).toLocaleString(getLang(), { maximumFractionDigits: places });
}

export function count(v) {
  return isNumber(v) ? decimal(v, 0) : DASH;
}

// Pending per agent and other small ratios: 0.75, 1, 2.33.
export function ratio(v) {
  return isNumber(v) ? decimal(v, 2) : DASH;
}

// A rate as a percentage, shown as it is even above 100% (transfers may outnumber consults).
export function percent(v) {
  return isNumber(v) ? `${decimal(Number(v) * 100, 1)}%` : DASH;
}

export function seconds(v) {
  return isNumber(v) ? t("m.unit.seconds", { n: decimal(v, 1) }) : DASH;
}

export function amount(cents) {
  return isNumber(cents) ? formatAmount(cents) : DASH;
}

// Each alertable figure and how it is written; the same names as the snapshot's keys and the thresholds'.
export const FORMATS = {
  receptions: count,
  guided_amount_cents: amount,
  guided_buyers: count,
  inquiring_buyers: count,
  conversion_rate: percent,
  avg_response_seconds: seconds,
  pending: count,
  pending_per_agent: ratio,
  online: count,
  suspended: count,
  bot_transfer_rate: percent,
};

export function formatFigure(figure, value) {
  return (FORMATS[figure] || ratio)(value);
}

// A clock time for "as of": with seconds, and with the date when it is not today.
export function clock(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return DASH;
  const sameDay = d.toDateString() === new Date().toDateString();
  const opts = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
  if (!sameDay) Object.assign(opts, { month: "2-digit", day: "2-digit" });
  return d.toLocaleString(getLang(), opts);
}
