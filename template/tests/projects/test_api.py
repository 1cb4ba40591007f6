"""The projects API, end to end through HTTP and the real database."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import add_user


async def test_create_project_returns_201(client: AsyncClient, session: AsyncSession) -> None:
    user = await add_user(session)

    response = await client.post(
        f"/users/{user.id}/projects", json={"name": "Engine", "description": "Analytical"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["owner_id"] == user.id
    assert body["name"] == "Engine"
    assert body["description"] == "Analytical"
    assert set(body) == {"id", "owner_id", "name", "description", "created_at"}


async def test_create_project_for_a_missing_user_returns_404(client: AsyncClient) -> None:
    response = await client.post("/users/999999/projects", json={"name": "Orphan"})

    assert response.status_code == 404
    assert response.json()["code"] == "user_not_found"


async def test_create_project_without_a_name_returns_422(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await add_user(session)

    response = await client.post(f"/users/{user.id}/projects", json={"name": ""})

    assert response.status_code == 422


async def test_list_user_projects_returns_only_theirs(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await add_user(session, projects=2)
    await add_user(session, projects=1)

    response = await client.get(f"/users/{user.id}/projects")

    assert response.status_code == 200
    assert [project["name"] for project in response.json()] == ["Project 1", "Project 2"]
    assert {project["owner_id"] for project in response.json()} == {user.id}


async def test_list_projects_of_a_missing_user_returns_404(client: AsyncClient) -> None:
    response = await client.get("/users/999999/projects")

    assert response.status_code == 404


async def test_get_project_returns_200_then_404(client: AsyncClient, session: AsyncSession) -> None:
    user = await add_user(session)
    created = await client.post(f"/users/{user.id}/projects", json={"name": "Difference"})
    project_id = created.json()["id"]

    found = await client.get(f"/projects/{project_id}")
    missing = await client.get(f"/projects/{project_id + 1000}")

    assert found.status_code == 200
    assert found.json() == created.json()
    assert missing.status_code == 404
    assert missing.json()["code"] == "project_not_found"
