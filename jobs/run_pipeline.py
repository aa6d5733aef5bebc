"""spark-submit entry point for the main pipeline (today: sample or --source -> ingest -> tables)."""
import sys

from cloudtune.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
