"""The built-in OpenAI-compatible server: a calibrated engine and the demo's answers."""
