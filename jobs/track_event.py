"""spark-submit entry point: one live-tracking pass over an event (schedule it every few minutes during the event).

    spark-submit jobs/track_event.py --event black_friday --region us [--config conf/pipeline.yaml]
"""
import sys

from cloudtune.cli import main

if __name__ == "__main__":
    sys.exit(main(["track", *sys.argv[1:]]))
