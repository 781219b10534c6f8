"""Process documents for sample records, shaped like `fhicl-dump` output of SBND configurations.

DAQInterface stores each process's configuration after `fhicl-dump` (run-records.md §2.1): a
4-line comment header, keys sorted, 3-space indentation, strings double-quoted, one sequence
element per line. The tables mirror the SBND boardreader and artdaq process configurations; the
bulk (pedestal, threshold and bitstream tables) is sized to hit a target file size.
"""

import random
from collections.abc import Mapping, Sequence

Value = bool | int | float | str | None | Sequence["Value"] | Mapping[str, "Value"]

INDENT = "   "
_ELEMENT_BYTES = 16
_HEADER = (
    "# Produced from 'fhicl-dump' using:\n"
    "#   Input  : ./{label}.fcl\n"
    "#   Policy : cet::filepath_maker\n"
    '#   Path   : "FHICL_FILE_PATH"\n'
    "\n"
)


def dump_fhicl(table: Mapping[str, Value], *, label: str) -> str:
    """Render a table the way `fhicl-dump` prints a parameter set."""
    lines: list[str] = []
    for key in sorted(table):
        _render(key, table[key], 0, "", lines)
    return _HEADER.format(label=label) + "\n".join(lines) + "\n"


def boardreader_document(
    label: str, *, host: str, rank: int, eventbuilders: Sequence[tuple[int, str]], size: int
) -> str:
    """A BoardReader configuration (fragment receiver, destinations, metrics) of about `size`."""
    rng = random.Random(f"boardreader:{label}:{size}")  # noqa: S311 - reproducible sample
    kind = _kind(label)
    receiver: dict[str, Value] = {
        "generator": _GENERATORS[kind],
        "fragment_type": _FRAGMENT_TYPES[kind],
        "fragment_id": 0x9000 + rank,
        "board_id": rank,
        "max_fragment_size_bytes": 1000000 * rng.choice((1, 2, 5)),
        "request_mode": "window",
        "request_window_width": 50000000,
        "request_window_offset": 25000000,
        "request_address": "227.128.11.129",
        "multicast_interface_ip": "10.226.36.0",
        "request_port": 3001,
        "data_buffer_depth_fragments": 5000,
        "separate_data_thread": True,
        "stale_request_timeout": 200000000,
        "destinations": _destinations(eventbuilders),
        "routing_table_config": {"use_routing_manager": False},
        "hardware": _hardware(kind, rng),
    }
    budget = max(size - len(dump_fhicl({"daq": {"fragment_receiver": receiver}}, label=label)), 0)
    receiver.update(_bulk(kind, rng, budget))
    daq = {"fragment_receiver": receiver, "metrics": _metrics(label, "brFile")}
    return dump_fhicl({"daq": daq}, label=label)


def artdaq_document(
    label: str, *, role: str, eventbuilders: Sequence[tuple[int, str]], boardreaders: int
) -> str:
    """An EventBuilder, DataLogger or Dispatcher configuration (art services, paths, outputs)."""
    rng = random.Random(f"{role}:{label}")  # noqa: S311 - reproducible sample
    core: dict[str, Value] = {
        "buffer_count": rng.choice((10, 20, 30)),
        "max_incomplete_events": 15,
        "expected_fragments_per_event": boardreaders,
        "print_event_store_stats": True,
        "send_requests": role == "EventBuilder",
        "stale_buffer_timeout_usec": 10000000,
        "tcp_receive_buffer_size": 64000,
        "use_art": True,
        "verbose": True,
        "routing_token_config": {"use_routing_manager": False},
        "sources": {},
    }
    if role == "Dispatcher":
        core.update({"is_dispatcher": True, "overwrite_mode": True, "broadcast_buffer_size": 1e9})
    section = "event_builder" if role == "EventBuilder" else "aggregator"
    outputs: dict[str, Value] = {
        "rootNetOutput": {
            "module_type": "RootNetOutput",
            "broadcast_sends": True,
            "nonblocking_sends": True,
            "destinations": _destinations(eventbuilders),
            "host_map": [{"rank": -1, "host": "localhost"}],
        },
        "normalOutput": {
            "module_type": "RootDAQOut",
            "fileName": "/data/daq/data_%p_run%R_%#_%to.root",
            "fileProperties": {"maxSubRuns": 1, "maxRuns": 1, "maxEvents": 20},
            "fastCloning": False,
            "compressionLevel": 0,
            "SelectEvents": ["p2"],
        },
    }
    physics: dict[str, Value] = {
        "analyzers": {"fragWatcher": {"module_type": "FragmentWatcher", "fragment_ids": []}},
        "producers": {},
        "filters": {
            f"prescale{n}": {"module_type": "Prescaler", "prescaleFactor": n, "prescaleOffset": 0}
            for n in (1, 5, 10, 25, 50)
        },
        "p1": [],
        "p2": ["prescale1"],
        "pd": ["prescale5"],
        "a1": ["fragWatcher"],
        "my_output_modules": ["rootNetOutput"],
        "end_paths": ["a1", "my_output_modules"],
    }
    services: dict[str, Value] = {
        "ArtdaqSharedMemoryServiceInterface": {"service_provider": "ArtdaqSharedMemoryService"},
        "ArtdaqFragmentNamingServiceInterface": {
            "service_provider": "ArtdaqFragmentNamingService",
            "helper_plugin": "SBND",
        },
    }
    return dump_fhicl(
        {
            "daq": {section: core, "metrics": _metrics(label, "evbFile")},
            "outputs": outputs,
            "physics": physics,
            "services": services,
            "source": {"module_type": "ArtdaqInput", "waiting_time": 2500000},
            "process_name": "DAQ" if role == "EventBuilder" else f"DAQ{role}",
        },
        label=label,
    )


