"""An import-linter contract type that allows instead of forbids: `allowed_imports`.

`forbidden` lists what may not be imported, so it goes stale the day a new dependency is added.
This contract lists what may be: every module of `source_modules` may import the standard
library, its own package tree and the `allowed_modules` (with their submodules), nothing else.
Registered in pyproject.toml under `contract_types`; `lint-imports` finds it because it puts
the working directory (the repository root) on `sys.path`.
"""

from __future__ import annotations

import sys
from typing import Any

import grimp
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def _top(module: str) -> str:
    return module.split(".", 1)[0]


class AllowedImportsContract(Contract):
    type_name = "allowed_imports"

    source_modules = fields.ListField(subfield=fields.StringField())
    allowed_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        sources: list[str] = list(self.source_modules)  # type: ignore[call-overload]
        allowed = set(self.allowed_modules)  # type: ignore[call-overload]
        violations: list[dict[str, Any]] = []
        for source in sources:
            own = {source, *graph.find_descendants(source)}
            for importer in sorted(own):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    top = _top(imported)
                    if imported in own or top in sys.stdlib_module_names or top in allowed:
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    violations.append(
                        {
                            "importer": importer,
                            "imported": imported,
                            "lines": [detail["line_number"] for detail in details],
                        }
                    )
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        allowed = ", ".join(sorted(self.allowed_modules))  # type: ignore[call-overload]
        for violation in check.metadata["violations"]:
            lines = ", ".join(f"l.{line}" for line in violation["lines"])
            output.print_error(
                f"{violation['importer']} imports {violation['imported']} ({lines}): only the "
                f"standard library and {allowed} are allowed."
            )
            output.new_line()
