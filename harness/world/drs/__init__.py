"""The DRS emulator package: DRS's rest-json API on virtual time, for an unmodified boto3 `drs` client."""

from .emulator import DrsEmulator
from .launchers import Ec2Launcher, FakeLauncher, InProcessMotoLauncher
from .models import DrsError, RequestContext, SourceServer
from .standalone import WallClock, serve_forever
from .transport import DrsServer

__all__ = [
    "DrsEmulator", "DrsError", "DrsServer", "Ec2Launcher", "FakeLauncher", "InProcessMotoLauncher", "RequestContext", "SourceServer",
    "WallClock", "serve_forever",
]
