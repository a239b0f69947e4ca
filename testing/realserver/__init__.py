"""Real inference engines for the harness's own tests (test infrastructure, not shipped).

``tinymodel`` writes a tiny random-weight llama GGUF (no download needed),
``llama`` builds/starts/stops llama.cpp's ``llama-server`` around it, and
``vllm_cpu`` does the same for vLLM on CPU when it is installed. The output is
gibberish by design: what the tests exercise is real streaming, real token
accounting, real concurrent batching and real failure modes.
"""
