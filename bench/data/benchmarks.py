"""The registered benchmark folders. Each entry is data; no code per dataset.

Layouts come from the repositories people copy test sets from (see ../shared/REFERENCE.md):
JORDER/RCDNet (``rain/`` + ``norain/``), PReNet (``rainy/rain-NNN.png`` + ``norain-NNN.png``),
MPRNet/Restormer (``input/`` + ``target/``). Each benchmark is searched under the data root in
its usual folder names, and in the ``test``/``test/small`` sub-folders those repositories use.
"""
from bench.data.layouts import ANY_IMAGE, Download, LabelRule, PairedBenchmark, PairedLayout

IMG = r"\.(?i:png|jpe?g|bmp)"
JORDER_RAIN100 = PairedLayout("jorder", "rain", r"norain-(?P<id>\d+)\.png", "norain", "norain-{id}.png")
JORDER_RAIN100_X2 = PairedLayout("jorder-x2", "rain/X2", r"norain-(?P<id>\d+)x2\.png", "norain", "norain-{id}.png")
PRENET_RAIN100 = PairedLayout("prenet", "rainy", r"rain-(?P<id>\d+)\.png", ".", "norain-{id}.png")
MPRNET = PairedLayout("mprnet", "input", r"(?P<id>[^/]+)" + IMG, "target",
                      ("{id}.png", "{id}.jpg", "{id}.jpeg", "{id}.bmp"))
# The same pair of folders under the other names seen in the wild (DDN, ID-CGAN, generic).
RAINY_CLEAN = tuple(
    PairedLayout(f"{r}+{c}", r, ANY_IMAGE, c, ("{id}.png", "{id}.jpg", "{id}.jpeg", "{id}.bmp"))
    for r, c in (("rain", "norain"), ("rainy", "clean"), ("rain", "gt"), ("rainy", "gt"),
                 ("rain", "clean"), ("lq", "gt"), ("rain", "label"))
)
FLAT = PairedLayout("flat", ".", ANY_IMAGE)   # unpaired: every image in the folder is a rainy input
RAIN100_LAYOUTS = (JORDER_RAIN100, JORDER_RAIN100_X2, PRENET_RAIN100, MPRNET)
TEST_NESTS = ("", "test", "test/small", "testing", "Test")

_YUYI = "https://raw.githubusercontent.com/yuyi-sd/Robust_Rain_Removal"


def _folders(*names: str) -> tuple[str, ...]:
    """Each name as given, and under the ``datasets/test`` trees of PReNet and MPRNet checkouts."""
    return tuple(f"{pre}{n}" for pre in ("", "test/", "datasets/test/", "Datasets/test/") for n in names)


RAIN100H = PairedBenchmark(
    name="rain100h",
    description="Rain100H test set (old JORDER release), 100 synthetic heavy-rain pairs",
    folders=_folders("rain100h", "Rain100H", "rain100H", "rain_data_test_Heavy"),
    layouts=RAIN100_LAYOUTS,
    expected_count=100,
    source="https://github.com/csdwren/PReNet (datasets link in its README); "
           "direct files: github.com/yuyi-sd/Robust_Rain_Removal data/test/small",
    nests=TEST_NESTS,
    download=Download(f"{_YUYI}/5962c9f6d2b4704250f893d2801d104caddc90e1/data/test/small/", "rain100h.sha256"),
    manifest="rain100h.sha256",
)

RAIN100L = PairedBenchmark(
    name="rain100l",
    description="Rain100L test set (old JORDER release), 100 synthetic light-rain pairs",
    folders=_folders("rain100l", "Rain100L", "rain100L", "rain_data_test_Light"),
    layouts=RAIN100_LAYOUTS,
    expected_count=100,
    source="https://github.com/csdwren/PReNet (BaiduYun link in its README) or "
           "https://github.com/swz30/MPRNet (Deraining test sets, Google Drive)",
    nests=TEST_NESTS,
)

_RAIN200_LAYOUTS = (JORDER_RAIN100_X2, JORDER_RAIN100, MPRNET)
RAIN200H = PairedBenchmark(
    name="rain200h",
    description="Rain200H (new JORDER release of Rain100H), 200 synthetic heavy-rain test pairs",
    folders=_folders("rain200h", "Rain200H", "rain200H"),
    layouts=_RAIN200_LAYOUTS,
    expected_count=200,
    source="https://github.com/hongwang01/RCDNet (Rain200H link in its README)",
    nests=TEST_NESTS,
)

RAIN200L = PairedBenchmark(
    name="rain200l",
    description="Rain200L (new JORDER release of Rain100L), 200 synthetic light-rain test pairs",
    folders=_folders("rain200l", "Rain200L", "rain200L"),
    layouts=_RAIN200_LAYOUTS,
    expected_count=200,
    source="https://github.com/hongwang01/RCDNet (Rain200L link in its README)",
    nests=TEST_NESTS,
)

RAIN1400 = PairedBenchmark(
    name="rain1400",
    description="Rain1400 (DDN) test set: 14 rain renderings of each of 100 clean images",
    folders=_folders("rain1400", "Rain1400", "DDN-Data", "DDN_Data"),
    layouts=(
        PairedLayout("prenet", "rainy_image", r"(?P<id>(?P<scene>\d+)_\d+)\.(?P<ext>(?i:jpe?g|png))",
                     "ground_truth", ("{scene}.{ext}", "{scene}.jpg", "{scene}.png")),
        MPRNET,
    ),
    expected_count=1400,
    source="https://xueyangfu.github.io/projects/cvpr2017.html (DDN) or PReNet's README link",
    nests=TEST_NESTS,
)

