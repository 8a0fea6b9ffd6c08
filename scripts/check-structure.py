#!/usr/bin/env python3
"""Structure checks of the package that the compiler does not make; part of `./build-apk.sh check`.

  1. No hand-written Swift file over MAX_LINES lines, anywhere in the repository except the `.build*` folders.
     Generated files (line 1 says GENERATED, as scripts/protos/generate.sh writes) are exempt.
  2. Every declared dependency of every target (regular, executable, test, …) of `swift package dump-package` is
     imported by at least one .swift file of that target: a dependency nobody imports is dead weight in the build
     graph, and it hides what a module really needs. True exceptions go into UNUSED_EXEMPTIONS, with the reason.
  3. The data-plane targets (RESTRICTED_TARGETS, RESTRICTED_PREFIXES) do not reach the YAML and OpenAPI parsers
     (FORBIDDEN_PACKAGES) through local targets: those belong to the control plane's conversion code, and pulling
     them into the adapter, the xDS server, the enforcer or the ratelimiter grows their binaries and attack surface.

Usage (the package is the repository holding this script unless --root DIR names another):
  python3 scripts/check-structure.py                     all checks against `swift package dump-package`
  python3 scripts/check-structure.py --package-json F    the same against a saved dump (F = - reads stdin)
  python3 scripts/check-structure.py --self-test         the checker's own tests, on synthetic packages

Exit status: 0 when everything passes, 1 when a check fails (each problem on its own line), 2 on a usage error or
when the package cannot be read.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import deque

MAX_LINES = 500
GENERATED_MARKER = "GENERATED"  # on line 1 of every generated Swift file (scripts/protos/generate.sh)

# (target, dependency) → why the dependency is declared although no file of the target imports it (e.g. a product
# needed only for linking). Keep it empty or nearly so.
UNUSED_EXEMPTIONS: dict[tuple[str, str], str] = {}

RESTRICTED_TARGETS = {"APKAdapter", "APKAdapterMain", "APKXDS", "APKAuthPlan"}
RESTRICTED_PREFIXES = ("APKEnforcer", "APKRatelimiter")
FORBIDDEN_PACKAGES = {"yams", "openapikit"}  # package names (identities), compared in lower case
FORBIDDEN_PRODUCT_PREFIXES = ("Yams", "OpenAPIKit")  # when dump-package names no package (a by-name dependency)

CHECKED_TARGET_TYPES = {"regular", "executable", "test", "macro"}  # system, binary and plugin targets hold no Swift


# --- package -------------------------------------------------------------------------------------------------------


class PackageError(Exception):
    """The package description cannot be read."""


def load_package(root: str, package_json: str | None) -> dict:
    """The package description: the file given, or `swift package dump-package` run in root (it does not build)."""
    if package_json == "-":
        return json.load(sys.stdin)
    if package_json:
        with open(package_json, encoding="utf-8") as file:
            return json.load(file)
    try:
        result = subprocess.run(
            ["swift", "package", "dump-package"], cwd=root, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise PackageError("swift is not on PATH (or pass --package-json FILE)") from None
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise PackageError(f"`swift package dump-package` failed in {root} (exit {result.returncode})")
    return json.loads(result.stdout)


def target_directory(target: dict) -> str:
    """The target's folder relative to the package root, as SwiftPM finds it."""
    if target.get("path"):
        return target["path"].rstrip("/")
    return ("Tests/" if target.get("type") == "test" else "Sources/") + target["name"]


def dependency(entry: dict, local_targets: set[str]) -> tuple[str, str, str | None]:
    """(kind, name, package) of a target dependency as dump-package writes it: `target`, `product` or `byName`, each
    a list [name, (package,) …]. A by-name dependency is the local target of that name, else a product."""
    if "target" in entry:
        return "target", entry["target"][0], None
    if "product" in entry:
        values = entry["product"]
        return "product", values[0], values[1] if len(values) > 1 else None
    if "byName" in entry:
        name = entry["byName"][0]
        return ("target" if name in local_targets else "product"), name, None
    raise ValueError(f"unknown dependency form {entry!r}")


