#!/usr/bin/env python3
"""A department's day of HL7 v2 through a real HL7 client the project did not write (the `hl7`
package from PyPI: MLLPClient, and its parser for the answers) into `radqc hl7 listen`.

It sends orders, status updates (performed, with the technologist), preliminary and final
results, cancels, patient updates and merges (ORM^O01 and OMI^O23 orders, status by ORM or
OMG^O19); in UTF-8 and GB18030; with duplicates, whole
exams out of order, and bad messages. The listener is killed with SIGKILL mid-stream and
started again; the client sends again whatever was not answered, as an MLLP sender does.

The store is enrolled with a real center (`radqc center serve` on loopback); once the day is
in, `radqc sync --once` pushes the exams the RIS brought.

It checks: every bad message got AE or AR (and every good one AA); every message answered AA
before the kill is in the store; the workload of figure 5, at the site (`radqc report`) and at
the center (`radqc center report`), equals the count computed here from the messages, per
technologist and modality; the technologists the RIS named are listed for mapping to the
roster (`radqc hl7 staff`); and 5.1, once a QC officer scored some of the reports, counts them
qualified by the general data (5.3 a) the RIS sent, at the site and at the center.

Usage: peer.py --radqc target/debug/radqc [--exams 600]
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta

import hl7
from hl7.client import MLLPClient

SB, EB, CR = b"\x0b", b"\x1c", b"\x0d"


def seg(sid, fields):
    n = max(fields) if fields else 0
    v = [""] * (n + 1)
    v[0] = sid
    for i, f in fields.items():
        v[i] = f
    return "|".join(v)


class Day:
    """The messages of one day, and what they should add up to."""

    def __init__(self, exams, seed=20261118):
        self.rng = random.Random(seed)
        self.exams = exams
        self.seq = 0
        self.start = datetime(2026, 11, 18, 7, 30)
        self.messages = []  # (control id, bytes, expected answer: "AA" | "bad")
        self.workload = Counter()  # (technologist, modality) -> exams performed
        self.patients = {}
        self.performed = []  # (accession, modality counted, exam item) of exams performed, in order

    def control(self):
        self.seq += 1
        return f"MSG{self.seq:06d}"

    def msh(self, kind, control, at, charset):
        label = {"utf-8": "UNICODE UTF-8", "gb18030": "GB 18030-2000"}[charset]
        return f"MSH|^~\\&|RIS|NJGL|RADQC|NJGL|{at:%Y%m%d%H%M%S}||{kind}|{control}|P|2.3.1||||||{label}"

    def encode(self, lines, charset):
        return ("\r".join(lines) + "\r").encode(charset)

    def build(self):
        rng = self.rng
        modalities = [("CT", "CT001", "CT胸部平扫"), ("MR", "MR010", "MR头颅平扫"), ("DR", "DR002", "胸部正位片"),
                      ("CR", "DR003", "腰椎正侧位片"), ("CT", "CT007", "CT全腹部平扫+增强")]
        for n in range(self.exams):
            acc = f"ACC{n:05d}"
            charset = "gb18030" if rng.random() < 0.3 else "utf-8"
            modality, code, item = rng.choice(modalities)
            tech = f"T{rng.randint(1, 8):02d}"
            doctor = f"D{rng.randint(1, 4)}"
            pid = f"P{rng.randint(1, 400):06d}"
            sex = rng.choice(["F", "M"])
            birth = datetime(1940 + rng.randint(0, 60), rng.randint(1, 12), rng.randint(1, 28))
            self.patients[pid] = sex
            t0 = self.start + timedelta(minutes=n)
            pclass = rng.choice(["O", "O", "E", "I"])
            pid_seg = f"PID|||{pid}^^^NJGL||患者^{n}||{birth:%Y%m%d}|{sex}"
            pv1 = seg("PV1", {2: pclass})
            obr = lambda status_fields: seg("OBR", {1: "1", 2: acc, 4: f"{code}^{item}", 18: acc, 24: modality, **status_fields})
            exam = []
            if rng.random() < 0.2:
                # IHE's newer order (OMI^O23): the accession and modality in IPC as well.
                exam.append([self.msh("OMI^O23^OMI_O23", self.control(), t0, charset), pid_seg, pv1,
                             seg("ORC", {1: "NW", 2: acc, 5: "SC", 17: "^呼吸内科"}), obr({}),
                             f"IPC|{acc}|RP-{acc}|1.2.156.{n}|SPS-{acc}|{modality}"])
            else:
                exam.append([self.msh("ORM^O01", self.control(), t0, charset), pid_seg, pv1,
                             seg("ORC", {1: "NW", 2: acc, 5: "SC", 17: "^呼吸内科"}), obr({})])
            cancelled = rng.random() < 0.05
            if cancelled:
                exam.append([self.msh("ORM^O01", self.control(), t0 + timedelta(minutes=20), charset), pid_seg,
                             seg("ORC", {1: "CA", 2: acc, 5: "CA"}), obr({})])
            else:
                done = t0 + timedelta(minutes=30)
                # The status as ORM or, from some platforms, as a general order (OMG^O19).
                status_kind = "OMG^O19^OMG_O19" if rng.random() < 0.2 else "ORM^O01"
                exam.append([self.msh(status_kind, self.control(), done, charset), pid_seg, pv1,
                             seg("ORC", {1: "SC", 2: acc, 5: "CM"}), obr({7: f"{done:%Y%m%d%H%M%S}", 34: tech})])
                for status, minutes, text in [("P", 90, "初步意见：未见明显异常。"), ("F", 150, "诊断意见：未见明显异常。")]:
                    at = t0 + timedelta(minutes=minutes)
                    exam.append([self.msh("ORU^R01", self.control(), at, charset), pid_seg,
                                 obr({22: f"{at:%Y%m%d%H%M%S}", 25: status, 32: doctor, 33: "D9"}),
                                 "OBX|1|TX|18782-3^影像所见^LN||双肺纹理清晰，肺门不大。",
                                 f"OBX|2|TX|19005-8^诊断意见^LN||{text}"])
                self.workload[(tech, "DR" if modality == "CR" else modality)] += 1
                self.performed.append((acc, "DR" if modality == "CR" else modality, item))
            # One exam in seven arrives backwards (its result before its order).
            if rng.random() < 1 / 7:
                exam.reverse()
            for lines in exam:
                control = lines[0].split("|")[9]
                self.messages.append((control, self.encode(lines, charset), "AA"))
        # Patient updates (ADT^A08) and a few merges (ADT^A40) into patients that exist.
        late = self.start + timedelta(hours=14)
        pids = sorted(self.patients)
        for pid in pids[:40]:
            self.messages.append((c := self.control(), self.encode(
                [self.msh("ADT^A08", c, late, "utf-8"), f"PID|||{pid}^^^NJGL||||19700101|{self.patients[pid]}"], "utf-8"), "AA"))
        for a, b in zip(pids[40:50], pids[50:60]):
            self.messages.append((c := self.control(), self.encode(
                [self.msh("ADT^A40", c, late, "utf-8"), f"PID|||{b}", f"MRG|{a}"], "utf-8"), "AA"))
        # Bad messages: each kind five times, spread through the day.
        bad = []
        for k in range(5):
            at = self.start + timedelta(hours=k)
            c = self.control()
            bad.append((c, self.encode([self.msh("ORM^O01", c, at, "utf-8"), "PID|||P1", seg("ORC", {1: "NW", 5: "SC"}),
                                        seg("OBR", {1: "1", 4: "CT001^CT胸部平扫", 24: "CT"})], "utf-8")))  # no accession
            c = self.control()
            bad.append((c, self.encode([self.msh("ORM^O01", c, at, "utf-8"), "PID|||P1||||19700101|Q",
                                        seg("ORC", {1: "NW", 2: "BAD1", 5: "SC"}),
                                        seg("OBR", {1: "1", 4: "CT001^CT胸部平扫", 18: "BAD1", 24: "CT"})], "utf-8")))  # bad sex
            c = self.control()
            bad.append((c, self.encode([self.msh("SIU^S12", c, at, "utf-8"), "SCH|1"], "utf-8")))  # not taken
            c = self.control()
            bad.append((c, self.encode([self.msh("ORM^O01", c, at, "utf-8").replace("UNICODE UTF-8", "ISO IR87"), "PID|||P1"], "utf-8")))
            c = self.control()
            bad.append((c, b"HELLO, THIS IS NOT HL7\r"))
            c = self.control()
            bad.append((c, self.encode([self.msh("ORM^O01", c, at, "utf-8").replace(f"{at:%Y%m%d%H%M%S}", "2026-11-18"), "PID|||P1",
                                        seg("ORC", {1: "NW", 2: "BAD2", 5: "SC"}),
                                        seg("OBR", {1: "1", 4: "CT001^CT胸部平扫", 18: "BAD2", 24: "CT"})], "utf-8")))  # bad time
            c = self.control()
            bad.append((c, self.encode([self.msh("ORM^O01", c, at, "utf-8"), "PID|||P1||患者",
                                        seg("ORC", {1: "NW", 2: "BAD3", 5: "SC"}),
                                        seg("OBR", {1: "1", 4: "CT001^CT胸部平扫", 18: "BAD3", 24: "CT"})], "gb18030")))  # mislabelled
            c = self.control()
            bad.append((c, self.encode([self.msh("ORM^O01", c, at, "utf-8"), "PID|||P1", seg("ORC", {1: "NW", 2: "BAD4", 5: "SC"}),
                                        seg("OBR", {1: "1", 4: "CT001^CT胸部平扫", 18: "BAD4"})], "utf-8")))  # no modality
        for b in bad:
            self.messages.insert(rng.randrange(len(self.messages)), (b[0], b[1], "bad"))
        # Duplicates: 5 % of the messages sent again later, byte for byte.
        for _ in range(len(self.messages) // 20):
            i = rng.randrange(len(self.messages))
            j = rng.randrange(i, len(self.messages) + 1)
            self.messages.insert(j, self.messages[i])
        return self


class Listener:
    def __init__(self, radqc, db):
        self.proc = subprocess.Popen([radqc, "hl7", "listen", "--db", db, "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        host, port = line.removeprefix("listening on ").rsplit(":", 1)
        self.host, self.port = host, int(port)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


class CenterServer:
    """A real center on a loopback port, SQLite, with the site NJGL and an enrollment code."""

    def __init__(self, radqc, tmp):
        self.db = os.path.join(tmp, "center.db")
        run = lambda *a: subprocess.run([radqc, "center", *a], check=True, capture_output=True, text=True).stdout
        run("site", "add", "--db", self.db, "NJGL", "--name", "南京鼓楼医院放射科")
        self.code = run("device", "enroll", "--db", self.db, "--site", "NJGL").strip()
        self.proc = subprocess.Popen([radqc, "center", "serve", "--db", self.db, "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        self.url = line.removeprefix("listening on ")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def outbox_pending(radqc, db):
    out = subprocess.run([radqc, "local", "outbox", "--db", db], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["pending"]


def workload_of(report):
    got = Counter()
    for row in report["workload"]["rows"]:
        for modality, count in row["by_modality"].items():
            got[(row["person"], modality)] += count
    return got


def answer_code(raw):
    """MSA-1 of an answer, read with the hl7 package's own parser."""
    body = raw.strip(SB + EB + CR + b"\n")
    text = body.decode("gb18030" if b"GB 18030" in body else "utf-8")
    return str(hl7.parse(text).segment("MSA")[1])


