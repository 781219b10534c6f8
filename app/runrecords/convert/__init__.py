"""DAQInterface `.txt` → `.fcl` converters and the RunHistory generators (run-records.md §6-§10).

Output is byte-identical to the legacy tool's wherever that is valid FHiCL; invalid elements are
repaired (fk/fq), and every repair, drop or merge comes back as a warning naming file and line.
"""

from app.runrecords.convert.boot import convert_boot
from app.runrecords.convert.config_name import DEFAULT_CONFIG_NAME, config_name_from_metadata
from app.runrecords.convert.environment import convert_environment
from app.runrecords.convert.known_boardreaders_list import convert_known_boardreaders_list
from app.runrecords.convert.metadata import convert_metadata
from app.runrecords.convert.notes import Converted
from app.runrecords.convert.ranks import convert_ranks
from app.runrecords.convert.record import ConversionResult, convert_record
from app.runrecords.convert.run_history import generate_run_history, generate_run_history2
from app.runrecords.convert.selection import ALL_OUTPUTS, parse_fhiclize_generate
from app.runrecords.convert.settings import convert_settings
from app.runrecords.convert.setup import convert_setup

__all__ = [
    "ALL_OUTPUTS",
    "DEFAULT_CONFIG_NAME",
    "ConversionResult",
    "Converted",
    "config_name_from_metadata",
    "convert_boot",
    "convert_environment",
    "convert_known_boardreaders_list",
    "convert_metadata",
    "convert_ranks",
    "convert_record",
    "convert_settings",
    "convert_setup",
    "generate_run_history",
    "generate_run_history2",
    "parse_fhiclize_generate",
]
