"""The N+1 guard: listing users costs the same number of statements whatever their number."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.database import CountQueries
from tests.factories import add_user


async def test_listing_users_costs_a_constant_number_of_statements(
    client: AsyncClient, session: AsyncSession, count_queries: CountQueries
) -> None:
    await add_user(session, projects=3)
    with count_queries() as one_user:
        response = await client.get("/users", params={"limit": 100})
    assert response.status_code == 200
    assert len(response.json()) == 1

    for _ in range(29):
        await add_user(session, projects=3)
    with count_queries() as thirty_users:
        response = await client.get("/users", params={"limit": 100})
    assert response.status_code == 200
    assert len(response.json()) == 30
    assert all(len(user["projects"]) == 3 for user in response.json())

    assert len(thirty_users) == len(one_user), thirty_users
    selects = [sql for sql in thirty_users if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, selects  # the users, then all their projects
