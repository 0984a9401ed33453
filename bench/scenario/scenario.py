#!/usr/bin/python3
"""The Match Day morning on the whole stack, measured.

Starts Redis (the broker), a second Redis (the render buffer), PostgreSQL,
smmhub-api on PostgreSQL and N workers of the release build, all on
loopback. Creates the tenants, each with a logo, a brand kit and the Match
Day template. Then, while simulated agents browse the dashboard, campaigns
and usage through the API at a steady rate:

  - one agency generates the 50 Match Day fixtures;
  - other agencies generate 5 fixtures each.

The same renders run again with nobody browsing, for comparison. Each round
renders once with browsing and once alone, every other round alone first,
and each render starts from an empty render buffer. The render times are
the medians of the rounds, because the same renders alone vary by a tenth
or more from run to run. The figures end with one line of key=value pairs,
and a plot of API latency and queue depth over time is written as a PNG.

Usage: bench/scenario/scenario.py [--tenants 1000] [--small-tenants 20]
           [--agents 50] [--rate 2] [--workers 2] [--idle-seconds 15]
           [--rounds 3] [--plot FILE] [--keep]
(after scripts/setup and scripts/build; the executables come from build/bin)
"""

import argparse
import http.client
import json
import math
import os
import pwd
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
BIN = REPOSITORY / "build" / "bin"
EXAMPLE = REPOSITORY / "examples" / "matchday"
PASSWORD = "scenario-password-1"
MATCHDAY_ROWS = 50
SMALL_ROWS = 5


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"scenario: {what} exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"scenario: {what} did not listen on port {port} within {timeout} s")