# --- Swift sources -------------------------------------------------------------------------------------------------


def swift_files(directory: str):
    """Every .swift file under directory, skipping .build* folders (SwiftPM scratch paths) and .git."""
    for folder, subfolders, files in os.walk(directory):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".build") and d != ".git")
        for name in sorted(files):
            if name.endswith(".swift"):
                yield os.path.join(folder, name)


def read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as file:
        return file.read()


CODE_SPECIAL = re.compile(r'[/"#]')
INTERPOLATION_SPECIAL = re.compile(r'[/"#()]')
STRING_SPECIAL = re.compile(r'["\\\n]')
NOT_NEWLINE = re.compile(r"[^\n]")


def code_only(text: str) -> str:
    """text with comments and string literals blanked (newlines kept): so that `// import X` or an `import sys` line in
    a multi-line string (a Python script in a test) is no import. Knows nested block comments, raw strings (#"…"#),
    multi-line strings and interpolation (\\( … ) with strings inside)."""
    out: list[str] = []
    # Contexts: ["code", open parentheses, inside an interpolation?] or ["string", number of #, multi-line?].
    stack: list[list] = [["code", 0, False]]
    i, n = 0, len(text)

    def blank(chunk: str) -> None:
        out.append(NOT_NEWLINE.sub(" ", chunk))

    while i < n:
        context = stack[-1]
        # Jump to the next character that can change the context; what lies before it is code, or string content.
        if context[0] == "code":
            special = (INTERPOLATION_SPECIAL if context[2] else CODE_SPECIAL).search(text, i)
        else:
            special = STRING_SPECIAL.search(text, i)
        end = special.start() if special else n
        if end > i:
            (out.append if context[0] == "code" else blank)(text[i:end])
            i = end
            continue
        c = text[i]
        if context[0] == "code":
            if text.startswith("//", i):
                end = text.find("\n", i)
                end = n if end < 0 else end
                blank(text[i:end])
                i = end
            elif text.startswith("/*", i):
                depth, j = 1, i + 2
                while j < n and depth:
                    if text.startswith("/*", j):
                        depth, j = depth + 1, j + 2
                    elif text.startswith("*/", j):
                        depth, j = depth - 1, j + 2
                    else:
                        j += 1
                blank(text[i:j])
                i = j
            elif c in '#"' and (start := re.match(r'(#*)("""|")', text[i : i + 40])):
                stack.append(["string", len(start.group(1)), start.group(2) == '"""'])
                blank(start.group(0))
                i += len(start.group(0))
            elif context[2] and c == "(":
                context[1] += 1
                out.append(c)
                i += 1
            elif context[2] and c == ")":
                if context[1] == 0:
                    stack.pop()  # the interpolation ends: back in its string
                    blank(c)
                else:
                    context[1] -= 1
                    out.append(c)
                i += 1
            else:
                out.append(c)
                i += 1
        else:
            hashes, multiline = context[1], context[2]
            closing = ('"""' if multiline else '"') + "#" * hashes
            escape = "\\" + "#" * hashes
            if text.startswith(closing, i):
                stack.pop()
                blank(closing)
                i += len(closing)
            elif text.startswith(escape, i):
                j = i + len(escape)
                if j < n and text[j] == "(":
                    stack.append(["code", 0, True])
                    blank(text[i : j + 1])
                    i = j + 1
                else:
                    blank(text[i : j + 1])  # the escape and the escaped character
                    i = j + 1
            elif c == "\n" and not multiline:
                stack.pop()  # an unterminated single-line string: the compiler will say so
                out.append(c)
                i += 1
            else:
                blank(c)
                i += 1
    return "".join(out)


