"""schemathesis against the live server, as each role: every phase (examples, coverage, fuzzing,
stateful), within a time budget per role.

The checks are the contract: no server error, and every answer documented in the OpenAPI document
(status code, content type, headers, body schema). The seed is printed; replay a failure with
``LOYALTY_FUZZ_SEED=<seed>``; ``LOYALTY_FUZZ_SECONDS`` sets the budget of each role (default 10, the
admin twice that: it may call every operation).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import LiveServer

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
SECONDS = int(os.environ.get("LOYALTY_FUZZ_SECONDS", "10"))
#: Operations a role cannot fuzz without ending its own token.
SPARED = {"member": ["logout"]}


@pytest.mark.parametrize("role", ["admin", "service", "till", "member"])
def test_every_answer_is_documented_and_none_is_a_server_error(
    role: str, live_server: LiveServer, live_tokens: dict[str, str], tmp_path: Path
) -> None:
    seed = int(os.environ.get("LOYALTY_FUZZ_SEED") or random.randrange(2**32))
    budget = SECONDS * 2 if role == "admin" else SECONDS
    print(f"schemathesis as {role}: seed {seed}, {budget} s")
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "run", f"{live_server.api}/openapi.json",
        "--header", f"Authorization: Bearer {live_tokens[role]}",
        "--checks", ",".join(CHECKS),
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-time", str(budget),
        "--seed", str(seed),
        "--workers", "1",
        "--request-timeout", "10",
        "--suppress-health-check", "all",
        "--warnings", "off",
        "--no-color",
    ]  # fmt: skip
    for operation_id in SPARED.get(role, []):
        command += ["--exclude-operation-id", operation_id]
    run = subprocess.run(command, capture_output=True, text=True, timeout=budget + 120, cwd=tmp_path)
    summary = run.stdout[run.stdout.rfind("SUMMARY") :] if "SUMMARY" in run.stdout else run.stdout[-3000:]
    print(summary)
    assert run.returncode == 0, f"seed {seed} as {role}:\n{run.stdout[-20000:]}\n{run.stderr[-3000:]}\n" + (
        live_server.log.read_text()[-5000:]
    )