class Stack:
    """The servers of one run, started in a temporary folder."""

    def __init__(self, workers):
        self.dir = Path(tempfile.mkdtemp(prefix="smmhub-scenario-"))
        self.processes = {}
        self.workers = workers

    def start(self, name, args, env=None, user=None):
        log = open(self.dir / f"{name}.log", "w")
        preexec = None
        if user is not None:
            entry = pwd.getpwnam(user)

            def preexec():
                os.setgid(entry.pw_gid)
                os.setuid(entry.pw_uid)

        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})}, preexec_fn=preexec)
        self.processes[name] = process
        return process

    def start_redis(self, name, extra):
        port = free_port()
        folder = self.dir / name
        folder.mkdir()
        process = self.start(name, ["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                                    "--dir", str(folder), "--save", ""] + extra)
        wait_for_port(port, process, name)
        return f"redis://127.0.0.1:{port}"

    def start_postgres(self):
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                          key=lambda path: int(path.parts[-3]))
        if not versions:
            sys.exit("scenario: PostgreSQL is not installed in /usr/lib/postgresql; "
                     "run scripts/setup")
        bin_dir = versions[-1].parent

        data = self.dir / "postgres"
        data.mkdir()
        user = None
        if os.geteuid() == 0:
            user = "postgres"
            shutil.chown(self.dir, user)
            shutil.chown(data, user)
        self.dir.chmod(0o755)

        initdb = self.start("initdb", [str(bin_dir / "initdb"), "--pgdata", str(data / "data"),
                                       "--username", "postgres", "--auth", "trust",
                                       "--encoding", "UTF8", "--locale", "C"], user=user)
        if initdb.wait() != 0:
            sys.exit(f"scenario: initdb failed; see {self.dir / 'initdb.log'}")

        port = free_port()
        # The server keeps PostgreSQL's durable defaults (fsync on), as a
        # deployment would.
        process = self.start("postgres", [str(bin_dir / "postgres"), "-D", str(data / "data"),
                                          "-p", str(port), "-k", str(data),
                                          "-c", "listen_addresses=127.0.0.1",
                                          "-c", "max_connections=200"], user=user)
        wait_for_port(port, process, "PostgreSQL")

        for _ in range(100):
            created = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U",
                                      "postgres", "-c", "CREATE DATABASE smmhub"],
                                     capture_output=True, text=True)
            if created.returncode == 0:
                break
            time.sleep(0.2)
        else:
            sys.exit(f"scenario: cannot create the database: {created.stderr.strip()}")
        return f"postgresql://postgres@127.0.0.1:{port}/smmhub"

    def up(self):
        self.redis = self.start_redis("redis", ["--appendonly", "yes"])
        self.cache = self.start_redis("cache", ["--appendonly", "no", "--maxmemory", "1gb",
                                                "--maxmemory-policy", "allkeys-lru"])
        self.db = self.start_postgres()
        self.storage = self.dir / "storage"
        self.storage.mkdir()
        smmhub = self.cli(["admin", "create-user", "--email", "admin@scenario.test", "--name",
                           "Platform Admin", "--platform-admin"])
        if smmhub.returncode != 0:
            sys.exit(f"scenario: creating the administrator failed: {smmhub.stderr.strip()}")
        self.api_port = free_port()
        api = self.start("api", [str(BIN / "smmhub-api"), "--listen",
                                 f"127.0.0.1:{self.api_port}", "--redis", self.redis, "--db",
                                 self.db, "--storage", str(self.storage), "--threads", "4",
                                 "--log-level", "warn"])
        wait_for_port(self.api_port, api, "smmhub-api")
        for index in range(1, self.workers + 1):
            self.start(f"worker-{index}", [str(BIN / "smmhub-worker"), "--redis", self.redis,
                                           "--db", self.db, "--storage", str(self.storage),
                                           "--cache-redis", self.cache, "--id",
                                           f"scenario-worker-{index}", "--log-level", "warn"])

    def cli(self, args):
        return subprocess.run([str(BIN / "smmhub")] + args + ["--db", self.db],
                              capture_output=True, text=True,
                              env={**os.environ, "SMMHUB_PASSWORD": PASSWORD})

    def flush_cache(self):
        port = self.cache.rsplit(":", 1)[1]
        subprocess.run(["redis-cli", "-p", port, "FLUSHALL"], check=True, capture_output=True)

    def stop(self, keep=False):
        # Newest first, each waited for, so that the workers and the API
        # stop before the servers they use.
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if keep:
            print(f"logs and data kept in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


class Client:
    """One signed-in person of a tenant, on one keep-alive connection from
    its own loopback address, as separate people's computers are."""

    def __init__(self, port, source):
        self.port = port
        self.source = source
        self.connection = None
        self.headers = {}

    def request(self, method, path, body=None, content_type="application/json", headers=None):
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=120, source_address=(self.source, 0))
            try:
                self.connection.request(method, path, body=body, headers={
                    **self.headers, "Content-Type": content_type, **(headers or {})})
                response = self.connection.getresponse()
                data = response.read()
                return response.status, data, response
            except (ConnectionError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def call(self, method, path, body=None, content_type="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        status, data, _ = self.request(method, path, body, content_type, headers)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {data[:300]!r}")
        return json.loads(data) if data else None

    def sign_in(self, email):
        status, data, response = self.request(
            "POST", "/api/v1/session", json.dumps({"email": email, "password": PASSWORD}))
        if status != 200:
            raise RuntimeError(f"sign-in of {email}: {status} {data[:300]!r}")
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        self.headers = {"Cookie": cookie, "X-CSRF-Token": json.loads(data)["csrf_token"]}


def source_address(index):
    # 127.0.0.2 to 127.0.0.254: sign-in limits count attempts per address.
    return f"127.0.0.{2 + index % 253}"


def upload(client, path, name):
    return client.call("POST", f"/api/v1/assets?name={name}", path.read_bytes(),
                       "application/octet-stream")["id"]


def fixtures(rows):
    lines = (EXAMPLE / "fixtures.csv").read_text().splitlines()
    return ("\n".join(lines[:1 + rows]) + "\n").encode()


class Tenant:
    def __init__(self, index):
        self.index = index
        self.id = f"agency{index:04d}"
        self.email = f"owner@{self.id}.test"
        self.client = None
        self.campaign = None
        self.rows = 0
        self.acting = False  # renders videos, so its brand kit needs music and crests


def create_tenant(admin, tenant, credits):
    admin.call("POST", "/api/v1/admin/tenants", {"id": tenant.id, "name": f"Agency {tenant.index}"})
    admin.call("POST", f"/api/v1/admin/tenants/{tenant.id}/users",
               {"email": tenant.email, "password": PASSWORD, "role": "owner"})
    if credits:
        admin.call("POST", f"/api/v1/admin/tenants/{tenant.id}/topups", {"amount": credits},
                   headers={"Idempotency-Key": f"scenario-{tenant.id}"})


def fill_tenant(port, tenant, crests):
    """Gives TENANT a brand kit and the Match Day template, and for
    TENANT.rows > 0 a campaign of that many fixtures."""
    client = Client(port, source_address(tenant.index))
    client.sign_in(tenant.email)
    tenant.client = client
    kit = {"name": "Match Day", "handle": f"@{tenant.id}",
           "colors": {"primary": "#0B1D51", "secondary": "#C8102E"},
           "fonts": {"display": {"family": "Bebas Neue"},
                     "body": {"family": "Inter", "weight": 400}},
           "logo_asset_id": upload(client, EXAMPLE / "brand/logo.svg", "logo.svg")}
    if tenant.acting:
        kit["assets"] = {"music": upload(client, EXAMPLE / "brand/music.wav", "music.wav")}
        kit["libraries"] = {"crests": {name: upload(client, EXAMPLE / "brand/crests" / file, file)
                                       for name, file in crests.items()}}
    kit_id = client.call("POST", "/api/v1/brand-kits", kit)["id"]
    body = json.loads((EXAMPLE / "template.json").read_text())
    template = client.call("POST", "/api/v1/templates", {"name": "Match Day", "body": body})
    if tenant.rows:
        tenant.campaign = client.call("POST", "/api/v1/campaigns", {
            "name": "Matchday 1", "template_id": template["id"], "brand_kit_id": kit_id})["id"]
        client.call("PUT", f"/api/v1/campaigns/{tenant.campaign}/rows", fixtures(tenant.rows),
                    "text/csv")


class Recorder:
    """Latencies of the agents' calls, and samples of the queue."""

    def __init__(self):
        self.calls = []  # (monotonic seconds, milliseconds, status, page)
        self.queue = []  # (monotonic seconds, waiting, running)
        self.queue_errors = []  # why a sample of the queue failed
        self.lock = threading.Lock()

    def call(self, at, ms, status, page):
        with self.lock:
            self.calls.append((at, ms, status, page))

    def between(self, start, end):
        with self.lock:
            return [ms for at, ms, _, _ in self.calls if start <= at <= end]

    def worst_second(self, start, end):
        """Returns the highest p99 of the calls of one second from START to END,
        and that second's start in seconds after START."""
        seconds = {}
        with self.lock:
            for at, ms, _, _ in self.calls:
                if start <= at <= end:
                    seconds.setdefault(int(at - start), []).append(ms)
        return max(((percentile(values, 0.99), second) for second, values in seconds.items()),
                   default=(math.nan, math.nan))

    def pages(self, start, end):
        """Returns {page: [milliseconds]} of the calls from START to END."""
        pages = {}
        with self.lock:
            for at, ms, _, page in self.calls:
                if start <= at <= end:
                    pages.setdefault(page, []).append(ms)
        return pages


def agent(tenant, rate, stop, recorder, seed):
    """Browses TENANT's dashboard, campaigns and usage at RATE calls a second."""
    pages = [
        "/api/v1/status", "/api/v1/credits", "/api/v1/batches?limit=10",
        "/api/v1/campaigns", f"/api/v1/campaigns/{tenant.campaign}",
        f"/api/v1/campaigns/{tenant.campaign}/rows?offset=0&limit=10", "/api/v1/usage?days=30",
    ]
    client = Client(tenant.client.port, tenant.client.source)
    client.headers = dict(tenant.client.headers)
    generator = random.Random(seed)
    period = 1.0 / rate
    due = time.monotonic() + generator.uniform(0, period)
    step = generator.randrange(len(pages))
    while not stop.is_set():
        now = time.monotonic()
        if now < due:
            stop.wait(due - now)
            continue
        path = pages[step % len(pages)]
        step += 1
        started = time.monotonic()
        try:
            status, _, _ = client.request("GET", path)
        except OSError:
            status = 0
        recorder.call(started, (time.monotonic() - started) * 1000, status,
                      path.split("?")[0].replace(tenant.campaign, "{id}"))
        due += period


def sample_queue(tenant, stop, recorder):
    """Reads the queue's depth twice a second from TENANT's status, on a
    connection of its own. The figures are the whole queue's."""
    client = Client(tenant.client.port, tenant.client.source)
    client.headers = dict(tenant.client.headers)
    while not stop.is_set():
        try:
            status = client.call("GET", "/api/v1/status")
            with recorder.lock:
                recorder.queue.append((time.monotonic(), status["queue"]["waiting"],
                                       status["queue"]["running"]))
        except (OSError, RuntimeError) as error:
            with recorder.lock:
                recorder.queue_errors.append(str(error))
        stop.wait(0.5)


class Watch:
    """The state events of one tenant's jobs, from its event stream, opened
    before Generate all so that no event of the batch is missed."""

    def __init__(self, port, tenant):
        self.tenant = tenant
        self.batch = None
        self.jobs = 0  # jobs of the batch, from the response to Generate all
        self.answered = None
        self.first_active = {}  # batch id: monotonic seconds
        self.starts = []  # (monotonic seconds, batch id) of each job start
        self.began = {}  # (batch id, job id): first start, monotonic seconds
        self.ended = {}  # (batch id, job id): first completion, monotonic seconds
        self.final = {}  # (batch id, job id): first completion, failure or cancel
        self.completions = {}  # (batch id, job id): completed events
        self.ready = threading.Event()
        self.socket = None
        self.connection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=3600, source_address=(tenant.client.source, 0))
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        try:
            self.connection.request("GET", "/api/v1/events", headers={
                **self.tenant.client.headers, "Accept": "text/event-stream"})
            # http.client drops its socket once a response that ends with
            # the connection begins, so close() shuts this one down.
            self.socket = self.connection.sock
            response = self.connection.getresponse()
            event = None
            while True:
                line = response.fp.readline()
                if not line:
                    return
                line = line.decode().rstrip("\n")
                if line.startswith(": connected"):
                    self.ready.set()
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "state":
                    data = json.loads(line[6:])
                    if data["to"] == "active":
                        self.first_active.setdefault(data["batch_id"], time.monotonic())
                        self.starts.append((time.monotonic(), data["batch_id"]))
                        self.began.setdefault((data["batch_id"], data["job_id"]), time.monotonic())
                    if data["to"] in ("completed", "failed", "cancelled"):
                        self.final.setdefault((data["batch_id"], data["job_id"]),
                                              time.monotonic())
                    if data["to"] == "completed":
                        key = (data["batch_id"], data["job_id"])
                        self.completions[key] = self.completions.get(key, 0) + 1
                        self.ended.setdefault(key, time.monotonic())
        except (OSError, http.client.HTTPException, ValueError):
            return

    def duplicated(self):
        return sum(count - 1 for (batch, _), count in self.completions.items()
                   if batch == self.batch and count > 1)

    def close(self):
        if self.socket is not None:
            try:
                self.socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(timeout=5)


