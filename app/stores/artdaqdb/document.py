"""Build and read stored records: the §3.1 keys, deterministic oids and the raw block (§11.2).

The deterministic oid turns "is this document stored?" into a file-existence test, and the raw
block keeps the exact source bytes (the C++ tools carry it along and never read it).
"""

import base64
import binascii
import hashlib
import uuid
from dataclasses import dataclass

from app.fhicl.pairs import JsonObject, Pairs
from app.stores.artdaqdb.conversion import Conversion, Converter
from app.stores.artdaqdb.dialect import dumps, loads
from app.stores.artdaqdb.timestamps import format_timestamp

OID_SALT = "archiver-oid-v1"
RAW_MARKER = "archiver-raw-v1"


def object_id(collection: str, configuration: str, version: str, entity: str) -> str:
    """The project's oid for a logical key: 24 hex digits of a salted sha256 (§11.2)."""
    key = "\n".join((OID_SALT, collection, configuration, version, entity))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def random_object_id() -> str:
    """An oid the way the C++ tools make one (first 24 hex digits of a random UUID)."""
    return uuid.uuid4().hex[:24]


def raw_block(source: bytes) -> list[str]:
    """The four `origin.rawdata` strings that carry `source` byte for byte."""
    return [
        RAW_MARKER,
        f"size:{len(source)}",
        f"sha256:{hashlib.sha256(source).hexdigest()}",
        "base64:" + base64.b64encode(source).decode("ascii"),
    ]


@dataclass(frozen=True)
class RawContent:
    """The decoded raw block: `data` when it is present and valid, else why it is not."""

    data: bytes | None
    problem: str | None = None


def read_raw_block(record: JsonObject) -> RawContent:
    """Decode and check `origin.rawdata`; a damaged block reads as absent, with the reason."""
    origin = record.get("origin")
    rawdata = origin.get("rawdata") if isinstance(origin, Pairs | dict) else None
    if not isinstance(rawdata, list) or not rawdata or rawdata[0] != RAW_MARKER:
        return RawContent(None)
    if len(rawdata) != 4 or not all(isinstance(item, str) for item in rawdata):
        return RawContent(None, "raw block does not have four strings")
    size_field, sha_field, payload_field = rawdata[1:]
    if not (
        size_field.startswith("size:")
        and sha_field.startswith("sha256:")
        and payload_field.startswith("base64:")
    ):
        return RawContent(None, "raw block fields are out of order or mislabelled")
    try:
        data = base64.b64decode(payload_field[len("base64:") :], validate=True)
    except (binascii.Error, ValueError):
        return RawContent(None, "raw block payload is not valid base64")
    if size_field != f"size:{len(data)}":
        return RawContent(None, f"raw block holds {len(data)} bytes, {size_field} expected")
    if sha_field != f"sha256:{hashlib.sha256(data).hexdigest()}":
        return RawContent(None, "raw block payload does not match its sha256")
    return RawContent(data)


def _stamped(name: str, timestamp: str) -> Pairs:
    return Pairs([("name", name), ("assigned", timestamp)])


_PARTS_PREFIX = '{"document":{},"comments":[],'


def assemble_record(
    source: bytes,
    *,
    oid: str,
    collection: str,
    configuration: str,
    version: str,
    entity: str,
    run: str,
    timestamp: str,
) -> Pairs:
    """Every §3.1 key in the order the C++ tools write them; `document` and `comments` stay
    empty until `record_text` splices in the conversion's text."""
    origin = Pairs(
        [
            ("format", "fhicl"),
            ("name", entity),
            ("source", "fhicl_to_json"),
            ("timestamp", timestamp),
            ("created", timestamp),
            ("rawdata", raw_block(source)),
        ]
    )
    bookkeeping = Pairs(
        [("isreadonly", False), ("isdeleted", False), ("created", timestamp), ("updates", [])]
    )
    return Pairs(
        [
            ("document", Pairs()),
            ("comments", []),
            ("origin", origin),
            ("version", version),
            ("entities", [_stamped(entity, timestamp)]),
            ("configurations", [_stamped(configuration, timestamp)]),
            ("changelog", "notprovided"),
            ("bookkeeping", bookkeeping),
            ("_id", Pairs([("$oid", oid)])),
            ("collection", collection),
            ("aliases", Pairs([("active", []), ("history", [])])),
            ("runs", [_stamped(run, timestamp)]),
            ("attachments", []),
            ("configtype", "notprovided"),
        ]
    )


def record_text(record: Pairs, conversion: Conversion) -> str:
    """The stored text of an assembled record: its keys with the conversion's parts in place."""
    text = dumps(record)
    if not text.startswith(_PARTS_PREFIX):
        raise ValueError("the record does not start with empty document and comments parts")
    return (
        f'{{"document":{conversion.document_json},"comments":{conversion.comments_json},'
        + text[len(_PARTS_PREFIX) :]
    )


@dataclass(frozen=True)
class BuiltRecord:
    """A record ready to store, with its deterministic oid and the conversion that fed it."""

    text: str
    oid: str
    conversion: Conversion

    @property
    def record(self) -> Pairs:
        """The record as a tree (parsed from `text`)."""
        return loads(self.text)


def build_record(
    source: bytes,
    *,
    converter: Converter,
    collection: str,
    configuration: str,
    version: str,
    entity: str,
    run: str,
    timestamp: str | None = None,
) -> BuiltRecord:
    """Convert `source` and wrap it as the record the project stores for this logical key."""
    conversion = converter(source, entity)
    oid = object_id(collection, configuration, version, entity)
    record = assemble_record(
        source,
        oid=oid,
        collection=collection,
        configuration=configuration,
        version=version,
        entity=entity,
        run=run,
        timestamp=timestamp or format_timestamp(),
    )
    return BuiltRecord(record_text(record, conversion), oid, conversion)
