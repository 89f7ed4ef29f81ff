#!/usr/bin/env python3
"""Waits until the driver runs a resident training stage of epoch EPOCH or later with every one of its tasks running,
then a random delay
inside that stage, and returns while the same stage attempt still runs: the soak's fault injector kills right after,
so its faults land in training stages, not between them (a kill between stages costs no attempt and tests nothing).
Reads the driver's REST API (spark.ui.enabled=true); a training stage is one whose job description starts with
"resident workers: epoch" (ResidentEngine's job group); a stage that spans epochs counts as one of EPOCH
when it trains through it (it is then in EPOCH or later).
Prints "epoch E stage ID attempt A" and exits 0; exits 1 when JOB_PID has ended, or after TIMEOUT seconds without one.
With --outcome, waits until stage attempt ID/A is no longer active and prints how it ended: "failed" (a fault that
landed in it), "complete" (a fault that came after the stage's last task, which costs nothing), or "unknown" (the
driver ended or did not answer within TIMEOUT seconds).
Usage: training_stage.py DRIVER_UI_URL TASKS MAX_DELAY_SECONDS JOB_PID EPOCH [TIMEOUT_SECONDS]
       training_stage.py --outcome DRIVER_UI_URL STAGE_ID ATTEMPT JOB_PID [TIMEOUT_SECONDS]"""
import http.client
import json
import os
import random
import re
import sys
import time
import urllib.request

POLL_SECONDS = 0.2
# what a look at the REST API may meet: the UI not up yet, the driver gone, an answer cut short by a busy driver
UNANSWERED = (OSError, ValueError, KeyError, TypeError, http.client.HTTPException)
# one epoch's stage: "resident workers: epoch 3, stage 1/1"; a stage that spans epochs: "resident workers: epochs 3-5,"
TRAINING = re.compile(r"resident workers: epochs? (\d+)(?:-(\d+))?,")


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def running_training_stage(ui, tasks, epoch):
    """(epoch, stageId, attemptId) of an active resident training stage of this epoch or a later one whose tasks all
    run, or None."""
    try:
        for app in get(ui + "/api/v1/applications"):
            for stage in get("%s/api/v1/applications/%s/stages?status=active" % (ui, app["id"])):
                training = TRAINING.match(stage.get("description") or "")
                last = int(training.group(2) or training.group(1)) if training else 0
                if training and last >= epoch and stage.get("numActiveTasks", 0) >= tasks:
                    return max(epoch, int(training.group(1))), stage["stageId"], stage["attemptId"]
    except UNANSWERED:
        pass  # look again
    return None


def stage_status(ui, stage_id, attempt):
    """The status of a stage attempt (ACTIVE, COMPLETE, FAILED, ...), or None when the driver does not answer."""
    try:
        for app in get(ui + "/api/v1/applications"):
            return get("%s/api/v1/applications/%s/stages/%d/%d" % (ui, app["id"], stage_id, attempt))["status"]
    except UNANSWERED:
        pass
    return None


def outcome(args):
    if len(args) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    ui, stage_id, attempt, pid = args[0].rstrip("/"), int(args[1]), int(args[2]), int(args[3])
    deadline = time.time() + (float(args[4]) if len(args) == 5 else 120)
    while alive(pid) and time.time() < deadline:
        status = stage_status(ui, stage_id, attempt)
        if status not in (None, "ACTIVE", "PENDING"):
            print(status.lower())
            return 0
        time.sleep(POLL_SECONDS)
    print("unknown")
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--outcome":
        return outcome(sys.argv[2:])
    if len(sys.argv) not in (6, 7):
        print(__doc__, file=sys.stderr)
        return 2
    ui, tasks, max_delay, pid = sys.argv[1].rstrip("/"), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    epoch = int(sys.argv[5])
    deadline = time.time() + (float(sys.argv[6]) if len(sys.argv) == 7 else 3600)
    while alive(pid) and time.time() < deadline:
        stage = running_training_stage(ui, tasks, epoch)
        if stage is not None:
            time.sleep(random.uniform(0, max_delay))
            if running_training_stage(ui, tasks, epoch) == stage:
                print("epoch %d stage %d attempt %d" % stage)
                return 0
            # the stage ended during the delay: wait for the next one (its delay drawn again)
        time.sleep(POLL_SECONDS)
    return 1


if __name__ == "__main__":
    sys.exit(main())
