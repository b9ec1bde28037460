"""The `jfc` command: placeholder until the CLI lands."""
import typer

app = typer.Typer(help="Jakarta Film Commission permit engine")
