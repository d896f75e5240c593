"""The embedded offline renderer: real H.264 MP4s with no keys and no network."""
