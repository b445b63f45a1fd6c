"""How guessable a password is: zxcvbn's estimate, for the whole password at every
allowed length.

The Rust port (zxcvbn-rs-py) judges 256 characters in well under a second where the
Python port needs seconds to minutes (and refuses more than 72). It holds the GIL while
it runs, so it runs in a helper process of its own (`python -m api.security.strength`,
started on first use, one JSON line per question and answer): the event loop and the
argon2 threads keep going while a hostile password is judged. A helper that dies or
takes too long is replaced. This module imports nothing of the application, so the
helper starts light."""

from __future__ import annotations

import asyncio
import atexit
import json
import math
import os
import re
import select
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

# Past this a judgement counts as "too weak" rather than holding a request (the worst
# input measured takes about 0.5 s).
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Verdict:
    score: int  # 0 (too guessable) to 4 (very unguessable)
    warning: str | None  # zxcvbn's warning, as its English message


TOO_SLOW = Verdict(0, "This password took too long to judge")


# zxcvbn-rs judges the first 100 characters only; longer passwords are judged in parts.
WINDOW = 100
_REPEAT = re.compile(r"(.+?)\1+", re.DOTALL)
_REPEATS_WARNING = 'Repeats like "abcabcabc" are only slightly harder to guess than "abc"'


def _score(guesses_log10: float) -> int:
    """zxcvbn's own thresholds: 10^3, 10^6, 10^8 and 10^10 guesses."""
    return sum(guesses_log10 >= bound for bound in (3, 6, 8, 10))


def judge_now(password: str, user_inputs: list[str]) -> Verdict:
    """The estimate, in this process (the helper calls this).

    Up to 100 characters zxcvbn sees the password as it is. A longer one is judged whole
    as zxcvbn's own model would: repeated runs are collapsed to one copy (a repeat
    costs an attacker its unit's guesses times the count), what remains is judged in
    parts of 100 characters, and the guesses of the parts multiply."""
    from zxcvbn_rs_py import zxcvbn

    if len(password) <= WINDOW:
        result = zxcvbn(password, user_inputs)
        warning = result.feedback.warning if result.feedback else None
        return Verdict(int(result.score), str(warning) if warning is not None else None)
    log10 = 0.0
    for match in _REPEAT.finditer(password):
        log10 += math.log10(len(match.group(0)) // len(match.group(1)))
    units = [match.group(1) for match in _REPEAT.finditer(password)]
    collapsed = _REPEAT.sub(lambda match: match.group(1), password)
    weakest: tuple[float, str | None] = (math.inf, None)
    seen: set[str] = set()
    for start in range(0, len(collapsed), WINDOW):
        part = collapsed[start : start + WINDOW]
        if part in seen:  # the same part again adds (about) nothing an attacker must guess
            continue
        seen.add(part)
        result = zxcvbn(part, user_inputs)
        log10 += result.guesses_log10
        warning = result.feedback.warning if result.feedback else None
        weakest = min(
            weakest, (result.guesses_log10, str(warning) if warning is not None else None), key=lambda w: w[0]
        )
    score = _score(log10)
    hint = weakest[1] or (_REPEATS_WARNING if units else None)
    return Verdict(score, hint if score < 3 else None)


class _Helper:
    """One helper process, asked one question at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None

    def _running(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "api.security.strength"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        return self._proc

    def ask(self, password: str, user_inputs: list[str]) -> Verdict:
        with self._lock:
            for attempt in (1, 2):
                proc = self._running()
                assert proc.stdin is not None and proc.stdout is not None
                try:
                    proc.stdin.write(json.dumps({"p": password, "u": user_inputs}).encode() + b"\n")
                    proc.stdin.flush()
                    ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT_SECONDS)
                    if not ready:
                        self._stop()
                        return TOO_SLOW
                    line = proc.stdout.readline()
                    if line:
                        answer = json.loads(line)
                        return Verdict(int(answer["s"]), answer["w"])
                except (BrokenPipeError, ValueError, KeyError):
                    pass
                self._stop()  # died or answered nonsense: a new one next time
                if attempt == 2:
                    raise RuntimeError("the password strength helper failed twice")
        raise AssertionError("unreachable")

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def stop(self) -> None:
        with self._lock:
            self._stop()


_helper = _Helper()
# Threads that wait for the helper; its own lock lets one question through at a time.
_waiters = ThreadPoolExecutor(max_workers=2, thread_name_prefix="password-strength")


async def judge(password: str, user_inputs: list[str]) -> Verdict:
    return await asyncio.get_running_loop().run_in_executor(_waiters, _helper.ask, password, user_inputs)


def shutdown() -> None:
    _helper.stop()


atexit.register(shutdown)


def _serve() -> None:
    """The helper's loop: a JSON question per line on stdin, a JSON answer per line on stdout."""
    for line in sys.stdin.buffer:
        try:
            question = json.loads(line)
            verdict = judge_now(str(question["p"]), [str(u) for u in question["u"]])
        except Exception:  # noqa: BLE001 - e.g. text Rust cannot take (lone surrogates): not judged as strong
            verdict = Verdict(0, None)
        sys.stdout.write(json.dumps({"s": verdict.score, "w": verdict.warning}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
