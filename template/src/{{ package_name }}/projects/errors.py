"""The projects domain's errors."""

from ..core.errors import NotFoundError


class ProjectNotFoundError(NotFoundError):
    code = "project_not_found"

    def __init__(self, project_id: int) -> None:
        super().__init__(f"project {project_id} not found")
        self.project_id = project_id
