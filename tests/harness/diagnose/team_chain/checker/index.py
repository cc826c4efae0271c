"""A team's checker: one run's current wave read from DRS and EC2, the next wave started, the run saved."""

import os
import time

import boto3
from botocore.exceptions import ClientError


def lambda_handler(event, context):
    run_id = event["executionId"]
    print(f"Checking execution {run_id}")
    runs = boto3.resource("dynamodb").Table(os.environ["RUNS_TABLE"])
    run = runs.get_item(Key={"executionId": run_id})["Item"]
    if run["state"] != "IN_PROGRESS":
        return
    drs = boto3.client("drs")
    wave = run["waves"][int(run["waveIndex"])]
    try:
        job = drs.describe_jobs(filters={"jobIDs": [wave["jobId"]]})["items"][0]
        wave["servers"] = server_facts(drs, job)
    except ClientError as error:
        print(f"DRS lookup failed for {run_id}: {error}")
        return
    launched = [server["launchStatus"] for server in wave["servers"]]
    if "FAILED" in launched:
        wave["state"], run["state"], run["finishedAt"] = "FAILED", "FAILED", int(time.time())
    elif launched and all(status == "LAUNCHED" for status in launched):
        wave["state"] = "SUCCEEDED"
        next_wave(drs, run)
    run["lastPolledAt"] = int(time.time())
    runs.put_item(Item=run)
    print(f"Saved {len(run['waves'])} waves of {run_id}")


def server_facts(drs, job):
    """Each participating server with its name and, once launched, its instance's address and type."""
    ids = [server["sourceServerID"] for server in job["participatingServers"]]
    sources = {source["sourceServerID"]: source
               for source in drs.describe_source_servers(filters={"sourceServerIDs": ids})["items"]}
    instance_ids = [server["recoveryInstanceID"] for server in job["participatingServers"]
                    if server.get("recoveryInstanceID")]
    instances = {}
    if instance_ids:
        for reservation in boto3.client("ec2").describe_instances(InstanceIds=instance_ids)["Reservations"]:
            instances.update({instance["InstanceId"]: instance for instance in reservation["Instances"]})
    facts = []
    for server in job["participatingServers"]:
        source = sources.get(server["sourceServerID"], {})
        hostname = source.get("sourceProperties", {}).get("identificationHints", {}).get("hostname")
        instance = instances.get(server.get("recoveryInstanceID"), {})
        facts.append({"sourceServerId": server["sourceServerID"],
                      "name": source.get("tags", {}).get("Name") or hostname, "hostname": hostname,
                      "launchStatus": server.get("launchStatus"), "instanceId": server.get("recoveryInstanceID"),
                      "ipAddress": instance.get("PrivateIpAddress"), "instanceType": instance.get("InstanceType")})
    return facts


def next_wave(drs, run):
    """Start the next wave, or finish the run after its last."""
    following = int(run["waveIndex"]) + 1
    if following == len(run["waves"]):
        run["state"], run["finishedAt"] = "SUCCEEDED", int(time.time())
        return
    wave = run["waves"][following]
    job = drs.start_recovery(sourceServers=[{"sourceServerID": server} for server in wave["serverIds"]],
                             isDrill=True)["job"]
    wave.update(state="RUNNING", jobId=job["jobID"])
    run["waveIndex"] = following
