// The whole stack for browser tests and the UI benchmark: redis-server, the
// API on SQLite serving the admin UI, and render workers, each a real
// process on a loopback port, with every file in one temporary folder.
//
//   const stack = await startStack({ binDir: "build/dev/bin" });
//   const owner = await stack.addTenant("acme", "Acme Media", 100);
//   ... stack.url, owner.email, owner.password ...
//   await stack.stop();
import { execFile, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createRequire } from "node:module";
import { once } from "node:events";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { createServer, createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const repository = resolve(new URL("../..", import.meta.url).pathname);

if (Number(process.versions.node.split(".")[0]) < 20) {
  throw new Error(
    `Node.js ${process.version} is too old for playwright-core: the browser test and ` +
      "bench/ui need Node.js 20 or newer",
  );
}

// playwright-core is a package of the admin UI, installed by scripts/setup.
export const { chromium } = createRequire(join(repository, "web/admin/package.json"))(
  "playwright-core",
);

// A port that was free a moment ago on 127.0.0.1.
async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

// Resolves once Redis on PORT replies to PING, or rejects after TIMEOUT_MS.
async function waitForRedis(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answered = await new Promise((done) => {
      const socket = createConnection({ host: "127.0.0.1", port }, () => socket.write("PING\r\n"));
      socket.on("data", (data) => {
        socket.destroy();
        done(data.toString().startsWith("+PONG"));
      });
      socket.on("error", () => done(false));
    });
    if (answered) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
}

// Starts BINARY with ARGS, its output appended to LOG, and resolves with the
// child once its standard error has printed a line matching READY (when
// given). Rejects when the process exits first.
async function startProcess(binary, args, logPath, ready) {
  const log = createWriteStream(logPath, { flags: "a" });
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log);
  let seen = "";
  const readyLine = new Promise((done, fail) => {
    child.stderr.on("data", (data) => {
      log.write(data);
      if (ready) {
        seen += data.toString();
        const match = seen.match(ready);
        if (match) {
          done(match);
        }
      }
    });
    child.once("exit", (code, signal) =>
      fail(new Error(`${binary} exited (${code ?? signal}) before it was ready; see ${logPath}`)),
    );
  });
  if (!ready) {
    readyLine.catch(() => {});
    return { child, match: null };
  }
  return { child, match: await readyLine };
}

const kPassword = "correct horse battery staple";

export async function startStack({
  binDir = process.env.SMMHUB_BIN_DIR ?? join(repository, "build/dev/bin"),
  webRoot = join(repository, "web/admin/dist"),
  workers = 2,
  workerArgs = [],
} = {}) {
  const dir = await mkdtemp(join(tmpdir(), "smmhub-e2e-"));
  await mkdir(join(dir, "storage"));
  await mkdir(join(dir, "redis"));
  const children = [];
  const stack = {
    dir,
    storage: join(dir, "storage"),
    password: kPassword,
    url: "",
    redisUrl: "",
    dbUrl: `sqlite:${join(dir, "smmhub.db")}`,
    workers: [],
  };

  const smmhub = async (args) => {
    const { stdout } = await run(join(binDir, "smmhub"), args, {
      env: { ...process.env, SMMHUB_PASSWORD: kPassword },
    });
    return stdout.trim();
  };

  stack.stop = async () => {
    for (const child of children.reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await Promise.race([once(child, "exit"), new Promise((done) => setTimeout(done, 10_000))]);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGKILL");
        }
      }
    }
    if (!process.env.SMMHUB_KEEP_E2E) {
      await rm(dir, { recursive: true, force: true });
    }
  };

  try {
    const redisPort = await freePort();
    const redis = await startProcess(
      "redis-server",
      ["--bind", "127.0.0.1", "--port", String(redisPort), "--dir", join(dir, "redis"),
       "--save", "", "--appendonly", "no"],
      join(dir, "redis.log"),
    );
    children.push(redis.child);
    await waitForRedis(redisPort);
    stack.redisUrl = `redis://127.0.0.1:${redisPort}`;

    await smmhub(["admin", "create-user", "--email", "admin@smmhub.test", "--name",
                  "Platform Admin", "--platform-admin", "--db", stack.dbUrl]);
    const api = await startProcess(
      join(binDir, "smmhub-api"),
      ["--listen", "127.0.0.1:0", "--redis", stack.redisUrl, "--db", stack.dbUrl,
       "--storage", stack.storage, "--web-root", webRoot, "--log-level", "warn"],
      join(dir, "api.log"),
      /listening on (http:\/\/\S+)/,
    );
    children.push(api.child);
    stack.url = api.match[1];

    for (let index = 1; index <= workers; index += 1) {
      const worker = await startProcess(
        join(binDir, "smmhub-worker"),
        ["--redis", stack.redisUrl, "--db", stack.dbUrl, "--storage", stack.storage,
         "--cache-redis", stack.redisUrl, "--id", `e2e-worker-${index}`, "--poll-ms", "200",
         "--log-level", "warn", ...workerArgs],
        join(dir, `worker-${index}.log`),
      );
      children.push(worker.child);
      stack.workers.push(worker.child);
    }
  } catch (error) {
    await stack.stop();
    throw error;
  }

  stack.admin = { email: "admin@smmhub.test", password: kPassword };

  // Creates tenant ID with an owner and CREDITS credits, through the CLI.
  stack.addTenant = async (id, name, credits) => {
    await smmhub(["admin", "create-tenant", id, "--name", name, "--db", stack.dbUrl]);
    const email = `owner@${id}.test`;
    await smmhub(["admin", "create-user", "--email", email, "--name", `${name} Owner`,
                  "--tenant", id, "--role", "owner", "--db", stack.dbUrl]);
    if (credits > 0) {
      await smmhub(["credits", "topup", id, String(credits), "--key", `e2e-${id}`,
                    "--redis", stack.redisUrl, "--db", stack.dbUrl]);
    }
    return { tenant: id, email, password: kPassword };
  };

  // The tenant's balance as the ledger has it.
  stack.balance = async (tenant) =>
    smmhub(["credits", "balance", tenant, "--redis", stack.redisUrl, "--db", stack.dbUrl]);

  return stack;
}

// The options with which Chromium starts in tests: headless, no sandbox (CI
// runs as root), and none of the background connections that a closed
// network refuses.
export const chromiumOptions = {
  executablePath: process.env.SMMHUB_CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
  ],
};
