"""No import runs up the layers (docs/architecture.md, "Layers").

Walks every module of ``src/wagate`` with ``ast`` — module-level and function-level imports
alike; imports under ``if TYPE_CHECKING:`` are type references and are skipped — and fails on
an import of a higher layer. A channel kind's package may import only the foundation and the
channel contract, besides its own modules; the exceptions below are the debts still open,
each named, so the list can only shrink.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import wagate

SRC = Path(wagate.__file__).parent

#: Lowest first. A module may import its own layer and the ones before it.
LAYERS: list[tuple[str, ...]] = [
    # foundation: pure rules and small shared values
    (
        "wagate.errors",
        "wagate.clock",
        "wagate.config",
        "wagate.crypto",
        "wagate.signals",
        "wagate.domain",
        "wagate.outbound",
    ),
    # the channel contract and the node's instruments
    (
        "wagate.channels.base",
        "wagate.channels.backend",
        "wagate.channels.kind",
        "wagate.channels.registry",
        "wagate.channels.memory",
        "wagate.channels",
        "wagate.observability",
    ),
    ("wagate.store",),
    ("wagate.runtime",),
    ("wagate.services",),
    ("wagate.dispatch",),
    # the edges: doors, feature packages and the channel kinds' own code
    (
        "wagate.webhooks",
        "wagate.channels.cloud",
        "wagate.channels.device",
        "wagate.channels.http",
        "wagate.channels.web",
        "wagate.agent",
    ),
    ("wagate.api", "wagate.optin"),
    ("wagate.sandbox", "wagate.dashboard"),
    # composition
    ("wagate.wiring", "wagate.app", "wagate.node", "wagate.client", "wagate.cli", "wagate.bench", "wagate.gcfreeze"),
]

#: What a channel kind's package may import from wagate, besides itself.
KIND_PACKAGES = ("wagate.channels.cloud", "wagate.channels.device", "wagate.channels.http", "wagate.channels.web")
KIND_MAY_IMPORT = LAYERS[0] + LAYERS[1]

#: Open debts (docs/architecture.md): (importer prefix, imported prefix).
KNOWN_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset(
    {
        # The cloud receiver and the device doors still work on the runtime and the store: the
        # kinds' own tables (cloud_pending_statuses, devices) live in store/ and their doors use
        # the API's auth dependencies. Moving them behind ChannelBackend is issue 14's next step.
        ("wagate.channels.cloud.receiver", "wagate.runtime"),
        ("wagate.channels.cloud.receiver", "wagate.store"),
        ("wagate.channels.cloud.receiver", "wagate.services"),
        ("wagate.channels.cloud.receiver", "wagate.api"),
        ("wagate.channels.device", "wagate.runtime"),
        ("wagate.channels.device", "wagate.store"),
        ("wagate.channels.device", "wagate.services"),
        ("wagate.channels.device", "wagate.dispatch"),
        ("wagate.channels.device.api", "wagate.api"),
        # Coexistence (the Business app's echoes, history, contacts) is recorded by the inbound service
        # like the receiver's messages; it moves behind ChannelBackend with the receiver.
        ("wagate.channels.cloud.coexistence", "wagate.runtime"),
        ("wagate.channels.cloud.coexistence", "wagate.services"),
        ("wagate.channels.cloud.coexistence", "wagate.store"),
        # The cloud kind's account sync, readiness and template sync (node services) read the store.
        ("wagate.channels.cloud.account", "wagate.runtime"),
        ("wagate.channels.cloud.account", "wagate.store"),
        ("wagate.channels.cloud.readiness", "wagate.store"),
        ("wagate.channels.cloud.template_sync", "wagate.runtime"),
        ("wagate.channels.cloud.template_sync", "wagate.store"),
        ("wagate.channels.cloud.template_sync", "wagate.services"),
        # The web kind (WhatsApp Web) landed on the runtime before the backend seam existed.
        ("wagate.channels.web", "wagate.runtime"),
        ("wagate.channels.web", "wagate.store"),
        ("wagate.channels.web", "wagate.services"),
        ("wagate.channels.web", "wagate.api"),
        ("wagate.channels.web", "wagate.dashboard"),  # its QR page: ChannelKind.dashboard_panel's job
        # Template submission to Meta sits in services/templates; it belongs to the cloud kind.
        ("wagate.services.templates", "wagate.channels.cloud"),
    }
)


def layer_of(module: str) -> int:
    if module == "wagate":
        return 0  # the package itself holds only ``__version__``
    best, best_len = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    assert best >= 0, f"{module} is in no layer: add it to LAYERS"
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(tree: ast.AST) -> list[str]:
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names if node.module == "wagate.channels")
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return [m for m in found if m == "wagate" or m.startswith("wagate.")]


def known(importer: str, imported: str) -> bool:
    return any(
        (importer == a or importer.startswith(a + ".")) and (imported == b or imported.startswith(b + "."))
        for a, b in KNOWN_EXCEPTIONS
    )


@functools.cache
def edges() -> list[tuple[str, str]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        importer = module_name(path)
        for imported in imports_of(ast.parse(path.read_text(), str(path))):
            found.append((importer, imported))
    return found


def test_no_import_runs_up_the_layers() -> None:
    upward = [
        f"{importer} → {imported}"
        for importer, imported in edges()
        if layer_of(imported) > layer_of(importer) and not known(importer, imported)
    ]
    assert upward == []


def test_a_channel_kind_imports_only_the_foundation_and_the_channel_contract() -> None:
    def allowed(importer: str, imported: str) -> bool:
        own = next(p for p in KIND_PACKAGES if importer == p or importer.startswith(p + "."))
        return (
            imported == own
            or imported.startswith(own + ".")
            or any(imported == p or imported.startswith(p + ".") for p in KIND_MAY_IMPORT if p != "wagate.channels")
            or imported == "wagate.channels"
            or known(importer, imported)
        )

    reaching = [
        f"{importer} → {imported}"
        for importer, imported in edges()
        if importer.startswith(KIND_PACKAGES) and not allowed(importer, imported)
    ]
    assert reaching == []


def test_every_known_exception_is_still_needed() -> None:
    def matches(importer: str, imported: str, a: str, b: str) -> bool:
        return (importer == a or importer.startswith(a + ".")) and (imported == b or imported.startswith(b + "."))

    all_edges = edges()
    unused = [(a, b) for a, b in KNOWN_EXCEPTIONS if not any(matches(i, m, a, b) for i, m in all_edges)]
    assert unused == []
