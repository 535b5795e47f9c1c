#!/usr/bin/env python3
"""Schemathesis against a real center: the document the center serves, fuzzed, bounded in time.

Starts `radqc center serve` on a loopback port with a site, an enrolled device that synced a
few evaluations (one corrected, one failing: a notice), and a regional person's token; then runs
`st run` on the served /api/v1/openapi.json with the push operation under a second device's token
and the reads under the person's. On SQLite, and again on a fresh PostgreSQL database when
--database-url (or $RADQC_TEST_DATABASE_URL, as scripts/test.sh sets it) names a server. The
checks (CHECKS below): no 5xx, every status, header and content type one the document gives for
the operation, every body matching its schema, a request the document calls invalid refused,
405 with `Allow` for a method a path does not take, a missing token refused. Exits non-zero on
any finding, with schemathesis's `curl` to reproduce it.

usage: tests/api/fuzz.py [--radqc target/debug/radqc] [--max-examples N] [--seed N]
                         [--database-url postgres://…/postgres]
Run by scripts/test.sh with the venv that scripts/setup.sh makes (schemathesis pinned in
tests/api/requirements.txt).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every check of this schemathesis but `positive_data_acceptance` (cross-parameter rules such as
# `month` with `from` refuse requests each of whose parameters is valid) and
# `object_level_authorization` (needs links between operations the document does not declare).
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
]
if os.environ.get("RADQC_FUZZ_CHECKS"):
    CHECKS = os.environ["RADQC_FUZZ_CHECKS"].split(",")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--radqc", default=str(ROOT / "target/debug/radqc"))
    parser.add_argument("--max-examples", type=int, default=300, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=None, help="reproduce a run")
    parser.add_argument("--timeout", type=int, default=180, help="seconds for each backend's schemathesis run")
    parser.add_argument("--database-url", default=os.environ.get("RADQC_TEST_DATABASE_URL"),
                        help="a PostgreSQL server (postgres://…/dbname) where a fresh database may be created: "
                             "the run is repeated on it (default: $RADQC_TEST_DATABASE_URL)")
    args = parser.parse_args()
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    if not st:
        print("fuzz: schemathesis (`st`) is not installed: run scripts/setup.sh", file=sys.stderr)
        return 2
    radqc_bin = args.radqc
    if not os.access(radqc_bin, os.X_OK):
        print(f"fuzz: {radqc_bin} is not built (cargo build -p radqc-cli)", file=sys.stderr)
        return 2

    backends = [("sqlite", None)]
    if args.database_url:
        backends.append(("postgres", fresh_postgres(args.database_url)))
    elif os.environ.get("RADQC_REQUIRE_POSTGRES") == "1":
        print("fuzz: RADQC_REQUIRE_POSTGRES=1 but no --database-url / RADQC_TEST_DATABASE_URL", file=sys.stderr)
        return 2
    failed = []
    for name, url in backends:
        print(f"fuzz: === {name} ===", flush=True)
        if fuzz(args, st, radqc_bin, url) != 0:
            failed.append(name)
    print(f"fuzz: {len(backends) - len(failed)} passed, {len(failed)} failed" + (f" ({', '.join(failed)})" if failed else ""))
    return 1 if failed else 0


def fresh_postgres(admin_url: str) -> str:
    """A new, empty database on the server behind admin_url (psql must be on PATH)."""
    name = "radqc_fuzz_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", "-q", admin_url, "-c", f"CREATE DATABASE {name}"], check=True)
    return admin_url.rsplit("/", 1)[0] + "/" + name


def fuzz(args, st: str, radqc_bin: str, database_url: str | None) -> int:
    """One center (SQLite in a temporary folder, or database_url), set up and fuzzed."""
    with tempfile.TemporaryDirectory(prefix="radqc-fuzz-") as tmp:
        tmp = Path(tmp)
        center = ["--database-url", database_url] if database_url else ["--db", str(tmp / "center.db")]

        def radqc(*argv: str, stdin: str = "") -> str:
            out = subprocess.run([radqc_bin, *argv], input=stdin, capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(f"fuzz: radqc {' '.join(argv)} failed: {out.stderr.strip()}")
            return out.stdout.strip()

        radqc("center", "site", "add", "NJGL", "--name", "鼓楼医院放射科", *center)
        store_code = radqc("center", "device", "enroll", "--site", "NJGL", *center)
        device_code = radqc("center", "device", "enroll", "--site", "NJGL", *center)
        for code, name, role in [("ADM", "区域管理员", "center_admin"), ("A3", "王技师", "technologist")]:
            radqc("center", "staff", "add", "--site", "NJGL", "--code", code, "--name", name, "--role", role,
                  *center)
        person_token = radqc("center", "staff", "token", "--site", "NJGL", "--code", "ADM", *center)

        server = subprocess.Popen(
            [radqc_bin, "center", "serve", "--listen", "127.0.0.1:0", *center],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            first = server.stdout.readline().strip()
            if not first.startswith("listening on "):
                raise SystemExit(f"fuzz: the center did not start: {first} {server.stderr.read()}")
            url = first.removeprefix("listening on ")
            print(f"fuzz: center at {url}")

            # A clinic's store with real evaluations, synced: the reads have data to answer with.
            qc = str(tmp / "qc.db")
            radqc("local", "init", "--db", qc, "--site", "NJGL")
            radqc("local", "enroll", "--db", qc, "--center", url, "--code", store_code)

            def line(accession: str, item: str, findings: list, supersedes: str | None = None) -> str:
                return json.dumps({
                    "item": item, "findings": findings, "supersedes": supersedes, "reviewer": "D2",
                    "mode": "random", "note": "体位不正",
                    "exam": {"accession": accession, "modality": "DR", "exam_item": "胸部正位片",
                             "staff": {"technologist": "A3", "reporting_doctor": "D2"}},
                })

            ids = radqc("local", "save", "--db", qc,
                        stdin="\n".join([line("DR1", "IQ", ["IQ-C2"]), line("DR2", "IQ", ["IQ-S1"]),
                                         line("DR3", "RQ", [])]) + "\n").split()
            radqc("local", "save", "--db", qc, stdin=line("DR1", "IQ", [], supersedes=ids[0]) + "\n")
            synced = json.loads(radqc("sync", "--once", "--db", qc))
            if synced.get("outcome") != "synced":
                raise SystemExit(f"fuzz: the clinic did not sync: {synced}")

            # A second device, whose token the push operation is fuzzed with.
            req = urllib.request.Request(
                f"{url}/api/v1/enroll",
                data=json.dumps({"code": device_code, "device_id": str(uuid.uuid4())}).encode(),
                headers={"Content-Type": "application/json"},
            )
            device_token = json.load(urllib.request.urlopen(req, timeout=10))["token"]

            config = tmp / "schemathesis.toml"
            config.write_text(
                f'headers = {{ Authorization = "Bearer {person_token}" }}\n'
                "[[operations]]\n"
                'include-path = "/api/v1/push"\n'
                f'headers = {{ Authorization = "Bearer {device_token}" }}\n'
            )
            cmd = [
                st, "--config-file", str(config), "--no-color", "run", f"{url}/api/v1/openapi.json",
                "--checks", ",".join(CHECKS),
                "--max-examples", str(args.max_examples),
                "--workers", "1",
                "--request-timeout", "20",
                "--generation-database", "none",
                "--suppress-health-check", "too_slow",
                "--warnings", "off",
            ]
            if args.seed is not None:
                cmd += ["--seed", str(args.seed)]
            print("fuzz: " + " ".join(cmd).replace(person_token, "<person>").replace(device_token, "<device>"))
            try:
                # In the temporary folder: schemathesis keeps its crash cache in the working directory.
                rc = subprocess.run(cmd, timeout=args.timeout, cwd=tmp).returncode
            except subprocess.TimeoutExpired:
                print(f"fuzz: schemathesis did not finish in {args.timeout}s", file=sys.stderr)
                return 1
            if server.poll() is not None:
                print(f"fuzz: the center died: {server.stderr.read()}", file=sys.stderr)
                return 1
            return rc
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
