#!/usr/bin/env python3
"""Runs README.md's commands from the README text itself, so a command that
changes or breaks there fails CI.

  readme.py command run|test   print the README's command that runs the stack / the tests
  readme.py walkthrough        start the stack with the README's run command, then run
                               its health check and walkthrough and compare what they
                               print with the `#>` lines under each command

Expected output: the `#>` lines under a command are what it prints, line by
line. `…` inside a line matches any text; a `#> …` line alone matches any
number of lines. Every line a block prints must be expected.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")


def sh_blocks(after_heading):
    """The ```sh blocks of the section that starts with this heading."""
    text = open(README, encoding="utf-8").read()
    start = text.find("\n" + after_heading + "\n")
    if start < 0:
        sys.exit(f"readme.py: README.md has no heading {after_heading!r}")
    level = after_heading.split(" ")[0]
    rest = text[start + len(after_heading) + 2 :]
    end = re.search(rf"^{level} ", rest, re.M)
    section = rest[: end.start()] if end else rest
    blocks = re.findall(r"^```sh\n(.*?)^```", section, re.M | re.S)
    if not blocks:
        sys.exit(f"readme.py: the section {after_heading!r} has no ```sh block")
    return blocks


def two_commands():
    """The run command and the test command, in the README's order."""
    lines = [l.split("#")[0].strip() for l in sh_blocks("## The two commands")[0].splitlines()]
    commands = [l for l in lines if l]
    if len(commands) != 2:
        sys.exit(f"readme.py: 'The two commands' should hold two commands, found {commands}")
    return commands


def expectations(block):
    """The block without its `#>` lines, and the lines they expect, in order."""
    script, expected = [], []
    for line in block.splitlines():
        if line.startswith("#>"):
            expected.append(line[2:].removeprefix(" "))
        else:
            script.append(line)
    return "\n".join(script) + "\n", expected


def matches(expected, printed):
    """Whether the printed lines are the expected ones (`…` as a wildcard).
    A last line without a newline (curl's bodies) counts as a line."""
    if printed and not printed.endswith("\n"):
        printed += "\n"
    pattern = ""
    for line in expected:
        if line == "…":
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += ".*?".join(re.escape(part) for part in line.split("…")) + r"\n"
    return re.fullmatch(pattern, printed, re.S) is not None


def run_block(name, block, env):
    script, expected = expectations(block)
    print(f"--- {name}:\n{script}", flush=True)
    started = time.monotonic()
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    print(done.stdout, end="")
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        sys.exit(f"readme.py: the {name} failed (exit {done.returncode})")
    if not matches(expected, done.stdout):
        sys.exit(f"readme.py: the {name} printed\n{done.stdout}\nbut README.md says it prints\n" + "\n".join(expected))
    print(f"--- {name}: printed what README.md says ({time.monotonic() - started:.1f} s)", flush=True)


def wait_for_health(url, stack, limit_s):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if stack.poll() is not None:
            sys.exit(f"readme.py: the run command exited with {stack.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"readme.py: nothing answered {url} within {limit_s} s")


def walkthrough():
    run_command = two_commands()[0]
    health = sh_blocks("## The two commands")[1]
    steps = sh_blocks("## Walkthrough")[0]
    # The literal command; only its data folder (QUIRE_DATA_DIR, documented
    # in the README) is a fresh one, so an earlier run's users don't collide.
    data_dir = tempfile.mkdtemp(prefix="quire-readme-")
    env = dict(os.environ, QUIRE_DATA_DIR=data_dir)
    log_path = os.path.join(data_dir, "stack.log")
    print(f"--- starting: {run_command}  (QUIRE_DATA_DIR={data_dir}, its output in {log_path})", flush=True)
    log = open(log_path, "w")
    stack = subprocess.Popen(["bash", "-c", f"exec {run_command}"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # A fresh clone compiles first; CI has built the tests by now.
        wait_for_health("http://127.0.0.1:3000/health", stack, 900)
        run_block("health check", health, env)
        run_block("walkthrough", steps, env)
    except BaseException:
        print(f"--- the stack's output:\n{open(log_path).read()}", flush=True)
        raise
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGINT)  # Ctrl-C, as a user stops it
            try:
                stack.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(stack.pid, signal.SIGKILL)
                sys.exit("readme.py: the stack did not stop within 30 s of Ctrl-C")
    if stack.returncode != 0:
        sys.exit(f"readme.py: the stack exited with {stack.returncode} after Ctrl-C")
    print("--- the stack stopped cleanly on Ctrl-C", flush=True)


def main():
    match sys.argv[1:]:
        case ["command", "run"]:
            print(two_commands()[0])
        case ["command", "test"]:
            print(two_commands()[1])
        case ["walkthrough"]:
            walkthrough()
        case _:
            sys.exit(__doc__)


if __name__ == "__main__":
    main()
