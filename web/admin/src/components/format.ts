// Numbers, sizes and times as people read them.

export function formatBytes(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

// toLocaleString with options builds a new Intl formatter on every call. In
// headless Chromium on a 2-core machine busy rendering videos, that took
// about 1 ms per call, 60 ms for the 60 cards of the Assets grid, so one
// formatter of each kind is shared.
const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const countFormat = new Intl.NumberFormat("en-US");

export function formatTime(ms: number): string {
  if (!ms) {
    return "—";
  }
  return timeFormat.format(ms);
}

export function formatCount(value: number): string {
  return countFormat.format(value);
}
