"""Server statuses of a job (pure): DRS participant + source server + recovery instance facts."""

from typing import Any

Record = dict[str, Any]


def recovery_instance_ids(jobs: list[Record]) -> list[str]:
    return sorted({server["recoveryInstanceID"] for job in jobs for server in _participants(job)
                   if server.get("recoveryInstanceID")})


def participating_server_ids(jobs: list[Record]) -> list[str]:
    return sorted({server["sourceServerID"] for job in jobs for server in _participants(job)})


def _participants(job: Record) -> list[Record]:
    return job.get("participatingServers") or []


def server_statuses(jobs: list[Record], source_servers: dict[str, Record],
                    instances: dict[str, Record]) -> list[Record]:
    """One status per server taking part in any of a wave's jobs, sorted by sourceServerId."""
    statuses = [
        _server_status(server, source_servers.get(server["sourceServerID"], {}),
                       instances.get(server.get("recoveryInstanceID") or "", None))
        for job in jobs for server in _participants(job)
    ]
    return sorted(statuses, key=lambda status: status["sourceServerId"])


def _server_status(participant: Record, source: Record, instance: Record | None) -> Record:
    hostname_hint = ((source.get("sourceProperties") or {}).get("identificationHints") or {}).get("hostname")
    name_tag = (source.get("tags") or {}).get("Name")
    launch_time = instance.get("LaunchTime") if instance else None
    return {
        "sourceServerId": participant["sourceServerID"],
        "serverName": name_tag or hostname_hint,
        "hostname": instance.get("PrivateDnsName") if instance else hostname_hint,
        "launchStatus": participant.get("launchStatus"),
        "launchTime": int(launch_time.timestamp()) if launch_time is not None else None,
        "instanceId": participant.get("recoveryInstanceID"),
        "privateIp": instance.get("PrivateIpAddress") if instance else None,
        "instanceType": instance.get("InstanceType") if instance else None,
    }
