// The agency's Match Day morning in the admin UI, in headless Chromium
// against the real stack: the platform administrator creates the agency and
// tops it up, its owner builds the brand kit and template, uploads the
// fixtures, previews a row, generates the 50 videos, watches them complete
// live, downloads one and plays it, and another agency sees none of it.
// Each page is saved as a screenshot at 1280 and 390 pixels wide.
import assert from "node:assert/strict";
import { mkdir, readFile, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { after, before, test as nodeTest } from "node:test";

import { chromium, chromiumOptions, startStack } from "./stack.mjs";

const repository = resolve(new URL("../..", import.meta.url).pathname);
const example = join(repository, "examples/matchday");
const shots = process.env.SMMHUB_SCREENSHOTS ?? join(repository, "build/e2e-screenshots");
const kRows = 50;
// A generous bound: two sanitizer-built workers made the 50 videos in about
// 35 s on a 2-core machine.
const kRenderTimeoutMs = Number(process.env.SMMHUB_E2E_RENDER_TIMEOUT_MS ?? 900_000);

let stack;
let browser;
let rival;
const state = { campaignUrl: "", campaignId: "", batchVideoUrl: "", owner: null };

before(async () => {
  await mkdir(shots, { recursive: true });
  stack = await startStack();
  rival = await stack.addTenant("rival", "Rival Media", 20);
  browser = await chromium.launch(chromiumOptions);
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

let current = null;

// A test of the flow. When it fails, the page it had open is saved as
// failed-NAME.png beside the screenshots, and later tests are skipped,
// since each builds on the ones before.
let failed = "";
function test(name, body) {
  nodeTest(name, async (context) => {
    if (failed) {
      context.skip(`an earlier step failed: ${failed}`);
      return;
    }
    try {
      await body();
    } catch (error) {
      failed = name;
      const file = join(shots, `failed-${name.replace(/[^a-z0-9]+/gi, "-")}.png`);
      await current?.screenshot({ path: file, fullPage: true }).catch(() => {});
      throw error;
    }
  });
}

// A page at desktop width. Uncaught errors of its scripts are collected in
// page.errors, which each test expects to stay empty.
async function openPage() {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(error.message));
  page.setDefaultTimeout(20_000);
  current = page;
  return page;
}

async function signIn(page, who) {
  await page.goto(stack.url + "/");
  await page.getByLabel("Email").fill(who.email);
  await page.locator("input[type=password]").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in to smmhub" }).waitFor();
}

// Saves the page at 1280 and at 390 pixels wide as NAME-1280.png and
// NAME-390.png, full height, once no loader or closing dialog is on screen.
async function screenshot(page, name) {
  const size = page.viewportSize();
  await page.getByRole("dialog").waitFor({ state: "detached" });
  await page.evaluate(() => window.scrollTo(0, 0));
  // Cards off screen skip their painting (content-visibility: auto), which a
  // full-page screenshot would show as blanks.
  await page.addStyleTag({ content: "* { content-visibility: visible !important; }" });
  // Images below the fold load when scrolled to; a screenshot wants them all.
  await page.evaluate(async () => {
    const images = [...document.querySelectorAll("img")];
    for (const image of images) {
      image.loading = "eager";
    }
    await Promise.all(images.map((image) => image.decode().catch(() => {})));
  });
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.waitForTimeout(150);
    await page.getByRole("status").filter({ hasText: "Loading" }).waitFor({ state: "detached" });
    await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(size);
}

// Navigates by the main navigation, as a person does.
async function go(page, label) {
  const navigation = page.getByRole("navigation", { name: "Main" });
  if (!(await navigation.isVisible())) {
    await page.getByRole("button", { name: "Menu" }).click();
  }
  await navigation.getByRole("link", { name: label, exact: true }).click();
}

// Chooses OPTION in the Mantine Select labelled LABEL.
async function choose(page, label, option) {
  await page.getByRole("textbox", { name: label, exact: true }).click();
  await page.getByRole("option", { name: option }).first().click();
}

// Chooses the option named OPTION in the native select labelled LABEL.
async function pick(page, label, option) {
  await page.getByRole("combobox", { name: label, exact: true }).selectOption({ label: option });
}

test("the platform administrator creates and tops up an agency", async () => {
  const page = await openPage();
  await page.goto(stack.url + "/");
  await screenshot(page, "01-sign-in");
  await signIn(page, stack.admin);

  await page.getByTestId("admin-tenants-list").waitFor();
  await screenshot(page, "02-admin-tenants");
  const create = page.getByTestId("admin-tenant-create");
  await create.getByLabel("Id").fill("matchday");
  await create.getByLabel("Name").fill("Match Day FC");
  await create.getByRole("button", { name: "Create tenant" }).click();
  await page.waitForURL(/\/admin\/tenants\/matchday$/);

  const userForm = page.getByTestId("admin-user-form");
  await userForm.getByLabel("Email").fill("owner@matchday.test");
  await userForm.getByLabel("Name").fill("Mia Owner");
  await userForm.getByRole("button", { name: "Generate a password" }).click();
  await userForm.getByRole("button", { name: "Add user" }).click();
  const password = (await page.getByTestId("admin-user-password").textContent()).trim();
  assert.ok(password.length >= 12, `initial password '${password}' is shorter than 12`);
  state.owner = { email: "owner@matchday.test", password };

  await page.getByTestId("admin-topup-amount").fill("60");
  await page.getByTestId("admin-topup-submit").click();
  await page.getByTestId("admin-topup-confirm").click();
  await assertText(page.getByTestId("admin-topup-result"), /Added 60 credits; 60 available/);
  await screenshot(page, "03-admin-tenant");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the owner builds the brand kit with logo, music and crests", async () => {
  const page = await openPage();
  await signIn(page, state.owner);
  await page.getByTestId("dashboard-start").waitFor();
  await screenshot(page, "04-dashboard-new-agency");

  await go(page, "Assets");
  await page.getByTestId("empty-state").waitFor();
  await page.getByTestId("assets-upload").locator("input[type=file]").setInputFiles([
    join(example, "brand/logo.svg"),
    join(example, "brand/music.wav"),
  ]);
  await page.getByTestId("asset-card").nth(1).waitFor();
  assert.equal(await page.getByTestId("asset-card").count(), 2);

  await go(page, "Brand kits");
  await page.getByTestId("brandkit-new").first().click();
  await page.getByTestId("brandkit-name").fill("Match Day");
  await page.getByTestId("brandkit-handle").fill("@matchdayfc");
  await page.getByTestId("brandkit-color-value-0").fill("#0B1D51");
  await page.getByTestId("brandkit-color-value-1").fill("#C8102E");
  await page.getByTestId("brandkit-font-display-family").fill("Bebas Neue");
  await page.getByTestId("brandkit-font-body-family").fill("Inter");
  await choose(page, "Logo", "logo.svg");
  await page.getByTestId("brandkit-asset-add").click();
  await page.getByTestId("brandkit-asset-name-0").fill("music");
  await choose(page, "Asset for music", "music.wav");

  await page.getByTestId("brandkit-library-add").click();
  await page.getByTestId("brandkit-library-name").fill("crests");
  const crests = join(example, "brand/crests");
  const files = (await readdir(crests)).map((name) => join(crests, name));
  await page.getByTestId("brandkit-library-import").locator("input[type=file]").setInputFiles(files);
  await assertText(page.getByTestId("brandkit-library-import-report"), /58/);

  await page.getByTestId("brandkit-save").click();
  await page.waitForURL(/\/brand-kits\/[^/]+$/);
  await page.getByText("All changes saved").waitFor();
  await screenshot(page, "05-brand-kit");
  await go(page, "Brand kits");
  await page.getByTestId("brandkit-card").first().waitFor();
  await screenshot(page, "06-brand-kits");
  await go(page, "Assets");
  // The logo, the music and the 58 crests of the library.
  await page.getByTestId("asset-card").nth(59).waitFor();
  assert.equal(await page.getByTestId("asset-card").count(), 60);
  await screenshot(page, "07-assets");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the owner creates the Match Day template from the example", async () => {
  const page = await openPage();
  await signIn(page, state.owner);
  await go(page, "Templates");
  await page.getByTestId("empty-state").waitFor();
  await page.getByTestId("templates-from-example").first().click();
  await page.getByTestId("template-editor").waitFor();
  await assertText(page.getByTestId("template-problems"), /valid/);
  // The owner saves and goes to the list before the save has finished, and
  // stays on the list once it has.
  let answer;
  const answered = new Promise((done) => (answer = done));
  await page.route("**/api/v1/templates", async (route) => {
    if (route.request().method() === "POST") {
      await answered;
    }
    await route.continue();
  });
  const created = page.waitForResponse(
    (response) => response.url().endsWith("/api/v1/templates") && response.status() === 201,
  );
  await page.getByTestId("template-save").click();
  await go(page, "Templates");
  await page.waitForURL(/\/templates$/);
  answer();
  await created;
  await page.unrouteAll({ behavior: "wait" });
  await page.waitForTimeout(500);
  assert.equal(new URL(page.url()).pathname, "/templates");
  await go(page, "Dashboard");
  await page.getByTestId("dashboard-credits-available").waitFor();
  await go(page, "Templates");
  await page.getByTestId("templates-row").first().waitFor();
  await screenshot(page, "08-templates");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the owner uploads the fixtures, maps them and checks every row", async () => {
  const page = await openPage();
  await signIn(page, state.owner);
  await go(page, "Campaigns");
  await page.getByTestId("campaigns-new").first().click();
  await page.getByTestId("campaign-name").fill("Matchday 1");
  await pick(page, "Template", "Match Day");
  await pick(page, "Brand kit", "Match Day");
  await page.getByTestId("campaign-save").click();
  await page.waitForURL(/\/campaigns\/c[^/]*$/);
  state.campaignUrl = page.url();
  state.campaignId = state.campaignUrl.split("/").pop();

  await page.getByTestId("campaign-rows-upload").setInputFiles(join(example, "fixtures.csv"));
  await assertText(page.getByTestId("campaign-rows-table"), /Manchester United FC/);
  // Every field has a column of its own name, so the mapping needs no change.
  for (const field of ["competition", "matchday", "date", "kickoff", "home", "away", "venue"]) {
    await page.getByTestId(`campaign-mapping-${field}`).waitFor();
  }
  assert.equal(await page.getByTestId("campaign-mapping-save").isDisabled(), true);
  await page.getByTestId("campaign-preflight").click();
  await assertText(page.getByTestId("campaign-preflight-result"), new RegExp(`${kRows} rows`));
  await assertText(page.getByTestId("campaign-cost"), /50 videos × 1 credit = 50 credits; you have 60/);
  await screenshot(page, "09-campaign-ready");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the owner previews row 2 of the campaign in the template editor", async () => {
  const page = await openPage();
  await signIn(page, state.owner);
  await go(page, "Templates");
  await page.getByTestId("templates-row").first().getByRole("link").first().click();
  await page.getByTestId("template-editor").waitFor();
  await page.getByTestId("template-row-picker").getByText("Campaign row").click();
  await choose(page, "Campaign", "Matchday 1");
  await page.getByLabel("Row number").fill("2");
  // The first frame of the intro, then the fixture scene with both crests:
  // each a 1080x1920 PNG that a worker rendered.
  const frameShown = (previous) =>
    page.waitForFunction(
      (before) => {
        const img = document.querySelector('[data-testid="template-preview-image"]');
        return (
          img && img.src !== before && img.complete &&
          img.naturalWidth === 1080 && img.naturalHeight === 1920 && img.src
        );
      },
      previous,
      { timeout: 60_000 },
    ).then((handle) => handle.jsonValue());
  const intro = await frameShown("");
  await page.getByRole("button", { name: /^fixture \d/ }).click();
  await frameShown(intro);
  await screenshot(page, "10-template-editor");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a campaign that is set up opens with its done steps folded", async () => {
  const page = await openPage();
  await signIn(page, state.owner);
  await page.goto(state.campaignUrl);
  const steps = page.getByTestId("campaign-steps");
  await steps.waitFor();
  const toggle = page.getByTestId("campaign-step-2-toggle");
  assert.equal(await toggle.getAttribute("aria-expanded"), "false");
  await assertText(
    page.locator("#campaign-step-2-body"),
    /^50 rows with 7 columns: competition, matchday, date, kickoff, home, away, venue\.$/,
  );
  await assertText(
    page.locator("#campaign-step-1-body"),
    /^The template “Match Day” at its latest version, with the brand kit “Match Day”\.$/,
  );
  await assertText(
    page.locator("#campaign-step-3-body"),
    /^All 7 fields take their values from columns\.$/,
  );
  assert.equal(await page.getByTestId("campaign-rows-table").count(), 0);
  assert.equal(await page.getByTestId("campaign-mapping").count(), 0);
  // The steps still to do stay open.
  await page.getByTestId("campaign-preflight").waitFor();
  await page.getByTestId("campaign-generate").waitFor();

  await toggle.click();
  await assertText(page.getByTestId("campaign-rows-table"), /Manchester United FC/);
  assert.equal(await toggle.getAttribute("aria-expanded"), "true");
  assert.equal(await page.getByTestId("campaign-mapping").count(), 0);
  await toggle.click();
  await page.getByTestId("campaign-rows-table").waitFor({ state: "detached" });
  assert.equal(await toggle.getAttribute("aria-expanded"), "false");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("Generate all makes every video live, and one downloads and plays", async () => {
  const page = await openPage();
  await signIn(page, state.owner);
  await page.goto(state.campaignUrl);
  await page.getByTestId("campaign-generate").click();
  await page.getByTestId("campaign-generate-confirm").click();
  await page.getByTestId("batch-grid").waitFor();
  await page.getByTestId(`batch-video-${kRows}`).waitFor();
  // The credits for the batch are held while it renders.
  await assertText(page.getByTestId("campaign-credits-held"), /^50 credits more are held/);

  // The grid changes as the server's events arrive, without a reload: every
  // card reaches completed while the page stays open.
  const reloads = [];
  page.on("framenavigated", (frame) => frame === page.mainFrame() && reloads.push(frame.url()));
  await page.waitForFunction(
    (rows) =>
      document.querySelectorAll('[data-testid^="batch-video-"][data-state="completed"]').length ===
      rows,
    kRows,
    { timeout: kRenderTimeoutMs, polling: 500 },
  );
  assert.deepEqual(reloads, []);
  await assertText(page.getByTestId("batch-summary"), /50/);
  // Once the batch has ended, the balance shows them charged and none held.
  await page.getByTestId("campaign-credits-held").waitFor({ state: "detached" });
  await assertText(page.getByTestId("campaign-cost"), /you have 10\.$/);
  await screenshot(page, "11-campaign-batch-done");

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("batch-download-7").click(),
  ]);
  const path = join(stack.dir, "download.mp4");
  await download.saveAs(path);
  const bytes = await readFile(path);
  assert.equal(bytes.subarray(4, 8).toString("latin1"), "ftyp");

  // Chromium decodes the file it downloaded: its size, length and a frame.
  const played = await page.evaluate(async (data) => {
    const blob = new Blob([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], {
      type: "video/mp4",
    });
    const video = document.createElement("video");
    video.muted = true;
    video.src = URL.createObjectURL(blob);
    document.body.append(video);
    await new Promise((done, fail) => {
      video.onloadeddata = done;
      video.onerror = () => fail(new Error(`cannot play: ${video.error?.message}`));
    });
    await video.play();
    await new Promise((done) => setTimeout(done, 500));
    const result = {
      width: video.videoWidth,
      height: video.videoHeight,
      duration: video.duration,
      advanced: video.currentTime > 0,
    };
    video.remove();
    return result;
  }, bytes.toString("base64"));
  assert.equal(played.width, 1080);
  assert.equal(played.height, 1920);
  assert.ok(Math.abs(played.duration - 8) < 0.2, `duration ${played.duration} s, expected 8`);
  assert.ok(played.advanced, "playback did not advance");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the credits charged equal the videos made", async () => {
  const page = await openPage();
  await signIn(page, state.owner);
  await page.getByTestId("dashboard-credits-available").waitFor();
  await assertText(page.getByTestId("dashboard-credits-available"), /^10$/);
  await screenshot(page, "12-dashboard");
  await go(page, "Usage");
  await page.getByTestId("usage-chart-videos").waitFor();
  await assertText(page.getByTestId("usage-chart-credits-summary"), /50/);
  await screenshot(page, "13-usage");
  for (const [label, name] of [
    ["Campaigns", "14-campaigns"],
    ["Team", "15-team"],
    ["API keys", "16-api-keys"],
    ["Webhooks", "17-webhooks"],
  ]) {
    await go(page, label);
    await page.waitForTimeout(200);
    await screenshot(page, name);
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("another agency sees none of it", async () => {
  const page = await openPage();
  await signIn(page, rival);
  for (const label of ["Campaigns", "Templates", "Brand kits", "Assets"]) {
    await go(page, label);
    await page.getByTestId("empty-state").waitFor();
  }
  await page.goto(state.campaignUrl);
  await assertText(page.getByRole("alert").first(), /not found/i);
  const status = await page.evaluate(
    async (id) => (await fetch(`/api/v1/campaigns/${id}`)).status,
    state.campaignId,
  );
  assert.equal(status, 404);
  await page.context().close();
});

test("a link opens its page once the page's data has arrived", async () => {
  const page = await openPage();
  await signIn(page, state.owner);
  await page.getByTestId("dashboard-credits-available").waitFor();
  const path = () => new URL(page.url()).pathname;
  const templates = "**/api/v1/templates";
  // Holds the template list's responses until the returned function lets
  // them through.
  const hold = async () => {
    let open;
    const opened = new Promise((done) => (open = done));
    await page.route(templates, async (route) => {
      await opened;
      await route.continue();
    });
    return async () => {
      open();
      await page.unrouteAll({ behavior: "wait" });
    };
  };

  let release = await hold();
  await go(page, "Templates");
  // The dashboard stays while the bar shows that the page is opening...
  await page.getByRole("progressbar", { name: "Opening the page" }).waitFor();
  assert.equal(path(), "/");
  await page.getByTestId("dashboard-credits-available").waitFor();
  // ...for a short while; then the page opens and waits for the rest itself.
  await page.waitForURL("**/templates");
  await page.getByRole("status").filter({ hasText: "Loading" }).waitFor();
  await page.getByRole("progressbar", { name: "Opening the page" }).waitFor({ state: "detached" });
  await release();
  await page.getByTestId("templates-list").waitFor();

  // Of two links clicked in a row, the second wins, even when the first
  // page's data arrives after the second page has opened.
  await go(page, "Dashboard");
  await page.getByTestId("dashboard-credits-available").waitFor();
  release = await hold();
  await page.evaluate(() => {
    const navigation = document.querySelector('nav[aria-label="Main"]');
    const link = (label) =>
      [...navigation.querySelectorAll("a")].find((item) => item.textContent.trim() === label);
    link("Templates").click();
    link("Brand kits").click();
  });
  await page.waitForURL("**/brand-kits");
  await release();
  await page.waitForTimeout(1000);
  assert.equal(path(), "/brand-kits");

  // A response that fails opens the page with its error and a way to retry.
  // The dashboard takes the template list that the abandoned click asked for.
  await go(page, "Dashboard");
  await page.getByTestId("dashboard-credits-available").waitFor();
  await page.route(templates, (route) => route.abort("connectionrefused"));
  await go(page, "Templates");
  await page.waitForURL("**/templates");
  await assertText(page.getByRole("alert").first(), /Could not load the templates/);
  await page.unrouteAll({ behavior: "wait" });
  await page.getByRole("button", { name: "Try again" }).click();
  await page.getByTestId("templates-list").waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// Waits until LOCATOR's text matches PATTERN and fails with the text it had.
async function assertText(locator, pattern, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  let text = "";
  while (Date.now() < deadline) {
    text = ((await locator.textContent({ timeout }).catch(() => "")) ?? "").trim();
    if (pattern.test(text)) {
      return;
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  assert.match(text, pattern);
}
