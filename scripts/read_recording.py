#!/usr/bin/env python3
"""Read control-loop recordings (MCAP, docs/recording.md) with the `mcap` and `mcap-ros2-support`
packages alone: the messages are decoded with the ROS 2 schemas stored in each file, nothing from this
repository. Prints one JSON object: per file, whether it is complete (footer reached) or truncated, and
per topic the message count, first/last log time (ns) and a few decoded fields.

The file is read front to back with the streaming reader (validating chunk and data CRCs), so a file cut
short by a crash reads up to its last complete chunk; the report then says "truncated". A complete file is
also read through its summary and index (the seeking reader) and both readings are reported.

usage: read_recording.py FILE [FILE ...] [--messages]
  --messages  also list every decoded message per topic (for tests; large)
"""
import json
import math
import sys

from mcap.exceptions import EndOfFile, McapError
from mcap.reader import make_reader
from mcap.records import Channel, Footer, Message, Schema
from mcap.stream_reader import StreamReader
from mcap_ros2.decoder import DecoderFactory


def plain(value):
    """A decoded ROS message as JSON-able values (non-finite floats as strings: JSON has none)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return list(value)
    if hasattr(value, "__slots__"):
        return {k: plain(getattr(value, k)) for k in value.__slots__}
    return value


def sample(topic, msg):
    """A few telling fields of a topic's message."""
    if topic == "/joint_states":
        return {"name": list(msg.name), "position": plain(msg.position[:3])}
    if topic == "/imu":
        o = msg.orientation
        return {"frame_id": msg.header.frame_id, "orientation_wxyz": plain([o.w, o.x, o.y, o.z])}
    if topic == "/command":
        return {"tick": msg.tick, "mode": msg.mode, "q": plain(msg.q[:3]), "kp": plain(msg.kp[:3])}
    if topic == "/policy":
        return {"tick": msg.tick, "k": msg.k, "chosen": msg.chosen, "scores": plain(msg.scores)}
    if topic == "/timings":
        return {"tick": msg.tick, "total": plain(msg.total), "inference": plain(msg.inference)}
    if topic == "/safety_events":
        return {"tick": msg.tick, "from": msg.from_mode, "to": msg.to_mode, "reason": msg.reason, "source": msg.source}
    return plain(msg)


def read_stream(path, keep_messages):
    """Front to back: everything up to the end, or up to the first incomplete record."""
    factory = DecoderFactory()
    schemas, channels, decoders, topics = {}, {}, {}, {}
    complete, error, count = False, None, 0
    with open(path, "rb") as f:
        try:
            for record in StreamReader(f, validate_crcs=True).records:
                if isinstance(record, Schema):
                    schemas[record.id] = record
                elif isinstance(record, Channel):
                    channels[record.id] = record
                elif isinstance(record, Message):
                    channel = channels[record.channel_id]
                    if record.channel_id not in decoders:
                        decoders[record.channel_id] = factory.decoder_for(
                            channel.message_encoding, schemas.get(channel.schema_id)
                        )
                    msg = decoders[record.channel_id](record.data)
                    t = topics.setdefault(
                        channel.topic,
                        {
                            "schema": schemas[channel.schema_id].name,
                            "count": 0,
                            "first_log_time": record.log_time,
                            "samples": [],
                            "sequences_contiguous": True,
                            "_next_seq": record.sequence,
                        },
                    )
                    t["count"] += 1
                    t["last_log_time"] = record.log_time
                    t["sequences_contiguous"] &= record.sequence == t["_next_seq"]
                    t["_next_seq"] = record.sequence + 1
                    t["first_sequence"] = t.get("first_sequence", record.sequence)
                    t["last_sequence"] = record.sequence
                    if len(t["samples"]) < 3:
                        t["samples"].append(sample(channel.topic, msg))
                    if keep_messages:
                        t.setdefault("messages", []).append(
                            {"log_time": record.log_time, "sequence": record.sequence, **plain(msg)}
                        )
                    count += 1
                elif isinstance(record, Footer):
                    complete = True
        except EndOfFile:
            error = "EndOfFile: the file ends before its footer (cut short)"
        except McapError as e:  # a CRC error on a torn record, ...
            error = f"{type(e).__name__}: {e}"
    for t in topics.values():
        del t["_next_seq"]
    return {"complete": complete, "truncated": not complete, "stop_reason": error, "messages": count, "topics": topics}


def read_indexed(path):
    """Through the summary and chunk indexes (what Foxglove Studio and seeking readers use)."""
    with open(path, "rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        summary = reader.get_summary()
        stats = summary.statistics
        counts = {}
        for _schema, channel, _message, _decoded in reader.iter_decoded_messages(log_time_order=True):
            counts[channel.topic] = counts.get(channel.topic, 0) + 1
        return {
            "statistics": {
                "message_count": stats.message_count,
                "chunk_count": stats.chunk_count,
                "channel_message_counts": {
                    summary.channels[cid].topic: n for cid, n in stats.channel_message_counts.items()
                },
                "message_start_time": stats.message_start_time,
                "message_end_time": stats.message_end_time,
            },
            "chunk_indexes": len(summary.chunk_indexes),
            "indexed_counts": counts,
        }


def main(argv):
    keep = "--messages" in argv
    paths = [a for a in argv if a != "--messages"]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    out = {"files": []}
    for path in paths:
        report = {"path": path, **read_stream(path, keep)}
        if report["complete"]:
            report["indexed"] = read_indexed(path)
        out["files"].append(report)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
