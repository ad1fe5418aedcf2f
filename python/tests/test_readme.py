"""python/README.md's examples, run as written in a pytest run of their own (with the plugin from
its entry point, as a user's suite gets it)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readmes_python_examples_pass(pytester):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 3, "a block was added or removed: update the count of tests below"
    for number, block in enumerate(blocks, 1):
        pytester.makepyfile(**{f"test_readme_{number}": block})
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--strict-markers",
        "-W", "ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning",
    )
    result.assert_outcomes(passed=6)
