"""Complaints and callback requests left before requests were cases are moved into cases by
migration 0023: a customer's old 8-digit number still finds their complaint, an agent still
finishes an old callback by it, and an old open callback still holds its number and kind. The
old tables are gone; a downgrade brings them back with every request."""

from __future__ import annotations

from alembic import command as alembic_command
from sqlalchemy import Connection, select

from cases.caller_requests import CallerRequestRow
from cases.tables import CaseEventRow, CaseRow, CaseTaskRow
from integrations import migrations
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Base, Database

migrations.load_models()

OLD_ROWS = (
    "INSERT INTO complaints (tracking_number, customer_id, caller_number, category, status,"
    " recording_path, description, linkedid, created_at, updated_at) VALUES"
    " ('71234567', NULL, '+989121234567', 'billing', 'in_review', 'complaints/a.wav', NULL,"
    " '1700000000.1', '2026-11-20 08:00:00', '2026-11-21 06:00:00'),"
    " ('77654321', NULL, '+989121234567', 'service', 'rejected', NULL, 'late payment',"
    " NULL, '2026-11-01 08:00:00', '2026-11-05 09:00:00')",
    "INSERT INTO callback_tasks (tracking_number, kind, customer_id, phone, policy_number,"
    " status, assigned_agent, due_at, note, linkedid, created_at) VALUES"
    " ('51234567', 'renewal', NULL, '+989121234567', '140210001234', 'assigned', '1001',"
    " '2026-11-22 10:00:00', NULL, '1700000000.2', '2026-11-20 08:00:00'),"
    " ('59999999', 'quote', NULL, '+989121234567', NULL, 'done', '1002', NULL, 'asked',"
    " NULL, '2026-11-02 08:00:00')",
)


async def _at_0022_with_old_rows(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.exec_driver_sql(f"DROP TABLE {migrations.VERSION_TABLE}")
    await database.engine.dispose()
    await migrations.upgrade(database.url, "0022")
    async with database.engine.begin() as connection:
        for statement in OLD_ROWS:
            await connection.exec_driver_sql(statement)
    await database.engine.dispose()
    assert await migrations.upgrade(database.url) == "upgraded"


def _downgrade_to_0022(connection: Connection) -> None:
    config = migrations.alembic_config()
    config.attributes["connection"] = connection
    alembic_command.downgrade(config, "0022")


async def test_old_complaints_and_callbacks_become_cases_their_numbers_still_find(
    database: Database,
) -> None:
    await _at_0022_with_old_rows(database)
    customer_file = SqlCustomerFile(database)

    complaint = await customer_file.complaint_status("۷۱۲۳۴۵۶۷")
    assert complaint is not None and complaint.tracking_number != "71234567"
    assert (complaint.category, complaint.status, complaint.has_recording) == (
        "billing",
        "in_review",
        True,
    )
    rejected = await customer_file.complaint_status("77654321")
    assert rejected is not None and rejected.status == "rejected"

    # The agent's open callback, its due time the task's control date, taken by the old agent.
    [renewal] = await customer_file.callback_tasks_for_agent("1001", include_unassigned=False)
    assert (renewal.kind, renewal.status, renewal.policy_number) == (
        "renewal",
        "assigned",
        "140210001234",
    )
    assert renewal.due_at is not None and renewal.due_at.isoformat().startswith("2026-11-22T10")
    # Still one open request per number and kind: asking again gives the moved case's number.
    again = await customer_file.create_callback_task(
        "renewal", "09121234567", policy_number="140210001234"
    )
    assert again == renewal.tracking_number
    assert not await customer_file.update_callback_task("51234567", "1002", "done")
    assert await customer_file.update_callback_task("51234567", "1001", "done")
    assert await customer_file.callback_tasks_for_agent("1001") == []

    async with database.session() as session:
        cases = {row.type: row for row in (await session.scalars(select(CaseRow))).all()}
        requests = (await session.scalars(select(CallerRequestRow))).all()
        events = (await session.scalars(select(CaseEventRow.kind))).all()
        tasks = (await session.scalars(select(CaseTaskRow))).all()
    assert set(cases) == {"complaint", "renewal_callback", "callback"}
    # Clocks from the moved timeline: the complaint in review was acknowledged in time (Saturday
    # 09:30 Tehran, the first working morning after a Friday complaint), and
    # its resolution is long overdue, so the SLA scan sees it at once.
    open_complaint = await customer_file.own_records.requests.store.get(complaint.tracking_number)
    assert open_complaint.breached == ("resolution",)
    assert open_complaint.next_due_at is not None and open_complaint.next_due_clock == "resolution"
    assert sorted(r.legacy_number or "" for r in requests) == [
        "51234567",
        "59999999",
        "71234567",
        "77654321",
    ]
    assert events.count("opened") == 4 and events.count("sla_set") == 4
    assert all(task.done_at is not None for task in tasks)


async def test_a_downgrade_writes_the_requests_back_and_an_upgrade_moves_them_once(
    database: Database,
) -> None:
    await _at_0022_with_old_rows(database)
    customer_file = SqlCustomerFile(database)
    new = await customer_file.create_complaint("other", caller_number="09121234567")
    await database.engine.dispose()

    engine = migrations.migration_engine(database.url)
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade_to_0022)
    await engine.dispose()
    async with database.engine.connect() as connection:
        counts = [
            (await connection.exec_driver_sql(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("cases", "case_events", "case_tasks", "callback_tasks")
        ]
        old = await connection.exec_driver_sql(
            "SELECT tracking_number, status FROM complaints ORDER BY tracking_number"
        )
        complaints = [tuple(row) for row in old.all()]
    assert counts == [0, 0, 0, 2]
    assert complaints == [
        (new, "received"),
        ("71234567", "in_review"),
        ("77654321", "rejected"),
    ]
    await database.engine.dispose()

    assert await migrations.upgrade(database.url) == "upgraded"
    moved = await customer_file.complaint_status("71234567")
    assert moved is not None and moved.status == "in_review"
    async with database.engine.connect() as connection:
        cases = (await connection.exec_driver_sql("SELECT count(*) FROM cases")).scalar()
        differences = await connection.run_sync(migrations.schema_differences)
    assert cases == 5 and differences == []
