"""Provider adapters: each turns a RenderJob into video files behind `vidgate.ports.VideoProvider`."""
