"""Where the template lives in this repository and how its history is shipped.

The build hook (hatch_build.py) loads this file by its path: it runs where
newservice and its dependencies are not installed, so this module imports
nothing.
"""

from __future__ import annotations

TEMPLATE_PATHS = ("copier.yml", "includes", "template", "resource_template")
"""The repository paths that make up the template: a change elsewhere changes no project."""

BUNDLE_NAME = "_template.bundle"
"""The template's git history: beside this module in the wheel, at the root of the sdist."""

BUILD_REFS = "refs/heads/builds/"
"""Under it, one branch per newservice build, named by the commit that build renders."""
