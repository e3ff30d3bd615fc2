"""A small typed Python client for gokernels over gRPC.

Every kernel is an RPC of its domain's service
(gokernels.kernels.graph.v1.GraphService/PageRank); the stubs generated from
proto/ live in clients/python/gen (scripts/gen-python.sh). This module adds
one convenience on top of them: call a kernel by name with keyword
arguments, records written as tuples the way the REST API writes them
(edges are sent in their binary form, packed_edges)::

    from gokernels_client import Client

    with Client("localhost:50051") as client:
        out = client.pagerank(num_nodes=3, edges=[(0, 1), (1, 2), (2, 0)], directed=True)
        print(list(out.scores), out.converged)     # a PageRankOutput message

The answer is the kernel's typed output message. The plain generated stubs
work as well (see clients/python/README.md).
"""

import importlib
import os
import sys

_GEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gen")
if _GEN not in sys.path:
    sys.path.insert(0, _GEN)

import grpc  # noqa: E402
from google.protobuf import json_format, symbol_database  # noqa: E402

from gokernels.v1 import options_pb2  # noqa: E402

__all__ = ["Client", "Kernel", "kernels", "to_dict"]


class Kernel:
    """One kernel's typed RPC, as the protos declare it."""

    def __init__(self, kernel_id, modes, description, method_path, input_class, output_class):
        self.id = kernel_id
        self.modes = modes
        self.description = description
        self.method_path = method_path  # "/gokernels.kernels.graph.v1.GraphService/PageRank"
        self.input_class = input_class
        self.output_class = output_class

    def __repr__(self):
        return "Kernel(%r, %s)" % (self.id, self.method_path)


def _message_class(descriptor):
    return symbol_database.Default().GetSymbol(descriptor.full_name)


def kernels():
    """Every kernel with a typed RPC in the generated stubs, by kernel id."""
    found = {}
    root = os.path.join(_GEN, "gokernels", "kernels")
    for domain in sorted(os.listdir(root)):
        if not os.path.exists(os.path.join(root, domain, "v1", "service_pb2.py")):
            continue
        module = importlib.import_module("gokernels.kernels.%s.v1.service_pb2" % domain)
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                opts = method.GetOptions()
                if not opts.HasExtension(options_pb2.kernel):
                    continue
                meta = opts.Extensions[options_pb2.kernel]
                found[meta.id] = Kernel(
                    meta.id, list(meta.modes), meta.description,
                    "/%s/%s" % (service.full_name, method.name),
                    _message_class(method.input_type), _message_class(method.output_type))
    return found


def _fill(msg, value, path):
    """Sets msg from value: a dict of fields, a message, or — for a record
    (the gokernels.v1.tuple option) — a list/tuple of its fields in
    field-number order; a record whose only field is repeated is that list."""
    if isinstance(value, type(msg)):
        msg.CopyFrom(value)
        return
    desc = msg.DESCRIPTOR
    if isinstance(value, (list, tuple)):
        fields = sorted(desc.fields, key=lambda f: f.number)
        if len(fields) == 1 and fields[0].label == fields[0].LABEL_REPEATED:
            value = {fields[0].name: value}
        else:
            if len(value) > len(fields):
                raise ValueError("%s: %d values for %s, which has %d fields" % (path, len(value), desc.name, len(fields)))
            value = {f.name: v for f, v in zip(fields, value)}
    if not isinstance(value, dict):
        raise TypeError("%s: want a dict, list or %s, got %r" % (path, desc.name, value))
    for name, v in value.items():
        field = desc.fields_by_name.get(name)
        if field is None:
            raise ValueError("%s: %s has no field %r" % (path, desc.name, name))
        where = "%s.%s" % (path, name) if path else name
        _set_field(msg, field, v, where)


_LIST_VALUE = "google.protobuf.ListValue"


def _int32_tuple(field):
    """The (gokernels.v1.int32_tuple) option of a field: the length of each
    item of a repeated ListValue field such as edges, 0 when unset."""
    opts = field.GetOptions()
    return opts.Extensions[options_pb2.int32_tuple] if opts.HasExtension(options_pb2.int32_tuple) else 0