def send_all(day, radqc, db, kill_at):
    listener = Listener(radqc, db)
    acked_before_kill = set()
    answers = {}  # index -> code
    i = 0
    killed = False
    client = MLLPClient(listener.host, listener.port)
    while i < len(day.messages):
        control, data, expect = day.messages[i]
        if not killed and i == kill_at:
            listener.kill()
            killed = True
            acked_before_kill = {day.messages[k][0] for k, code in answers.items() if code == "AA"}
        try:
            raw = client.send(SB + data + EB + CR)
            if not raw:
                raise ConnectionError("closed")
            while not raw.endswith(EB + CR):
                more = client.socket.recv(4096)
                if not more:
                    raise ConnectionError("closed mid-answer")
                raw += more
        except (ConnectionError, OSError):
            # The listener is gone: start it again and send this message again.
            client.close()
            time.sleep(0.2)
            listener = Listener(radqc, db)
            client = MLLPClient(listener.host, listener.port)
            continue
        answers[i] = answer_code(raw)
        i += 1
    client.close()
    return listener, answers, acked_before_kill


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--radqc", required=True)
    ap.add_argument("--exams", type=int, default=600)
    args = ap.parse_args()
    radqc = os.path.abspath(args.radqc)
    day = Day(args.exams).build()
    n = len(day.messages)
    assert n >= 2000, f"a department's day is at least 2,000 messages, built {n}"
    # Every kind of message the listener takes is in the day (MSH-9, the message's own bytes).
    def kind(raw):
        msh = raw.split(b"\r")[0].split(b"|")
        return "^".join(p.decode() for p in msh[8].split(b"^")[:2]) if len(msh) > 8 else "(not HL7)"
    kinds = Counter(kind(raw) for _, raw, _ in day.messages)
    for kind in ["ORM^O01", "OMI^O23", "OMG^O19", "ORU^R01", "ADT^A08", "ADT^A40"]:
        assert kinds[kind] > 0, f"the day has no {kind}: {kinds}"
    env = dict(os.environ, RADQC_KEY_IN="file")
    os.environ.update(env)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "qc.db")
        subprocess.run([radqc, "local", "init", "--db", db, "--site", "NJGL"], check=True, stdout=subprocess.DEVNULL)
        center = CenterServer(radqc, tmp)
        subprocess.run([radqc, "local", "enroll", "--db", db, "--center", center.url, "--code", center.code],
                       check=True, capture_output=True, text=True)
        started = time.monotonic()
        listener, answers, acked_before_kill = send_all(day, radqc, db, kill_at=n // 2)
        took = time.monotonic() - started
        listener.kill()
        synced = time.monotonic()
        subprocess.run([radqc, "sync", "--once", "--db", db], check=True, capture_output=True, text=True)
        synced_in = time.monotonic() - synced
        failures = []
        if outbox_pending(radqc, db) > 0:
            failures.append(f"the sync did not push the outbox: {outbox_pending(radqc, db)} entries pending")
        for i, (control, _, expect) in enumerate(day.messages):
            code = answers[i]
            if expect == "AA" and code != "AA":
                failures.append(f"{control}: a good message was answered {code}")
            if expect == "bad" and code not in ("AE", "AR"):
                failures.append(f"{control}: a bad message was answered {code}")
        bad = sum(1 for m in day.messages if m[2] == "bad")
        kept = [json.loads(l) for l in subprocess.run([radqc, "hl7", "messages", "--db", db], check=True,
                                                        capture_output=True, text=True).stdout.splitlines()]
        kept_aa = {m["control_id"] for m in kept if m["ack_code"] == "AA"}
        lost = sorted(acked_before_kill - kept_aa)
        if lost:
            failures.append(f"{len(lost)} messages answered AA before the kill are not in the store: {lost[:5]}")
        report = json.loads(subprocess.run([radqc, "report", "--db", db, "--month", "2026-11"], check=True,
                                           capture_output=True, text=True).stdout)
        center_report = lambda: json.loads(subprocess.run(
            [radqc, "center", "report", "--db", center.db, "--month", "2026-11", "--site", "NJGL"], check=True,
            capture_output=True, text=True).stdout)
        for where, got in (("the site", workload_of(report)), ("the center", workload_of(center_report()))):
            if got != day.workload:
                diff = {k: (day.workload.get(k, 0), got.get(k, 0)) for k in set(got) | set(day.workload)
                        if day.workload.get(k, 0) != got.get(k, 0)}
                failures.append(f"figure 5 at {where} differs from the messages (expected, got): {diff}")
        # Staff codes the RIS named are kept and listed for mapping to the roster (none here).
        listed = [json.loads(l) for l in subprocess.run([radqc, "hl7", "staff", "--db", db], check=True,
                                                          capture_output=True, text=True).stdout.splitlines()]
        techs = {(r["code"], r["exams"]) for r in listed if r["role"] == "technologist"}
        performed_by = Counter()
        for (tech, _), count in day.workload.items():
            performed_by[tech] += count
        if {t for t, _ in techs} != set(performed_by) or any(n < performed_by[t] for t, n in techs):
            failures.append(f"the RIS's technologists are not all listed for mapping: {sorted(techs)}")
        # 5.1: a QC officer scores 60 of the day's reports (RQ), 20 of them failing; every exam's
        # general data (5.3 a: patient, department, date, both doctors) came from the RIS, so the
        # qualified cases are exactly the passing ones.
        scored = day.performed[:60]
        lines = []
        for k, (acc, modality, item) in enumerate(scored):
            lines.append(json.dumps({
                "item": "RQ", "findings": ["RQ-S2"] if k % 3 == 0 else [],
                "exam": {"accession": acc, "modality": modality, "exam_item": item},
                "reviewer": "Q1", "mode": "random", "at": "2026-11-18T09:00:00Z"}, ensure_ascii=False))
        subprocess.run([radqc, "local", "save", "--db", db], input="\n".join(lines) + "\n", check=True,
                       capture_output=True, text=True)
        report = json.loads(subprocess.run([radqc, "report", "--db", db, "--month", "2026-11"], check=True,
                                           capture_output=True, text=True).stdout)
        want = (len(scored), sum(1 for k in range(len(scored)) if k % 3 != 0))
        got51 = (report["indicators"]["sampled"], report["indicators"]["qualified"])
        if got51 != want:
            failures.append(f"5.1 (sampled, qualified) is {got51}, the messages and scores give {want}")
        total = sum(day.workload.values())
        if report["workload"]["total"] != total:
            failures.append(f"workload total {report['workload']['total']} != {total}")
        # The scores go to the center too: its 5.1 reads the same general data from the RIS.
        subprocess.run([radqc, "sync", "--once", "--db", db], check=True, capture_output=True, text=True)
        at_center = center_report()
        got51c = (at_center["indicators"]["sampled"], at_center["indicators"]["qualified"])
        if got51c != want:
            failures.append(f"5.1 at the center (sampled, qualified) is {got51c}, the messages and scores give {want}")
        if at_center["workload"]["total"] != total:
            failures.append(f"the center's workload total {at_center['workload']['total']} != {total}")
        center.stop()
        print(f"5.1: {want[0]} sampled, {want[1]} qualified, the general data from the RIS; "
              f"hl7 peer: {n} messages ({bad} bad, {n - len({m[0] for m in day.messages})} repeats) in {took:.1f}s, "
              f"listener killed once at message {n // 2} ({len(acked_before_kill)} answered AA before it, none lost); "
              f"pushed to the center in {synced_in:.1f}s; "
              f"figure 5 at the site and the center: {total} exams by {len({k[0] for k in day.workload})} technologists; "
              f"kinds: {dict(sorted(kinds.items()))}")
        if failures:
            for f in failures[:20]:
                print("FAIL", f, file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