def generate(tenants, key, port):
    """Opens every tenant's event stream, then presses Generate all for every
    tenant at once; returns the watches and the start time."""
    watches = [Watch(port, tenant) for tenant in tenants]
    for watch in watches:
        if not watch.ready.wait(30):
            sys.exit(f"scenario: the event stream of {watch.tenant.id} did not open")
    started = time.monotonic()

    def press(watch):
        response = watch.tenant.client.call(
            "POST", f"/api/v1/campaigns/{watch.tenant.campaign}/generate", {},
            headers={"Idempotency-Key": f"{key}-{watch.tenant.id}"})
        watch.answered = time.monotonic()
        watch.batch = response["batch_id"]
        watch.jobs = response["jobs"]

    with ThreadPoolExecutor(len(watches)) as pool:
        list(pool.map(press, watches))
    return watches, started


def wait_for_batches(watches, timeout=3600):
    """Waits until every batch has ended; returns {tenant: (batch json, end time)}.

    A batch is read from the API once its agency's event stream shows every
    job ended, and then its end time is that of the last job's end. Should
    an event go missing, each batch is also read every 5 s, and ends when
    the API reports every job ended."""
    ends = {}
    read_at = {}
    deadline = time.monotonic() + timeout
    while len(ends) < len(watches):
        if time.monotonic() > deadline:
            sys.exit("scenario: the batches did not end within an hour")
        for watch in watches:
            if watch.tenant.id in ends:
                continue
            ended = [at for (batch, _), at in list(watch.final.items()) if batch == watch.batch]
            now = time.monotonic()
            if len(ended) < watch.jobs and now - read_at.get(watch.tenant.id, 0) < 5:
                continue
            read_at[watch.tenant.id] = now
            batch = watch.tenant.client.call("GET", f"/api/v1/batches/{watch.batch}")
            counts = batch["counts"]
            if counts["completed"] + counts["failed"] + counts["cancelled"] == counts["total"]:
                ends[watch.tenant.id] = (batch, max(ended) if len(ended) == counts["total"]
                                         else now)
        time.sleep(0.1)
    return ends