# `import X`, `@testable import X`, `@_exported import X`, `@_spi(S) import X`, `@preconcurrency internal import X`,
# `public import X`, `package import X`, `import struct X.Y`, `import X.Submodule`, several on a line after `;`.
IMPORT = re.compile(
    r"(?:^|;)[ \t]*(?:@[A-Za-z_]\w*(?:\([^)\n]*\))?[ \t]+)*"
    r"(?:(?:public|package|internal|fileprivate|private|open)[ \t]+)?"
    r"import[ \t]+(?:(?:typealias|struct|class|enum|protocol|let|var|func|actor)[ \t]+)?([A-Za-z_]\w*)",
    re.M,
)


def imported_modules(text: str) -> set[str]:
    lines = code_only(text).splitlines()
    return {module for line in lines if "import" in line for module in IMPORT.findall(line)}


# --- checks --------------------------------------------------------------------------------------------------------


def check_file_lengths(root: str) -> list[str]:
    problems = []
    for path in swift_files(root):
        text = read(path)
        lines = text.splitlines()
        if len(lines) > MAX_LINES and GENERATED_MARKER not in (lines[0] if lines else ""):
            problems.append(
                f"{os.path.relpath(path, root)}: {len(lines)} lines, over the {MAX_LINES}-line limit for hand-written "
                f"Swift (split it; generated files say {GENERATED_MARKER} on line 1)"
            )
    return problems


def check_unused_dependencies(package: dict, root: str) -> list[str]:
    problems = []
    local_targets = {target["name"] for target in package.get("targets", [])}
    for target in package.get("targets", []):
        if target.get("type") not in CHECKED_TARGET_TYPES or not target.get("dependencies"):
            continue
        directory = target_directory(target)
        folder = os.path.join(root, directory)
        if not os.path.isdir(folder):
            problems.append(f"target {target['name']}: its folder {directory} does not exist")
            continue
        excluded = [os.path.normpath(os.path.join(folder, path)) for path in target.get("exclude") or []]
        sources = [os.path.normpath(os.path.join(folder, path)) for path in target.get("sources") or []]

        def belongs(path: str) -> bool:
            inside = lambda prefixes: any(path == p or path.startswith(p + os.sep) for p in prefixes)  # noqa: E731
            return not inside(excluded) and (not sources or inside(sources))

        imports: set[str] = set()
        for path in swift_files(folder):
            if belongs(os.path.normpath(path)):
                imports |= imported_modules(read(path))
        for entry in target["dependencies"]:
            kind, name, package_name = dependency(entry, local_targets)
            if name in imports or (target["name"], name) in UNUSED_EXEMPTIONS:
                continue
            what = f"product {name} of package {package_name}" if package_name else f"{kind} {name}"
            problems.append(
                f"target {target['name']} ({directory}) declares {what} but none of its .swift files imports {name}"
                f" (remove it from Package.swift, or exempt it in scripts/check-structure.py with the reason)"
            )
    return problems


def is_restricted(name: str) -> bool:
    return name in RESTRICTED_TARGETS or name.startswith(RESTRICTED_PREFIXES)


def is_forbidden(name: str, package_name: str | None) -> bool:
    if package_name:
        return package_name.lower() in FORBIDDEN_PACKAGES
    return name.startswith(FORBIDDEN_PRODUCT_PREFIXES)


def check_forbidden_reach(package: dict) -> list[str]:
    """For every restricted target and every forbidden product it reaches, the shortest path through local targets."""
    targets = {target["name"]: target for target in package.get("targets", [])}
    problems = []
    for start in sorted(name for name in targets if is_restricted(name)):
        reached: dict[str, list[str]] = {}  # forbidden product → path
        paths = {start: [start]}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for entry in targets[current].get("dependencies") or []:
                kind, name, package_name = dependency(entry, set(targets))
                if kind == "target":
                    if name in targets and name not in paths:
                        paths[name] = paths[current] + [name]
                        queue.append(name)
                elif is_forbidden(name, package_name) and name not in reached:
                    reached[name] = paths[current] + [name]
        for product in sorted(reached):
            problems.append(
                f"target {start} must not reach the YAML/OpenAPI parsers, but reaches {product}: "
                + " -> ".join(reached[product])
            )
    return problems


