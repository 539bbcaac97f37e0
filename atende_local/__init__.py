"""The local platform: Atende on this machine with moto for AWS (``make run``) and the
``atende`` admin CLI."""
