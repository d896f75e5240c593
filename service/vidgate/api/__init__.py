"""gRPC transport: servicer (proto <-> domain), interceptor (auth + errors), server assembly."""
