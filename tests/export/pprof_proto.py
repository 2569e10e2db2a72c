"""google/pprof's profile.proto, as much as the tests read, built as a protobuf descriptor
here so a written profile is parsed by the protobuf library, not by our own writer's
reverse."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto

# message -> (field name, number, type, label, message type name)
_MESSAGES: dict[str, list[tuple[str, int, int, int, str]]] = {
    "ValueType": [("type", 1, _F.TYPE_INT64, _F.LABEL_OPTIONAL, ""),
                  ("unit", 2, _F.TYPE_INT64, _F.LABEL_OPTIONAL, "")],
    "Label": [("key", 1, _F.TYPE_INT64, _F.LABEL_OPTIONAL, ""),
              ("str", 2, _F.TYPE_INT64, _F.LABEL_OPTIONAL, ""),
              ("num", 3, _F.TYPE_INT64, _F.LABEL_OPTIONAL, "")],
    "Sample": [("location_id", 1, _F.TYPE_UINT64, _F.LABEL_REPEATED, ""),
               ("value", 2, _F.TYPE_INT64, _F.LABEL_REPEATED, ""),
               ("label", 3, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, ".pprof.Label")],
    "Line": [("function_id", 1, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, ""),
             ("line", 2, _F.TYPE_INT64, _F.LABEL_OPTIONAL, "")],
    "Location": [("id", 1, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, ""),
                 ("mapping_id", 2, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, ""),
                 ("address", 3, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, ""),
                 ("line", 4, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, ".pprof.Line")],
    "Function": [("id", 1, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, ""),
                 ("name", 2, _F.TYPE_INT64, _F.LABEL_OPTIONAL, ""),
                 ("system_name", 3, _F.TYPE_INT64, _F.LABEL_OPTIONAL, "")],
    "Profile": [("sample_type", 1, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, ".pprof.ValueType"),
                ("sample", 2, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, ".pprof.Sample"),
                ("location", 4, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, ".pprof.Location"),
                ("function", 5, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, ".pprof.Function"),
                ("string_table", 6, _F.TYPE_STRING, _F.LABEL_REPEATED, ""),
                ("time_nanos", 9, _F.TYPE_INT64, _F.LABEL_OPTIONAL, ""),
                ("duration_nanos", 10, _F.TYPE_INT64, _F.LABEL_OPTIONAL, ""),
                ("period_type", 11, _F.TYPE_MESSAGE, _F.LABEL_OPTIONAL, ".pprof.ValueType"),
                ("period", 12, _F.TYPE_INT64, _F.LABEL_OPTIONAL, "")],
}


def profile_class() -> Any:
    """The generated message class of ``pprof.Profile`` (proto3: packed repeated ints)."""
    file = descriptor_pb2.FileDescriptorProto(name="pybpf_test_profile.proto",
                                              package="pprof", syntax="proto3")
    for name, fields in _MESSAGES.items():
        message = file.message_type.add(name=name)
        for field_name, number, kind, label, type_name in fields:
            f = message.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                f.type_name = type_name
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("pprof.Profile"))
