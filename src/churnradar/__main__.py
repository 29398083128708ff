from churnradar.cli.main import run

run()
