"""Rows a test gives a database: dicts inserted into a table by name."""
import pandas as pd


def insert_rows(con, table: str, rows) -> None:
    """Insert `rows` (dicts, or a DataFrame) into `table` by column name;
    the table's other columns are NULL or their defaults."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    con.register("given_rows", frame)
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    # table and column names come from the test itself, not from input
    con.execute(f"insert into {table} ({columns}) "  # noqa: S608
                f"select {columns} from given_rows")
    con.unregister("given_rows")