TEST100 = PairedBenchmark(
    name="test100",
    description="Test100 (ID-CGAN), 100 synthetic pairs",
    folders=_folders("test100", "Test100"),
    layouts=(MPRNET,) + RAINY_CLEAN,
    expected_count=100,
    source="https://github.com/swz30/MPRNet (Deraining test sets, Google Drive)",
    nests=TEST_NESTS,
)

TEST1200 = PairedBenchmark(
    name="test1200",
    description="Test1200 (DID-MDN), 1200 synthetic pairs in three rain densities",
    folders=_folders("test1200", "Test1200", "DID-MDN-test"),
    layouts=(MPRNET,) + RAINY_CLEAN,
    expected_count=1200,
    source="https://github.com/swz30/MPRNet (Deraining test sets, Google Drive); the original DID-MDN "
           "release stores each pair side by side in one file: split it into input/ and target/ first",
    nests=TEST_NESTS,
)

SPA_DATA = PairedBenchmark(
    name="spa-data",
    description="SPA-Data real_test_1000: real rain, pseudo ground truth from video, 512x512",
    folders=_folders("spa-data", "SPA-Data", "spa_data", "SPA", "real_test_1000", "spa-data/real_test_1000",
                     "SPA-Data/real_test_1000", "SPA-Data/Testing/real_test_1000"),
    layouts=(
        PairedLayout("spanet", "rain", r"(?P<id>\d+)\.png", "gt", ("{id}gt.png", "{id}.png")),
        PairedLayout("spanet-flat", ".", r"(?P<id>\d+)\.png", ".", "{id}gt.png"),
        PairedLayout("spanet-rc", ".", r"(?P<id>\d+)-R\.png", ".", "{id}-C.png"),
        MPRNET,
    ) + RAINY_CLEAN,
    expected_count=1000,
    source="https://stevewongv.github.io/derain-project.html (SPA-Data; cloud drives only)",
    nests=TEST_NESTS,
    synthetic=False,
)

REAL200 = PairedBenchmark(
    name="real200",
    description="Real200: 200 real rainy photographs without ground truth (Semi-DRDNet)",
    folders=_folders("real200", "Real200", "real_200", "Real_200"),
    layouts=(PairedLayout("rainy-dir", "rainy", ANY_IMAGE), PairedLayout("input-dir", "input", ANY_IMAGE), FLAT),
    expected_count=200,
    label_source="none",
    source="https://github.com/syy-whu/DRD-Net (Semi-DRDNet; cloud drives only)",
    synthetic=False,
)

INTERNET_DATA = PairedBenchmark(
    name="internet-data",
    description="Internet-Data (SIRR): 147 real rainy photographs without ground truth",
    folders=_folders("real-internet147", "internet-data", "Internet-Data", "real_internet", "SIRR-real"),
    layouts=(FLAT,),
    expected_count=147,
    label_source="none",
    source="https://github.com/wwzjer/Semi-supervised-IRR (README: real rainy images link)",
    manifest="internet-data.sha256",
    synthetic=False,
)

# Cityscapes gtFine label ids, looked up by the Cityscapes stem <city>_<seq>_<frame> inside the id.
CITYSCAPES_LABELS = LabelRule(
    format="cityscapes",
    dirs=("gtFine", "../gtFine", "../cityscapes/gtFine", "../Cityscapes/gtFine"),
    name="{stem}_gtFine_labelIds.png",
    key_pattern=r"(?P<stem>[a-z]+_\d{6}_\d{6})",
)

RAINCITYSCAPES = PairedBenchmark(
    name="raincityscapes",
    description="RainCityscapes test pairs, 100 mm rendered rain on Cityscapes street scenes",
    folders=("raincityscapes", "RainCityscapes", "rain_cityscapes"),
    layouts=(
        # The 100-pair subset in yuyi-sd/Robust_Rain_Removal rain_cityscapes/test/small.
        PairedLayout("pairs", "rain100mm", r"(?P<id>.+)\.png", "norain", "{id}.png",
                     expected_count=100, labels=CITYSCAPES_LABELS),
        # The official release: leftImg8bit_rain/<split>/<city>/<stem>_leftImg8bit_rain_alpha_..._pattern_N.png
        PairedLayout("official", "leftImg8bit_rain",
                     r"(?P<split>[^/]+)/(?P<city>[^/]+)/(?P<id>(?P<stem>[^/]+?)_leftImg8bit_rain_[^/]+)\.png",
                     "leftImg8bit", "{split}/{city}/{stem}_leftImg8bit.png", recursive=True,
                     labels=CITYSCAPES_LABELS),
    ),
    expected_count=1188,
    source="https://team.inria.fr/rits/computer-vision/weather-augment/ (Cityscapes account required); "
           "100-pair subset: github.com/yuyi-sd/Robust_Rain_Removal rain_cityscapes/test/small",
    nests=("", "test", "test/small"),
    download=Download(f"{_YUYI}/7e46c10a788290916d7f4a3fa4cbf3c334c5caae/rain_cityscapes/test/small/",
                      "raincityscapes.sha256", note="the 100-pair subset; the full set needs a Cityscapes account"),
    manifest="raincityscapes.sha256",
)