def cpu_seconds(pids):
    """CPU seconds (user and system) of each process in PIDS (name: pid) and
    its children, by name."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(
                    (int(entry.name), (int(fields[11]) + int(fields[12])) / ticks))
            except (OSError, IndexError, ValueError):
                pass
    # This script is the load (the agents, the event streams and the queue
    # samples) and runs on the same cores as the stack. Its children are the
    # stack, so only its own time counts.
    totals = {"scenario": time.process_time()}
    for name, pid in pids.items():
        total = 0.0
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total = (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / ticks
        except OSError:
            pass
        for _, seconds in children.get(pid, []):
            total += seconds
        totals[name] = total
    return totals


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(fraction * len(ordered) + 0.999999) - 1))]


def run_renders(stack, acting, key):
    watches, started = generate(acting, key, stack.api_port)
    ends = wait_for_batches(watches)
    finished = max(end for _, end in ends.values())
    for watch in watches:
        watch.close()
    return watches, ends, started, finished


def summarize(label, watches, ends, started, finished, matchday, workers):
    first_video = {watch.tenant.id: watch.first_active.get(watch.batch, finished) - started
                   for watch in watches}
    made = sum(batch["counts"]["completed"] for batch, _ in ends.values())
    failed = sum(batch["counts"]["failed"] for batch, _ in ends.values())
    total = sum(batch["counts"]["total"] for batch, _ in ends.values())
    duplicated = sum(watch.duplicated() for watch in watches)
    matchday_end = ends[matchday.id][1]
    print(f"{label}: {made} of {total} videos in {finished - started:.1f} s "
          f"(Match Day's 50 in {matchday_end - started:.1f} s), {failed} failed")
    waits = sorted(first_video.values())
    job_seconds = (finished - started) * workers / max(1, made)
    first_jobs, other_jobs = [], []
    for watch in watches:
        runs = sorted((at, job) for (batch, job), at in watch.began.items() if batch == watch.batch)
        for number, (at, job) in enumerate(runs):
            if (watch.batch, job) in watch.ended:
                (other_jobs if number else first_jobs).append(watch.ended[(watch.batch, job)] - at)
    print(f"  time to the first video's start per agency: median {statistics.median(waits):.1f} s, "
          f"max {waits[-1]:.1f} s; the Match Day agency {first_video[matchday.id]:.1f} s")
    print("  all agencies, seconds: " + " ".join(f"{wait:.1f}" for wait in waits))
    # The broker serves the agencies in turn, so once an agency's batch is
    # queued, at most one job of each other agency starts before its first.
    starts = sorted(at for watch in watches for at, batch in watch.starts if batch == watch.batch)
    before = max(sum(1 for at in starts
                     if watch.answered < at < watch.first_active.get(watch.batch, finished))
                 for watch in watches)
    print(f"  jobs started after an agency's Generate all was answered and before its first "
          f"job: at most {before}; taking the agencies in turn allows {len(watches) - 1}")
    answers = sorted(watch.answered - started for watch in watches)
    print(f"  Generate all answered: median {statistics.median(answers):.2f} s, "
          f"max {answers[-1]:.2f} s")
    print(f"  a job took {job_seconds:.2f} s of a worker on average; an agency's first job "
          f"{statistics.mean(first_jobs):.2f} s, its others {statistics.mean(other_jobs):.2f} s")
    return {"wall": finished - started, "matchday": matchday_end - started, "made": made,
            "failed": failed, "total": total, "duplicated": duplicated,
            "first_start_max": waits[-1], "first_start_median": statistics.median(waits),
            "job_seconds": job_seconds, "first_job_seconds": statistics.mean(first_jobs), "answer_max": answers[-1],
            "before": before}


def sql(stack, query):
    """Runs QUERY on the store and returns the first row's values."""
    port = stack.db.rsplit(":", 1)[1].split("/")[0]
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "smmhub",
                          "-At", "-F", " ", "-c", query],
                         capture_output=True, text=True, check=True).stdout.split()
    return [float(value) if value else 0.0 for value in out]


