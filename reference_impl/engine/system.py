"""SystemService: info, version, df, check."""
from __future__ import annotations

import os
import platform

from reference_impl import check
from reference_impl import images as model
from reference_impl.engine.records.system import CheckReport
from reference_impl.store import Store

VERSION = "0.1.0"
API_VERSION = "1.41"
MIN_API_VERSION = "1.12"


class SystemService:
    def __init__(self, store: Store):
        self.store = store

    def version(self) -> dict:
        """Docker's version document (GET /version; `version --format`'s .Server)."""
        details = {"ApiVersion": API_VERSION, "Arch": model.ARCH, "BuildTime": "", "Experimental": "false",
                   "GitCommit": "", "GoVersion": "", "KernelVersion": platform.release(),
                   "MinAPIVersion": MIN_API_VERSION, "Os": "linux"}
        return {"Platform": {"Name": "strata"},
                "Components": [{"Name": "Engine", "Version": VERSION, "Details": details}],
                "Version": VERSION, "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
                "GitCommit": "", "GoVersion": "", "Os": "linux", "Arch": model.ARCH,
                "KernelVersion": platform.release(), "BuildTime": "", "Compat": model.DOCKER_VERSION}

    def info(self) -> dict:
        """Docker's info document (GET /info)."""
        store = self.store
        containers = store.containers.all()
        running = sum(1 for c in containers if c.counts_as_running)
        try:
            mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError):
            mem = 0
        return {
            "ID": "", "Containers": len(containers), "ContainersRunning": running, "ContainersPaused": 0,
            "ContainersStopped": len(containers) - running, "Images": len(store.images.ids()),
            "Driver": "overlay2", "DriverStatus": [["Backing Filesystem", "overlayfs"]],
            "Plugins": {"Volume": None, "Network": None, "Authorization": None, "Log": ["json-file"]},
            "MemoryLimit": False, "SwapLimit": False, "KernelMemory": False, "KernelMemoryTCP": False,
            "CpuCfsPeriod": False, "CpuCfsQuota": False, "CPUShares": False, "CPUSet": False,
            "PidsLimit": False, "IPv4Forwarding": True, "BridgeNfIptables": False, "BridgeNfIp6tables": False,
            "Debug": False, "NFd": 0, "OomKillDisable": False, "NGoroutines": 0, "SystemTime": "",
            "LoggingDriver": "json-file", "CgroupDriver": "none", "CgroupVersion": "2", "NEventsListener": 0,
            "KernelVersion": platform.release(), "OperatingSystem": "strata", "OSVersion": "", "OSType": "linux",
            "Architecture": platform.machine(), "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": {"AllowNondistributableArtifactsCIDRs": [],
                               "AllowNondistributableArtifactsHostnames": [],
                               "InsecureRegistryCIDRs": ["127.0.0.0/8"], "IndexConfigs": {}, "Mirrors": []},
            "NCPU": os.cpu_count() or 1, "MemTotal": mem, "GenericResources": None,
            "DockerRootDir": str(store.root), "HttpProxy": "", "HttpsProxy": "", "NoProxy": "",
            "Name": platform.node(), "Labels": [], "ExperimentalBuild": False, "ServerVersion": VERSION,
            "Runtimes": {"strata": {"path": "strata-shim"}}, "DefaultRuntime": "strata",
            "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": False,
                      "Error": "", "RemoteManagers": None},
            "LiveRestoreEnabled": False, "Isolation": "", "InitBinary": "", "ContainerdCommit": {"ID": ""},
            "RuncCommit": {"ID": ""}, "InitCommit": {"ID": ""}, "SecurityOptions": [], "Warnings": None,
        }

    def df(self) -> dict:
        """What the store's images, containers and volumes take (engine/disk_usage.py)."""
        from reference_impl.engine import disk_usage
        return disk_usage.document(self.store)

    def check(self, repair: bool = False, deep: bool = True) -> CheckReport:
        removed = check.repair_staging(self.store) if repair else 0
        return CheckReport(removed_leftovers=removed, problems=check.problems(self.store, deep=deep))
