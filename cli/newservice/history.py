"""The per-user store of the template's history, shared by every newservice on the machine.

An installed newservice carries its template's git history as a bundle
(`newservice/_template.bundle`, made by hatch_build.py when the wheel is
built). Copier can only update from a git source whose path is the same for
everyone who updates the project, so the bundle is installed at one stable
place, recorded in `.copier-answers.yml` with `~/`:

    ~/.local/share/newservice/template.bundle

The store only ever grows. Installing merges the wheel's refs into what is
stored (in a temporary repository, written back as a new bundle by an atomic
rename, under a lock), and a ref already stored is never moved or removed: an
older newservice cannot take away history that a newer one stored, and every
`_commit` a project records stays resolvable.

The refs, here and in the wheel's bundle:
    refs/tags/v*                  the releases
    refs/heads/builds/<commit>    the commit each newservice build renders
    HEAD                          the build with the highest version (plain
                                  `copier update` uses it when there are no tags)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from filelock import FileLock

from newservice import gitops
from newservice.errors import NewserviceError
from newservice.revisions import is_newer, version_of
from newservice.template_layout import BUILD_REFS, BUNDLE_NAME

STORE_URL = "~/.local/share/newservice/template.bundle"
"""The template source every project made by an installed newservice records."""

_PACKAGED = Path(__file__).resolve().parent / BUNDLE_NAME


def store_path() -> Path:
    return Path(STORE_URL).expanduser()


def packaged_bundle() -> Path | None:
    """The bundle shipped in the wheel; None in a development checkout."""
    return _PACKAGED if _PACKAGED.is_file() else None


def install_packaged() -> str | None:
    """Install this newservice's history in the store; return the commit it renders.

    None when running from a development checkout, which ships no bundle.
    """
    bundle = packaged_bundle()
    if bundle is None:
        return None
    return install(bundle, store_path())


def install(bundle: Path, store: Path) -> str:
    """Merge the refs of `bundle` into the store at `store`; return `bundle`'s build commit."""
    offered = list_heads(bundle)
    if offered is None or "HEAD" not in offered:
        raise NewserviceError(f"the template history {bundle} is damaged; reinstall newservice")
    build = offered["HEAD"]
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NewserviceError(
            f"cannot create {store.parent} for the template history: {error.strerror}"
        ) from error
    # Two installs never merge at once.
    with FileLock(store.with_name(store.name + ".lock")):
        stored = list_heads(store) if store.exists() else {}
        if stored is None:
            raise NewserviceError(
                f"{store} is not a readable git bundle; move it aside (it may hold history"
                " other projects need) and run newservice again"
            )
        # A tag already stored is kept even where the bundle's differs: projects
        # may record it, and it must keep naming the commit they were made from.
        wanted = [ref for ref in offered if ref != "HEAD" and ref not in stored]
        if wanted:
            _merge(store, stored, bundle, wanted, build)
    return build


def list_heads(bundle: Path) -> dict[str, str] | None:
    """The refs of a bundle file by name, or None when it is not a readable bundle."""
    result = gitops.run(["bundle", "list-heads", str(bundle)])
    if result.returncode != 0:
        return None
    heads = {}
    for line in result.stdout.splitlines():
        commit, _, ref = line.partition(" ")
        heads[ref.strip()] = commit
    return heads


def _merge(
    store: Path, stored: dict[str, str], bundle: Path, wanted: list[str], build: str
) -> None:
    with tempfile.TemporaryDirectory(prefix=".merge-", dir=store.parent) as scratch:
        repo = Path(scratch) / "history.git"
        what = f"cannot merge the template history into {store}"
        gitops.output(["init", "--bare", "--quiet", str(repo)], what=what)
        if stored:
            gitops.output(
                ["fetch", "--quiet", str(store), "+refs/*:refs/*"], git_dir=repo, what=what
            )
        refspecs = [f"{ref}:{ref}" for ref in wanted]
        gitops.output(["fetch", "--quiet", str(bundle), *refspecs], git_dir=repo, what=what)
        head = build
        previous = stored.get("HEAD")
        if (
            previous is not None
            and f"{BUILD_REFS}{previous}" in stored
            and is_newer(version_of(repo, previous), version_of(repo, build))
        ):
            head = previous
        gitops.output(["symbolic-ref", "HEAD", f"{BUILD_REFS}{head}"], git_dir=repo, what=what)
        merged = Path(scratch) / "template.bundle"
        gitops.output(
            ["bundle", "create", "--quiet", str(merged), "--all"], git_dir=repo, what=what
        )
        merged.replace(store)
