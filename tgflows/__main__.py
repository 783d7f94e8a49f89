from tgflows.cli import app

app()
