"""The PostgreSQL read model: server, migrations, projections, audit log and reports (asyncpg)."""
