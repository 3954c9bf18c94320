"""Create the MariaDB database a benchmark's DATABASE_URL names, if it is missing."""

import os
import sys


def ensure_database(example_url: str) -> None:
    """Exit with a hint unless DATABASE_URL is MySQL; create its database (utf8mb4) if absent."""
    import environ
    import MySQLdb

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("mysql://"):
        sys.exit(f"Set DATABASE_URL={example_url}")
    config = environ.Env.db_url_config(url)
    server = MySQLdb.connect(
        host=config["HOST"],
        port=int(config["PORT"] or 3306),
        user=config["USER"],
        passwd=config["PASSWORD"] or "",
    )
    server.cursor().execute(
        f"CREATE DATABASE IF NOT EXISTS `{config['NAME']}` "
        "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    server.close()
