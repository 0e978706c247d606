"""Downstream task types: YAML files in tasks/ name one of these in their `type:` field."""
from bench.registry import Registry

TASK_TYPES = Registry("task type", {
    "yolo_detect": "bench.downstream.yolo:YoloDetection",
    "yolo_segment": "bench.downstream.yolo:YoloSegmentation",
    "semantic_segment": "bench.downstream.semantic:SemanticSegmentation",
    "hog_people": "bench.downstream.hog:HogPeople",
    "fastestdet_detect": "bench.downstream.fastestdet:FastestDetDetection",
})
