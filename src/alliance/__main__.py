from alliance.cli import run

if __name__ == "__main__":  # not when a worker process (Dask, multiprocessing) imports it
    run()
