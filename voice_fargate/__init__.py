"""The LiveKit voice agent worker (runs as a container on ECS Fargate)."""
