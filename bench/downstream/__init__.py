"""Downstream task types: YAML files in tasks/ name one of these in their `type:` field."""
from bench.registry import Registry

TASK_TYPES = Registry("task type", {
    "yolo_detect": "bench.downstream.yolo:YoloDetection",
})
