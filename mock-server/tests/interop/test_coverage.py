"""Every read method of duo-client (each `get_*` and `calculate_*` of `duo_client.Admin` and
`duo_client.Accounts`) is called by some interop test: the suite's sources are parsed and each
method must appear as an attribute called on an object, or as a string naming it (the tables of
methods the parametrized tests call through `getattr`). A new client release with a read method
no test calls fails here, naming it."""

import ast
import inspect
from pathlib import Path

import duo_client

HERE = Path(__file__).resolve().parent


def read_methods():
    names = set()
    for cls in (duo_client.Admin, duo_client.Accounts):
        for name, _ in inspect.getmembers(cls, inspect.isfunction):
            if name.startswith(("get_", "calculate_")):
                names.add(name)
    return names


def names_used_by_tests():
    used = set()
    for path in HERE.glob("*.py"):
        if path.name == Path(__file__).name:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                used.add(node.func.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                used.add(node.value)
    return used


def test_every_read_method_of_the_client_is_called_by_a_test():
    methods = read_methods()
    assert len(methods) > 80, "duo_client.Admin has many read methods"
    assert sorted(methods - names_used_by_tests()) == [], "read methods no interop test calls"
