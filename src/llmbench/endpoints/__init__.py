"""Model access: the registry (models.yaml), the resolved endpoint, the streaming client, GPU description."""
