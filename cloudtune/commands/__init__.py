"""Subcommands of `cloudtune` beyond the core ones in cloudtune/cli.py, one module per command group.

Each module defines `register(subparsers, common)`, adds its parsers with `parents=[common]`, and sets
`handler(args, config) -> int` on each. Modules are found automatically; import Spark inside handlers only.
"""
import importlib
import pkgutil


def register_all(subparsers, common) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(subparsers, common)
