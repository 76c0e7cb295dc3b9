from alliance.cli import run

run()
