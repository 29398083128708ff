"""Command line: thin Typer commands over workflow and store."""