def store_figures(stack, batches):
    """Returns the render cache hit rate of BATCHES' jobs, how many of their
    jobs the job history shows completed more than once, and how many have
    not ended."""
    ids = ",".join(f"'{batch}'" for batch in batches)
    hits, lookups = sql(stack, "SELECT COALESCE(SUM(cache_hits), 0), "
                               f"COALESCE(SUM(cache_lookups), 0) FROM jobs WHERE batch_id IN ({ids})")
    (duplicated,) = sql(stack, "SELECT COUNT(*) FROM (SELECT job_id FROM job_events WHERE "
                               f"batch_id IN ({ids}) AND to_state = 'completed' GROUP BY job_id "
                               "HAVING COUNT(*) > 1) AS repeated")
    (unfinished,) = sql(stack, f"SELECT COUNT(*) FROM jobs WHERE batch_id IN ({ids}) AND state "
                               "NOT IN ('completed', 'failed', 'cancelled')")
    return hits / lookups if lookups else 0.0, int(duplicated), int(unfinished)


def charged(admin, tenants, topup):
    total = 0
    for tenant in tenants:
        balance = admin.call("GET", f"/api/v1/admin/tenants/{tenant.id}/credits")
        total += topup - balance["available"] - balance["held"]
    return total


def plot(path, recorder, marks, origin):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seconds = {}
    for at, ms, _, _ in recorder.calls:
        seconds.setdefault(int(at - origin), []).append(ms)
    # A second without calls (the renders alone) breaks the lines.
    times, p99, p50 = [], [], []
    for second in sorted(seconds):
        if times and second - times[-1] > 1:
            times.append(second - 1)
            p99.append(math.nan)
            p50.append(math.nan)
        times.append(second)
        p99.append(percentile(seconds[second], 0.99))
        p50.append(percentile(seconds[second], 0.5))
    figure, latency = plt.subplots(figsize=(10, 4.5), dpi=100)
    latency.plot(times, p99, color="#C8102E", linewidth=1, label="API p99 per second")
    latency.plot(times, p50, color="#0B1D51", linewidth=1, label="API p50 per second")
    latency.set_xlabel("seconds since the agents started browsing")
    latency.set_ylabel("latency (ms)")
    latency.set_yscale("log")
    queue = latency.twinx()
    queue.plot([at - origin for at, _, _ in recorder.queue],
               [waiting for _, waiting, _ in recorder.queue], color="#2f9e44", linewidth=1.5,
               label="videos waiting in the queue")
    queue.set_ylabel("videos waiting")
    # Each label sits a line lower than the one before, so that marks close
    # in time stay readable.
    for number, (label, at) in enumerate(marks):
        latency.axvline(at - origin, color="#868e96", linestyle="--", linewidth=0.8)
        latency.text(at - origin, 0.98 - 0.06 * number, f" {label}", va="top", fontsize=8,
                     transform=latency.get_xaxis_transform())
    lines = latency.get_legend_handles_labels()
    more = queue.get_legend_handles_labels()
    latency.legend(lines[0] + more[0], lines[1] + more[1], loc="upper right", fontsize=8)
    latency.set_title("Match Day morning: API latency and queue depth")
    figure.tight_layout()
    figure.savefig(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--small-tenants", type=int, default=20)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rate", type=float, default=2.0, help="requests per second per agent")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--idle-seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds, each rendering once with browsing and once alone; "
                             "the figures are the medians")
    parser.add_argument("--plot", type=Path, default=REPOSITORY / "docs" / "scenario.png")
    parser.add_argument("--keep", action="store_true",
                        help="keep the servers' logs and data folder after the run")
    options = parser.parse_args()
    if options.agents > options.tenants or options.small_tenants + 1 > options.tenants:
        sys.exit("scenario: --agents and --small-tenants + 1 must not exceed --tenants")
    # Each agency that renders has 1,000 credits, and a round costs the Match
    # Day agency 100.
    if not 1 <= options.rounds <= 10:
        sys.exit(f"scenario: --rounds {options.rounds} is outside 1 to 10")

    stack = Stack(options.workers)
    try:
        stack.up()
        print(f"stack: {options.workers} workers, PostgreSQL, two Redis servers in {stack.dir}")
        admin = Client(stack.api_port, "127.0.0.1")
        admin.sign_in("admin@scenario.test")
        crests = json.loads((EXAMPLE / "brand/crests/index.json").read_text())
        crests = {name: file for name, file in crests.items()
                  if (EXAMPLE / "brand/crests" / file).exists()}

        tenants = [Tenant(index) for index in range(options.tenants)]
        tenants[0].rows = MATCHDAY_ROWS
        for tenant in tenants[1:max(options.agents, options.small_tenants + 1)]:
            tenant.rows = SMALL_ROWS
        acting = tenants[:options.small_tenants + 1]
        for tenant in acting:
            tenant.acting = True
        provisioned = time.monotonic()
        for tenant in tenants:
            create_tenant(admin, tenant, 1000 if tenant in acting else 0)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda tenant: fill_tenant(stack.api_port, tenant, crests), tenants))
        print(f"tenants: {len(tenants)} with brand kits and templates in "
              f"{time.monotonic() - provisioned:.1f} s")

        pids = {name: process.pid for name, process in stack.processes.items()
                if name not in ("initdb",)}
        recorder = Recorder()
        stop_sampling = threading.Event()
        sampler = threading.Thread(target=sample_queue, args=(tenants[0], stop_sampling, recorder))
        sampler.start()
        browsing = [tenant for tenant in tenants if tenant.campaign][:options.agents]

        def browse():
            """Starts the agents and returns the function that stops them."""
            stop = threading.Event()
            threads = [threading.Thread(target=agent, args=(tenant, options.rate, stop, recorder,
                                                            tenant.index))
                       for tenant in browsing]
            for thread in threads:
                thread.start()

            def end():
                stop.set()
                for thread in threads:
                    thread.join()
            return end

        origin = time.monotonic()
        stop_agents = browse()
        time.sleep(options.idle_seconds)
        # The first calls open connections and warm caches; they are left out.
        idle = recorder.between(origin + min(2.0, options.idle_seconds / 2), time.monotonic())

        def render(kind, number):
            """Renders the acting agencies' batches from an empty render buffer."""
            stack.flush_cache()
            time.sleep(1)
            cpu_before = cpu_seconds(pids)
            watches, ends, started, finished = run_renders(stack, acting, f"{kind}-{number}")
            cpu = {name: seconds - cpu_before.get(name, 0)
                   for name, seconds in cpu_seconds(pids).items()}
            label = f"round {number + 1}, " + ("with browsing" if kind == "busy"
                                               else "nobody browsing")
            figures = summarize(label, watches, ends, started, finished, acting[0],
                                options.workers)
            figures.update(cpu=cpu, started=started, finished=finished,
                           batches=[watch.batch for watch in watches])
            return figures

        busy_runs, alone_runs, marks = [], [], []
        for number in range(options.rounds):
            # Every other round renders alone first, so that a machine that
            # speeds up or slows down during the run weighs on both sides.
            for kind in ("busy", "alone") if number % 2 == 0 else ("alone", "busy"):
                if kind == "busy":
                    if stop_agents is None:
                        stop_agents = browse()
                        time.sleep(2.0)  # the agents' first calls open connections
                    busy_runs.append(render(kind, number))
                    stop_agents()
                    stop_agents = None
                    marks.append((f"{number + 1}: Generate all", busy_runs[-1]["started"]))
                else:
                    alone_runs.append(render(kind, number))
                    marks.append((f"{number + 1}: alone", alone_runs[-1]["started"]))
            print(f"round {number + 1}: {busy_runs[-1]['wall']:.1f} s with browsing, "
                  f"{alone_runs[-1]['wall']:.1f} s alone")
        stop_sampling.set()
        sampler.join()

        busy, busy_pages = [], {}
        busy_worst_second, worst_second_at = 0.0, 0
        for run in busy_runs:
            busy += recorder.between(run["started"], run["finished"])
            worst, at = recorder.worst_second(run["started"], run["finished"])
            if worst > busy_worst_second:
                busy_worst_second, worst_second_at = worst, at
            for page, values in recorder.pages(run["started"], run["finished"]).items():
                busy_pages.setdefault(page, []).extend(values)
        busy_hit, busy_repeats, busy_unfinished = store_figures(
            stack, [batch for run in busy_runs for batch in run["batches"]])
        alone_hit, alone_repeats, alone_unfinished = store_figures(
            stack, [batch for run in alone_runs for batch in run["batches"]])
        runs = busy_runs + alone_runs
        credits = charged(admin, acting, 1000)
        videos = sum(run["made"] for run in runs)
        accepted = sum(run["total"] for run in runs)
        files = sum(1 for _ in stack.storage.rglob("*.mp4"))
        lost = accepted - sum(run["made"] + run["failed"] for run in runs) + \
            busy_unfinished + alone_unfinished
        duplicated = busy_repeats + alone_repeats + sum(run["duplicated"] for run in runs)

        def median(runs, key):
            return statistics.median(run[key] for run in runs)

        def cpu_total(runs):
            return {name: sum(run["cpu"].get(name, 0) for run in runs)
                    for name in runs[0]["cpu"]}

        cpu_busy, cpu_alone = cpu_total(busy_runs), cpu_total(alone_runs)
        batch_wall, alone_wall = median(busy_runs, "wall"), median(alone_runs, "wall")
        errors = sum(1 for _, _, status, _ in recorder.calls if status != 200)
        if recorder.queue_errors:
            print(f"queue samples failed: {len(recorder.queue_errors)}, first: "
                  f"{recorder.queue_errors[0]}")
        print(f"API, {len(browsing)} agents at {options.rate:g} calls/s each: idle p50 "
              f"{percentile(idle, 0.5):.2f} ms, p99 {percentile(idle, 0.99):.2f} ms, max "
              f"{max(idle, default=math.nan):.2f} ms ({len(idle)} calls); during the batch p50 "
              f"{percentile(busy, 0.5):.2f} ms, p99 {percentile(busy, 0.99):.2f} ms, max "
              f"{max(busy, default=math.nan):.2f} ms ({len(busy)} calls); {errors} calls not 200")
        print(f"API p99 of the worst second during the batch: {busy_worst_second:.2f} ms, "
              f"{worst_second_at} s after Generate all")
        print("API by page during the batch: p50 / p99 / max ms (calls)")
        for page in sorted(busy_pages):
            values = busy_pages[page]
            print(f"  {page:<36} {percentile(values, 0.5):6.2f} {percentile(values, 0.99):7.2f} "
                  f"{max(values):7.2f} ({len(values)})")
        print(f"render cache hit rate: {busy_hit:.3f} with browsing, {alone_hit:.3f} alone")
        print(f"credits charged {credits}, videos made {videos}, MP4 files {files}, "
              f"lost {lost}, duplicated {duplicated}")
        print(f"renders, median of {options.rounds} rounds: {batch_wall:.1f} s with browsing, "
              f"{alone_wall:.1f} s alone ({100 * (batch_wall / alone_wall - 1):+.1f}%)")
        print("CPU seconds by process, all rounds (with browsing / alone):")
        for name in sorted(cpu_busy):
            print(f"  {name:<10} {cpu_busy[name]:8.1f} {cpu_alone.get(name, 0):8.1f}")
        plot(options.plot, recorder, marks, origin)
        print(f"plot: {options.plot}")
        print(" ".join([
            f"tenants={len(tenants)}",
            f"workers={options.workers}",
            f"agents={len(browsing)}",
            f"rounds={options.rounds}",
            f"batch_wall_s={batch_wall:.1f}",
            f"batch_alone_wall_s={alone_wall:.1f}",
            f"render_loss_pct={100 * (batch_wall / alone_wall - 1):.1f}",
            f"matchday_wall_s={median(busy_runs, 'matchday'):.1f}",
            f"matchday_alone_wall_s={median(alone_runs, 'matchday'):.1f}",
            f"first_start_max_s={max(run['first_start_max'] for run in busy_runs):.1f}",
            f"first_start_median_s={median(busy_runs, 'first_start_median'):.1f}",
            f"first_start_jobs_before_max={max(run['before'] for run in busy_runs)}",
            f"job_s={median(busy_runs, 'job_seconds'):.2f}",
            f"first_job_s={median(busy_runs, 'first_job_seconds'):.2f}",
            f"api_p50_ms={percentile(busy, 0.5):.2f}",
            f"api_p99_ms={percentile(busy, 0.99):.2f}",
            f"api_max_ms={max(busy, default=math.nan):.2f}",
            f"api_worst_second_p99_ms={busy_worst_second:.2f}",
            f"api_idle_p50_ms={percentile(idle, 0.5):.2f}",
            f"api_idle_p99_ms={percentile(idle, 0.99):.2f}",
            f"api_errors={errors}",
            f"cache_hit_rate={busy_hit:.3f}",
            f"cache_hit_rate_alone={alone_hit:.3f}",
            f"videos={videos}",
            f"credits_charged={credits}",
            f"lost={lost}",
            f"duplicated={duplicated}",
        ]))
    finally:
        stack.stop(options.keep)


if __name__ == "__main__":
    main()