def _render(key: str | None, value: Value, depth: int, suffix: str, lines: list[str]) -> None:
    pad = INDENT * depth
    prefix = "" if key is None else f"{key}: "
    if isinstance(value, Mapping):
        if not value:
            lines.append(f"{pad}{prefix}{{}}{suffix}")
            return
        lines.append(f"{pad}{prefix}{{")
        for name in sorted(value):
            _render(name, value[name], depth + 1, "", lines)
        lines.append(f"{pad}}}{suffix}")
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            lines.append(f"{pad}{prefix}[]{suffix}")
            return
        lines.append(f"{pad}{prefix}[")
        for index, element in enumerate(value):
            _render(None, element, depth + 1, "," if index < len(value) - 1 else "", lines)
        lines.append(f"{pad}]{suffix}")
    else:
        lines.append(f"{pad}{prefix}{_atom(value)}{suffix}")


def _atom(value: Value) -> str:
    if value is None:
        return "@nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return f'"{value}"'


def _kind(label: str) -> str:
    for prefix in ("tpc", "wib", "pmt", "crt", "ptb", "ntb", "spectdc", "mbb"):
        if label.startswith(prefix):
            return prefix
    return "component"


_GENERATORS = {
    "tpc": "NevisTPC2StreamNUandSNXMIT",
    "wib": "WIBReader",
    "pmt": "CAENV1730Readout",
    "crt": "BernCRTData",
    "ptb": "PTBReceiver",
    "ntb": "NevisTB_generator",
    "spectdc": "SPECTDCTimestampReader",
    "mbb": "MBBReader",
    "component": "ToySimulator",
}
_FRAGMENT_TYPES = {
    "tpc": "NevisTPC",
    "wib": "WIB",
    "pmt": "CAENV1730",
    "crt": "BERNCRTV2",
    "ptb": "PTB",
    "ntb": "NevisTB",
    "spectdc": "TDCTIMESTAMP",
    "mbb": "MBB",
    "component": "TOY1",
}


def _hardware(kind: str, rng: random.Random) -> dict[str, Value]:
    """A few device settings per kind, like the `*_standard.fcl` of SBND."""
    if kind == "pmt":
        return {
            "CalibrateOnConfig": True,
            "SelfTriggerMode": 2,
            "SelfTriggerMask": 32768,
            "triggerLogic": 3,
            "maxTempCelsius": 75,
            "channelEnable": [True] * 15 + [False],
        }
    if kind == "crt":
        return {
            "ethernet_port": f"crt{rng.randint(1, 4)}",
            "feb_poll_ms": 200,
            "FEBBufferCapacity": 10000,
            "firmware_flag": "SBND",
            "TurnOnHV": [False],
            "PPS_offset_ns": [0],
        }
    if kind in ("tpc", "wib"):
        return {
            "GPSTimeFrequency": 1,
            "UseZMQ": True,
            "GPSZMQPortNTB": "tcp://10.226.36.6:11212",
            "controller_module": {"bus": 81},
            "nu_xmit_reader": {"bus": 138},
            "sn_xmit_reader": {"bus": 139},
        }
    return {"link": rng.randint(0, 3), "enableReadout": 1, "debugLevel": 7}


def _bulk(kind: str, rng: random.Random, budget: int) -> dict[str, Value]:
    """Calibration tables filling `budget` bytes: the part that makes real records big."""
    count = max(budget // _ELEMENT_BYTES, 1)
    if kind == "crt":
        words = [f"0x{rng.getrandbits(32):08x}" for _ in range(count * 3 // 4)]
        return {"feb_bitstream": words}
    half = max(count // 2, 1)
    return {
        "channel_pedestals": [2048 + rng.randint(-40, 40) for _ in range(half)],
        "channel_thresholds": [rng.randint(0, 4095) for _ in range(count - half)],
    }


def _destinations(eventbuilders: Sequence[tuple[int, str]]) -> dict[str, Value]:
    return {
        f"d{rank}": {
            "transferPluginType": "TCPSocket",
            "destination_rank": rank,
            "host_map": [{"rank": rank, "host": host}],
        }
        for rank, host in eventbuilders
    }


def _metrics(label: str, name: str) -> dict[str, Value]:
    return {
        name: {
            "metricPluginType": "file",
            "level_string": "1,2,11-20",
            "fileName": f"/daq/log/metrics/{label}_metrics.log",
            "uniquify": True,
        },
        "graphite": {
            "metricPluginType": "graphite",
            "level_string": "1,2,11-20",
            "reporting_interval": 10.0,
            "host": "10.226.36.34",
            "port": 2003,
            "namespace": f"sbnd.{label}.",
        },
    }
