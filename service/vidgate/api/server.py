"""Assembles the grpc.aio server: VideoService behind the auth interceptor, plus health and reflection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from vidgate.api.interceptors import AuthInterceptor
from vidgate.api.servicer import VideoServicer
from vidgate.domain.principal import Principal
from vidgate.gen.videos.v1 import videos_pb2, videos_pb2_grpc

VIDEO_SERVICE = videos_pb2.DESCRIPTOR.services_by_name["VideoService"].full_name


def build_server(
    servicer: VideoServicer,
    authenticate: Callable[[str | None], Awaitable[Principal]],
    *,
    address: str,
    max_message_bytes: int,
) -> tuple[grpc.aio.Server, int, health.aio.HealthServicer]:
    """Returns the (not yet started) server, the port it bound (useful with port 0) and its health servicer."""
    server = grpc.aio.server(
        interceptors=[AuthInterceptor(authenticate, f"/{VIDEO_SERVICE}/")],
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.so_reuseport", 0),
        ],
    )
    videos_pb2_grpc.add_VideoServiceServicer_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (VIDEO_SERVICE, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(address)
    return server, port, health_servicer
