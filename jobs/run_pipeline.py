"""spark-submit entry point for the main pipeline: sample (or --source) -> ingest -> forecast -> reconcile ->
long-range extract -> capacity plan and game day."""
import sys

from cloudtune.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
