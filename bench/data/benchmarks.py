"""The registered benchmark folders. Each entry is data; no code per dataset."""
from bench.data.layouts import PairedBenchmark, PairedLayout

JORDER_RAIN100 = PairedLayout("jorder", "rain", r"norain-(?P<id>\d+)\.png", "norain", "norain-{id}.png")
PRENET_RAIN100 = PairedLayout("prenet", "rainy", r"rain-(?P<id>\d+)\.png", ".", "norain-{id}.png")
MPRNET = PairedLayout("mprnet", "input", r"(?P<id>[^/]+)\.(?:png|jpg)", "target", "{id}.png")

RAIN100H = PairedBenchmark(
    name="rain100h",
    description="Rain100H test set (old JORDER release), 100 synthetic heavy-rain pairs",
    folders=("rain100h", "Rain100H", "rain100H"),
    layouts=(JORDER_RAIN100, PRENET_RAIN100, MPRNET),
    expected_count=100,
    source="https://github.com/csdwren/PReNet (datasets link in its README)",
)

RAINCITYSCAPES = PairedBenchmark(
    name="raincityscapes",
    description="RainCityscapes test pairs, 100 mm rendered rain on Cityscapes street scenes",
    folders=("raincityscapes", "RainCityscapes", "rain_cityscapes"),
    layouts=(PairedLayout("pairs", "rain100mm", r"(?P<id>.+)\.png", "norain", "{id}.png"),),
    expected_count=None,
    source="https://team.inria.fr/rits/computer-vision/weather-augment/ (Cityscapes account required)",
)
