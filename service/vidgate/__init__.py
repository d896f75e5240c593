"""vidgate: one API (OpenAI Videos REST through Envoy, native gRPC) in front of video generators."""

__version__ = "0.1.0"
