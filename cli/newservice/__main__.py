from newservice.cli import app

app(prog_name="newservice")
