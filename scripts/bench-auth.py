#!/usr/bin/env python3
"""The load half of `./build-apk.sh bench auth` (scripts/bench.sh starts the stack and calls this).

Runs wrk against every step of a plan, round after round, interleaved (A B C … A B C …), so that the machine's
noise falls on every step alike; then prints, per step, the median requests per second, the median ratio to its
baseline step *of the same round*, the median p99 latency and, for steps served by the enforcer, the enforcer's CPU
time per `Check` (its /proc CPU time over the change of its `apk_enforcer_checks_total`).

Input: a JSON plan on stdin:
  {"rounds": 5, "seconds": 5, "connections": 50,
   "enforcer": {"pid": 123, "metrics": "http://127.0.0.1:9092/metrics"},
   "steps": [{"name": "unsecured", "url": "http://…", "headers": {"Host": "…"}, "baseline": "unsecured",
              "connections": 50, "enforcer": false}, …]}
Every request of every step must answer 200 (a step that answers anything else is a broken setup, not a figure).
"""
import json
import os
import re
import statistics
import subprocess
import sys
import urllib.request

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def wrk(url, headers, connections, seconds):
    arguments = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        arguments += ["-H", f"{name}: {value}"]
    output = subprocess.run(arguments + [url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = milliseconds(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    if non2xx or errors:
        sys.exit(f"{url}: not every answer was 200 ({(non2xx or errors).group(0)}):\n{output}")
    return rps, p99


def milliseconds(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def checks(metrics_url):
    text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
    return sum(float(value) for value in re.findall(r"^apk_enforcer_checks_total\{[^}]*\} (\S+)$", text, re.MULTILINE))


def main():
    plan = json.load(sys.stdin)
    steps = plan["steps"]
    results = {step["name"]: {"rps": [], "ratio": [], "p99": [], "cpu": []} for step in steps}
    for round_number in range(1, plan["rounds"] + 1):
        this_round = {}
        for step in steps:
            enforcer = plan.get("enforcer") if step.get("enforcer") else None
            before = (cpu_seconds(enforcer["pid"]), checks(enforcer["metrics"])) if enforcer else None
            rps, p99 = wrk(step["url"], step.get("headers", {}), step.get("connections", plan["connections"]), plan["seconds"])
            if enforcer:
                spent = cpu_seconds(enforcer["pid"]) - before[0]
                calls = checks(enforcer["metrics"]) - before[1]
                if calls > 0:
                    results[step["name"]]["cpu"].append(spent / calls * 1e6)
            this_round[step["name"]] = rps
            results[step["name"]]["rps"].append(rps)
            results[step["name"]]["p99"].append(p99)
            print(f"round {round_number} {step['name']:<28} {rps:>10.0f} req/s  p99 {p99:.2f} ms", file=sys.stderr, flush=True)
        for step in steps:
            results[step["name"]]["ratio"].append(this_round[step["name"]] / this_round[step["baseline"]])
    print(f"\nmedians of {plan['rounds']} interleaved rounds, {plan['seconds']} s each, wrk -t1:")
    print(f"{'step':<28} {'conns':>5} {'req/s':>10} {'÷ baseline':>11} {'p99 ms':>8} {'µs CPU/Check':>13}  baseline")
    for step in steps:
        result = results[step["name"]]
        cpu = f"{statistics.median(result['cpu']):.0f}" if result["cpu"] else "-"
        print(
            f"{step['name']:<28} {step.get('connections', plan['connections']):>5} {statistics.median(result['rps']):>10.0f} "
            f"{statistics.median(result['ratio']):>11.3f} {statistics.median(result['p99']):>8.2f} {cpu:>13}  {step['baseline']}")


if __name__ == "__main__":
    main()
