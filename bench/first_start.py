"""``make run`` on a fresh clone, timed to the first page (not part of ``make bench``: it installs
the requirements from the package index, so it needs the network and depends on its speed).

    python bench/first_start.py [REPO] [--empty-uv-cache]

clones REPO (default: this checkout) into a temporary directory, runs ``make run`` there on a
free port, and prints when the virtualenv was ready and when ``/login`` first answered (seconds
from the start), then stops it with Ctrl-C. ``--empty-uv-cache`` points ``UV_CACHE_DIR`` at an
empty directory: every wheel is downloaded.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def main() -> dict:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    source = args[0] if args else str(Path(__file__).resolve().parents[1])
    work = Path(tempfile.mkdtemp(prefix="chengbao-first-start-"))
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", source, str(clone)], check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "DATABASE_URL", "CHENGBAO_INSTANCE", "VIRTUAL_ENV")}
    env["PORT"] = str(port)
    if "--empty-uv-cache" in sys.argv:
        env["UV_CACHE_DIR"] = str(work / "uv-cache")
    marks: dict = {"source": source, "empty_uv_cache": "--empty-uv-cache" in sys.argv}
    started = time.monotonic()
    with open(work / "make-run.log", "wb") as log:
        make = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        while make.poll() is None and time.monotonic() - started < 900:
            if "venv_s" not in marks and (clone / ".venv" / ".installed").exists():
                marks["venv_s"] = round(time.monotonic() - started, 1)
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).read()
                marks["first_page_s"] = round(time.monotonic() - started, 1)
                break
            except OSError:
                time.sleep(0.2)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)
            try:
                make.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(make.pid, signal.SIGKILL)
    marks["log"] = str(work / "make-run.log")
    shutil.rmtree(clone, ignore_errors=True)
    return marks


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
