"""The application database: tables, engine, migrations, bulk loading, the Parquet mirror."""