def run_checks(package: dict, root: str) -> list[str]:
    return check_file_lengths(root) + check_unused_dependencies(package, root) + check_forbidden_reach(package)


# --- self-test -----------------------------------------------------------------------------------------------------


def self_test() -> int:
    failures = []

    def expect(label: str, actual, expected) -> None:
        if actual != expected:
            failures.append(f"{label}:\n    expected {expected!r}\n    got      {actual!r}")

    def write(root: str, path: str, text: str) -> None:
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "w", encoding="utf-8") as file:
            file.write(text)

    # Imports: every spelling counts; comments and strings do not.
    source = "\n".join(
        [
            "import A",
            "@testable import B",
            "@_exported import C",
            "import struct D.Thing",
            "public import E",
            "package import F.Sub",
            "@preconcurrency internal import G",
            "@_spi(Experimental) import H",
            "  import I; import J",
            "// import K",
            "/* import L /* nested */ import M */",
            'let script = """',
            "    import N",
            '    print("\\(value["key"])")',
            '    """',
            'let raw = #"import O "still" in the string"#',
            'let s = "a \\(f("x")) b"; import P',
            "#if canImport(Q)",
            "fileprivate import R",
            "#endif",
        ]
    )
    expect("imports", sorted(imported_modules(source)), list("ABCDEFGHIJPR"))

    # File lengths: hand-written over the limit fails; generated, at the limit and .build* files pass.
    with tempfile.TemporaryDirectory() as root:
        write(root, "Sources/Big/Big.swift", "let x = 1\n" * (MAX_LINES + 1))
        write(root, "Sources/Big/Limit.swift", "let x = 1\n" * MAX_LINES)
        write(root, "Sources/Gen/Gen.pb.swift", f"// {GENERATED_MARKER} by a tool — do not edit\n" + "x\n" * 900)
        write(root, ".build/checkouts/X.swift", "x\n" * 900)
        write(root, "tools/t/.build-check/Y.swift", "x\n" * 900)
        problems = check_file_lengths(root)
        expect("long files", [p.split(":")[0] for p in problems], ["Sources/Big/Big.swift"])

    # Unused dependencies: default and explicit paths, test targets, exemptions, exclusions.
    package = {
        "targets": [
            {"name": "Core", "type": "regular", "path": "shared/Sources/Core", "dependencies": [
                {"product": ["Yams", "Yams", None, None]},
                {"product": ["Logging", "swift-log", None, None]},
                {"byName": ["CZ", None]},
            ]},
            {"name": "CZ", "type": "system", "path": "shared/Sources/CZ", "dependencies": []},
            {"name": "App", "type": "executable", "dependencies": [
                {"target": ["Core", None]},
                {"product": ["Metrics", "swift-metrics", None, None]},
            ]},
            {"name": "AppTests", "type": "test", "exclude": ["Fixtures"], "dependencies": [
                {"byName": ["App", None]},
                {"byName": ["Core", None]},
            ]},
        ]
    }
    with tempfile.TemporaryDirectory() as root:
        write(root, "shared/Sources/Core/Core.swift", "import Yams\nimport CZ\n// import Logging\n")
        write(root, "Sources/App/main.swift", "import Core\nimport Metrics\n")
        write(root, "Tests/AppTests/AppTests.swift", "@testable import App\n")
        write(root, "Tests/AppTests/Fixtures/Sample.swift", "import Core\n")  # excluded: does not count
        problems = check_unused_dependencies(package, root)
        expect("unused", [p.split(" but ")[0] for p in problems], [
            "target Core (shared/Sources/Core) declares product Logging of package swift-log",
            "target AppTests (Tests/AppTests) declares target Core",
        ])
        UNUSED_EXEMPTIONS[("Core", "Logging")] = "self-test"
        try:
            expect("exempted", len(check_unused_dependencies(package, root)), 1)
        finally:
            del UNUSED_EXEMPTIONS[("Core", "Logging")]
        write(root, "Sources/App/main.swift", "import Core\n")
        expect("missing folder", check_unused_dependencies(
            {"targets": [{"name": "Gone", "type": "regular", "dependencies": [{"byName": ["X", None]}]}]}, root
        ), ["target Gone: its folder Sources/Gone does not exist"])

    # Forbidden reach: by package name, by product name, through a chain and a cycle; other targets may reach them.
    def product(name, package_name):
        return {"product": [name, package_name, None, None]}

    graph = {
        "targets": [
            {"name": "APKModel", "type": "regular", "dependencies": [
                product("Yams", "Yams"), product("OpenAPIKit30", "OpenAPIKit"), {"byName": ["APKLoop", None]}]},
            {"name": "APKLoop", "type": "regular", "dependencies": [{"byName": ["APKModel", None]}]},
            {"name": "APKClean", "type": "regular", "dependencies": [product("Logging", "swift-log")]},
            {"name": "APKAdapter", "type": "regular", "dependencies": [
                {"byName": ["APKClean", None]}, {"target": ["APKLoop", None]}]},
            {"name": "APKXDS", "type": "regular", "dependencies": [{"byName": ["APKClean", None]}]},
            {"name": "APKEnforcerCore", "type": "regular", "dependencies": [{"byName": ["OpenAPIKitCompat", None]}]},
            {"name": "APKRatelimiterTests", "type": "test", "dependencies": [product("YamsKit", "yams")]},
            {"name": "APKConfig", "type": "regular", "dependencies": [{"byName": ["APKModel", None]}]},
        ]
    }
    expect("reach", check_forbidden_reach(graph), [
        "target APKAdapter must not reach the YAML/OpenAPI parsers, but reaches OpenAPIKit30: "
        "APKAdapter -> APKLoop -> APKModel -> OpenAPIKit30",
        "target APKAdapter must not reach the YAML/OpenAPI parsers, but reaches Yams: "
        "APKAdapter -> APKLoop -> APKModel -> Yams",
        "target APKEnforcerCore must not reach the YAML/OpenAPI parsers, but reaches OpenAPIKitCompat: "
        "APKEnforcerCore -> OpenAPIKitCompat",
        "target APKRatelimiterTests must not reach the YAML/OpenAPI parsers, but reaches YamsKit: "
        "APKRatelimiterTests -> YamsKit",
    ])

    for failure in failures:
        print(f"check-structure self-test FAILED: {failure}", file=sys.stderr)
    if not failures:
        print("check-structure: self-test passed", file=sys.stderr)
    return 1 if failures else 0


# --- main ----------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    repository = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--root", default=repository, help="the package root (default: the repository of this script)")
    parser.add_argument("--package-json", metavar="FILE", help="a saved `swift package dump-package` (- for stdin)")
    parser.add_argument("--self-test", action="store_true", help="run the checker's own tests and exit")
    options = parser.parse_args()
    if options.self_test:
        return self_test()
    root = os.path.abspath(options.root)
    if not options.package_json and not os.path.isfile(os.path.join(root, "Package.swift")):
        print(f"check-structure: no Package.swift in {root} (pass --root DIR)", file=sys.stderr)
        return 2
    try:
        package = load_package(root, options.package_json)
    except (PackageError, OSError, json.JSONDecodeError) as error:
        print(f"check-structure: cannot read the package: {error}", file=sys.stderr)
        return 2
    problems = run_checks(package, root)
    for problem in problems:
        print(f"check-structure: {problem}", file=sys.stderr)
    if problems:
        print(f"check-structure: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check-structure: passed ({len(package.get('targets', []))} targets)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
