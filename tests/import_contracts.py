"""An import-linter contract type (registered in pyproject.toml): areas keep to their own tables.

Every package below `domain` is an area (identity, audit, inventory, ...). Its modules may import
the models and repositories of their own area (`app.db.models.<area>`, `app.db.repositories.
<area>`), never another area's, nor the package that re-exports all models. Areas talk to each
other through service functions. New areas are covered without editing the configuration.
"""

from __future__ import annotations

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class AreaIsolationContract(Contract):
    domain = fields.StringField()
    owned = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        violations = []
        for area_package in sorted(graph.find_children(self.domain)):
            area_modules = graph.find_descendants(area_package)
            if not area_modules:
                continue  # a shared module of the domain layer, not an area package
            area = area_package.rsplit(".", 1)[1]
            for importer in sorted(area_modules | {area_package}):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    if self._foreign(imported, area):
                        violations.append((importer, imported))
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def _foreign(self, module: str, area: str) -> bool:
        for root in self.owned:
            if module == root or module.startswith(root + "."):
                own = f"{root}.{area}"
                return not (module == own or module.startswith(own + "."))
        return False

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, imported in check.metadata["violations"]:
            output.print_error(f"{importer} imports {imported}", bold=False)
            output.new_line()