def _set_pairs(msg, field, v, where):
    """Sets a repeated ListValue field of n-integer items (edges, pairs,
    remove_edges; the int32_tuple option) from a list of tuples. When the
    message has the packed twin packed_<name> (packed_edges), the ids go
    there: two varints per edge instead of a ListValue of two doubles."""
    n = _int32_tuple(field)
    for i, item in enumerate(v):
        if not isinstance(item, (list, tuple)) or (n and len(item) != n):
            raise ValueError("%s[%d]: want %s ids, got %r" % (where, i, n or "a list of", item))
        for x in item:
            if isinstance(x, bool) or not isinstance(x, int):
                raise ValueError("%s[%d]: node ids are integers, got %r" % (where, i, x))
    packed = msg.DESCRIPTOR.fields_by_name.get("packed_" + field.name)
    if packed is not None and n:
        getattr(msg, packed.name).extend(x for item in v for x in item)
        return
    target = getattr(msg, field.name)
    for item in v:
        target.add().extend(item)


def _scalar(field, v):
    if field.enum_type is not None and isinstance(v, str):
        return field.enum_type.values_by_name[v].number
    return v


def _set_field(msg, field, v, where):
    if v is None:
        return
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        target = getattr(msg, field.name)
        value_field = field.message_type.fields_by_name["value"]
        for key, item in v.items():
            if value_field.message_type is not None:
                _fill(target[key], item, "%s[%r]" % (where, key))
            else:
                target[key] = _scalar(value_field, item)
        return
    if field.label == field.LABEL_REPEATED and field.message_type is not None \
            and field.message_type.full_name == _LIST_VALUE:
        _set_pairs(msg, field, v, where)
        return
    if field.label == field.LABEL_REPEATED:
        target = getattr(msg, field.name)
        for i, item in enumerate(v):
            if field.message_type is not None:
                _fill(target.add(), item, "%s[%d]" % (where, i))
            else:
                target.append(_scalar(field, item))
        return
    if field.message_type is not None:
        _fill(getattr(msg, field.name), v, where)
        return
    setattr(msg, field.name, _scalar(field, v))


def to_dict(msg):
    """A message as a dict with the proto field names (protojson)."""
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


class Client:
    """Calls kernels over one gRPC channel.

    client.run("graph/pagerank", num_nodes=3, edges=[(0, 1)]) calls by id;
    client.pagerank(...) is the same call by the kernel's name (the part of
    the id after the slash, "-" written "_"), when that name is unique.
    api_key is sent as x-api-key; timeout (seconds) is each call's deadline.
    """

    def __init__(self, target="localhost:50051", api_key=None, timeout=None, channel=None):
        self._channel = channel or grpc.insecure_channel(target)
        self._metadata = (("x-api-key", api_key),) if api_key else ()
        self._timeout = timeout
        self._kernels = kernels()
        by_name = {}
        for kid in self._kernels:
            by_name.setdefault(kid.split("/", 1)[1].replace("-", "_"), []).append(kid)
        self._by_name = by_name
        self._calls = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._channel.close()

    def kernel(self, kernel_id):
        """The Kernel of an id (KeyError names the id when there is none)."""
        try:
            return self._kernels[kernel_id]
        except KeyError:
            raise KeyError("no typed RPC for kernel %r in the generated stubs" % kernel_id) from None

    def kernel_ids(self):
        return sorted(self._kernels)

    def input(self, kernel_id, input=None, **fields):
        """The input message run would send: input is a message or a dict
        of its fields; keyword arguments set fields too."""
        msg = self.kernel(kernel_id).input_class()
        if input is not None:
            _fill(msg, input, "")
        if fields:
            _fill(msg, fields, "")
        return msg

    def run(self, kernel_id, input=None, **fields):
        """Runs a kernel: input is its input message or a dict of its
        fields; keyword arguments set fields too. Returns the output message;
        a gRPC error is raised as grpc.RpcError (code(), details())."""
        k = self.kernel(kernel_id)
        msg = self.input(kernel_id, input, **fields)
        call = self._calls.get(kernel_id)
        if call is None:
            call = self._channel.unary_unary(
                k.method_path, request_serializer=k.input_class.SerializeToString,
                response_deserializer=k.output_class.FromString)
            self._calls[kernel_id] = call
        return call(msg, timeout=self._timeout, metadata=self._metadata)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        ids = self.__dict__.get("_by_name", {}).get(name, [])
        if len(ids) == 1:
            kernel_id = ids[0]
            return lambda input=None, **fields: self.run(kernel_id, input, **fields)
        if len(ids) > 1:
            raise AttributeError("%s is ambiguous (%s): use run(kernel_id, ...)" % (name, ", ".join(ids)))
        raise AttributeError("no kernel named %s" % name)
