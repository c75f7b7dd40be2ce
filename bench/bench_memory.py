"""Memory of the processes ``make run`` starts, measured on real processes (``/proc/<pid>/status``).

1. ``run.py`` (the launcher) on a fresh instance in a temporary directory, on a free port: it
   migrates, seeds the demo, starts the embedded Redis, the RQ worker and gunicorn. When the
   first page answers: ``launcher_rss_mb`` (the launcher's VmRSS) and ``first_page_s`` (from
   starting ``run.py`` to the first page, with the venv and the translations already there:
   no installation is measured here; see README for a fresh clone).
2. Beside it, on the same database and Redis, ``gunicorn -w 1``: log in as ``qs_author``
   through the login form, create a 200,000-character report through the new-report form,
   open its page, save it again through the edit form. Then ``web_worker_rss_mb`` (the
   gunicorn worker's VmRSS, and VmHWM: its peak), with ``web_worker_idle_rss_mb`` (after the
   first page, before any report) beside it.

The figures depend on the Python build and the libraries, not on the machine's load.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
REPORT_CHARS = 200_000
DEMO_PASSWORD = "chengbao-demo"


def status_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of ``pid`` in MB."""
    text = Path(f"/proc/{pid}/status").read_text()
    return {key: round(int(re.search(rf"{key}:\s+(\d+) kB", text).group(1)) / 1024, 1)  # type: ignore[union-attr]
            for key in ("VmRSS", "VmHWM")}


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_page(url: str, seconds: float, process: subprocess.Popen) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _common_hanzi() -> str:
    """GB 2312's first level: the 3,755 most common hanzi (every Chinese font has them)."""
    return "".join(bytes([row, cell]).decode("gb2312") for row in range(0xB0, 0xD8) for cell in range(0xA1, 0xFF)
                   if (row, cell) < (0xD7, 0xFA))


def report_text(chars: int = REPORT_CHARS) -> str:
    """A long, well-formed report: numbered sections (一、… with （一）（二）（三） under each) of
    paragraphs of the demo's kind, with the 3,755 common hanzi spread over them (so that the
    missing-glyph check sees thousands of distinct characters, none of them missing)."""
    from workflow.importer import chinese_numeral

    sentence = ("围绕茶叶精深加工和山地旅游两条主线，全年计划实施重点项目6个，完成固定资产投资2.4亿元。"
                "落实“一个项目、一名领导、一套班子”推进机制，每月调度一次进度。")
    hanzi = _common_hanzi()
    lines: list[str] = []
    size, n = 0, 0
    while size < chars:
        wide = hanzi[(n * 60) % len(hanzi):][:60]
        body = sentence * 6 + wide + "。"
        heading = f"{chinese_numeral(n + 1)}、第{n + 1}部分工作情况"
        lines += [heading, "（一）主要做法", body, body, "（二）存在的问题", body, body, "（三）下一步打算", body, body]
        size += len(heading) + len(body) * 6 + 30
        n += 1
    return "\n".join(lines)[:chars]


class Browser:
    """A cookie-keeping client that submits the real forms (with their CSRF tokens)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> str:
        return self.opener.open(self.base + path, timeout=120).read().decode()

    def post(self, path: str, fields: dict, page: str | None = None) -> tuple[str, str]:
        html = page if page is not None else self.get(path)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        fields = {**fields, "csrf_token": token}
        if 'enctype="multipart/form-data"' in html:  # as a browser sends the report editor's form
            boundary = "----chengbao-bench-" + os.urandom(8).hex()
            data = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                            .encode() for name, value in fields.items()) + f"--{boundary}--\r\n".encode()
            request = urllib.request.Request(self.base + path, data=data,
                                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        else:
            request = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(fields).encode())
        response = self.opener.open(request, timeout=300)
        return response.geturl(), response.read().decode()


def save_long_report(base: str) -> dict:
    """Log in, create the report through the form, open it, save it through the edit form."""
    browser = Browser(base)
    browser.post("/login", {"username": "qs_author", "password": DEMO_PASSWORD})
    page = browser.get("/reports/new")
    town = re.search(r'name="org_unit_id"[^>]*>\s*<option[^>]*value="(\d+)"', page)
    if town is None:
        town = re.search(r'<option[^>]*value="(\d+)"', page[page.index('name="org_unit_id"'):])
    text = report_text()
    started = time.perf_counter()
    url, _ = browser.post("/reports/new", {"org_unit_id": town.group(1),  # type: ignore[union-attr]
                                           "kind": "annual_report", "year": "2026",
                                           "title": "青山镇2026年工作总结（长文）", "text": text}, page=page)
    created = round(time.perf_counter() - started, 2)
    report_id = re.search(r"/reports/(\d+)", url)
    if report_id is None:
        raise RuntimeError(f"the report was not created (ended at {url})")
    browser.get(f"/reports/{report_id.group(1)}")
    edit = browser.get(f"/reports/{report_id.group(1)}/edit")
    version = re.search(r'name="version"[^>]*value="(\d+)"', edit).group(1)  # type: ignore[union-attr]
    started = time.perf_counter()
    url, _ = browser.post(f"/reports/{report_id.group(1)}/edit",
                          {"title": "青山镇2026年工作总结（长文，修改）", "text": text + "\n补充说明。",
                           "version": version}, page=edit)
    return {"report_chars": len(text), "create_s": created, "save_s": round(time.perf_counter() - started, 2)}


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="chengbao-bench-memory-"))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(CHENGBAO_INSTANCE=str(tmp / "instance"), SECRET_KEY="bench", PYTHONUNBUFFERED="1")
    port = free_port()
    started = time.monotonic()
    launcher = subprocess.Popen([PY, "run.py"], cwd=ROOT, env={**env, "PORT": str(port)},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    figures: dict = {}
    try:
        if not wait_page(f"http://127.0.0.1:{port}/login", 300, launcher):
            return {"error": "make run's server did not answer"}
        figures["first_page_s"] = round(time.monotonic() - started, 1)
        time.sleep(1)  # the launcher's first sweep and tick are done by now
        figures["launcher_rss_mb"] = status_mb(launcher.pid)["VmRSS"]

        web_port = free_port()
        web = subprocess.Popen([PY, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{web_port}", "--log-level",
                                "warning", "app:create_app()"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            base = f"http://127.0.0.1:{web_port}"
            if not wait_page(base + "/login", 120, web):
                return {**figures, "error": "gunicorn -w 1 did not answer"}
            (worker,) = children(web.pid)
            figures["web_worker_idle_rss_mb"] = status_mb(worker)["VmRSS"]
            figures.update(save_long_report(base))
            after = status_mb(worker)
            figures["web_worker_rss_mb"] = after["VmRSS"]
            figures["web_worker_peak_rss_mb"] = after["VmHWM"]
        finally:
            stop(web)
    finally:
        stop(launcher)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
