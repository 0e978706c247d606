"""Model registry: name -> "module:attr" of a spec with ``build(variant, resolver, device, dataset)``."""
from bench.registry import Registry

MODELS = Registry("model", {
    "rainy": "bench.models.baselines:RAINY",
    "clean": "bench.models.baselines:CLEAN",
    "prenet": "bench.models.prenet:SPEC",
})
