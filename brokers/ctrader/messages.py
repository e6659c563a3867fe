"""The official cTrader Open API messages, from the ``ctrader-open-api`` package, without its transport.

The package ships the generated ``*_pb2`` modules of Spotware's .proto files beside a Twisted client, and its
``__init__`` imports that client (Twisted, a reactor, pyOpenSSL). Its pins (Twisted, pyOpenSSL < cryptography
43, requests 2.32.3, protobuf 3.20.1) conflict with ours, so it is installed without its dependencies
(``requirements-nodeps.txt``) and only its message modules are loaded here: the package is registered as a
bare namespace so that importing ``ctrader_open_api.messages.*`` never runs its ``__init__``. Nothing of the
package is copied into this repository.

Every frame on the wire is a ``ProtoMessage`` (payloadType, payload bytes, optional clientMsgId); ``wrap`` and
``unwrap`` convert between it and the typed ``ProtoOA…`` message the payloadType names.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

_PACKAGE = "ctrader_open_api"

# A message object of the generated modules (google.protobuf ships no type information).
Message = Any


def _load(name: str) -> Any:
    if _PACKAGE not in sys.modules:
        spec = importlib.util.find_spec(_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ImportError(
                "the cTrader Open API messages are missing: pip install --no-deps -r requirements-nodeps.txt"
            )
        bare = types.ModuleType(_PACKAGE, "cTrader Open API messages only (its Twisted client is not loaded)")
        bare.__path__ = list(spec.submodule_search_locations)
        sys.modules[_PACKAGE] = bare
    return importlib.import_module(f"{_PACKAGE}.messages.{name}")


common: Any = _load("OpenApiCommonMessages_pb2")
common_model: Any = _load("OpenApiCommonModelMessages_pb2")
model: Any = _load("OpenApiModelMessages_pb2")
oa: Any = _load("OpenApiMessages_pb2")

# payloadType number -> message class, for every message of the four modules that declares one.
_BY_TYPE: dict[int, Any] = {}
for _module in (common, oa):
    for _name in _module.DESCRIPTOR.message_types_by_name:
        _cls = getattr(_module, _name)
        _field = _cls.DESCRIPTOR.fields_by_name.get("payloadType")
        if _field is not None and _field.has_default_value and _field.default_value:
            _BY_TYPE[int(_field.default_value)] = _cls

HEARTBEAT_TYPE = int(common_model.HEARTBEAT_EVENT)
ERROR_RES_TYPE = int(model.PROTO_OA_ERROR_RES)
COMMON_ERROR_RES_TYPE = int(common_model.ERROR_RES)


def payload_type(message: Message) -> int:
    """The payloadType a message declares as its field default."""
    return int(message.payloadType)


def type_name(number: int) -> str:
    """``ProtoOANewOrderReq`` for 2106, for logs and errors."""
    cls = _BY_TYPE.get(number)
    return str(cls.DESCRIPTOR.name) if cls is not None else f"payloadType {number}"


def wrap(message: Message, client_msg_id: str | None = None) -> bytes:
    """The serialised ProtoMessage carrying ``message``."""
    envelope = common.ProtoMessage(payloadType=payload_type(message), payload=message.SerializeToString())
    if client_msg_id is not None:
        envelope.clientMsgId = client_msg_id
    return bytes(envelope.SerializeToString())


def unwrap(frame: bytes) -> tuple[Message, str | None]:
    """The typed message of one frame and its clientMsgId. Raises ValueError for what cannot be decoded."""
    try:
        envelope = common.ProtoMessage.FromString(frame)
        cls = _BY_TYPE.get(int(envelope.payloadType))
        if cls is None:
            raise ValueError(f"unknown payloadType {envelope.payloadType}")
        message = cls.FromString(envelope.payload)
    except ValueError:
        raise
    except Exception as e:  # google.protobuf.message.DecodeError and friends
        raise ValueError(f"undecodable frame of {len(frame)} bytes: {type(e).__name__}") from None
    client_msg_id = str(envelope.clientMsgId) if envelope.HasField("clientMsgId") else None
    return message, client_msg_id
