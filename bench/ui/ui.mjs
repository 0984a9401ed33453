#!/usr/bin/env node
// The admin UI's speed as a person feels it: headless Chromium clicks
// through the main pages while two workers render the Match Day batch, and
// the time from each click to the page's content is measured in the page.
// The same rounds run again once the batch is done, for comparison.
//
// Usage: bench/ui/ui.mjs [--rounds-idle N]   (after scripts/setup and scripts/build)
// The last line contains the figures as key=value pairs.
import { readFile, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";

import { chromium, chromiumOptions, startStack } from "../../tests/e2e/stack.mjs";

const repository = resolve(new URL("../..", import.meta.url).pathname);
const example = join(repository, "examples/matchday");
const idleRounds = Number(process.argv[process.argv.indexOf("--rounds-idle") + 1]) || 5;

// Each page of the round: the navigation link to click and the element that
// shows its content. A page is ready once that element is on screen and no
// loading indicator ("Loading…" in a status region) is left in the main area.
const pages = [
  { link: "Dashboard", ready: '[data-testid="dashboard-credits-available"]' },
  { link: "Campaigns", ready: '[data-testid="campaigns-list"]' },
  { link: "campaign", ready: '[data-testid="campaign-steps"]' },
  { link: "Templates", ready: '[data-testid="templates-list"]' },
  { link: "Brand kits", ready: '[data-testid="brandkit-list"]' },
  { link: "Assets", ready: '[data-testid="assets-grid"]' },
  { link: "Usage", ready: '[data-testid="usage-chart-videos"], [data-testid="empty-state"]' },
];

// A session of the API for setting up the tenant's content without the UI.
async function apiSession(url, email, password) {
  const signIn = await fetch(url + "/api/v1/session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!signIn.ok) {
    throw new Error(`sign-in failed: ${signIn.status} ${await signIn.text()}`);
  }
  const cookie = signIn.headers.getSetCookie().map((line) => line.split(";")[0]).join("; ");
  const { csrf_token: csrf } = await signIn.json();
  return async (method, path, body, contentType = "application/json", headers = {}) => {
    const response = await fetch(url + path, {
      method,
      headers: { Cookie: cookie, "X-CSRF-Token": csrf, "Content-Type": contentType, ...headers },
      body,
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${method} ${path}: ${response.status} ${text}`);
    }
    return text ? JSON.parse(text) : null;
  };
}

// Uploads the Match Day brand, template and fixtures as the UI would, and
// returns the campaign's id.
async function prepareMatchDay(call) {
  const upload = async (path, name) =>
    (await call("POST", `/api/v1/assets?name=${encodeURIComponent(name)}`, await readFile(path),
                "application/octet-stream")).id;
  const logo = await upload(join(example, "brand/logo.svg"), "logo.svg");
  const music = await upload(join(example, "brand/music.wav"), "music.wav");

  const index = JSON.parse(await readFile(join(example, "brand/crests/index.json"), "utf8"));
  const crests = {};
  const files = new Set(await readdir(join(example, "brand/crests")));
  for (const [name, file] of Object.entries(index)) {
    if (files.has(file)) {
      crests[name] = await upload(join(example, "brand/crests", file), file);
    }
  }

  const kit = await call("POST", "/api/v1/brand-kits", JSON.stringify({
    name: "Match Day",
    handle: "@demosports",
    colors: { primary: "#0B1D51", secondary: "#C8102E" },
    fonts: { display: { family: "Bebas Neue" }, body: { family: "Inter", weight: 400 } },
    logo_asset_id: logo,
    assets: { music },
    libraries: { crests },
  }));

  const body = JSON.parse(await readFile(join(example, "template.json"), "utf8"));
  const template = await call("POST", "/api/v1/templates",
                              JSON.stringify({ name: "Match Day", body }));
  const campaign = await call("POST", "/api/v1/campaigns", JSON.stringify({
    name: "Matchday 1",
    template_id: template.id,
    brand_kit_id: kit.id,
  }));
  await call("PUT", `/api/v1/campaigns/${campaign.id}/rows`,
             await readFile(join(example, "fixtures.csv")), "text/csv");
  return campaign.id;
}

// Clicks LINK and resolves with the milliseconds from the click event to the
// first animation frame that shows READY with no loader in the main area.
async function timedClick(page, link, ready) {
  await page.evaluate(() => {
    window.benchClickAt = null;
    document.addEventListener("click", () => (window.benchClickAt = performance.now()), {
      capture: true,
      once: true,
    });
  });
  await link.click();
  const handle = await page.waitForFunction(
    (selector) => {
      const main = document.querySelector("main");
      const loading = [...(main?.querySelectorAll('[role="status"]') ?? [])].some((status) =>
        status.textContent.startsWith("Loading"),
      );
      if (!main || !main.querySelector(selector) || loading) {
        return null;
      }
      return performance.now() - window.benchClickAt;
    },
    ready,
    { polling: "raf", timeout: 30_000 },
  );
  return handle.jsonValue();
}

// Goes through every page once and returns [page, milliseconds] pairs.
async function round(page, campaignId) {
  const times = [];
  const navigation = page.getByRole("navigation", { name: "Main" });
  for (const { link, ready } of pages) {
    const target =
      link === "campaign"
        ? page.getByTestId(`campaigns-row-${campaignId}`).getByRole("link").first()
        : navigation.getByRole("link", { name: link, exact: true });
    try {
      times.push([link, await timedClick(page, target, ready)]);
    } catch (error) {
      throw new Error(`page ${link}: ${ready} did not appear: ${error.message}`);
    }
  }
  return times;
}

function percentile(values, fraction) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

function summary(times) {
  const values = times.map(([, ms]) => ms);
  return {
    count: values.length,
    p50: percentile(values, 0.5),
    p95: percentile(values, 0.95),
    max: Math.max(...values),
  };
}

const stack = await startStack({ binDir: join(repository, "build/bin") });
let browser;
try {
  const owner = await stack.addTenant("bench", "Bench Agency", 1_000);
  const call = await apiSession(stack.url, owner.email, owner.password);
  const campaignId = await prepareMatchDay(call);

  browser = await chromium.launch(chromiumOptions);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(stack.url + "/");
  await page.getByLabel("Email").fill(owner.email);
  await page.locator("input[type=password]").fill(owner.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
  // One round loads every page's code, as a person's first visit does.
  await round(page, campaignId);

  const started = performance.now();
  const batch = await call("POST", `/api/v1/campaigns/${campaignId}/generate`, "{}",
                           "application/json", { "Idempotency-Key": "bench-ui" });
  const busy = [];
  let done = false;
  let videos = 0;
  while (!done || busy.length === 0) {
    busy.push(...(await round(page, campaignId)));
    const state = await call("GET", `/api/v1/batches/${batch.batch_id}`);
    videos = state.counts.completed;
    done = state.counts.completed + state.counts.failed + state.counts.cancelled ===
      state.counts.total;
  }
  const batchSeconds = (performance.now() - started) / 1000;

  const idle = [];
  for (let index = 0; index < idleRounds; index += 1) {
    idle.push(...(await round(page, campaignId)));
  }

  console.log("             while rendering         idle workers");
  console.log("page         clicks  p50 ms  p95 ms  clicks  p50 ms  p95 ms");
  const columns = (figures) => `${String(figures.count).padStart(6)}  ` +
    `${figures.p50.toFixed(1).padStart(6)}  ${figures.p95.toFixed(1).padStart(6)}`;
  for (const { link } of pages) {
    const busyFigures = summary(busy.filter(([name]) => name === link));
    const idleFigures = summary(idle.filter(([name]) => name === link));
    console.log(`${link.padEnd(12)} ${columns(busyFigures)}  ${columns(idleFigures)}`);
  }
  const rendering = summary(busy);
  const quiet = summary(idle);
  console.log(`while rendering: ${rendering.count} clicks, median ${rendering.p50.toFixed(1)} ms, ` +
              `p95 ${rendering.p95.toFixed(1)} ms, max ${rendering.max.toFixed(1)} ms`);
  console.log(`idle:            ${quiet.count} clicks, median ${quiet.p50.toFixed(1)} ms, ` +
              `p95 ${quiet.p95.toFixed(1)} ms, max ${quiet.max.toFixed(1)} ms`);
  console.log(`batch: ${videos} videos in ${batchSeconds.toFixed(1)} s by 2 workers`);
  console.log([
    `click_p50_ms=${rendering.p50.toFixed(1)}`,
    `click_p95_ms=${rendering.p95.toFixed(1)}`,
    `click_max_ms=${rendering.max.toFixed(1)}`,
    `clicks=${rendering.count}`,
    `idle_click_p50_ms=${quiet.p50.toFixed(1)}`,
    `idle_click_p95_ms=${quiet.p95.toFixed(1)}`,
    `videos=${videos}`,
    `batch_wall_s=${batchSeconds.toFixed(1)}`,
  ].join(" "));
} finally {
  await browser?.close();
  await stack.stop();
}
