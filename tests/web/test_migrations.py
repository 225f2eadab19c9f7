"""Migration 0007 on a database that already holds agreements and cached PDFs."""

from __future__ import annotations

from datetime import UTC, datetime

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from onboarding import create_app
from onboarding.config import TestConfig
from onboarding.db import db
from onboarding.db.engine import MIGRATIONS

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
OURS = {"rendered_pdfs", "agreement_versions"}

intakes = sa.table(
    "intakes",
    sa.column("id", sa.Integer),
    sa.column("public_id", sa.String),
    sa.column("token", sa.String),
    sa.column("status", sa.String),
    sa.column("answers", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
versions = sa.table(
    "agreement_versions",
    *(
        sa.column(name, kind)
        for name, kind in {
            "id": sa.Integer,
            "intake_id": sa.Integer,
            "number": sa.Integer,
            "token": sa.String,
            "status": sa.String,
            "answers": sa.JSON,
            "assessment": sa.JSON,
            "playbook_version": sa.String,
            "paper": sa.String,
            "document_id": sa.String,
            "content_sha256": sa.String,
            "pdf": sa.LargeBinary,
            "pdf_sha256": sa.String,
            "filename": sa.String,
            "sent_at": sa.DateTime(timezone=True),
        }.items()
    ),
)
renders = sa.table(
    "rendered_pdfs",
    sa.column("key", sa.String),
    sa.column("pdf", sa.LargeBinary),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def test_0007_keeps_versions_empties_the_cache_and_matches_the_models(
    empty_database, tmp_path, monkeypatch
):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    config = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}
    config |= {"SQLALCHEMY_DATABASE_URI": empty_database, "INSTANCE_PATH": str(tmp_path)}
    app = create_app(config)
    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="0006")
        with db.engine.begin() as connection:
            connection.execute(
                intakes.insert().values(
                    id=1, public_id="p1", token="t1", status="agreement_sent", answers={},
                    created_at=NOW, updated_at=NOW,
                )
            )  # fmt: skip
            connection.execute(
                versions.insert().values(
                    id=1, intake_id=1, number=1, token="v1", status="sent", answers={},
                    assessment={}, playbook_version="x", paper="a4", document_id="AGR-1",
                    content_sha256="c" * 64, pdf=b"%PDF-1.7 sent", pdf_sha256="d" * 64,
                    filename="a.pdf", sent_at=NOW,
                )
            )  # fmt: skip
            connection.execute(renders.insert().values(key="k" * 64, pdf=b"%PDF", created_at=NOW))

        flask_migrate.upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as connection:
            row = connection.execute(
                sa.text("SELECT pdf, html, title, stylesheet, page_sha256 FROM agreement_versions")
            ).one()
            assert row == (b"%PDF-1.7 sent", None, None, None, None)  # sent before: its PDF
            assert connection.execute(sa.text("SELECT count(*) FROM rendered_pdfs")).scalar() == 0
            diffs = compare_metadata(MigrationContext.configure(connection), db.metadata)
        ours = [d for d in diffs if OURS & {getattr(x, "name", None) for x in _objects(d)}]
        assert ours == []

        flask_migrate.downgrade(directory=str(MIGRATIONS), revision="0006")
        with db.engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("agreement_versions")}
            assert "html" not in columns and "pdf" in columns
            keys = {c["name"] for c in sa.inspect(connection).get_columns("rendered_pdfs")}
            assert keys == {"key", "pdf", "created_at"}
        db.session.remove()
        db.engine.dispose()


def _objects(diff):
    """The schema objects one autogenerate difference names (tables, or columns' tables)."""
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item:
            if isinstance(part, sa.Table):
                yield part
            elif isinstance(part, sa.Column | sa.Index | sa.Constraint) and part.table is not None:
                yield part.table
            elif isinstance(part, str) and part in OURS:
                yield sa.table(part)
